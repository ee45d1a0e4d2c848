-- Argo CD health of a Perennial TrainingPipeline. Runs in Argo CD's sandbox: base and table libraries only
-- (no string or math), every field may be absent, numbers may arrive as strings.
--   no status yet / status of an older generation  -> Progressing
--   spec rejected (Accepted=False) or Degraded=True  -> Degraded
--   spec.suspend                                     -> Suspended
--   a champion is blessed (Ready=True)               -> Healthy, even while a retraining run is under way:
--                                                       the served model is fine, and a run can take hours
--   otherwise (first run in progress, waiting)       -> Progressing
local hs = {}

local function condition(ctype)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == ctype then
      return c
    end
  end
  return nil
end

local function text(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

local generation = tonumber(obj.metadata ~= nil and obj.metadata.generation or nil)
local observed = tonumber(obj.status.observedGeneration)
if observed == nil or (generation ~= nil and observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe the latest spec"
  return hs
end

local accepted = condition("Accepted")
if accepted ~= nil and accepted.status == "False" then
  hs.status = "Degraded"
  hs.message = text(accepted, "The spec cannot be acted on")
  return hs
end

local degraded = condition("Degraded")
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = text(degraded, "The last training run failed")
  return hs
end

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "No new runs start while spec.suspend is true"
  return hs
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = text(ready, "A champion is blessed")
  return hs
end

hs.status = "Progressing"
hs.message = text(ready, "Waiting for the first blessed version")
return hs
