/**
 * Every message that crosses a process boundary, and the report, typed once.
 * The Python mirror is src/sidecars/python/looplag_sidecar/protocol.py; the shared
 * fixtures in test/fixtures/protocol/*.jsonl are checked by both test suites.
 */
import {
  arr, bool, Infer, int, literal, nullable, num, obj, optional, str, tagged, tupleOfNumbers,
} from './validate';
import { LANGUAGE_NAMES, MODE_NAMES, RUNTIMES } from './modes';

/** Bumped on any incompatible change to the host⇄sidecar messages. */
export const PROTOCOL_VERSION = 1;
export const REPORT_SCHEMA = 'looplag.report/1';

/** The modes per runtime and the mode names come from the tables in shared/modes.ts. */
export const PYTHON_MODES = RUNTIMES.python.modes;
export type PythonMode = (typeof PYTHON_MODES)[number];
/** Node: the main thread, a `worker_threads` pool, a pool of child processes. */
export const NODE_MODES = RUNTIMES.node.modes;
export type NodeMode = (typeof NODE_MODES)[number];
/** `free-threaded`: Python thread mode run again under a free-threaded interpreter (GIL off). */
export const Mode = literal(...MODE_NAMES);
export type Mode = Infer<typeof Mode>;

/** `call-timeout`: a window cut by --call-timeout (a mode's error, never the session's: not exit 124). */
export const ERROR_KINDS = [
  'syntax-error', 'import-error', 'target-not-found', 'unsupported-target', 'bad-arguments',
  'interpreter-not-found', 'not-picklable', 'not-transferable', 'timeout', 'crashed', 'cancelled', 'unsupported-mode',
  'protocol-error', 'internal-error',
  'call-timeout',
] as const;
export const ErrorKind = literal(...ERROR_KINDS);
export type ErrorKind = Infer<typeof ErrorKind>;

export const RunError = obj({
  kind: ErrorKind,
  message: str,
  detail: nullable(str),
  file: optional(nullable(str)),
  line: optional(nullable(int)),
});
export type RunError = Infer<typeof RunError>;

// ---------------------------------------------------------------------------
// run inputs: what the editor or the CLI asks for (the engine plans the sidecars' runs from them)

export const LANGUAGES = LANGUAGE_NAMES;
export type Language = (typeof LANGUAGES)[number];

/** What to measure, as the user named it (the sidecar gets a TargetSpec planned from it). */
export interface RunTarget {
  file: string;
  qualname: string | null;
  lines: { start: number; end: number } | null;
  args: string;
  language: Language;
}

/** How to measure it; the report states them back (Report.settings). */
export interface RunSettings {
  concurrency: number;
  workers: number | null;
  switchIntervalS: number | null;
  heartbeatMs: number;
  stallMs: number;
  gilProbe: boolean;
  /** Python: the probe also runs in the measured windows (opt-in: it inflates their lag). */
  gilProbeInWindow?: boolean;
  /** One unmeasured warm-up call per process/worker before each window (default true). */
  warmup?: boolean;
  /** Set by the engine: each mode ran in a fresh sidecar of its own. */
  isolatedModes?: boolean;
  modes: Mode[];
  timeoutS: number;
  /** Seconds a call may run before its window is cut (see RunPlan.callTimeoutS). */
  callTimeoutS?: number;
  lagBudgetMs?: number | null;
  plannedMode?: string | null;
}

// ---------------------------------------------------------------------------
// host → sidecar (stdin)

export const TargetSpec = obj({
  file: str,
  /** `func` or `Class.method`; null for a snippet. */
  qualname: nullable(str),
  /** 1-based inclusive line range of a snippet; null for a function. */
  lines: nullable(obj({ start: int, end: int })),
  /** Call arguments as written inside the call's parentheses. */
  args: str,
  workspaceRoot: nullable(str),
});
export type TargetSpec = Infer<typeof TargetSpec>;

