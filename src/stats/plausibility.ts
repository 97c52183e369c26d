/**
 * Figures the measurement produced rather than the code: speedups or CPU/wall beyond
 * what the cores can give, and call times split between a few slow calls and many
 * near-instant ones (a cache, or one-time costs). Pure; the advice cites these.
 */
import type { ModeRun, TaskRecord } from '../shared/protocol';
import { percentileSorted, round3, sortedCopy } from './percentiles';
import { fmtMs } from '../shared/format';

/** Above the core count by more than this factor: not parallelism. Timing noise on a
 *  ~1 s window moves a speedup by a few percent, so 10% is past noise, not past reason. */
export const BEYOND_CORES_MARGIN = 1.1;

/** A slow call at least this many times the median call: two different kinds of call (a miss and hits). */
export const CACHE_SPLIT = 10;

/** A slow call shorter than this is scheduler noise, whatever the ratio (a 0.2 ms blip over 0.01 ms calls). */
export const CACHE_MISS_MIN_MS = 1;

/** An inline first call at least this many times the median explains a speedup beyond the
 *  cores (it need not be a cache's 10×: a 1.4 s first call among 0.2 s ones does it). */
export const FIRST_CALL_OUTLIER = 3;

/** Each call's run time (start → end), in the order the calls started; calls that never ran are left out. */
export function callTimes(tasks: readonly TaskRecord[]): { ms: number; worker: string | null; startMs: number; cpuMs: number | null }[] {
  return tasks
    .filter((t) => t.startMs !== null && t.endMs !== null)
    .map((t) => ({ ms: t.endMs! - t.startMs!, worker: t.worker, startMs: t.startMs!, cpuMs: t.cpuMs ?? null }))
    .sort((a, b) => a.startMs - b.startMs);
}

/** What set a run's calls apart: a few slow calls, each the first on its worker, then fast ones. */
export interface CallSplit {
  slowMs: number[];
  medianMs: number;
  /** Calls as slow as a miss: at most one per worker, each its worker's first. */
  slowCount: number;
  callCount: number;
}

/**
 * The signature of a cache (or of one-time costs paid by the first call on each worker):
 * the slow calls are at least CACHE_SPLIT× the median, at least CACHE_MISS_MIN_MS, and
 * each is the first call its worker ran, so a GC pause or a preemption mid-run does not count.
 * A slow call whose own CPU time (where measured) is under that floor did not do a miss's
 * work: it waited (preempted on a busy machine, or for the GIL), so it is no evidence.
 */
export function callSplit(run: Pick<ModeRun, 'tasks' | 'mode'>): CallSplit | null {
  const calls = callTimes(run.tasks);
  if (calls.length < 3) return null;
  const median = percentileSorted(sortedCopy(calls.map((c) => c.ms)), 0.5);
  const floor = Math.max(CACHE_MISS_MIN_MS, CACHE_SPLIT * median);
  const slow = calls.filter((c) => c.ms >= floor && !(c.cpuMs !== null && c.cpuMs < floor));
  if (!slow.length || slow.length * 2 > calls.length) return null;
  const firstOnWorker = new Map<string, number>();
  for (const c of calls) if (!firstOnWorker.has(c.worker ?? '')) firstOnWorker.set(c.worker ?? '', c.startMs);
  // Inline calls share the one thread: only the very first call may be the miss.
  const firsts = run.mode === 'inline' ? new Set([calls[0].startMs]) : new Set(firstOnWorker.values());
  if (!slow.every((c) => firsts.has(c.startMs))) return null;
  return { slowMs: slow.map((c) => round3(c.ms)), medianMs: round3(median), slowCount: slow.length, callCount: calls.length };
}

/**
 * Speedup or CPU/wall above the cores, with the likely reason. `inline` is the run the
 * speedup is relative to; `cores` null: unknown, nothing is judged.
 */
export function implausibleFigures(run: ModeRun, inline: ModeRun | undefined, cores: number | null): NonNullable<ModeRun['suspect']> {
  if (!cores || run.status !== 'ok') return [];
  const out: NonNullable<ModeRun['suspect']> = [];
  if (run.mode !== 'inline' && run.speedup !== null && run.speedup > cores * BEYOND_CORES_MARGIN) {
    out.push({ field: 'speedup', reason: speedupReason(run, inline, cores) });
  }
  if (run.cpu.parallelism > cores * BEYOND_CORES_MARGIN) {
    out.push({
      field: 'parallelism',
      reason: `CPU/wall ${run.cpu.parallelism.toFixed(2)} is more than ${cores} cores can give: CPU time spent outside the window (a pool's start-up, a previous mode's threads) was counted in it`,
    });
  }
  return out;
}

function speedupReason(run: ModeRun, inline: ModeRun | undefined, cores: number): string {
  const head = `${run.speedup!.toFixed(2)}× on ${cores} cores is more than parallelism can give`;
  const calls = inline ? callTimes(inline.tasks) : [];
  const median = calls.length >= 3 ? percentileSorted(sortedCopy(calls.map((c) => c.ms)), 0.5) : null;
  if (median !== null && calls[0].ms >= FIRST_CALL_OUTLIER * median && calls[0].ms >= CACHE_MISS_MIN_MS) {
    return `${head}: inline, the first call took ${fmtMs(calls[0].ms)}, the others ${fmtMs(median)} (median): a one-time cost (imports, caches, JIT, key generation) or a cache miss, not the work, made inline look slow`;
  }
  const inlineP50 = inline?.taskStats.runP50Ms ?? null;
  const p50 = run.taskStats.runP50Ms;
  if (inlineP50 !== null && p50 !== null && p50 > 0 && inlineP50 / p50 > cores * BEYOND_CORES_MARGIN) {
    return `${head}: each call ran ${(inlineP50 / p50).toFixed(1)}× faster in ${run.mode} mode than inline (median ${fmtMs(p50)} vs ${fmtMs(inlineP50)}): a warm-up or cache effect, not parallelism`;
  }
  return `${head}: a warm-up or cache effect, or a disturbed inline window`;
}

