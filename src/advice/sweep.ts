/**
 * The worker sweep's recommendation, headline and code: which pool size to use, given
 * each size's throughput (with the spread of its repeated rounds) and loop lag.
 * Pure: the sweep engine (src/engine/runSweep.ts) measures, src/report/buildSweep.ts
 * assembles the document and asks this to decide.
 */
import { fmtMs } from '../shared/format';
import { runtimeNameOfReport } from '../shared/modes';
import type { Mode, Report, Runtime, SweepPoint, SweepRecommendation } from '../shared/protocol';
import { SNIPPETS } from './snippets';
import { CPU_BOUND_PARALLELISM } from './thresholds';

/** Within this share of the best throughput, a smaller pool is as good and cheaper. */
export const THROUGHPUT_TOLERANCE = 0.05;

/** What `recommend` needs to know about the session: the target, the settings, the cores. */
export type SweepContext = Pick<Report, 'target' | 'settings'> & { runtime?: Pick<Runtime, 'cpuCount'> | null };

/**
 * CPU/wall per running call at the smallest measured pool: about 1 when each call keeps
 * a core busy the whole time (CPU-bound), well below when it waits (I/O, sleeps, locks).
 * On a busy machine a CPU-bound call gets only the cores other processes leave, so the
 * share is of what was left (background CPU is a share of all `cores`).
 * Null when nothing says (no point measured).
 */
export function cpuShare(points: SweepPoint[], cores: number): number | null {
  const smallest = [...points].filter((p) => p.status === 'ok' && p.wallMs > 0).sort((a, b) => a.workers - b.workers)[0];
  if (!smallest) return null;
  const left = cores * (1 - Math.min(0.95, Math.max(0, smallest.backgroundCpuFrac ?? 0)));
  return smallest.cpuParallelism / Math.max(0.05, Math.min(smallest.effectiveWorkers, left));
}

const rounds = (n: number | undefined) => `${n ?? '?'} round${n === 1 ? '' : 's'}`;
const range = (p: SweepPoint) =>
  p.throughputMinPerS != null && p.throughputMaxPerS != null && (p.repeats ?? 0) > 1
    ? `${p.throughputMinPerS.toFixed(1)}–${p.throughputMaxPerS.toFixed(1)}/s over ${rounds(p.repeats)}`
    : `${p.throughputPerS!.toFixed(1)}/s, one measurement`;
/** ` (±4% over 3 rounds)`, or nothing without a spread. */
const spreadOf = (p: Pick<SweepPoint, 'throughputSpread' | 'repeats'> | undefined) =>
  p?.throughputSpread != null ? ` (±${(p.throughputSpread * 100).toFixed(0)}% over ${rounds(p.repeats)})` : '';

/**
 * Whether `a` is faster than `b` by more than the measurements' spread: a's slowest round
 * beats b's fastest (for points without repeats, the single values compare).
 */
export function beatsBeyondSpread(a: SweepPoint, b: SweepPoint): boolean {
  const aLow = a.throughputMinPerS ?? a.throughputPerS ?? 0;
  const bHigh = b.throughputMaxPerS ?? b.throughputPerS ?? 0;
  return aLow > bHigh;
}

/**
 * The smallest W within 5% of the best throughput whose loop lag stays within the
 * budget; for CPU-bound work, a W above the core count only when it beats the best
 * W ≤ cores by more than the spread of their repeated rounds (more CPU-bound workers
 * than cores cannot run at once: a higher figure there is noise or a measurement artefact).
 */
