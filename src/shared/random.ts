// A small seeded PRNG (mulberry32) and what is built on it, so every random choice depends only on a seed: the
// trainer's shuffles and replay sampling (the same seed gives the same batches, and a resumed run reshuffles epoch n
// exactly as the first attempt did), the search's draws, and the trees' bootstraps, subsamples and split inputs.

export type Random = () => number;

export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed derived from a base seed and a purpose, e.g. (seed, epoch) or (seed, tree), so purposes never share a stream. */
export function deriveSeed(seed: number, salt: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(salt + 1, 0xc2b2ae35)) >>> 0;
}

/** Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, random: Random): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = out[i] ?? 0;
    out[i] = out[j] ?? 0;
    out[j] = t;
  }
  return out;
}

/** An integer in [0, n). */
export function randomBelow(random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}