export const RunPlan = obj({
  target: TargetSpec,
  modes: arr(Mode),
  concurrency: int,
  /** null: the executor's own default. */
  workers: nullable(int),
  /** null: leave the interpreter's switch interval. */
  switchIntervalS: nullable(num),
  heartbeatMs: int,
  /** Python: run the GIL-wait probe thread (baseline and diagnostic windows; see gilProbeInWindow). */
  gilProbe: bool,
  /**
   * Python: also run the probe in the measured windows (inline, thread, pools), where it is
   * one more thread wanting the GIL and inflates the lag they report. Absent means false.
   */
  gilProbeInWindow: optional(bool),
  /** The baseline (idle) window's length; 0 skips it (a later sidecar of a session with per-mode sidecars). */
  baselineMs: int,
  outputCapBytes: int,
  /** Python: run the one-thread diagnostic window before thread mode (default true). */
  diagnostic: optional(bool),
  /**
   * A worker sweep: for each pool mode, one pool started once and a window per count
   * here, each admitting that many calls at a time (what a pool of that size does).
   */
  sweepWorkers: optional(arr(int)),
  /**
   * A sweep's windows: rounds of calls, W at a time, repeated until the window has run
   * `minWindowMs` and `minRepeats` rounds, and cut at `maxWindowMs` (the host derives
   * these from the sweep's time budget). Each round admits at least
   * `callsPerWorker` × W calls and runs at least minWindowMs / minRepeats; its
   * throughput is one repeat of the measurement. Absent: one round of `concurrency` calls.
   */
  sweepRounds: optional(obj({ minRepeats: int, minWindowMs: num, maxWindowMs: num, callsPerWorker: int })),
  /**
   * One unmeasured call per process/worker (inline and thread: one in the sidecar)
   * before the window, so one-time costs (imports, caches, JIT, key generation) stay
   * out of it. Absent means true; false for code with side effects (`--no-warmup`).
   */
  warmup: optional(bool),
  /**
   * A call not finished this many seconds after it started is unfinished: the window
   * stops waiting for it and ends there (error kind `call-timeout`, `partial: true`).
   * A pool call's start is taken as the later of its submission and the last call that
   * finished (when a queued call gets a member). Absent or null: no per-call limit.
   */
  callTimeoutS: optional(nullable(num)),
});
export type RunPlan = Infer<typeof RunPlan>;

export const HostMessage = tagged({
  start: obj({ type: literal('start'), protocol: int, plan: RunPlan }),
  /**
   * `reason` names the error kind the interrupted window reports (default: cancelled);
   * `call-timeout`: the host's watchdog found the sidecar silent past --call-timeout.
   */
  cancel: obj({ type: literal('cancel'), reason: optional(literal('user', 'timeout', 'call-timeout')) }),
});
export type HostMessage = Infer<typeof HostMessage>;

// ---------------------------------------------------------------------------
// sidecar → host (the protocol pipe)

export const Runtime = obj({
  name: str,
  version: str,
  executable: str,
  implementation: str,
  gilEnabled: bool,
  cpuCount: int,
  platform: str,
  switchIntervalS: num,
  /** Node: V8's heap limit in the sidecar, MB (heap_size_limit), which an out-of-memory crash names. */
  heapLimitMb: optional(int),
});
export type Runtime = Infer<typeof Runtime>;

export const ResolvedTarget = obj({
  kind: literal('function', 'snippet'),
  qualname: nullable(str),
  line: int,
  endLine: int,
  isAsync: bool,
  module: str,
  /** Node: where a re-exported target is defined (`export { x } from './y'`), when not in the target's file. */
  definedIn: optional(obj({ file: str, line: int })),
  /** Python 3.13+: whether the GIL is on after importing the target (an import can re-enable it). */
  gilEnabled: optional(bool),
  /** Node: how the target's file loads (from its extension and package.json "type"); fix snippets follow it. */
  moduleFormat: optional(literal('esm', 'cjs')),
});
export type ResolvedTarget = Infer<typeof ResolvedTarget>;

/**
 * What a moved value is made of, shallowly (the advice on copying it depends on it):
 * `typed-array` and `arraybuffer` can be transferred without a copy, `number-array` could
 * be a typed array, `plain-objects` (objects and arrays) and `string` are always copied,
 * `instance` is a class instance (its prototype does not survive the copy).
 */
export const VALUE_KINDS = ['none', 'primitive', 'string', 'typed-array', 'arraybuffer', 'number-array', 'plain-objects', 'instance', 'mixed'] as const;
export type ValueKind = (typeof VALUE_KINDS)[number];

export const TaskTransfer = obj({
  argsBytes: int,
  /** Serializing the arguments on the event loop, at submit. */
  argsWriteMs: num,
  argsReadMs: nullable(num),
  resultBytes: nullable(int),
  resultWriteMs: nullable(num),
  /** Deserializing the result on the event loop. */
  resultReadMs: nullable(num),
  /** What the arguments / the result are made of (see VALUE_KINDS): what a fix can do about copying them. */
  argsKind: optional(str),
  resultKind: optional(nullable(str)),
});
export type TaskTransfer = Infer<typeof TaskTransfer>;

