/** The report: looplag.report/1, one session's measurements, advice and headline. */
import { arr, bool, Infer, int, literal, nullable, num, obj, optional, str } from '../validate';
import { Mode } from './common';
import { DOCUMENT_FIELDS, TARGET_FIELDS } from './document';
import { CapturedOutput, Framework, LoopDelay, Runtime, Sample, WINDOW_OUTCOME_FIELDS } from './sidecar';
import { Attribution, Blocker } from './attribution';

export const REPORT_SCHEMA = 'looplag.report/1';

export const LagStats = obj({
  p50Ms: num, p90Ms: num, p99Ms: num, maxMs: num, meanMs: num,
  stallCount: int, stalledMs: num,
  /** stalledMs / wallMs: the share of the window the loop could not respond. */
  stalledFrac: num,
  sampleCount: int,
  /** wallMs / heartbeatMs: what an unblocked loop would have recorded. */
  expectedSampleCount: int,
  samples: arr(Sample),
});
export type LagStats = Infer<typeof LagStats>;

export const GilWaitStats = obj({ p50Ms: num, p99Ms: num, maxMs: num, meanMs: num, sampleCount: int });
export type GilWaitStats = Infer<typeof GilWaitStats>;

export const TaskStats = obj({
  /** Calls that finished and returned. */
  okCount: int,
  errorCount: int,
  /** Calls still running (or never started) at a cut; absent in older reports (0). */
  unfinishedCount: optional(int),
  /** Calls lost with a pool member or a sidecar that died; absent in older reports (0). */
  crashedCount: optional(int),
  queueP50Ms: nullable(num),
  queueMaxMs: nullable(num),
  runP50Ms: nullable(num),
  runMaxMs: nullable(num),
  runSumMs: num,
});
export type TaskStats = Infer<typeof TaskStats>;

export const TransferStats = obj({
  argsBytesMean: num,
  resultBytesMean: nullable(num),
  /** Serializing arguments + deserializing results on the event loop, summed over the calls. */
  loopMs: num,
  /** The same work on the workers' side, summed. */
  workerMs: num,
  /** Moving the arguments (written on the loop, read on the workers) and the results, each summed over the calls. */
  argsMs: optional(num),
  resultMs: optional(num),
  /** The most frequent kind of the arguments and of the results (see VALUE_KINDS). */
  argsKind: optional(nullable(str)),
  resultKind: optional(nullable(str)),
});
export type TransferStats = Infer<typeof TransferStats>;

/**
 * Node: how long a tiny job (a 1-byte `crypto.randomFill`) took to come back from libuv's
 * threadpool, timed from the loop every few ms during the window. fs, dns.lookup, crypto,
 * zlib and native addons' async work share that pool (UV_THREADPOOL_SIZE, 4 by default):
 * when the target fills it, every other user waits behind it.
 */
export const ThreadpoolStats = obj({
  probeP50Ms: num,
  probeMaxMs: num,
  probeCount: int,
  /** The same round trip with nothing else queued, measured right before the window. */
  idleMs: nullable(num),
});
export type ThreadpoolStats = Infer<typeof ThreadpoolStats>;

export const ModeRun = obj({
  mode: Mode,
  ...WINDOW_OUTCOME_FIELDS,
  taskStats: TaskStats,
  lag: LagStats,
  gilWait: nullable(GilWaitStats),
  /**
   * Python: where `gilWait` was measured. `window`: by a probe in this window
   * (settings.gilProbeInWindow); `diagnostic`: thread mode's, in the one-thread
   * diagnostic window before it, so this window's lag had no probe competing for the
   * GIL (the default). Absent or null: no GIL waits.
   */
  gilWaitSource: optional(nullable(literal('window', 'diagnostic'))),
  cpu: obj({ userMs: num, systemMs: num, parallelism: num }),
  /** Tasks per second. */
  throughputPerS: nullable(num),
  /** inline wall / this wall; null without a measured inline run. */
  speedup: nullable(num),
  backgroundCpuFrac: nullable(num),
  /** Node: event-loop utilization over the window (0–1); absent for Python. */
  elu: optional(nullable(num)),
  /** Set when this run used another interpreter than `report.runtime` (the free-threaded column). */
  interpreter: optional(nullable(str)),
  gilEnabled: optional(nullable(bool)),
  eventLoopDelay: optional(nullable(LoopDelay)),
  /** Node pools: totals of the per-task transfer costs. */
  transfer: optional(nullable(TransferStats)),
  /** Each unmeasured warm-up call's duration before the window, ms (see RunPlan.warmup). */
  warmupMs: optional(nullable(arr(num))),
  /** Node: libuv threadpool wait during the window; absent for Python. */
  threadpool: optional(nullable(ThreadpoolStats)),
  /** What this mode did to the call that the numbers do not show, e.g. a worker's class-instance result arriving as a plain object. */
  notes: optional(arr(str)),
  /**
   * Figures more parallel than the cores allow (speedup or CPU/wall above the core
   * count), each with the likely reason: views mark them, advice does not build on them.
   */
  suspect: optional(arr(obj({ field: literal('speedup', 'parallelism'), reason: str }))),
  /**
   * The window was cut (--call-timeout, --timeout, a cancel, a crash) and these are the
   * figures up to the cut (status `failed`, `error` says why). Absent: false.
   */
  partial: optional(bool),
  /** Where the loop was blocked: the top 10 lines by stalled time (see Attribution). Absent: a report from before, or attribution off. */
  blockers: optional(arr(Blocker)),
  /** How the blockers were found and how much of the stalled time they explain. Absent: a report from before. */
  attribution: optional(Attribution),
  output: CapturedOutput,
});
export type ModeRun = Infer<typeof ModeRun>;

