// Go-style durations as users write them in a spec (30s, 10m, 1h30m, 1.5h): the parser of the language that
// common.ts's durationPattern and bounds admit, kept beside them so the grammar and its reader cannot drift apart.
// Both controllers, the demo script and the benchmarks read spec durations with it.
import { boundsText, type DurationBounds } from './common.js';

const unitMs: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export class InvalidDurationError extends Error {
  override readonly name = 'InvalidDurationError';
}

/** Milliseconds of a duration such as "1h30m". Throws InvalidDurationError for anything else. */
export function parseDuration(text: string): number {
  const re = /([0-9]+(?:[.][0-9]+)?)(ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new InvalidDurationError(`"${text}" is not a duration such as 30s, 10m or 1h30m`);
    total += Number(m[1]) * (unitMs[m[2] ?? ''] ?? 0);
    at = re.lastIndex;
  }
  if (text.length === 0) throw new InvalidDurationError('empty duration');
  return total;
}

/**
 * The problem with a duration outside its bounds (the API server enforces them on create and update; an object
 * stored before a bound existed is caught here), or undefined.
 */
export function durationBoundsProblem(field: string, text: string, bounds: DurationBounds): string | undefined {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (e: unknown) {
    return `${field}: ${e instanceof Error ? e.message : String(e)}`;
  }
  const below = bounds.min !== undefined && ms < parseDuration(bounds.min);
  const above = bounds.max !== undefined && ms > parseDuration(bounds.max);
  return below || above ? `${field}: ${text} ${boundsText(bounds)}` : undefined;
}
