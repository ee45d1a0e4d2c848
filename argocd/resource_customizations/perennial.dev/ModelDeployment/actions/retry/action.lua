-- Retry the aborted candidate (perennial.dev/retry, as kubectl perennial retry).
-- The value is the time of the request: the operator acts on a value it has not acted on before, and an
-- annotation the Application's manifests do not set is no drift for Argo CD.
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["perennial.dev/retry"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
