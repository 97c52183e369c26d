import type { Mode, ModeRun, RawWindow, Report, ResolvedTarget, RunError, RunSettings, RunTarget, Runtime, TaskRecord, ThreadpoolProbeRaw, ThreadpoolStats, TransferStats } from '../shared/protocol';
import { REPORT_SCHEMA } from '../shared/protocol';
import { isRuntimeName, runtimeOf, RUNTIMES } from '../shared/modes';
import { gilWaitStats, lagStats, taskStats } from '../stats/lagStats';
import { reduceBlockers } from '../stats/blockers';
import { SWITCHES } from '../shared/settings';
import { percentileSorted, round3, sortedCopy } from '../stats/percentiles';
import { assessQuality } from './quality';
import { implausibleFigures } from '../stats/plausibility';
import { advise, headline } from '../advice/advise';
import { cancelledMessage, hasFigures } from './cancelText';

export const TOOL_VERSION = '0.1.0';


/** Everything a session has gathered so far; a report can be built from it at any point. */
export interface SessionState {
  target: RunTarget;
  settings: RunSettings;
  createdAt: Date;
  runtime: Runtime | null;
  resolved: ResolvedTarget | null;
  baseline: RawWindow | null;
  diagnostic?: RawWindow | null;
  windows: RawWindow[];
  error: RunError | null;
  finished: boolean;
  /** The measured definition's hash in the file as read for the run (engine/runSession.ts). */
  sourceHash?: string;
  /** Notes of the session itself (e.g. why the free-threaded comparison did not run). */
  notes?: string[];
}

/**
 * Each call's end, as the report states it: `raised` with an error, `ok` with an end,
 * else lost with the window: `crashed` when the window's error is a crash (a pool member
 * or the sidecar died), `unfinished` when it was cut (call timeout, timeout, cancel).
 * A status the record already has (set by the host's watchdog) is kept.
 */
export function withTaskStatus(w: RawWindow): TaskRecord[] {
  return w.tasks.map((t) => {
    if (t.status) return t;
    const status: NonNullable<TaskRecord['status']> = t.error ? 'raised' : t.endMs !== null || w.status === 'ok' ? 'ok'
      : w.error?.kind === 'crashed' ? 'crashed' : 'unfinished';
    return { ...t, status };
  });
}

/**
 * Whether a mode lost calls: some were unfinished (cut) or crashed, or the mode was cut
 * or crashed before its window could count them (a warm-up call that killed its pool
 * member or never ended). The report's `partial` status and the CLI's exit 5 ask this.
 */
export function callsLost(r: ModeRun): boolean {
  return Boolean(r.taskStats.unfinishedCount || r.taskStats.crashedCount) || r.error?.kind === 'crashed' || r.error?.kind === 'call-timeout';
}

/** Raw window → report run: the stats are computed here, on the host, once. */
export function toModeRun(w: RawWindow, settings: RunSettings): ModeRun {
  const doneTasks = w.tasks.filter((t) => t.endMs !== null).length;
  const tasks = withTaskStatus(w);
  const stats = taskStats(tasks);
  // Cut short: the figures are those up to the cut (a crash cuts a window too).
  const partial = Boolean(w.partial) || Boolean(stats.unfinishedCount) || Boolean(stats.crashedCount);
  const cpuMs = w.cpu.userMs + w.cpu.systemMs;
  // A skipped mode sampled nothing: no attribution to report.
  const found = w.status === 'skipped' ? null : blockersOf(w, settings);
  return {
    mode: w.mode as Mode,
    status: w.status,
    error: w.error,
    wallMs: w.wallMs,
    ...(w.t0EpochMs !== undefined ? { t0EpochMs: w.t0EpochMs } : {}),
    startupMs: w.startupMs,
    workers: w.workers,
    ...(w.workersRequested !== undefined ? { workersRequested: w.workersRequested } : {}),
    tasks,
    taskStats: stats,
    lag: lagStats(w.samples, { heartbeatMs: settings.heartbeatMs, stallMs: settings.stallMs, wallMs: w.wallMs }),
    gilWait: gilWaitStats(w.gilWaitsMs),
    ...(w.gilWaitsMs ? { gilWaitSource: 'window' as const } : {}),
    cpu: { userMs: w.cpu.userMs, systemMs: w.cpu.systemMs, parallelism: w.wallMs > 0 ? round3(cpuMs / w.wallMs) : 0 },
    throughputPerS: w.status === 'ok' && w.wallMs > 0 ? round3(doneTasks / (w.wallMs / 1000)) : null,
    speedup: null,
    backgroundCpuFrac: w.backgroundCpuFrac,
    ...(w.elu !== undefined ? { elu: w.elu } : {}),
    ...(w.interpreter !== undefined ? { interpreter: w.interpreter } : {}),
    ...(w.gilEnabled !== undefined ? { gilEnabled: w.gilEnabled } : {}),
    ...(w.eventLoopDelay !== undefined ? { eventLoopDelay: w.eventLoopDelay } : {}),
    ...(w.tasks.some((t) => t.transfer) ? { transfer: transferStats(w.tasks) } : {}),
    ...(w.warmupMs !== undefined ? { warmupMs: w.warmupMs } : {}),
    ...(w.threadpool !== undefined ? { threadpool: threadpoolStats(w.threadpool) } : {}),
    ...(w.notes?.length ? { notes: w.notes } : {}),
    ...(partial ? { partial: true } : {}),
    ...(found ? { ...(found.blockers.length ? { blockers: found.blockers } : {}), attribution: found.attribution } : {}),
    output: w.output,
  };
}