/**
 * Node's `monitorEventLoopDelay` histogram over a window, a cross-check on the heartbeat.
 * Node records the whole gap between its timer's ticks, so values include `resolutionMs`.
 */
export const LoopDelay = obj({ minMs: num, maxMs: num, meanMs: num, p50Ms: num, p99Ms: num, count: int, resolutionMs: num });
export type LoopDelay = Infer<typeof LoopDelay>;

export const TaskRecord = obj({
  id: int,
  /** ms since the window started, all on the same monotonic clock. */
  queuedMs: num,
  startMs: nullable(num),
  endMs: nullable(num),
  worker: nullable(str),
  cpuMs: optional(nullable(num)),
  /**
   * `message` is cut at 2000 characters, marked "… [cut: N more characters]"; the whole
   * message (up to 65536 characters, marked the same way beyond) is then in `fullMessage`,
   * absent when nothing was cut.
   */
  error: nullable(obj({ type: str, message: str, traceback: nullable(str), fullMessage: optional(str) })),
  /** Node pools: what moving the arguments and the result cost (v8 serialization, ms on each side). */
  transfer: optional(nullable(TaskTransfer)),
  /** A sweep window's round (0-based) this call belonged to (see RunPlan.sweepRounds). */
  round: optional(nullable(int)),
  /**
   * How the call ended: `ok` returned, `raised`, `unfinished` (still running, or never
   * started, when the window was cut by --call-timeout, --timeout or a cancel), `crashed`
   * (lost with a pool member or sidecar that died). Set by the host on every report's
   * tasks; absent in older reports, where it is `raised` with an error, else `ok`.
   */
  status: optional(literal('ok', 'raised', 'unfinished', 'crashed')),
});
export type TaskRecord = Infer<typeof TaskRecord>;

export const CapturedOutput = obj({
  stdout: str,
  stderr: str,
  truncated: bool,
  stdoutBytes: int,
  stderrBytes: int,
});
export type CapturedOutput = Infer<typeof CapturedOutput>;

const Sample = tupleOfNumbers(2);

/** Node: each threadpool probe's round trip during a window, and one measured idle just before it. */
export const ThreadpoolProbeRaw = obj({ probesMs: arr(num), idleMs: nullable(num) });
export type ThreadpoolProbeRaw = Infer<typeof ThreadpoolProbeRaw>;

/** What the sidecar measured in one window; stats are computed on the host. */
export const RawWindow = obj({
  /** `diagnostic`: one call on a one-thread pool before thread mode (Python), see report.diagnostic. */
  mode: literal('baseline', 'diagnostic', ...MODE_NAMES),
  status: literal('ok', 'failed', 'skipped'),
  error: nullable(RunError),
  wallMs: num,
  startupMs: nullable(num),
  workers: nullable(int),
  /** Pool modes: the --workers asked for when the pool started fewer, one per call in flight; absent when not capped. */
  workersRequested: optional(int),
  tasks: arr(TaskRecord),
  /** Heartbeat samples `[tMs, lagMs]` by wake time. */
  samples: arr(Sample),
  /** Each GIL-probe wake-up's wait beyond its sleep, ms; null when the probe is off. */
  gilWaitsMs: nullable(arr(num)),
  cpu: obj({ userMs: num, systemMs: num }),
  backgroundCpuFrac: nullable(num),
  /** Node: event-loop utilization over the window (0–1). */
  elu: optional(nullable(num)),
  eventLoopDelay: optional(nullable(LoopDelay)),
  /** Set by the host on the free-threaded window (another interpreter than the session's). */
  interpreter: optional(nullable(str)),
  gilEnabled: optional(nullable(bool)),
  /** Each unmeasured warm-up call's duration before the window, ms; null or absent when none ran. */
  warmupMs: optional(nullable(arr(num))),
  /** Node: libuv threadpool round trips timed from the loop during the window (see ThreadpoolStats). */
  threadpool: optional(nullable(ThreadpoolProbeRaw)),
  /** Things the numbers do not show (Node pools: a result that arrives changed); absent when none. */
  notes: optional(arr(str)),
  /**
   * The window was cut (--call-timeout, --timeout, a cancel) and holds what was measured
   * up to the cut: samples, calls (the unfinished ones without an end). Absent: false.
   */
  partial: optional(bool),
  output: CapturedOutput,
});
export type RawWindow = Infer<typeof RawWindow>;

