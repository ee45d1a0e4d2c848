// Go-style durations as users write them in a spec (30s, 10m, 1h30m, 1.5h); the CRD pattern admits only these.
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
