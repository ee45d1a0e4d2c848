// V8's heap policy for a serving process, set at its start (decision 0012, round ten).
// After each mark-compact V8 sets the old generation's next limit to what survived times a growing factor it picks
// from its own GC and mutator speeds. A server with minutes of load behind it was measured settling where a worker
// runs a mark-compact every 2–3 s: each one short (3–10 ms), but while it marks, the write barrier and the marking
// steps slow every request and its concurrent markers take the cores the requests need. With the factor fixed at 4
// the same pods ran 0–1 mark-compacts in a 14.5 s window instead of 2–8, and their p99 at half the peak fell by half
// in most pairs. It costs memory only up to what the heap holds between collections (a live heap of tens of MB here).
// The flag is not allowed in NODE_OPTIONS; V8 reads it at each mark-compact, so setting it at start applies it from
// the first (measured alike to the command-line flag).
import { setFlagsFromString } from 'node:v8';

/** The V8 flag for a growing factor of 1 + percent / 100; undefined for 0 (V8 picks the factor itself). */
export function heapGrowingFlag(percent: number): string | undefined {
  if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growing percent must be a whole number ≥ 0, got ${percent}`);
  return percent === 0 ? undefined : `--heap-growing-percent=${percent}`;
}

/** Sets the policy in this process. */
export function applyHeapPolicy(percent: number): void {
  const flag = heapGrowingFlag(percent);
  if (flag !== undefined) setFlagsFromString(flag);
}
