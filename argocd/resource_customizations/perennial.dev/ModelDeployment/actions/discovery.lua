-- Argo CD actions of a Perennial ModelDeployment, each enabled only when it applies:
--   promote, promote-full, abort  a candidate is rolling out (status.canaryVersion)
--   retry                         a candidate was aborted and none is rolling out (status.abortedVersion)
--   pause                         the rollout is not paused by spec.rollout.paused
--   resume                        it is
-- Runs in Argo CD's sandbox (base, table and os.date/os.time only); every field may be absent.
local actions = {}
local status = obj.status or {}
local rollout = {}
if obj.spec ~= nil and obj.spec.rollout ~= nil then
  rollout = obj.spec.rollout
end
local candidate = status.canaryVersion ~= nil and status.canaryVersion ~= ""
local aborted = status.abortedVersion ~= nil and status.abortedVersion ~= ""
local paused = rollout.paused == true or rollout.paused == "true"

actions["promote"] = { ["disabled"] = not candidate }
actions["promote-full"] = { ["disabled"] = not candidate }
actions["abort"] = { ["disabled"] = not candidate }
actions["retry"] = { ["disabled"] = candidate or not aborted }
actions["pause"] = { ["disabled"] = paused }
actions["resume"] = { ["disabled"] = not paused }
return actions
