-- Argo CD actions of a Perennial TrainingPipeline, each enabled only when it applies:
--   trigger  start a run now (also a retry after a failed run); not while suspended, which starts no runs
--   suspend  runs are not suspended (spec.suspend)
--   resume   they are
-- Runs in Argo CD's sandbox (base, table and os.date/os.time only); every field may be absent.
local actions = {}
local suspended = obj.spec ~= nil and (obj.spec.suspend == true or obj.spec.suspend == "true")
actions["trigger"] = { ["disabled"] = suspended }
actions["suspend"] = { ["disabled"] = suspended }
actions["resume"] = { ["disabled"] = not suspended }
return actions
