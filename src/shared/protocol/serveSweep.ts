/**
 * The service-mode sweep: looplag.serveSweep/1 (issue 14), one `looplag serve --sweep-rate`
 * session: per variant (as written, N server processes, one per AnyIO thread-token count),
 * the app under load at each rate in ascending order until a rate is not sustained, each
 * point summarising that rate's looplag.serve/1 figures, and the highest rate each variant
 * sustains within the budget. Built by src/serve/sweep/build.ts; every field is described
 * in the README's `looplag.serveSweep/1` table.
 */
import { arr, bool, Infer, int, literal, nullable, num, obj, str } from '../validate';
import { Blocker } from './attribution';
import { RunError } from './common';
import { DOCUMENT_FIELDS } from './document';
import { ServeApp, ServeRoute } from './serve';
import { ServeReport, ServeVerdict } from './serveReport';
import { Runtime } from './sidecar';

export const SERVE_SWEEP_SCHEMA = 'looplag.serveSweep/1';

/** One endpoint at one rate: its counts, p99 and completed per second. */
export const SweepEndpoint = obj({
  name: str,
  sent: int,
  completed: int,
  /** Connection errors and 4xx/5xx answers (src/serve/verdict.ts requestFailures: timeouts and cut requests are not failures). */
  failures: int,
  timedOut: int,
  /** null when none completed. */
  p99Ms: nullable(num),
  throughputPerS: num,
});
export type SweepEndpoint = Infer<typeof SweepEndpoint>;

/** One variant at one rate. */
export const ServeSweepPoint = obj({
  /** Requests per second per endpoint. */
  ratePerS: num,
  /**
   * `measured`: the load ran and the verdict stands; `failed`: the server did not start,
   * crashed, or the point was cut (cancel, timeout: figures so far, no verdict; see `error`);
   * `not-run`: the variant had stopped climbing, or the sweep ended, before this rate (see `reason`).
   */
  status: literal('measured', 'failed', 'not-run'),
  /** As looplag.serve/1's (src/serve/verdict.ts verdictOf); `not-measured` unless measured. */
  verdict: ServeVerdict,
  /** Why a point was not run: `over budget at 20 req/s`, `cancelled before it ran`. */
  reason: nullable(str),
  error: nullable(RunError),
  /** The server's start-up to listening; null when it never listened (or the point was not run). */
  startupMs: nullable(num),
  probe: nullable(obj({ p50Ms: num, p99Ms: num })),
  /** Over the server processes: the worst process's lag p99, the highest max, the wait a request arriving at random would see (p99), the stalls. */
  loop: nullable(obj({ lagP99Ms: num, lagMaxMs: num, arrivalWaitP99Ms: num, stallCount: int })),
  endpoints: arr(SweepEndpoint),
  /** Over the endpoints and the probe: connection errors and 4xx/5xx answers. */
  failures: int,
  /** The endpoints' completed requests per second, summed (the probe's left out). */
  completedPerS: num,
  /** What went over the budget, as the serve gate names it (`probe p99 850.0 ms`, `loop lag p99 …`, `3 timed out`). */
  overBudget: arr(str),
  /**
   * Endpoints that did not keep up with the rate, though within the budget (src/serve/sweep/keepUp.ts: the
   * last quarter of their requests answered over the budget later than the first, and at least twice as late):
   * `GET /x answered in 6.5 s at the end, 510 ms at the start`. A point with any is not sustained.
   */
  fellBehind: arr(str),
  /** The line that blocked the loop most at this rate; null when none was found. */
  topBlocker: nullable(Blocker),
  trustworthy: bool,
  /** This point's looplag.serve/1 variant headline. */
  headline: str,
  notes: arr(str),
});
export type ServeSweepPoint = Infer<typeof ServeSweepPoint>;

export const ServeSweepVariant = obj({
  name: literal('as-written', 'processes', 'threads'),
  /** As looplag.serve/1 labels it: `as written`, `2 uvicorn workers`, `4 thread tokens`. */
  label: str,
  processes: int,
  threadTokens: nullable(int),
  /** The highest rate measured within the budget; null: none (not even the lowest). */
  sustainedRatePerS: nullable(num),
  /** Every rate asked for was sustained: the variant's limit is above the highest. */
  sustainedAll: bool,
  /** Where it stopped climbing and why; null when it did not (every rate sustained, or the sweep ended first). */
  stop: nullable(obj({ ratePerS: num, verdict: ServeVerdict, reason: str })),
  /** One per rate of `settings.ratesPerS`, in order. */
  points: arr(ServeSweepPoint),
});
export type ServeSweepVariant = Infer<typeof ServeSweepVariant>;

export const ServeSweep = obj({
  schema: literal(SERVE_SWEEP_SCHEMA),
  ...DOCUMENT_FIELDS,
  app: ServeApp,
  routes: arr(ServeRoute),
  runtime: nullable(Runtime),
  settings: obj({
    /** The rates asked for, ascending: requests per second per endpoint. */
    ratesPerS: arr(num),
    /** `--workers N`: the processes variant; null: none. */
    processes: nullable(int),
    /** `--sweep-threads`: one threads variant per value, ascending; empty: none. */
    threadTokens: arr(int),
    durationS: num,
    warmupS: num,
    probeRatePerS: num,
    endpoints: ServeReport.shape.settings.shape.endpoints,
    budgetMs: nullable(num),
    verdictBudgetMs: num,
    heartbeatMs: int,
    stallMs: num,
    attribution: bool,
    /** The whole sweep's limit, s. */
    timeoutS: num,
  }),
  quality: obj({ trustworthy: bool, notes: arr(str) }),
  variants: arr(ServeSweepVariant),
  /** The highest rate each variant sustains, the app as written first. */
  headline: str,
  workspaceRoot: nullable(str),
});
export type ServeSweep = Infer<typeof ServeSweep>;
