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
