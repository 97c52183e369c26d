/**
 * What the heartbeat predicts a request waits (issue 14: how the loop's lag relates to
 * request latency). A heartbeat lag of L ms is L ms the loop could not answer: a request
 * arriving x ms into it waits L − x for the loop. For a request arriving at a random
 * moment of the window, P(wait > w) = Σ max(0, Lᵢ − w) / wallMs, so long stalls weigh by
 * their length squared, where the lag percentiles weigh each stall once (one sample):
 * a loop stalling 100 ms four times a second has a lag p99 of a few ms and a wait p99
 * near 100 ms. The probe, a trivial request at a steady rate, measures the same thing;
 * service mode reports the two side by side.
 */

/** The wait, ms, that a random arrival exceeds with probability 1 − q (q = 0.99: the p99); 0 when the loop was never late enough. */
export function arrivalWaitQuantile(lagsMs: ArrayLike<number>, wallMs: number, q: number): number {
  if (wallMs <= 0 || lagsMs.length === 0) return 0;
  const target = (1 - q) * wallMs;
  const sorted = Float64Array.from(lagsMs).filter((l) => l > 0).sort().reverse();
  // f(w) = Σ max(0, Lᵢ − w) falls from Σ Lᵢ at w = 0 to 0 at w = max; between two lags it is linear.
  let sum = 0;
  for (let k = 0; k < sorted.length; k++) {
    sum += sorted[k];
    const next = k + 1 < sorted.length ? sorted[k + 1] : 0;
    // On [next, sorted[k]] the k+1 largest lags count: f(w) = sum − (k + 1)·w.
    if (sum - (k + 1) * next >= target) return Math.max(next, (sum - target) / (k + 1));
  }
  return 0;
}