/** Where a window's loop was blocked (stats/blockers.ts), on unless the settings turned it off. */
function blockersOf(w: RawWindow, settings: RunSettings): ReturnType<typeof reduceBlockers> {
  return reduceBlockers(w.attribution, { samples: w.samples, heartbeatMs: settings.heartbeatMs, stallMs: settings.stallMs },
    settings.attribution ?? SWITCHES.attribution.default);
}

/** Per-task transfer costs summed: what moving data cost the loop, and the workers. */
export function transferStats(tasks: RawWindow['tasks']): TransferStats {
  const moved = tasks.flatMap((t) => (t.transfer ? [t.transfer] : []));
  const results = moved.filter((t) => t.resultBytes !== null);
  const sum = (xs: (number | null)[]) => xs.reduce<number>((a, x) => a + (x ?? 0), 0);
  const kinds = moved.some((t) => t.argsKind !== undefined)
    ? { argsKind: mostFrequent(moved.map((t) => t.argsKind ?? null)), resultKind: mostFrequent(results.map((t) => t.resultKind ?? null)) }
    : {};
  return {
    argsBytesMean: moved.length ? round3(sum(moved.map((t) => t.argsBytes)) / moved.length) : 0,
    resultBytesMean: results.length ? round3(sum(results.map((t) => t.resultBytes)) / results.length) : null,
    loopMs: round3(sum(moved.map((t) => t.argsWriteMs)) + sum(moved.map((t) => t.resultReadMs))),
    workerMs: round3(sum(moved.map((t) => t.argsReadMs)) + sum(moved.map((t) => t.resultWriteMs))),
    argsMs: round3(sum(moved.map((t) => t.argsWriteMs)) + sum(moved.map((t) => t.argsReadMs))),
    resultMs: round3(sum(moved.map((t) => t.resultWriteMs)) + sum(moved.map((t) => t.resultReadMs))),
    ...kinds,
  };
}

/** The threadpool probe's round trips reduced to what the views and the rule read. */
export function threadpoolStats(raw: ThreadpoolProbeRaw | null): ThreadpoolStats | null {
  if (!raw || !raw.probesMs.length) return null;
  const sorted = sortedCopy(raw.probesMs);
  return {
    probeP50Ms: round3(percentileSorted(sorted, 0.5)),
    probeMaxMs: round3(sorted[sorted.length - 1]),
    probeCount: sorted.length,
    idleMs: raw.idleMs === null ? null : round3(raw.idleMs),
  };
}

function mostFrequent(xs: (string | null)[]): string | null {
  const counts = new Map<string, number>();
  for (const x of xs) if (x !== null) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}

/**
 * A cancelled session's error says what it measured in the end (cancelText.ts), the
 * windows that came after the cancel included (a cut window the sidecar sent as it
 * stopped): the state as the session leaves it, before its report is built.
 */
export function withCancelSummary(state: SessionState, kind: 'run' | 'sweep'): SessionState {
  if (state.error?.kind !== 'cancelled') return state;
  const runs = state.windows.map((w) => toModeRun(w, state.settings));
  return { ...state, error: { ...state.error, message: cancelledMessage(runs, kind) } };
}

export function buildReport(state: SessionState): Report {
  const report = assemble(state);
  report.advice = advise(report);
  report.headline = headline(report);
  return report;
}

