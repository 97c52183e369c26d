/** Pure statistics over lag samples. No I/O, no clocks: easy to test exactly. */

/** Nearest-rank percentile of an ascending array (q in [0, 1]); 0 when empty. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Ascending copy; a typed array sorts numerically and fast (60,000 samples per mode). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/** Round for the report: sub-microsecond digits are noise. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
