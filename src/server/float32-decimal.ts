// The model's probabilities are float32 values. Held as JavaScript numbers they print with the digits of the double
// nearest them (0.0012000000569969416 for float32 0.0012); the shortest decimal that reads back as the same float32
// is what float32 code prints (numpy's repr, C's %g at round-trip precision) and what a client can check. Printed
// in every answer and every inference-log line, the long form also cost the server ~0.2 µs a number.

const powersOf10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * The double nearest the shortest decimal (at most 9 significant digits, float32's round-trip precision) that reads
 * back as the float32 `x`; `x` itself when it is not a finite float32 (or is too small to scale exactly: below about 1e-14).
 */
export function shortestFloat32(x: number): number {
  if (x === 0 || !Number.isFinite(x) || Math.fround(x) !== x) return x;
  const exponent = Math.floor(Math.log10(Math.abs(x)));
  for (let digits = 1; digits <= 9; digits++) {
    const k = digits - 1 - exponent;
    // |x| ≥ 10^digits: more digits before the point than these.
    if (k < 0) continue;
    const scale = powersOf10[k];
    // Past 10^22 a power of 10 is not exact as a double: left as it is.
    if (scale === undefined) return x;
    const y = Math.round(x * scale) / scale;
    if (Math.fround(y) === x) return y;
  }
  return x;
}
