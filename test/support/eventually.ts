// Polls until a condition holds: the one way integration tests wait for a cluster to converge (never a fixed sleep).
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls fn every intervalMs until it returns something other than undefined or false, and returns that.
 * Errors count as "not yet" (the API server may be restarting, a pod not yet up); after timeoutMs it fails
 * naming what it waited for and the last error seen.
 */
export async function eventually<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 120_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
    } catch (e: unknown) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await sleep(intervalMs);
  }
}

/**
 * Polls a cluster object until `ok` holds for it, and returns it; on timeout the error carries the object's last
 * status as read (what a flake needs to be understood: the phase, the live metrics, the conditions).
 */
export async function untilObject<T extends { status?: unknown }>(
  what: string, get: () => Promise<T>, ok: (x: T) => boolean, timeoutMs: number, intervalMs = 500,
): Promise<T> {
  let last: T | undefined;
  try {
    return await eventually(what, async () => { last = await get(); return ok(last) ? last : undefined; }, timeoutMs, intervalMs);
  } catch (e: unknown) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}; last status: ${JSON.stringify(last?.status ?? null)}`);
  }
}