function assemble(state: SessionState): Report {
  const runs = state.windows.map((w) => toModeRun(w, state.settings));
  // Thread mode's window runs without the probe (it would compete for the GIL there):
  // its GIL waits are the diagnostic's, measured on one thread just before it.
  const diagnosticWaits = gilWaitStats(state.diagnostic?.gilWaitsMs ?? null);
  for (const r of runs) {
    if (r.mode === 'thread' && !r.gilWait && diagnosticWaits && r.status !== 'skipped') {
      r.gilWait = diagnosticWaits;
      r.gilWaitSource = 'diagnostic';
    }
  }
  const inline = runs.find((r) => r.mode === 'inline' && r.status === 'ok');
  for (const r of runs) {
    if (inline && r.status === 'ok' && r.wallMs > 0) r.speedup = round3(inline.wallMs / r.wallMs);
    const suspect = implausibleFigures(r, inline, state.runtime?.cpuCount ?? null);
    if (suspect.length) r.suspect = suspect;
  }
  if (state.finished && state.error) {
    // Modes the session never reached are listed, so a reader sees what is missing and why.
    for (const mode of state.settings.modes) {
      if (!runs.some((r) => r.mode === mode)) runs.push(notRun(mode, state.error, state.settings));
    }
  }
  const baselineLag = state.baseline
    ? lagStats(state.baseline.samples, { ...state.settings, wallMs: state.baseline.wallMs })
    : null;
  const measured = runs.filter((r) => r.status !== 'skipped');
  // Calls that never finished (cut, or lost in a crash) leave the session incomplete.
  const lost = runs.some(callsLost);
  // A run the host recorded for a sidecar that could not answer has no figures: not "measured".
  const withFigures = measured.filter(hasFigures);
  const status: Report['status'] = !state.error ? (lost ? 'partial' : 'complete') : withFigures.length ? 'partial' : 'failed';
  return {
    schema: REPORT_SCHEMA,
    tool: { name: 'looplag', version: TOOL_VERSION },
    createdAt: state.createdAt.toISOString(),
    status,
    error: state.error,
    target: {
      file: state.target.file,
      qualname: state.target.qualname,
      lines: state.target.lines,
      line: state.resolved?.line ?? state.target.lines?.start ?? null,
      language: state.target.language,
      args: state.target.args,
      isAsync: state.resolved?.isAsync ?? null,
      ...(state.resolved?.definedIn ? { definedIn: state.resolved.definedIn } : {}),
      ...(state.resolved?.module ? { module: state.resolved.module } : {}),
      ...(state.resolved?.moduleFormat ? { moduleFormat: state.resolved.moduleFormat } : {}),
      ...(state.resolved?.framework ? { framework: state.resolved.framework } : {}),
      ...(state.sourceHash ? { sourceHash: state.sourceHash } : {}),
    },
    runtime: state.runtime,
    settings: {
      ...state.settings,
      attribution: state.settings.attribution ?? SWITCHES.attribution.default,
      switchIntervalS: state.settings.switchIntervalS ?? (state.runtime && isRuntimeName(state.runtime.name) && RUNTIMES[state.runtime.name].gil ? state.runtime.switchIntervalS : null),
    },
    quality: withNotes(assessQuality({
      windows: measured.map((r) => ({ mode: r.mode, backgroundCpuFrac: r.backgroundCpuFrac })),
      baseline: baselineLag,
      gilProbe: state.settings.gilProbe,
      gilProbeInWindow: state.settings.gilProbeInWindow ?? false,
      gil: runtimeOf(state.target.language).gil,
      diagnostic: Boolean(state.diagnostic),
    }), state.notes ?? []),
    baseline: state.baseline && baselineLag
      ? { lag: baselineLag, gilWait: gilWaitStats(state.baseline.gilWaitsMs), wallMs: state.baseline.wallMs }
      : null,
    diagnostic: state.diagnostic ? diagnosticOf(state.diagnostic, state.settings) : null,
    runs,
    advice: [],
  };
}

function withNotes<Q extends { notes: string[] }>(q: Q, notes: string[]): Q {
  return notes.length ? { ...q, notes: [...q.notes, ...notes] } : q;
}

function diagnosticOf(w: RawWindow, settings: RunSettings): NonNullable<Report['diagnostic']> {
  const task = w.tasks[0];
  const callMs = task && task.startMs !== null && task.endMs !== null ? round3(task.endMs - task.startMs) : null;
  return {
    lag: lagStats(w.samples, { heartbeatMs: settings.heartbeatMs, stallMs: settings.stallMs, wallMs: w.wallMs }),
    gilWait: gilWaitStats(w.gilWaitsMs),
    wallMs: w.wallMs,
    callMs,
    cpuMs: task?.cpuMs ?? null,
    ...(w.attribution ? { blockers: blockersOf(w, settings).blockers } : {}),
  };
}

function notRun(mode: Mode, why: RunError, settings: RunSettings): ModeRun {
  const empty: RawWindow = {
    mode, status: 'skipped', error: { kind: why.kind, message: `not measured: ${why.message}`, detail: null },
    wallMs: 0, startupMs: null, workers: null, tasks: [], samples: [], gilWaitsMs: null,
    cpu: { userMs: 0, systemMs: 0 }, backgroundCpuFrac: null,
    output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
  };
  return toModeRun(empty, settings);
}
