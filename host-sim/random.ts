// Seeded pseudo-random numbers, so a run (the router's weighted choice, a fuzz corpus) replays
// exactly from its seed. Not for secrets: WASI random_get uses the system's generator.

/** Uniform numbers in [0, 1) from a xorshift32 generator. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state / 0x100000000;
  };
}

/** A seeded generator with the helpers corpora need: a number, an integer below n, an item. */
export function randomSource(seed: number) {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  return { next, int, pick };
}

export type RandomSource = ReturnType<typeof randomSource>;
