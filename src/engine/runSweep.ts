/**
 * The worker sweep: thread and process modes (Node: worker and process) over a list of
 * pool sizes, throughput (repeated rounds, with their spread) and lag for each. The
 * document is assembled in src/report/buildSweep.ts; what to recommend is src/advice/sweep.ts.
 */
import * as os from 'node:os';
import { buildReport, toModeRun, SessionState, withCancelSummary } from '../report/buildReport';
import { buildSweep, pointOf, SweepPlan } from '../report/buildSweep';
import type { Report, RunPlan, Sweep, SweepPoint } from '../shared/protocol';
import { timeoutError } from './crashMessages';
import { Progress, RunOptions, measure } from './runSession';
import { UsageError } from './options';
import { KNOBS } from '../shared/settings';

/** A later mode's sidecar needs at least this long to start and load the target. */
const SWEEP_MIN_LEFT_S = 1;

/** The default counts: small pools, the cores, `ThreadPoolExecutor`'s default (cores + 4, capped at 32) and Starlette's 40. */
export const DEFAULT_SWEEP_WORKERS = ['1', '2', '4', 'cores', 'cores+4', '32', '40'];

/**
 * The whole sweep's default time budget: the 7 default counts × 2 pool modes get about
 * 3 s each at most, well above the 0.5 s window a fast function needs.
 */
export const DEFAULT_SWEEP_BUDGET_S: number = KNOBS.sweepBudgetS.default;
/** Each window runs at least this long: a 90 ms window of 8 calls measured noise (issue 10). */
export const SWEEP_MIN_WINDOW_MS = 500;
/** …and at least this many rounds, each one throughput measurement, so their spread is known. */
export const SWEEP_MIN_REPEATS = 3;
/** A round admits at least this many calls per worker, so every worker runs more than once. */
export const SWEEP_CALLS_PER_WORKER = 2;
/** A round shorter than this measures scheduling more than the work. */
const MIN_ROUND_MS = 50;
/** The windows' share of the budget; the rest pays sidecar and pool start-ups and baselines. */
const WINDOW_SHARE = 0.7;

/**
 * How each window of a sweep of `windows` windows runs within `budgetS`: at least
 * SWEEP_MIN_WINDOW_MS and SWEEP_MIN_REPEATS rounds when the budget allows, shortened
 * (and fewer rounds) when not, with a note saying so.
 */
export function sweepRoundsFor(budgetS: number, windows: number): { rounds: NonNullable<RunPlan['sweepRounds']>; note: string | null } {
  const perWindowMs = (budgetS * 1000 * WINDOW_SHARE) / Math.max(1, windows);
  const minWindowMs = Math.min(SWEEP_MIN_WINDOW_MS, perWindowMs);
  const minRepeats = Math.min(SWEEP_MIN_REPEATS, Math.max(1, Math.floor(perWindowMs / MIN_ROUND_MS)));
  const rounds = { minRepeats, minWindowMs: Math.round(minWindowMs), maxWindowMs: Math.round(Math.max(perWindowMs, minWindowMs)), callsPerWorker: SWEEP_CALLS_PER_WORKER };
  const cut = [
    ...(minWindowMs < SWEEP_MIN_WINDOW_MS ? [`windows shortened from ${SWEEP_MIN_WINDOW_MS} to ${rounds.minWindowMs} ms`] : []),
    ...(minRepeats < SWEEP_MIN_REPEATS ? [`repeats reduced from ${SWEEP_MIN_REPEATS} to ${minRepeats} round${minRepeats === 1 ? '' : 's'}`] : []),
  ];
  const note = cut.length
    ? `The sweep budget of ${budgetS} s for ${windows} windows left ${Math.round(perWindowMs)} ms each: ${cut.join(' and ')}. Throughputs are less certain; raise --sweep-budget-s (looplag.sweep.budgetSeconds) to trust them.`
    : null;
  return { rounds, note };
}

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

export interface SweepOptions extends Omit<RunOptions, 'onRun' | 'sweepWorkers' | 'sweepRounds' | 'freeThreaded' | 'diagnostic'> {
  workers: number[];
  /** The whole sweep's time budget, seconds (default DEFAULT_SWEEP_BUDGET_S). */
  budgetS?: number;
  onPoint?(point: SweepPoint, partial: Sweep): void;
}

export type SweepProgress = Progress;

/**
 * Each mode in a sidecar of its own, so every mode starts from the same clean state
 * (a process pool forked after the thread mode's calls would inherit their memory and
 * whatever they broke, such as a closed sys.stdout).
 */
export async function runSweep(opts: SweepOptions): Promise<Sweep> {
  const started = Date.now();
  const budgetS = opts.budgetS ?? DEFAULT_SWEEP_BUDGET_S;
  const { rounds, note } = sweepRoundsFor(budgetS, opts.workers.length * opts.settings.modes.length);
  const plan: SweepPlan = { budgetS, rounds, note, cpuCount: cores() };
  const points: SweepPoint[] = [];
  const states: SessionState[] = [];
  const partial = (report: Report): Sweep => buildSweep(report, points, opts, plan, started, false);
  for (const mode of opts.settings.modes) {
    const leftS = opts.settings.timeoutS - (Date.now() - started) / 1000;
    if (states.length && leftS < SWEEP_MIN_LEFT_S) {
      // Too little time for another sidecar to even say hello: that is the timeout, not
      // an interpreter that failed to start.
      states.push({ ...states[0], windows: [], error: timeoutError(opts.settings.timeoutS, points.length), finished: true });
      break;
    }
    const state = await measure({
      ...opts,
      settings: { ...opts.settings, modes: [mode], timeoutS: Math.max(0.1, leftS) },
      diagnostic: false,
      sweepWorkers: opts.workers,
      sweepRounds: rounds,
      // A window's rounds run as many calls as its time needs: no total to count towards.
      onProgress: opts.onProgress && ((p) => opts.onProgress!(p.phase === 'running' ? { ...p, total: 0 } : p)),
      onRun: (run, report) => {
        points.push(pointOf(run, report.settings.concurrency, report.target));
        opts.onPoint?.(points[points.length - 1], partial({ ...report, settings: { ...report.settings, modes: opts.settings.modes } }));
      },
    });
    states.push(state);
    // A load failure, a cancel or the timeout: the next mode would only repeat it.
    if (state.error) break;
  }
  const first = states[0];
  if (!first) throw new UsageError('a sweep needs at least one pool mode');
  const merged: SessionState = {
    ...first,
    // The first session's settings (Node: no GIL probe) with every mode swept.
    settings: { ...first.settings, modes: opts.settings.modes },
    windows: states.flatMap((s) => s.windows),
    error: states.find((s) => s.error)?.error ?? null,
    notes: [...new Set(states.flatMap((s) => s.notes ?? []))],
    finished: true,
  };
  const report = buildReport(withCancelSummary(merged, 'sweep'));
  // Rebuild from the finished windows (the live list may lack a failed last window).
  const all = merged.windows.map((w) => pointOf(toModeRun(w, merged.settings), merged.settings.concurrency, merged.target));
  return buildSweep(report, all, opts, plan, started, true);
}

