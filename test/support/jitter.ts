/**
 * Deterministic ±frac jitter (mulberry32) for synthetic reports, so a figure in a test is
 * not the one its wording was written for. Each call of `jitterer` starts its own sequence.
 */
export function jitterer(seed: number, defaultFrac: number): (x: number, frac?: number) => number {
  let state = seed;
  return (x, frac = defaultFrac) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return x * (1 + (u * 2 - 1) * frac);
  };
}
