/**
 * The worker sweep: thread and process modes (Node: worker and process) over a list of
 * pool sizes, throughput and lag for each, and the recommended size: the smallest W
 * within 5% of the best throughput whose loop lag stays within the budget.
 */
import * as os from 'node:os';
import { TOOL_VERSION, buildReport, toModeRun } from '../report/buildReport';
import { fmtMs } from '../report/textTable';
import type { Mode, ModeRun, Report, Sweep, SweepPoint, SweepRecommendation } from '../shared/protocol';
import { SWEEP_SCHEMA } from '../shared/protocol';
import { Progress, RunOptions, measure } from './runSession';
import { UsageError } from './runPlan';
import { nodeTarget, pyTarget } from '../advice/rules';
import * as Py from '../advice/snippets/python';
import * as Js from '../advice/snippets/node';

/** Within this share of the best throughput, a smaller pool is as good and cheaper. */
export const THROUGHPUT_TOLERANCE = 0.05;

/** The default counts: small pools, the cores, `ThreadPoolExecutor`'s default (cores + 4, capped at 32) and Starlette's 40. */
export const DEFAULT_SWEEP_WORKERS = ['1', '2', '4', 'cores', 'cores+4', '32', '40'];

export function cores(): number {
  const o = os as unknown as { availableParallelism?: () => number };
  return typeof o.availableParallelism === 'function' ? o.availableParallelism() : os.cpus().length || 1;
}

/** `1,2,4,cores,cores+4,32,40` → sorted unique counts. */
export function parseWorkerList(items: (string | number)[], cpuCount = cores()): number[] {
  const out = new Set<number>();
  for (const raw of items) {
    const item = String(raw).trim().toLowerCase().replace(/\s+/g, '');
    if (!item) continue;
    const m = /^(?:(\d+)|cores(?:([+-])(\d+))?)$/.exec(item);
    if (!m) throw new UsageError(`bad worker count "${raw}": use whole numbers, "cores" or "cores+N"`);
    const n = m[1] !== undefined ? Number(m[1]) : cpuCount + (m[2] === '-' ? -1 : 1) * Number(m[3] ?? 0);
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw new UsageError(`worker count "${raw}" must be from 1 to 1024 (got ${n})`);
    out.add(n);
  }
  if (!out.size) throw new UsageError('a sweep needs at least one worker count');
  return [...out].sort((a, b) => a - b);
}

export interface SweepOptions extends Omit<RunOptions, 'onRun' | 'sweepWorkers' | 'freeThreaded' | 'diagnostic'> {
  workers: number[];
  onPoint?(point: SweepPoint, partial: Sweep): void;
}

export type SweepProgress = Progress;

export async function runSweep(opts: SweepOptions): Promise<Sweep> {
  const started = Date.now();
  const points: SweepPoint[] = [];
  const partial = (report: Report): Sweep => sweepOf(report, points, opts, started, false);
  const state = await measure({
    ...opts,
    diagnostic: false,
    sweepWorkers: opts.workers,
    onRun: (run, report) => {
      points.push(pointOf(run, report.settings.concurrency));
      opts.onPoint?.(points[points.length - 1], partial(report));
    },
  });
  state.finished = true;
  const report = buildReport(state);
  // Rebuild from the finished windows (the live list may lack a failed last window).
  const all = state.windows.map((w) => pointOf(toModeRun(w, state.settings), state.settings.concurrency));
  return sweepOf(report, all, opts, started, true);
}

function pointOf(run: ModeRun, concurrency: number): SweepPoint {
  const workers = run.workers ?? 1;
  return {
    mode: run.mode,
    workers,
    effectiveWorkers: Math.min(workers, concurrency),
    status: run.status,
    error: run.error,
    wallMs: run.wallMs,
    throughputPerS: run.throughputPerS,
    lag: { p50Ms: run.lag.p50Ms, p99Ms: run.lag.p99Ms, maxMs: run.lag.maxMs, stallCount: run.lag.stallCount, stalledFrac: run.lag.stalledFrac },
    cpuParallelism: run.cpu.parallelism,
    queueMaxMs: run.taskStats.queueMaxMs,
    startupMs: run.startupMs,
    ...(run.elu !== undefined ? { elu: run.elu } : {}),
    backgroundCpuFrac: run.backgroundCpuFrac,
  };
}

function sweepOf(report: Report, points: SweepPoint[], opts: SweepOptions, started: number, final: boolean): Sweep {
  const budget = opts.settings.lagBudgetMs ?? 100;
  const modes = [...new Set(points.map((p) => p.mode))];
  const recommendations = modes.map((m) => recommend(m, points.filter((p) => p.mode === m), budget, report));
  const best = recommendations
    .filter((r) => r.workers !== null && r.throughputPerS !== null)
    .sort((a, b) => (b.throughputPerS ?? 0) - (a.throughputPerS ?? 0))[0];
  const measured = points.filter((p) => p.status === 'ok');
  return {
    schema: SWEEP_SCHEMA,
    tool: { name: 'looplag', version: TOOL_VERSION },
    createdAt: report.createdAt,
    status: !final ? 'partial' : report.error ? (measured.length ? 'partial' : 'failed') : 'complete',
    error: report.error,
    target: { file: report.target.file, qualname: report.target.qualname, lines: report.target.lines, language: report.target.language, args: report.target.args },
    runtime: report.runtime,
    settings: {
      modes: opts.settings.modes,
      workers: opts.workers,
      concurrency: opts.settings.concurrency,
      heartbeatMs: opts.settings.heartbeatMs,
      stallMs: opts.settings.stallMs,
      lagBudgetMs: budget,
      timeoutS: opts.settings.timeoutS,
      windowsMs: Math.round(points.reduce((a, p) => a + p.wallMs, 0) * 1000) / 1000,
      totalMs: Date.now() - started,
    },
    quality: { ...report.quality, notes: collapseBusyNotes(report.quality.notes, points.length) },
    points,
    recommendations,
    best: best && best.workers !== null ? { mode: best.mode, workers: best.workers } : null,
    headline: sweepHeadline(recommendations, best, budget, report),
  };
}

