/**
 * Where the loop was blocked (issue 13): what a sidecar samples during stalls (stacks
 * with timestamps on the heartbeat's clock, and spans of the main thread's own steps),
 * and what the report says after the host has matched them to the stalls (blockers:
 * one row per line, with its share of the stalled time). Python reads stacks with
 * `sys._current_frames()`, GIL held (at the heartbeat that ends a stall; inline, from a
 * sampler thread), Node with V8's CPU profiler; pool modes time the main thread's
 * (de)serialization spans. Mirrored in looplag_sidecar/protocol.py.
 */
import { arr, bool, Infer, int, literal, nullable, num, obj, optional, str } from '../validate';

/**
 * Whose a frame is: the user's workspace, an installed library (site-packages,
 * node_modules), the standard library, the runtime itself (`node:` internals, GC, the
 * regex engine), or Loop Lag's sidecar (hidden in views).
 */
export const FRAME_KINDS = ['user', 'library', 'stdlib', 'runtime', 'tool'] as const;
/** Where the blocking code ran: on the loop itself, in a worker holding the GIL, or on Node's main thread outside the call (serialization). */
export const BLOCKER_THREADS = ['loop', 'gil-holder', 'main'] as const;
/** What the blocking code was doing: the user's call, or the tool's work around a pool call. */
export const BLOCKER_STEPS = ['call', 'serialize-args', 'deserialize-result', 'pool-manager', 'gc'] as const;
/** The thread a raw sample was taken on. */
export const SAMPLE_THREADS = ['loop', 'worker', 'main', 'pool-manager', 'other'] as const;
export const ATTRIBUTION_METHODS = ['current-frames', 'v8-cpu-profiler', 'spans'] as const;

// ---------------------------------------------------------------------------
// sidecar → host (RawWindow.attribution)

export const RawFrame = obj({
  /** Workspace-relative for the user's files, package-relative for libraries; null when unknown. */
  file: nullable(str),
  /** 1-based; null when unknown. */
  line: nullable(int),
  function: str,
  kind: literal(...FRAME_KINDS),
  /** The line's text, trimmed, at most 200 characters (the sidecar reads it; the host may not see the file). */
  source: optional(nullable(str)),
  /** The line is where the function starts, not the line running (Node's profiler names no call-site lines for callers). */
  lineIsDefinition: optional(bool),
});
export type RawFrame = Infer<typeof RawFrame>;

export const RawStackSample = obj({
  /** When, ms since the window's start on the heartbeat's clock (the samples' `tMs`). */
  tMs: num,
  /** Samples with the same `dump` were taken at the same instant (one read of all threads' stacks). */
  dump: int,
  thread: literal(...SAMPLE_THREADS),
  /** Index into `stacks`. */
  stack: int,
  /** Python: the CPU time this thread got over the heartbeat gap; weighs who held the GIL. */
  cpuMs: optional(nullable(num)),
});
export type RawStackSample = Infer<typeof RawStackSample>;

export const RawSpan = obj({ step: literal('serialize-args', 'deserialize-result'), startMs: num, endMs: num });
export type RawSpan = Infer<typeof RawSpan>;

export const RawAttribution = obj({
  method: literal(...ATTRIBUTION_METHODS),
  /** The sampling interval (Python: the stall length that is sampled, and the inline sampler's period; Node: the profiler's interval), ms. */
  intervalMs: num,
  frames: arr(RawFrame),
  /** Each stack as indexes into `frames`, innermost first. */
  stacks: arr(arr(int)),
  samples: arr(RawStackSample),
  /** Pool modes: the main thread's own steps around the calls. */
  spans: optional(arr(RawSpan)),
  /** Samples not sent (a cap on the dump file or the profile). */
  droppedSamples: optional(int),
  notes: optional(arr(str)),
  /** Attribution failed in this window (the measurement itself stands). */
  error: optional(str),
  /** This window could not be sampled, and why (Python thread mode on a free-threaded build). */
  unavailable: optional(str),
});
export type RawAttribution = Infer<typeof RawAttribution>;

/** host → sidecar: RunPlan.attribution. */
export const AttributionPlan = obj({
  enabled: bool,
  /** Sampling interval, ms (Python: the shortest stall sampled). */
  intervalMs: num,
  /** Python: how often the heartbeat reads the threads' CPU clocks while the loop is healthy, ms. */
  rearmMs: optional(num),
});
export type AttributionPlan = Infer<typeof AttributionPlan>;

// ---------------------------------------------------------------------------
// the report (ModeRun.blockers, ModeRun.attribution)

export const StackFrame = obj({
  file: nullable(str),
  line: nullable(int),
  function: str,
  kind: literal(...FRAME_KINDS),
  lineIsDefinition: optional(bool),
});
export type StackFrame = Infer<typeof StackFrame>;

export const Blocker = obj({
  /** The innermost frame in the user's workspace (else the innermost frame): the line to change. */
  file: nullable(str),
  line: nullable(int),
  function: str,
  /** The line's text, trimmed (at most 200 characters). */
  source: nullable(str),
  thread: literal(...BLOCKER_THREADS),
  step: literal(...BLOCKER_STEPS),
  /** Stalled time attributed to this line, ms (over the whole window). */
  stalledMs: num,
  /** Its share of the run's stalled time (`lag.stalledMs`), 0–1. */
  share: num,
  samples: int,
  /** The stalls it was seen in (stalledMs / stalls: per stall). */
  stalls: int,
  /** The most frequent stack through this line, innermost first, the tool's frames left out. */
  stack: arr(StackFrame),
  /** The innermost library or runtime frame below the user's line (what it called that blocked). */
  library: optional(nullable(StackFrame)),
});
export type Blocker = Infer<typeof Blocker>;

export const Attribution = obj({
  /** This sub-format's own version. */
  version: literal(1),
  /** `off`: turned off (--no-attribution); `unavailable`: this runtime or mode cannot (reason says why); `failed`: it broke (reason). */
  status: literal('ok', 'off', 'unavailable', 'failed'),
  reason: optional(str),
  method: nullable(literal(...ATTRIBUTION_METHODS)),
  intervalMs: nullable(num),
  /** The run's stalled time, and the part attributed to some line, ms. */
  stalledMs: num,
  attributedMs: num,
  /** attributedMs / stalledMs; null without stalls. */
  coverage: nullable(num),
  /** The same over stalls of 20 ms or more. */
  coverage20Ms: nullable(num),
  unattributed: obj({ noSampleMs: num, notRunningMs: num, otherMs: num }),
  samples: int,
  droppedSamples: optional(int),
  /** Thread mode: how a stall was split between worker threads (by CPU time, or equally without per-thread clocks). */
  weighting: optional(literal('cpu-time', 'equal')),
  notes: optional(arr(str)),
});
export type Attribution = Infer<typeof Attribution>;
