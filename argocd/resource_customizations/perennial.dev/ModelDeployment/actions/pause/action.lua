-- Hold the rollout where it is (spec.rollout.paused: true, as kubectl perennial pause). This edits the spec: an
-- Application whose manifests set spec.rollout.paused shows OutOfSync until they agree.
if obj.spec == nil then
  obj.spec = {}
end
if obj.spec.rollout == nil then
  obj.spec.rollout = {}
end
obj.spec.rollout.paused = true
return obj
