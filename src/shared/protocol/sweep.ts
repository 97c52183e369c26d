/** The worker sweep: looplag.sweep/1, throughput and lag per pool size, and the recommendation. */
import { arr, bool, Infer, int, literal, nullable, num, obj, optional, str } from '../validate';
import { Mode, RunError } from './common';
import { DOCUMENT_FIELDS, TARGET_FIELDS } from './document';
import { Runtime } from './sidecar';

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
