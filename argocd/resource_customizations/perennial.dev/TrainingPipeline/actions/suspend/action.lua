-- Stop starting new runs; a running one finishes (spec.suspend: true, as kubectl perennial pause). This edits the
-- spec: an Application whose manifests set spec.suspend shows OutOfSync until they agree.
if obj.spec == nil then
  obj.spec = {}
end
obj.spec.suspend = true
return obj
