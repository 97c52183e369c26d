/**
 * The sweep's document (looplag.sweep/1): each measured window as a point, the
 * recommendation per pool mode (src/advice/sweep.ts decides it), the notes, the headline.
 * The sweep engine (src/engine/runSweep.ts) measures and calls this as points arrive.
 */
import { recommend, sweepHeadline } from '../advice/sweep';
import type { ModeRun, Report, RunPlan, RunSettings, Sweep, SweepPoint, TaskRecord } from '../shared/protocol';
import { SWEEP_SCHEMA } from '../shared/protocol';
import { callErrorOf, describeCallError } from '../stats/callErrors';
import { round3 } from '../stats/percentiles';
import { TOOL_VERSION } from './buildReport';
import { KNOBS } from '../shared/settings';

/** What the sweep's document says about its windows' plan. */
export interface SweepPlan {
  budgetS: number;
  rounds: NonNullable<RunPlan['sweepRounds']>;
  note: string | null;
  /** The machine's cores, for a report whose runtime does not say. */
  cpuCount: number;
}

/** What was asked for: the session's settings (every mode swept) and the worker counts. */
export interface SweepRequest {
  settings: RunSettings;
  workers: number[];
}

/** Calls per second of each round (calls ended / first queued to last ended), and overall. */
export function roundThroughputs(tasks: TaskRecord[]): { perRound: number[]; overall: number } | null {
  const byRound = new Map<number, { start: number; end: number; calls: number }>();
  for (const t of tasks) {
    if (t.round == null || t.endMs === null) continue;
    const r = byRound.get(t.round) ?? { start: Infinity, end: -Infinity, calls: 0 };
    r.start = Math.min(r.start, t.queuedMs);
    r.end = Math.max(r.end, t.endMs);
    r.calls++;
    byRound.set(t.round, r);
  }
  const rounds = [...byRound.values()].filter((r) => r.end > r.start);
  if (!rounds.length) return null;
  return {
    perRound: rounds.map((r) => round3(r.calls / ((r.end - r.start) / 1000))),
    overall: round3(rounds.reduce((a, r) => a + r.calls, 0) / (rounds.reduce((a, r) => a + r.end - r.start, 0) / 1000)),
  };
}

export function pointOf(run: ModeRun, concurrency: number, target: Pick<Report['target'], 'file'>): SweepPoint {
  const raised = callErrorOf(run, target);
  const workers = run.workers ?? 1;
  const rounds = run.status === 'ok' ? roundThroughputs(run.tasks) : null;
  const throughput = rounds ? rounds.overall : run.throughputPerS;
  const min = rounds ? Math.min(...rounds.perRound) : null;
  const max = rounds ? Math.max(...rounds.perRound) : null;
  return {
    mode: run.mode,
    workers,
    effectiveWorkers: Math.min(workers, concurrency),
    status: run.status,
    error: run.error,
    wallMs: run.wallMs,
    throughputPerS: throughput,
    ...(rounds ? {
      repeats: rounds.perRound.length,
      throughputMinPerS: min,
      throughputMaxPerS: max,
      // One round says nothing about how much a rerun would differ.
      throughputSpread: throughput && rounds.perRound.length > 1 ? Math.round(((max! - min!) / 2 / throughput) * 10000) / 10000 : null,
    } : {}),
    lag: { p50Ms: run.lag.p50Ms, p99Ms: run.lag.p99Ms, maxMs: run.lag.maxMs, stallCount: run.lag.stallCount, stalledFrac: run.lag.stalledFrac },
    cpuParallelism: run.cpu.parallelism,
    queueMaxMs: run.taskStats.queueMaxMs,
    startupMs: run.startupMs,
    ...(run.elu !== undefined ? { elu: run.elu } : {}),
    backgroundCpuFrac: run.backgroundCpuFrac,
    ...(raised ? { raised: { count: raised.raised, calls: raised.calls, error: describeCallError(raised) } } : {}),
  };
}

export function buildSweep(report: Report, points: SweepPoint[], opts: SweepRequest, plan: SweepPlan, started: number, final: boolean): Sweep {
  const budget = opts.settings.lagBudgetMs ?? KNOBS.lagBudgetMs.default;
  const modes = [...new Set(points.map((p) => p.mode))];
  const cpuCount = report.runtime?.cpuCount ?? plan.cpuCount;
  const recommendations = modes.map((m) => recommend(m, points.filter((p) => p.mode === m), budget, report, cpuCount));
  const best = recommendations
    .filter((r) => r.workers !== null && r.throughputPerS !== null)
    .sort((a, b) => (b.throughputPerS ?? 0) - (a.throughputPerS ?? 0))[0];
  const measured = points.filter((p) => p.status === 'ok');
  // Windows the budget cut before their rounds were done (slow calls): say which.
  const short = measured.filter((p) => p.repeats !== undefined && p.repeats < plan.rounds.minRepeats);
  const notes = [
    ...(plan.note ? [plan.note] : []),
    ...(short.length ? [`The sweep budget cut ${short.map((p) => `${p.mode} W=${p.workers} (${p.repeats} round${p.repeats === 1 ? '' : 's'})`).join(', ')} short of ${plan.rounds.minRepeats} rounds: their spread is uncertain. Raise --sweep-budget-s (looplag.sweep.budgetSeconds).`] : []),
    ...collapseBusyNotes(report.quality.notes, points.length),
  ];
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
      budgetS: plan.budgetS,
      minWindowMs: plan.rounds.minWindowMs,
      minRepeats: plan.rounds.minRepeats,
    },
    quality: { ...report.quality, notes },
    points,
    recommendations,
    best: best && best.workers !== null ? { mode: best.mode, workers: best.workers } : null,
    headline: sweepHeadline(recommendations, best, budget, report.error, points),
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
