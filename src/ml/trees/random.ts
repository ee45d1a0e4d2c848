// A small seeded PRNG (mulberry32, the generator src/trainer/random.ts uses; copied, since src/ml must not depend on
// the trainer): every random choice of a fit (bootstrap rows, row subsamples, the inputs tried at a split, the rows
// the bin edges are computed from) comes from it, so the same input and seed give the same trees.

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

/** A seed for one purpose (a tree, the bins) derived from the fit's seed, so purposes never share a stream. */
export function deriveSeed(seed: number, salt: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(salt + 1, 0xc2b2ae35)) >>> 0;
}

/** An integer in [0, n). */
export function randomBelow(random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}
