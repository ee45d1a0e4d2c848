-- Start runs again on their triggers (spec.suspend: false, as kubectl perennial resume). This edits the spec: an
-- Application whose manifests set spec.suspend shows OutOfSync until they agree.
if obj.spec == nil then
  obj.spec = {}
end
obj.spec.suspend = false
return obj
