/**
 * The service-mode document: looplag.serve/1 (issue 14), one `looplag serve` session: the
 * user's server under load, per variant (as written, more processes, other thread
 * limits), what every endpoint's requests, the probe and the server's loop experienced.
 * Built by src/serve/buildServeReport.ts from the session's ServeInputs; every field is
 * described in the README's `looplag.serve/1` table.
 */
import { arr, bool, Infer, int, literal, nullable, num, obj, Schema, str, ValidationError } from '../validate';
import { DOCUMENT_FIELDS } from './document';
import { CapturedOutput, Runtime, Sample } from './sidecar';
import { Attribution, Blocker } from './attribution';
import { LagStats } from './report';
import { RunError } from './common';
import { ServeApp, ServeRoute } from './serve';

export const SERVE_SCHEMA = 'looplag.serve/1';

/** Request latency from each request's intended start (HDR histogram), ms. */
export const LatencyStats = obj({ count: int, p50Ms: num, p90Ms: num, p99Ms: num, p999Ms: num, maxMs: num, meanMs: num });
export type LatencyStats = Infer<typeof LatencyStats>;

/** A JSON object of counts: `{"200": 190, "500": 10}`, `{"timeout": 3}`. */
const Counts: Schema<Record<string, number>> = {
  describe: 'object of counts',
  parse(v: unknown) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError('', 'object of counts', v);
    for (const [k, n] of Object.entries(v)) {
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new ValidationError(k, 'count (integer ≥ 0)', n);
    }
    return v as Record<string, number>;
  },
};

/** What a variant's run came to, the CLI's gate and the views read it (see src/serve/verdict.ts). */
export const SERVE_VERDICTS = ['within-budget', 'over-budget', 'failed-requests', 'not-measured'] as const;
export const ServeVerdict = literal(...SERVE_VERDICTS);
export type ServeVerdict = Infer<typeof ServeVerdict>;

/** One stream of requests as measured by the load generator: an endpoint, or the probe. */
export const EndpointStats = obj({
  /** As the report names it: `GET /reports/sales`. */
  name: str,
  method: str,
  path: str,
  /** Requests whose intended start fell in the measured part. */
  sent: int,
  /** Answered, with any status. */
  completed: int,
  /** Not answered: a connection error or a timeout (see `errors`). */
  failed: int,
  /** Answered with a 4xx or 5xx status: the handler's real work was not what ran. */
  errorResponses: int,
  /** Of `failed`, those not answered within the generator's timeout (a stalled server, not a broken one). */
  timedOut: int,
  /** `{"200": 1234}`. */
  statusCodes: Counts,
  /** `{"timeout": 3, "ECONNRESET": 1}`. */
  errors: Counts,
  /** Over the completed requests, from each one's intended start; null when none completed. */
  latency: nullable(LatencyStats),
  /** Completed per second of the measured part. */
  throughputPerS: num,
  /** `[tMs, latencyMs]` of completed requests since the load's measured t0, min/max-decimated for charts (every bucket's worst kept). */
  timeline: arr(Sample),
  /** Intended starts (ms since the load's t0) of requests that failed or got a 4xx/5xx, evenly thinned to at most 500. */
  failedAtMs: arr(num),
});
export type EndpointStats = Infer<typeof EndpointStats>;

export const ServeCpu = obj({
  userMs: num,
  systemMs: num,
  /** CPU time / wall time: 1.0 is one core busy the whole window. */
  parallelism: num,
});
export type ServeCpu = Infer<typeof ServeCpu>;

/** One server process's loop. */
export const ServeProcess = obj({
  pid: int,
  /** Its window's start, ms since the epoch, and that start less the load's measured t0 (null without load): add it to `lag.samples` times to put them on the endpoints' timeline. */
  t0EpochMs: num,
  offsetMs: nullable(num),
  wallMs: num,
  /** The loop's lag (src/stats/lagStats.ts), its `samples` min/max-decimated for charts (every bucket's worst kept; the figures are over all). */
  lag: LagStats,
  /**
   * The p99 wait of a request arriving at a random moment, from the heartbeat (a lag of
   * L ms makes one arriving x ms into it wait L − x: src/stats/arrivalWait.ts); what the
   * probe measures, where the lag p99 counts each stall once.
   */
  arrivalWaitP99Ms: num,
  cpu: ServeCpu,
  /** Requests the app handled in the window (the probe's included), as the harness counted them. */
  requests: int,
  /** Python: the AnyIO limiter's tokens in force; null: not known. */
  threadTokens: nullable(int),
  /** Where this process's loop was blocked: its top lines by stalled time (src/stats/blockers.ts). */
  blockers: arr(Blocker),
  attribution: Attribution,
  notes: arr(str),
});
export type ServeProcess = Infer<typeof ServeProcess>;

