// Seeded pseudo-random draws, for what must come out the same on every run with the same seed: simulated job
// outcomes (jobs/simulated-executor.ts) and fault rules (faults/rules.ts). Not for anything secret.

/** 32-bit FNV-1a of a string: turns a key such as `seed|job|attempt` into a seed. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small, fast seeded PRNG with uniform draws in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The draws seeded by a key: the same key always draws the same sequence. */
export function seededRandom(key: string): () => number {
  return mulberry32(hash32(key));
}