export function recommend(mode: Mode, points: SweepPoint[], budgetMs: number, report: SweepContext, cpuCount?: number): SweepRecommendation {
  // A window whose every call raised timed the error path: its throughput is not the work's.
  const ok = points.filter((p) => p.status === 'ok' && p.throughputPerS !== null && !(p.raised && p.raised.count >= p.raised.calls));
  if (!ok.length) {
    return { mode, workers: null, throughputPerS: null, lagP99Ms: null, lagMaxMs: null, reason: points[0]?.error?.message ?? 'nothing measured', code: null };
  }
  // Unknown cores (no runtime): no W is known to be above them, and the rule stays out.
  const cores = cpuCount ?? report.runtime?.cpuCount ?? Number.POSITIVE_INFINITY;
  const bestThroughput = Math.max(...ok.map((p) => p.throughputPerS!));
  // Sizes at or above the calls in flight run the same pool (as many busy workers as
  // calls): they are one configuration measured several times, so it is judged by its
  // best measurement and, if chosen, named by its smallest W.
  const sameConfig = (p: SweepPoint) => ok.filter((q) => q.effectiveWorkers === p.effectiveWorkers).sort((a, b) => b.throughputPerS! - a.throughputPerS!)[0];
  const within = ok.filter((p) => p.lag.maxMs <= budgetMs).sort((a, b) => a.workers - b.workers);
  let pick = within.find((p) => sameConfig(p).throughputPerS! >= (1 - THROUGHPUT_TOLERANCE) * bestThroughput);
  if (!pick) {
    const calmest = [...ok].sort((a, b) => a.lag.maxMs - b.lag.maxMs)[0];
    const why = within.length
      ? `only W=${within.map((p) => p.workers).join(', ')} kept the loop within ${fmtMs(budgetMs)}, and none came within ${THROUGHPUT_TOLERANCE * 100}% of the best throughput (${bestThroughput.toFixed(1)}/s)`
      : `no pool size kept the loop's max lag within ${fmtMs(budgetMs)} (the lowest was ${fmtMs(calmest.lag.maxMs)} at W=${calmest.workers})`;
    // Within budget but slower is still the safe choice; none within budget: no recommendation.
    const fallback = [...within].sort((a, b) => b.throughputPerS! - a.throughputPerS!)[0];
    if (fallback) {
      return { mode, workers: fallback.workers, throughputPerS: fallback.throughputPerS, lagP99Ms: fallback.lag.p99Ms, lagMaxMs: fallback.lag.maxMs, reason: `${why}; W=${fallback.workers} is the fastest that did`, code: codeFor(mode, fallback.workers, report) };
    }
    return { mode, workers: null, throughputPerS: null, lagP99Ms: null, lagMaxMs: null, reason: why, code: null };
  }
  let capped = '';
  const share = cpuShare(ok, cores);
  if (pick.effectiveWorkers > cores && share !== null && share >= CPU_BOUND_PARALLELISM) {
    // CPU-bound: at most `cores` calls make progress at once, whatever W is.
    const ref = within.filter((p) => p.effectiveWorkers <= cores).sort((a, b) => b.effectiveWorkers - a.effectiveWorkers || b.throughputPerS! - a.throughputPerS!)[0];
    const contender = sameConfig(pick);
    if (ref && !beatsBeyondSpread(contender, ref)) {
      capped = `; W=${contender.workers} measured ${contender.throughputPerS!.toFixed(1)}/s (${range(contender)}), within the spread of W=${ref.workers}'s ` +
        `${ref.throughputPerS!.toFixed(1)}/s (${range(ref)}): on ${cores} core${cores === 1 ? '' : 's'} CPU-bound work ` +
        `(CPU/wall ${share.toFixed(2)} per call) runs at most ${cores} calls at once, so more workers than cores must beat W=${ref.workers} by more than the spread to be recommended`;
      pick = ref;
    } else if (ref) {
      capped = `; it beat W=${ref.workers} (${range(ref)}) by more than the spread of repeated rounds (${range(contender)}), although CPU-bound work on ${cores} core${cores === 1 ? '' : 's'} rarely gains from more workers than cores`;
    }
  }
  const larger = ok.filter((p) => p.workers > pick!.workers);
  const reason = `W=${pick.workers} reached ${pick.throughputPerS!.toFixed(1)} calls/s${spreadOf(pick)} (best ${bestThroughput.toFixed(1)}/s) with loop lag p99 ${fmtMs(pick.lag.p99Ms)}, max ${fmtMs(pick.lag.maxMs)} (budget ${fmtMs(budgetMs)})` +
    (capped || (larger.length ? `; more workers did not add ${THROUGHPUT_TOLERANCE * 100}%` : '')) +
    (pick.workers > pick.effectiveWorkers ? ` (with ${report.settings.concurrency} concurrent calls at most ${pick.effectiveWorkers} run at once: W=${pick.effectiveWorkers} behaves the same)` : '');
  return { mode, workers: pick.workers, throughputPerS: pick.throughputPerS, lagP99Ms: pick.lag.p99Ms, lagMaxMs: pick.lag.maxMs, reason, code: codeFor(mode, pick.workers, report) };
}

/** The recommended pool as code: the same snippets the advice shows, sized to W. */
export function codeFor(mode: Mode, w: number, report: Pick<Report, 'target'>): string {
  return SNIPPETS[runtimeNameOfReport(report)].sizedPool(mode, w, report);
}

/** The sweep's one sentence: which mode and W, at what throughput (± its spread) and lag. */
export function sweepHeadline(recs: SweepRecommendation[], best: SweepRecommendation | undefined, budgetMs: number, error: { message: string } | null, points: SweepPoint[] = []): string {
  if (!recs.length) return error ? `Nothing measured: ${error.message}` : 'Nothing measured.';
  const raised = points.filter((p) => p.raised);
  if (raised.length) {
    const all = raised.every((p) => p.raised!.count >= p.raised!.calls) && raised.length === points.filter((p) => p.status === 'ok').length;
    return `${all ? `Every call raised ${raised[0].raised!.error}` : `Calls raised in ${raised.length} of ${points.length} windows (first: ${raised[0].raised!.error})`}: ` +
      `${all ? 'the sweep timed the error path, not the work; no pool size is recommended.' : 'windows where every call raised are left out of the recommendation.'}` +
      (best && !all ? ` Otherwise: use ${best.mode} with W=${best.workers}.` : '');
  }
  if (!best) return `No pool size kept the loop within ${fmtMs(budgetMs)}: ${recs.map((r) => `${r.mode}: ${r.reason}`).join('; ')}.`;
  const point = points.find((p) => p.mode === best.mode && p.workers === best.workers);
  return `Use ${best.mode} with W=${best.workers}: ${best.throughputPerS?.toFixed(1)} calls/s${spreadOf(point)}, loop lag max ${fmtMs(best.lagMaxMs)} (budget ${fmtMs(budgetMs)}).`;
}