export const SidecarMessage = tagged({
  hello: obj({ type: literal('hello'), protocol: int, sidecar: literal('python', 'node'), runtime: Runtime }),
  target: obj({ type: literal('target'), target: ResolvedTarget }),
  progress: obj({
    type: literal('progress'),
    mode: str,
    phase: literal('starting', 'warming', 'running', 'draining', 'done'),
    done: int,
    total: int,
  }),
  window: obj({
    type: literal('window'),
    window: RawWindow,
    /**
     * The cut marker that ends this window's output on fds 1 and 2 (see
     * engine/outputCapture.ts): the host reads both pipes and fills `window.output` from
     * them. Absent: `window.output` is the sidecar's own (e.g. a baseline's empty one).
     */
    outputMark: optional(int),
  }),
  error: obj({ type: literal('error'), error: RunError }),
  done: obj({ type: literal('done') }),
});
export type SidecarMessage = Infer<typeof SidecarMessage>;

// ---------------------------------------------------------------------------
// the one-shot tools (sidecar → host): `outline FILE` and `check-args -` (the text on
// stdin) print one ToolMessage as their last line on stdout; no user code runs.

export const OutlineParam = obj({
  /** As written: `*args`, `**kw` (Python), `...rest` (JS/TS) for the rest parameters. */
  name: str,
  required: bool,
  /** Python: the FastAPI marker its default is (`Body`, `Depends`, …): a marker, not a value, so it must be given. */
  marker: optional(str),
  /** Python: after `*` or `*args`, so only a keyword reaches it. */
  keywordOnly: optional(bool),
});
export type OutlineParam = Infer<typeof OutlineParam>;

export const OutlineFunction = obj({
  qualname: str,
  /** JS/TS has no `classmethod`; a class property holding an arrow function is a (static)method too. */
  kind: literal('function', 'staticmethod', 'classmethod', 'method', 'nested'),
  /** 1-based; `line` includes decorators, `defLine` is the `def` (or the name) itself. */
  line: int,
  defLine: int,
  endLine: int,
  isAsync: bool,
  isGenerator: bool,
  /** JS/TS only: `export`ed (either kind can be measured: the loader reaches module scope). */
  exported: optional(bool),
  params: arr(OutlineParam),
  /** JS/TS: other names it is exported as (`export default f`, `export { f as g }`, `module.exports = { g: f }`). */
  aliases: optional(arr(str)),
});
export type OutlineFunction = Infer<typeof OutlineFunction>;

/** JS/TS: `export { name as as } from 'from'`; `export * from 'from'` has name and as `*`. */
export const ReExport = obj({ name: str, as: str, from: str });
export type ReExport = Infer<typeof ReExport>;

export const ToolMessage = tagged({
  outline: obj({ type: literal('outline'), functions: arr(OutlineFunction), reexports: optional(arr(ReExport)) }),
  /** `problem`: null when the text reads as the inside of a call's parentheses, else why not. */
  'args-check': obj({ type: literal('args-check'), problem: nullable(str) }),
  /** The file does not parse (`syntax-error`, with its line), cannot be read, or the tool cannot run (an interpreter too old). */
  error: obj({ type: literal('error'), error: RunError }),
});
export type ToolMessage = Infer<typeof ToolMessage>;

// ---------------------------------------------------------------------------
// the report: looplag.report/1

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
  status: literal('ok', 'failed', 'skipped'),
  error: nullable(RunError),
  wallMs: num,
  startupMs: nullable(num),
  workers: nullable(int),
  /**
   * The pool size asked for (--workers) when it was more than the calls in flight:
   * the pool then started `workers` members, one per call in flight (see notes).
   * Absent when not capped (the executor's default is capped the same way, unmarked).
   */
  workersRequested: optional(int),
  tasks: arr(TaskRecord),
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
});
export type Advice = Infer<typeof Advice>;

/** The head both documents (a report, a sweep) share. */
const DOCUMENT_FIELDS = {
  tool: obj({ name: str, version: str }),
  createdAt: str,
  status: literal('complete', 'partial', 'failed'),
  /** Why the session ended early (timeout, crash, cancel, load failure); null when complete. */
  error: nullable(RunError),
};

