// Runs Argo CD resource actions the way Argo CD does, with a real Lua 5.1 interpreter: discovery.lua returns the
// actions and whether each is disabled; actions/<name>/action.lua returns the changed object. The sandbox is the
// one Argo CD gives action scripts: the base and table libraries plus its safe os library (os.date and os.time
// only). The clock is fixed so an action's timestamped annotation can be compared with the expected output.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { toLua } from './health.js';

export interface DiscoveredAction {
  readonly name: string;
  readonly disabled: boolean;
}

/**
 * Encodes the script's result as JSON outside the sandbox (the harness has the full libraries). A table with keys
 * 1..n only is an array; any other table, including an empty one, an object (Argo CD's decoder does the same).
 */
const jsonEncoder = `
local function encode(v)
  local t = type(v)
  if t == "nil" then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
    return string.format("%.17g", v)
  end
  if t == "string" then
    return '"' .. v:gsub('[%c"\\\\]', function(c) return string.format("\\\\u%04x", c:byte()) end) .. '"'
  end
  if t ~= "table" then error("cannot encode " .. t) end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  if n > 0 and #v == n then
    local parts = {}
    for i = 1, n do parts[i] = encode(v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = encode(k) .. ":" .. encode(v[k]) end
  return "{" .. table.concat(parts, ",") .. "}"
end
`;

const harness = (scriptPath: string, objLiteral: string, now: number): string => `
${jsonEncoder}
local realDate, realTime = os.date, os.time
local sandbox = {
  obj = ${objLiteral},
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall, select = select,
  tonumber = tonumber, tostring = tostring, type = type, unpack = unpack, rawequal = rawequal, rawget = rawget,
  rawset = rawset, setmetatable = setmetatable, getmetatable = getmetatable, print = print, table = table,
  os = {
    date = function(format, t) return realDate(format, t or ${now}) end,
    time = function(t) if t == nil then return ${now} end return realTime(t) end,
  },
}
sandbox._G = sandbox
local chunk, err = loadfile(${toLua(scriptPath)})
if chunk == nil then
  io.stderr:write(err)
  os.exit(3)
end
setfenv(chunk, sandbox)
local ok, result = pcall(chunk)
if not ok then
  io.stderr:write(tostring(result))
  os.exit(3)
end
io.write(encode(result))
`;

/** 2026-11-01T10:00:00Z: the time the tests' sandbox reports. */
export const fixedNow = 1793527200;

async function runLua(scriptPath: string, obj: unknown, lua: string): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'perennial-lua-'));
  try {
    const file = join(dir, 'harness.lua');
    writeFileSync(file, harness(scriptPath, toLua(obj), fixedNow));
    const { stdout } = await promisify(execFile)(lua, [file], { timeout: 5000 });
    return JSON.parse(stdout) as unknown;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The actions discovery.lua offers for obj, sorted by name, as Argo CD lists them. */
export async function runDiscovery(scriptPath: string, obj: unknown, lua = 'lua5.1'): Promise<DiscoveredAction[]> {
  const result = await runLua(scriptPath, obj, lua);
  if (result === null || typeof result !== 'object' || Array.isArray(result)) throw new Error(`discovery returned ${JSON.stringify(result)}`);
  return Object.entries(result as Record<string, { disabled?: unknown }>)
    .map(([name, a]) => ({ name, disabled: a.disabled === true }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The object an action.lua returns for obj (what Argo CD patches the live object to). */
export function runAction(scriptPath: string, obj: unknown, lua = 'lua5.1'): Promise<unknown> {
  return runLua(scriptPath, obj, lua);
}