/** One line for all the busy-machine notes of a sweep's many windows. */
function collapseBusyNotes(notes: string[], windows: number): string[] {
  const busy = notes.filter((n) => n.startsWith('Other processes used'));
  if (busy.length <= 1) return notes;
  const worst = Math.max(...busy.map((n) => Number(/used (\d+)%/.exec(n)?.[1] ?? 0)));
  return [
    `Other processes used up to ${worst}% of the machine's CPU during ${busy.length} of ${windows} windows: their lag and times are inflated. Rerun on a quieter machine.`,
    ...notes.filter((n) => !busy.includes(n)),
  ];
}

export function recommend(mode: Mode, points: SweepPoint[], budgetMs: number, report: Pick<Report, 'target' | 'settings'>): SweepRecommendation {
  const ok = points.filter((p) => p.status === 'ok' && p.throughputPerS !== null);
  if (!ok.length) {
    return { mode, workers: null, throughputPerS: null, lagP99Ms: null, lagMaxMs: null, reason: points[0]?.error?.message ?? 'nothing measured', code: null };
  }
  const bestThroughput = Math.max(...ok.map((p) => p.throughputPerS!));
  // Sizes at or above the calls in flight run the same pool (as many busy workers as
  // calls): they are one configuration measured several times, so it is judged by its
  // best measurement and, if chosen, named by its smallest W.
  const sameConfigBest = (p: SweepPoint) => Math.max(...ok.filter((q) => q.effectiveWorkers === p.effectiveWorkers).map((q) => q.throughputPerS!));
  const within = ok.filter((p) => p.lag.maxMs <= budgetMs).sort((a, b) => a.workers - b.workers);
  const pick = within.find((p) => sameConfigBest(p) >= (1 - THROUGHPUT_TOLERANCE) * bestThroughput);
  if (!pick) {
    const calmest = [...ok].sort((a, b) => a.lag.maxMs - b.lag.maxMs)[0];
    const why = within.length
      ? `only W=${within.map((p) => p.workers).join(', ')} kept the loop within ${fmtMs(budgetMs)}, and none came within ${THROUGHPUT_TOLERANCE * 100}% of the best throughput (${bestThroughput.toFixed(1)}/s)`
      : `no pool size kept the loop's max lag within ${fmtMs(budgetMs)} (the lowest was ${fmtMs(calmest.lag.maxMs)} at W=${calmest.workers})`;
    // Within budget but slower is still the safe choice; none within budget: no recommendation.
    const fallback = within.sort((a, b) => b.throughputPerS! - a.throughputPerS!)[0];
    if (fallback) {
      return { mode, workers: fallback.workers, throughputPerS: fallback.throughputPerS, lagP99Ms: fallback.lag.p99Ms, lagMaxMs: fallback.lag.maxMs, reason: `${why}; W=${fallback.workers} is the fastest that did`, code: codeFor(mode, fallback.workers, report) };
    }
    return { mode, workers: null, throughputPerS: null, lagP99Ms: null, lagMaxMs: null, reason: why, code: null };
  }
  const larger = ok.filter((p) => p.workers > pick.workers);
  const reason = `W=${pick.workers} reached ${pick.throughputPerS!.toFixed(1)} calls/s (best ${bestThroughput.toFixed(1)}/s) with loop lag p99 ${fmtMs(pick.lag.p99Ms)}, max ${fmtMs(pick.lag.maxMs)} (budget ${fmtMs(budgetMs)})` +
    (larger.length ? `; more workers did not add ${THROUGHPUT_TOLERANCE * 100}%` : '') +
    (pick.workers > pick.effectiveWorkers ? ` (with ${report.settings.concurrency} concurrent calls at most ${pick.effectiveWorkers} run at once: W=${pick.effectiveWorkers} behaves the same)` : '');
  return { mode, workers: pick.workers, throughputPerS: pick.throughputPerS, lagP99Ms: pick.lag.p99Ms, lagMaxMs: pick.lag.maxMs, reason, code: codeFor(mode, pick.workers, report) };
}

/** The recommended pool as code: the same snippets the advice shows, sized to W. */
export function codeFor(mode: Mode, w: number, report: Pick<Report, 'target'>): string {
  if (report.target.language === 'python') {
    const t = pyTarget(report);
    if (mode === 'process') return Py.processPoolApp(t, w);
    if (mode === 'interpreter') return Py.interpreterPool(t, w);
    return Py.sizedThreadPool(t, w, `Starlette/FastAPI sync endpoints: anyio.to_thread.current_default_thread_limiter().total_tokens = ${w}`);
  }
  const t = nodeTarget(report);
  return mode === 'process' ? Js.childPool(t, { workers: w }) : Js.workerPool(t, { workers: w });
}

function sweepHeadline(recs: SweepRecommendation[], best: SweepRecommendation | undefined, budgetMs: number, report: Report): string {
  if (!recs.length) return report.error ? `Nothing measured: ${report.error.message}` : 'Nothing measured.';
  if (!best) return `No pool size kept the loop within ${fmtMs(budgetMs)}: ${recs.map((r) => `${r.mode}: ${r.reason}`).join('; ')}.`;
  return `Use ${best.mode} with W=${best.workers}: ${best.throughputPerS?.toFixed(1)} calls/s, loop lag max ${fmtMs(best.lagMaxMs)} (budget ${fmtMs(budgetMs)}).`;
}