export const Advice = obj({
  id: str,
  severity: literal('critical', 'warning', 'info', 'ok'),
  title: str,
  detail: str,
  mode: optional(nullable(str)),
  fix: optional(nullable(str)),
  docs: optional(nullable(str)),
  /** The line the advice is about (a blocker's), for the editor's hover. */
  at: optional(obj({ file: str, line: int })),
});
export type Advice = Infer<typeof Advice>;

/**
 * The sidecar's Framework as a report carries it: `name` is any string (documented
 * values: fastapi, starlette, express), so a report naming a framework added later still
 * opens in an older extension, which words it as it would a plain function.
 */
export const ReportFramework = obj({ ...Framework.shape, name: str });
export type ReportFramework = Infer<typeof ReportFramework>;

export const Report = obj({
  schema: literal(REPORT_SCHEMA),
  ...DOCUMENT_FIELDS,
  target: obj({
    ...TARGET_FIELDS, line: nullable(int), isAsync: nullable(bool),
    /** Where the measured function is defined when another file re-exports it (`line` is then that file's). */
    definedIn: optional(obj({ file: str, line: int })),
    /** The module the target was imported as (Python: dotted, as `python -m` would; Node: the file name). */
    module: optional(str),
    /** Node: `esm` or `cjs`, how the target's file loads; fix snippets are written in it. */
    moduleFormat: optional(literal('esm', 'cjs')),
    /**
     * sha256 (hex, first 16 characters) of the measured definition's text, decorators included,
     * line endings as `\n` (selected lines: those lines), in the file as read for the run; the
     * editor compares it with the document's to tell a stale measurement.
     */
    sourceHash: optional(str),
    /**
     * The web framework serving the function as a route, as the sidecar found it in the
     * user's runtime (see Framework): the headline then speaks its words. Absent: not a
     * route the sidecar recognised, or a report from before.
     */
    framework: optional(ReportFramework),
  }),
  runtime: nullable(Runtime),
  settings: obj({
    concurrency: int,
    workers: nullable(int),
    switchIntervalS: nullable(num),
    heartbeatMs: int,
    stallMs: num,
    gilProbe: bool,
    /** Python: the GIL-wait probe also ran in the measured windows (`--gil-probe-in-window`); absent: false. */
    gilProbeInWindow: optional(bool),
    /** One unmeasured warm-up call per process/worker before each window (`--no-warmup` turns it off); absent: true. */
    warmup: optional(bool),
    /**
     * Each mode was measured in a sidecar of its own, started fresh (the baseline in the
     * first), so no mode inherits another's memory, threads or closed files; absent: false.
     */
    isolatedModes: optional(bool),
    modes: arr(Mode),
    timeoutS: num,
    /**
     * The per-call limit (CLI --call-timeout, looplag.callTimeoutSeconds), seconds: a call
     * running longer is unfinished and its window is cut. Absent in older reports.
     */
    callTimeoutS: optional(num),
    /** The lag the user accepts (CLI --budget-ms, looplag.lagBudgetMs); views mark modes over it. */
    lagBudgetMs: optional(nullable(num)),
    /** The mode the user means to deploy (CLI --plan, looplag.plannedMode); null: inferred. */
    plannedMode: optional(nullable(str)),
    /** Where the loop was blocked was looked for (`--no-attribution`, looplag.attribution turn it off); absent: a report from before. */
    attribution: optional(bool),
  }),
  quality: obj({ backgroundCpuFrac: nullable(num), trustworthy: bool, notes: arr(str) }),
  baseline: nullable(obj({ lag: LagStats, gilWait: nullable(GilWaitStats), wallMs: num })),
  /**
   * Python: one call on a one-thread pool, measured before thread mode. Pure Python
   * leaves lags of about one switch interval; a GIL-holding native call one stall as
   * long as the call; GIL-releasing work none. The advice rules read it.
   */
  diagnostic: optional(nullable(obj({
    lag: LagStats, gilWait: nullable(GilWaitStats), wallMs: num, callMs: nullable(num), cpuMs: nullable(num),
    /** The lines that held the GIL during the one call (see ModeRun.blockers). */
    blockers: optional(arr(Blocker)),
  }))),
  runs: arr(ModeRun),
  advice: arr(Advice),
  /** One sentence: is it safe to run this the way the user plans (see plannedMode)? */
  headline: optional(str),
});
export type Report = Infer<typeof Report>;
