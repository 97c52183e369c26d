/**
 * Every number the advice rules compare against, each with the reason it is that
 * number. Rules cite the measured values next to these in their detail text.
 */

/** In the one-thread diagnostic, a longest lag at least this share of the call means
 *  the loop could not run at all during most of the call: a native call held the GIL. */
export const NATIVE_HOLD_FRAC = 0.5;

/** …and at least this many switch intervals long: time-slicing hands the GIL back every
 *  interval, so pure Python never blocks the loop for many intervals in a row. */
export const NATIVE_HOLD_MIN_INTERVALS = 4;

/** Diagnostic lag p50 at or above this share of the switch interval: the loop waits
 *  for the GIL on most wake-ups, the signature of pure-Python time-slicing. */
export const CONTENTION_P50_FRAC = 0.5;

/** Below this speedup over inline, a pool made the work no faster (2+ cores assumed). */
export const MIN_USEFUL_SPEEDUP = 1.3;

/** Inline CPU/wall at or above this: the work is CPU-bound (it is not waiting on I/O). */
export const CPU_BOUND_PARALLELISM = 0.7;

/** Pool start-up at or above this: worth telling the user to create the pool once, at
 *  start-up (info only: a server pays it once, not per call). A thread pool starts in
 *  well under this; a process pool forking a big parent or importing heavy modules does not. */
export const STARTUP_NOTABLE_MS = 100;

/** …or start-up at least this share of the window (and at least STARTUP_MIN_MS, which a
 *  thread pool never takes): creating the pool per request would cost more than the work. */
export const STARTUP_SHARE = 0.5;
export const STARTUP_MIN_MS = 10;

/** Per call, a process/interpreter pool's cost beyond the call's own run at or above this
 *  (ms) and at or above PER_CALL_OVERHEAD_SHARE of the call inline: sending the call costs
 *  as much as a good part of the work. Under 1 ms it is dispatch noise on any machine. */
export const PER_CALL_OVERHEAD_MIN_MS = 1;
export const PER_CALL_OVERHEAD_SHARE = 0.5;

/** Gaps between consecutive calls on a worker needed to take their median as the per-call
 *  dispatch cost (10 calls on 2 workers give 8); fewer: wall share minus run time. */
export const MIN_DISPATCH_GAPS = 3;

/** One side of a transfer (arguments or result) at least this many times the other is
 *  the side that costs; closer than that, both are named. */
export const SIDE_DOMINANCE = 2;

/** A warm-up call at least this many times the measured calls' median (and at least
 *  CACHE_MISS_MIN_MS): the measured calls are likely cache hits or a warmed state. */
export const CACHE_WARMUP_SPLIT = 10;

export { CACHE_SPLIT, CACHE_MISS_MIN_MS } from '../stats/plausibility';

/** Measured calls faster than this (median) after a much slower warm-up call do no work
 *  worth measuring: a cache answered them (an lru_cache hit is ~1 µs). Slower calls after
 *  a slow warm-up are the usual one-time costs (lazy imports, JIT) that warm-up exists to
 *  keep out of the window: said as a note, not as a cache. */
export const CACHE_HIT_MAX_MS = 0.1;

/** A slow warm-up call alone (no split inside the window) is taken for a cache miss only
 *  from this long: below it, the first call's own start-up (a pool thread created on the
 *  first submit, first-call specialization, a preemption on a busy machine) makes a
 *  trivial function's warm-up 0.2–2 ms against µs calls, which is no cache. */
export const CACHE_WARMUP_MISS_MIN_MS = 5;

/** A window shorter than this is mostly scheduling and start-up noise: speedups and
 *  CPU/wall ratios measured over it say nothing about the work. */
export const MIN_MEASURABLE_WINDOW_MS = 50;

/** Transfer costs under this much loop time in total are noise, whatever their share. */
export const TRANSFER_MIN_LOOP_MS = 2;

/** Moving arguments and results cost the loop at least this share of the window. */
export const TRANSFER_LOOP_SHARE = 0.05;

/** …or at least this much per call on the loop (a request's worth of latency). */
export const TRANSFER_PER_CALL_MS = 1;

/** A call waited in the pool's queue at least this long: worth saying, not a fault. */
export const QUEUE_NOTABLE_MS = 10;

/** The free-threaded run's lag p99 at or below this share of the GIL build's counts
 *  as a measured improvement. */
export const FREE_THREADED_BETTER_FRAC = 0.5;

/** A pool window at least this many times the inline window for the same calls: the
 *  pool costs more throughput than the loop it frees is worth, and the headline says so.
 *  Below 2× a pool on a small or busy machine can be slower by noise and overhead alone. */
export const THROUGHPUT_COLLAPSE_FACTOR = 2;

/** Inline CPU/wall at or above this: one call by itself kept more than one core busy,
 *  so it runs native threads of its own (OpenBLAS, MKL, OpenMP); one Python thread
 *  cannot exceed 1.0. */
export const NATIVE_POOL_PARALLELISM = 1.3;

/** Thread mode used at least this many times the CPU time inline did for the same calls:
 *  the extra threads burned CPU waiting on each other (OpenBLAS threads spin while they
 *  wait), the other sign of native thread pools fighting over the cores. */
export const OVERSUBSCRIBED_CPU_INFLATION = 2;

/** Inline CPU/wall within this of the core count: one call by itself already used every
 *  core, so threads find none idle (half a core leaves room for the loop and noise). */
export const CORES_BUSY_MARGIN = 0.5;
/** A 1-byte libuv threadpool job (well under 1 ms when the pool is idle) waited at least
 *  this long at the median: every fs, dns.lookup, crypto and zlib call and native addon's
 *  async work in the process waits as long, a request's worth of latency added to calls
 *  that have nothing to do with the target. */
export const THREADPOOL_WAIT_P50_MS = 20;

/** …and at least this many times the loop's lag p90: the probe's answer runs on the loop,
 *  so a loop blocked that long delays it too, and then the loop is the cause, not the pool. */
export const THREADPOOL_WAIT_OVER_LAG = 2;

/** Thread mode's CPU/wall at or above this share of min(W, cores), with the GIL free: the
 *  threads ran in parallel, so a small speedup is the hardware's (two vCPUs that are one
 *  core's hyperthreads give ~1.2-1.3x), not something a process pool would fix. */
export const THREADS_RAN_PARALLEL_FRAC = 0.75;

/** A line (or a pool's step) is named in advice only when it took at least this share of
 *  the run's stalled time: below a fifth it is one of several places, and naming it as
 *  "the" line would send the user to the wrong place. Below it the advice reads as it did
 *  without attribution. */
export const BLOCKER_MIN_SHARE = 0.2;

/** …and only when attribution placed at least this share of the stalled time on some
 *  line (`attribution.coverage`; for the diagnostic, the sum of its blockers' shares, a
 *  lower bound). Below half, the stalls seen may be the sampled minority (short stalls
 *  without a sample, time no thread ran on a busy machine), not the typical ones. */
export const BLOCKER_COVERAGE_MIN = 0.5;

/** …and seen in at least this many samples: one or two samples land anywhere within a
 *  sampling interval (10 ms for Python's watchdog), a glimpse rather than a measurement.
 *  A 50 ms stall gives Python four or five dumps and Node's profiler far more. A pool
 *  step timed by the sidecar's clock (a span: no sampled stack) is exact and needs none. */
export const BLOCKER_MIN_SAMPLES = 3;

/** At most this many lines are listed in one advice (time-sliced work spreads over
 *  many lines; the report's blockers table has the rest). */
export const BLOCKERS_CITED_MAX = 3;
