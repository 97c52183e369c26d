import type { GilWaitStats, LagStats, TaskRecord, TaskStats } from '../shared/protocol';
import { mean, percentileSorted, round3, sortedCopy } from './percentiles';

export interface LagOptions {
  heartbeatMs: number;
  /** A sample at or above this lag is a stall. */
  stallMs: number;
  wallMs: number;
}

/**
 * Lag statistics of one window. Each sample is one heartbeat wake-up; a stall is a
 * single sample as long as the stall, so percentiles alone understate it when one
 * block swallows many would-be samples: hence the stall totals and the sample count
 * next to the count an unblocked loop would have produced.
 */
export function lagStats(samples: readonly number[][], opts: LagOptions): LagStats {
  const lags = sortedCopy(samples.map((s) => s[1]));
  let stallCount = 0;
  let stalledMs = 0;
  for (const lag of lags) {
    if (lag >= opts.stallMs) {
      stallCount++;
      stalledMs += lag;
    }
  }
  return {
    p50Ms: round3(percentileSorted(lags, 0.5)),
    p90Ms: round3(percentileSorted(lags, 0.9)),
    p99Ms: round3(percentileSorted(lags, 0.99)),
    maxMs: round3(lags.length ? lags[lags.length - 1] : 0),
    meanMs: round3(mean(lags)),
    stallCount,
    stalledMs: round3(stalledMs),
    stalledFrac: opts.wallMs > 0 ? round3(Math.min(1, stalledMs / opts.wallMs)) : 0,
    sampleCount: lags.length,
    expectedSampleCount: opts.heartbeatMs > 0 ? Math.floor(opts.wallMs / opts.heartbeatMs) : 0,
    samples: samples.map((s) => [s[0], s[1]]),
  };
}

export function gilWaitStats(waitsMs: readonly number[] | null): GilWaitStats | null {
  if (!waitsMs) return null;
  const sorted = sortedCopy(waitsMs);
  return {
    p50Ms: round3(percentileSorted(sorted, 0.5)),
    p99Ms: round3(percentileSorted(sorted, 0.99)),
    maxMs: round3(sorted.length ? sorted[sorted.length - 1] : 0),
    meanMs: round3(mean(sorted)),
    sampleCount: sorted.length,
  };
}

/**
 * How a call ended: its own `status`, else (older reports, raw windows) `raised` with an
 * error and `ok` without, as before the field existed.
 */
export function taskStatusOf(t: TaskRecord): NonNullable<TaskRecord['status']> {
  return t.status ?? (t.error ? 'raised' : 'ok');
}

/** Queue time (queued → started) and run time (started → finished) of the tasks. */
export function taskStats(tasks: readonly TaskRecord[]): TaskStats {
  const queue: number[] = [];
  const run: number[] = [];
  const count = { ok: 0, raised: 0, unfinished: 0, crashed: 0 };
  for (const t of tasks) {
    count[taskStatusOf(t)]++;
    if (t.startMs !== null) queue.push(t.startMs - t.queuedMs);
    if (t.startMs !== null && t.endMs !== null) run.push(t.endMs - t.startMs);
  }
  const q = sortedCopy(queue);
  const r = sortedCopy(run);
  const pick = (xs: Float64Array, p: number) => (xs.length ? round3(percentileSorted(xs, p)) : null);
  return {
    okCount: count.ok,
    errorCount: count.raised,
    unfinishedCount: count.unfinished,
    crashedCount: count.crashed,
    queueP50Ms: pick(q, 0.5),
    queueMaxMs: pick(q, 1),
    runP50Ms: pick(r, 0.5),
    runMaxMs: pick(r, 1),
    runSumMs: round3(run.reduce((a, b) => a + b, 0)),
  };
}
