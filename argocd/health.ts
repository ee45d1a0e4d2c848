// Runs an Argo CD health script the way Argo CD does, with a real Lua 5.1 interpreter (Debian's lua5.1; Argo CD
// embeds gopher-lua, a Lua 5.1 VM): the live object as the global `obj`, and the sandbox Argo CD gives scripts
// from argocd-cm, i.e. the base and table libraries only (no string, math, io or os), so a script that passes here
// cannot depend on libraries it will not have.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const healthStatuses = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'] as const;
export interface HealthStatus {
  readonly status: string;
  readonly message: string;
}

/** A JSON value as a Lua table constructor (null members are left out, as Argo CD's decoder does). */
export function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'nil';
  if (typeof value === 'string') {
    return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
  }
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  if (typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `[${toLua(k)}] = ${toLua(v)}`);
    return `{${members.join(', ')}}`;
  }
  throw new Error(`cannot express ${typeof value} in Lua`);
}

const harness = (scriptPath: string, objLiteral: string): string => `
local sandbox = {
  obj = ${objLiteral},
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall, select = select,
  tonumber = tonumber, tostring = tostring, type = type, unpack = unpack, rawequal = rawequal, rawget = rawget,
  rawset = rawset, setmetatable = setmetatable, getmetatable = getmetatable, print = print, table = table,
}
sandbox._G = sandbox
local chunk, err = loadfile(${toLua(scriptPath)})
if chunk == nil then
  io.write("Unknown\\n", err)
  return
end
setfenv(chunk, sandbox)
local ok, hs = pcall(chunk)
if not ok then
  io.write("Unknown\\n", tostring(hs))
  return
end
if type(hs) ~= "table" then hs = {} end
io.write(tostring(hs.status or ""), "\\n", tostring(hs.message or ""))
`;

/** The health Argo CD would show for obj, per the rules of util/lua/lua.go (an invalid status becomes Unknown). */
export async function runHealthScript(scriptPath: string, obj: unknown, lua = 'lua5.1'): Promise<HealthStatus> {
  const dir = mkdtempSync(join(tmpdir(), 'perennial-lua-'));
  try {
    const file = join(dir, 'harness.lua');
    writeFileSync(file, harness(scriptPath, toLua(obj)));
    const { stdout } = await promisify(execFile)(lua, [file], { timeout: 5000 });
    const newline = stdout.indexOf('\n');
    const status = newline < 0 ? stdout : stdout.slice(0, newline);
    const message = newline < 0 ? '' : stdout.slice(newline + 1);
    if (status !== '' && !(healthStatuses as readonly string[]).includes(status)) {
      return { status: 'Unknown', message: 'Lua returned an invalid health status' };
    }
    return { status, message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
