-- Argo CD health of a Perennial ModelDeployment. Runs in Argo CD's sandbox: base and table libraries only
-- (no string or math), every field may be absent, numbers may arrive as strings.
--   no status yet / status of an older generation  -> Progressing
--   spec rejected (Accepted=False)                   -> Degraded
--   a candidate failed its gates and was rolled back -> Degraded (Degraded=True), until a newer version or a retry
--   paused (spec, untimed pause step, inconclusive)  -> Suspended
--   a rollout in progress (Progressing=True)         -> Progressing
--   the stable version serves (Available=True)       -> Healthy
--   otherwise                                        -> Progressing
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
  hs.message = text(degraded, "The rollout was aborted")
  return hs
end

local paused = condition("Paused")
if paused ~= nil and paused.status == "True" then
  hs.status = "Suspended"
  hs.message = text(paused, "The rollout is paused")
  return hs
end

local progressing = condition("Progressing")
if progressing ~= nil and progressing.status == "True" then
  hs.status = "Progressing"
  hs.message = text(progressing, "A new version is being rolled out")
  return hs
end

local available = condition("Available")
if available ~= nil and available.status == "True" then
  hs.status = "Healthy"
  hs.message = text(available, "The stable version serves")
  return hs
end

hs.status = "Progressing"
hs.message = text(available, "Waiting for the model server to become available")
return hs