/** A route's share of the stalls: src/stats/handlerBlockers.ts. */
export const HandlerBlocking = obj({
  method: str,
  /** The route as the harness named it (a path template when the framework has one). */
  route: str,
  /** Its requests the servers handled in the windows (spans, plus those past the harness's cap). */
  requests: int,
  /** Stalls with one of its requests in flight, and their stalled time overlapping its requests, ms (summed over processes). */
  stalls: int,
  stalledMs: num,
  /** Of that, stalls with no other route's request in flight (the probe aside): the stalls only it can explain. */
  soleStalls: int,
  soleStalledMs: num,
  /** The top blocking line over its sole stalls (its `share`: of those stalls' lag); null when none was attributed. */
  topBlocker: nullable(Blocker),
});
export type HandlerBlocking = Infer<typeof HandlerBlocking>;

/** The probe's latency beside the loop's lag: what the heartbeat's figures mean for a request. */
export const ProbeVsLoop = obj({
  probeP99Ms: num,
  /** The worst process's lag p99. */
  loopLagP99Ms: num,
  /** What the heartbeat predicts the probe waits: `loop.merged.arrivalWaitP99Ms`. */
  arrivalWaitP99Ms: num,
  /** probeP99Ms / arrivalWaitP99Ms: near 1 when the loop's stalls are what requests waited for; null when the prediction is 0. */
  ratio: nullable(num),
});
export type ProbeVsLoop = Infer<typeof ProbeVsLoop>;

export const ServeVariantReport = obj({
  /** `as-written`, `processes` (N server processes), `threads` (T AnyIO thread tokens). */
  name: literal('as-written', 'processes', 'threads'),
  /** As the views name it: `as written`, `2 uvicorn workers`, `8 thread tokens`. */
  label: str,
  processes: int,
  /** Asked for; null: as the app sets it. */
  threadTokens: nullable(int),
  status: literal('ok', 'failed', 'skipped'),
  error: nullable(RunError),
  /** From the harness's `ready`; null when the server never listened. */
  server: nullable(obj({ name: str, pids: arr(int), startupMs: num })),
  endpoints: arr(EndpointStats),
  probe: nullable(EndpointStats),
  loop: obj({
    processes: arr(ServeProcess),
    /** Over all processes: the worst process's lag p99 and max, the stalls and stalled time summed; null without a window. */
    merged: nullable(obj({
      p99Ms: num, maxMs: num, stallCount: int, stalledMs: num, worstPid: int,
      /** Over all processes' samples and wall time together (a request reaching any of them at random). */
      arrivalWaitP99Ms: num,
    })),
  }),
  /** All server processes together. */
  cpu: nullable(ServeCpu),
  /** Where the loop was blocked, the processes' lines merged: top 10 by stalled time, `share` of all processes' stalled time. */
  blockers: arr(Blocker),
  /** Per route, the stalls during its requests (most stalled first). */
  byHandler: arr(HandlerBlocking),
  quality: obj({
    trustworthy: bool,
    /** The load generator's own send delay: evidence it was not the bottleneck; null without load. */
    generatorSendLagP99Ms: nullable(num),
    generatorSendLagMaxMs: nullable(num),
    generatorCpuMs: nullable(num),
    /** Requests (endpoints and probe) not answered, or answered 4xx/5xx, of those sent; null without load. */
    failedFrac: nullable(num),
    notes: arr(str),
  }),
  probeVsLoop: nullable(ProbeVsLoop),
  verdict: ServeVerdict,
  /** One sentence for this variant. */
  headline: str,
  /** What the session saw of this variant beyond its figures (e.g. a server that did not end when told and was killed). */
  notes: arr(str),
  /** What the server printed (fds 1 and 2), capped. */
  output: CapturedOutput,
});
export type ServeVariantReport = Infer<typeof ServeVariantReport>;

export const ServeReport = obj({
  schema: literal(SERVE_SCHEMA),
  ...DOCUMENT_FIELDS,
  app: ServeApp,
  /** The routes the app declared (from the first server that listened). */
  routes: arr(ServeRoute),
  runtime: nullable(Runtime),
  settings: obj({
    ratePerS: num,
    durationS: num,
    warmupS: num,
    probeRatePerS: num,
    /** Bodies may hold secrets: only their size is kept, in bytes (null: no body). */
    endpoints: arr(obj({ name: str, method: str, path: str, bodyBytes: nullable(int) })),
    /** The budget given (--budget-ms); null: none. */
    budgetMs: nullable(num),
    /** The budget the verdicts used: `budgetMs`, else the default (looplag.lagBudgetMs). */
    verdictBudgetMs: num,
    heartbeatMs: int,
    stallMs: num,
    attribution: bool,
  }),
  quality: obj({ backgroundCpuFrac: nullable(num), trustworthy: bool, notes: arr(str) }),
  variants: arr(ServeVariantReport),
  /** The verdict first, in the user's words: the probe's p99 as written, then each other variant's. */
  headline: str,
  /** The first variant's verdict (the app as written): the one the headline opens with. */
  verdict: ServeVerdict,
  /** The folder the blockers' and routes' files are relative to; null: none. */
  workspaceRoot: nullable(str),
});
export type ServeReport = Infer<typeof ServeReport>;