/** What was measured, as both documents name it. */
const TARGET_FIELDS = {
  file: str,
  qualname: nullable(str),
  lines: nullable(obj({ start: int, end: int })),
  language: literal(...LANGUAGES),
  args: str,
};

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
  }),
  quality: obj({ backgroundCpuFrac: nullable(num), trustworthy: bool, notes: arr(str) }),
  baseline: nullable(obj({ lag: LagStats, gilWait: nullable(GilWaitStats), wallMs: num })),
  /**
   * Python: one call on a one-thread pool, measured before thread mode. Pure Python
   * leaves lags of about one switch interval; a GIL-holding native call one stall as
   * long as the call; GIL-releasing work none. The advice rules read it.
   */
  diagnostic: optional(nullable(obj({ lag: LagStats, gilWait: nullable(GilWaitStats), wallMs: num, callMs: nullable(num), cpuMs: nullable(num) }))),
  runs: arr(ModeRun),
  advice: arr(Advice),
  /** One sentence: is it safe to run this the way the user plans (see plannedMode)? */
  headline: optional(str),
});
export type Report = Infer<typeof Report>;

// ---------------------------------------------------------------------------
// the worker sweep: looplag.sweep/1

export const SWEEP_SCHEMA = 'looplag.sweep/1';

export const SweepPoint = obj({
  mode: Mode,
  /** The pool size asked for; at most `concurrency` calls can run however large it is. */
  workers: int,
  effectiveWorkers: int,
  status: literal('ok', 'failed', 'skipped'),
  error: nullable(RunError),
  wallMs: num,
  /** Calls per second over the window's rounds (all calls / the rounds' summed time). */
  throughputPerS: nullable(num),
  /** Rounds measured in this window: each one a throughput measurement. */
  repeats: optional(int),
  /** The slowest and fastest round's throughput, calls/s. */
  throughputMinPerS: optional(nullable(num)),
  throughputMaxPerS: optional(nullable(num)),
  /** Relative half-range of the rounds' throughput: (max − min) / 2 / throughputPerS. */
  throughputSpread: optional(nullable(num)),
  lag: obj({ p50Ms: num, p99Ms: num, maxMs: num, stallCount: int, stalledFrac: num }),
  cpuParallelism: num,
  queueMaxMs: nullable(num),
  /** Pool start-up, on the first point of a mode only (the pool is started once). */
  startupMs: nullable(num),
  elu: optional(nullable(num)),
  backgroundCpuFrac: nullable(num),
  /** Calls of this window that raised: how many, of how many that ended, and the first (type: message (your line)). */
  raised: optional(nullable(obj({ count: int, calls: int, error: str }))),
});
export type SweepPoint = Infer<typeof SweepPoint>;

export const SweepRecommendation = obj({
  mode: Mode,
  /** null: no count kept the loop within the budget. */
  workers: nullable(int),
  throughputPerS: nullable(num),
  lagP99Ms: nullable(num),
  lagMaxMs: nullable(num),
  reason: str,
  /** How to use it, in the target's language. */
  code: nullable(str),
});
export type SweepRecommendation = Infer<typeof SweepRecommendation>;

export const Sweep = obj({
  schema: literal(SWEEP_SCHEMA),
  ...DOCUMENT_FIELDS,
  target: obj(TARGET_FIELDS),
  runtime: nullable(Runtime),
  settings: obj({
    modes: arr(Mode),
    workers: arr(int),
    concurrency: int,
    heartbeatMs: int,
    stallMs: num,
    lagBudgetMs: num,
    timeoutS: num,
    /** Sum of the measured windows' wall time, and the whole sweep's (start-ups, baseline, spawn). */
    windowsMs: optional(num),
    totalMs: optional(num),
    /** The time budget for the whole sweep (CLI --sweep-budget-s, looplag.sweep.budgetSeconds). */
    budgetS: optional(num),
    /** What each window aimed for within the budget: this long, this many rounds at least. */
    minWindowMs: optional(num),
    minRepeats: optional(int),
  }),
  quality: obj({ backgroundCpuFrac: nullable(num), trustworthy: bool, notes: arr(str) }),
  points: arr(SweepPoint),
  recommendations: arr(SweepRecommendation),
  /** The recommendation with the best throughput across modes, if any. */
  best: nullable(obj({ mode: Mode, workers: int })),
  headline: str,
});
export type Sweep = Infer<typeof Sweep>;
