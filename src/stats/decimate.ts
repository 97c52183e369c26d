/**
 * Min/max decimation for display: per bucket of x, keep the lowest and the highest
 * point (in time order). A chart drawn from the result looks the same at its pixel
 * width, and no stall can vanish: the maximum of every bucket is always kept.
 */
export function decimateMinMax(xs: ArrayLike<number>, ys: ArrayLike<number>, buckets: number): { x: number[]; y: number[] } {
  const n = xs.length;
  if (n <= buckets * 2 || buckets < 1) return { x: Array.from(xs), y: Array.from(ys) };
  const x0 = xs[0];
  const span = xs[n - 1] - x0 || 1;
  const outX: number[] = [];
  const outY: number[] = [];
  let i = 0;
  while (i < n) {
    const bucket = Math.min(buckets - 1, Math.floor(((xs[i] - x0) / span) * buckets));
    let minI = i;
    let maxI = i;
    let j = i + 1;
    for (; j < n && Math.min(buckets - 1, Math.floor(((xs[j] - x0) / span) * buckets)) === bucket; j++) {
      if (ys[j] < ys[minI]) minI = j;
      if (ys[j] > ys[maxI]) maxI = j;
    }
    const first = Math.min(minI, maxI);
    const second = Math.max(minI, maxI);
    outX.push(xs[first]);
    outY.push(ys[first]);
    if (second !== first) {
      outX.push(xs[second]);
      outY.push(ys[second]);
    }
    i = j;
  }
  return { x: outX, y: outY };
}

/** Fraction of values ≤ each grid point: a CDF on a shared x grid (values ascending). */
export function cdfOnGrid(sortedValues: ArrayLike<number>, grid: readonly number[]): number[] {
  const out: number[] = [];
  let k = 0;
  for (const g of grid) {
    while (k < sortedValues.length && sortedValues[k] <= g) k++;
    out.push(sortedValues.length ? k / sortedValues.length : 0);
  }
  return out;
}

/** `count` log-spaced points from lo to hi (both > 0). */
export function logGrid(lo: number, hi: number, count: number): number[] {
  const a = Math.log10(lo);
  const b = Math.log10(Math.max(hi, lo * 10));
  return Array.from({ length: count }, (_, i) => 10 ** (a + ((b - a) * i) / (count - 1)));
}
