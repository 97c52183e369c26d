/**
 * The host ⇄ sidecar messages: the plan sent on stdin, and what a sidecar sends on the
 * protocol pipe (hello, the resolved target, progress, each window's raw measurements).
 * The Python mirror is src/sidecars/python/looplag_sidecar/protocol.py.
 */
import { arr, bool, Infer, int, literal, nullable, num, obj, optional, str, tagged, tupleOfNumbers } from '../validate';
import { MODE_NAMES } from '../modes';
import { FRAMEWORK_NAMES } from '../frameworks';
import { Mode, RunError } from './common';
import { AttributionPlan, RawAttribution } from './attribution';

/** Bumped on any incompatible change to the host⇄sidecar messages. */
export const PROTOCOL_VERSION = 1;

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
  /** Where the loop was blocked: sample stacks during stalls (see protocol/attribution.ts). Absent: off. */
  attribution: optional(AttributionPlan),
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

/**
 * The web framework serving the target, read from the user's runtime after the import
 * (the function is a route's handler in an app or router the module holds): how the
 * framework will call it. `runsIn`: `threadpool` (Starlette/FastAPI run a `def` endpoint
 * with run_in_threadpool) or `loop` (an `async def` endpoint, a Node handler). The
 * sidecar ships with the host, so its names are checked exactly; a report's are any
 * string (ReportFramework in report.ts).
 */
export const Framework = obj({
  name: literal(...FRAMEWORK_NAMES),
  /** Method(s) and path as registered, e.g. `GET /login`; absent when the path is not known (an Express router mounted elsewhere). */
  route: optional(str),
  runsIn: literal('loop', 'threadpool'),
  /** `threadpool`: how many calls run at once (AnyIO's default limiter: 40). */
  threadpoolSize: optional(int),
});
export type Framework = Infer<typeof Framework>;

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
  /** Set when a web framework serves the target as a route (see Framework). */
  framework: optional(Framework),
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
/** A heartbeat sample `[tMs, lagMs]`. */
export const Sample = tupleOfNumbers(2);

/** Node: each threadpool probe's round trip during a window, and one measured idle just before it. */
export const ThreadpoolProbeRaw = obj({ probesMs: arr(num), idleMs: nullable(num) });
export type ThreadpoolProbeRaw = Infer<typeof ThreadpoolProbeRaw>;

/** How a window ended and what it ran: sent by the sidecar, kept as they are in the report's run (ModeRun). */
export const WINDOW_OUTCOME_FIELDS = {
  status: literal('ok', 'failed', 'skipped'),
  error: nullable(RunError),
  wallMs: num,
  /**
   * When the window started on the wall clock (ms since the Unix epoch; the sidecar's
   * clock): to line a window up with other tools' timelines (a profiler's trace, the
   * machine's load measured apart). Absent in skipped windows, in those the host builds
   * (a window it cut, a crashed sidecar's), and in older reports.
   */
  t0EpochMs: optional(num),
  startupMs: nullable(num),
  workers: nullable(int),
  /**
   * The pool size asked for (--workers) when it was more than the calls in flight:
   * the pool then started `workers` members, one per call in flight (see notes).
   * Absent when not capped (the executor's default is capped the same way, unmarked).
   */
  workersRequested: optional(int),
  tasks: arr(TaskRecord),
};

/** What the sidecar measured in one window; stats are computed on the host. */
export const RawWindow = obj({
  /** `diagnostic`: one call on a one-thread pool before thread mode (Python), see report.diagnostic. */
  mode: literal('baseline', 'diagnostic', ...MODE_NAMES),
  ...WINDOW_OUTCOME_FIELDS,
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
  /** Stacks sampled during stalls and the main thread's spans (RunPlan.attribution); absent or null when off. */
  attribution: optional(nullable(RawAttribution)),
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
