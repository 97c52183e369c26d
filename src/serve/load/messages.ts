/**
 * The load generator's own wire: the plan on the child's stdin (one JSON line), its
 * messages on stdout (JSON lines), each parsed at the boundary, and the plan's checks.
 */
import { arr, Infer, int, literal, nullable, num, obj, optional, Schema, str, tagged, ValidationError } from '../../shared/validate';
import { LatencyStats } from '../../shared/protocol/serveReport';
import type { LoadPlan, LoadResult, TargetResult } from './types';

/** `{"200": 12}`: string keys, whole-number counts. */
const counts: Schema<Record<string, number>> = {
  describe: 'counts',
  parse(v) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError('', 'object of counts', v);
    const out: Record<string, number> = {};
    for (const [k, n] of Object.entries(v as Record<string, unknown>)) {
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new ValidationError(k, 'count', n);
      out[k] = n;
    }
    return out;
  },
};

/** `[tMs, latencyMs | null, status]`. */
const timelineEntry: Schema<[number, number | null, number]> = {
  describe: '[tMs, latencyMs | null, status]',
  parse(v) {
    if (!Array.isArray(v) || v.length !== 3) throw new ValidationError('', '[tMs, latencyMs | null, status]', v);
    const [t, latency, status] = v as unknown[];
    return [num.parse(t), latency === null ? null : num.parse(latency), int.parse(status)];
  },
};

const headers: Schema<Record<string, string>> = {
  describe: 'headers',
  parse(v) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError('', 'object of strings', v);
    for (const [k, value] of Object.entries(v as Record<string, unknown>)) if (typeof value !== 'string') throw new ValidationError(k, 'string', value);
    return { ...(v as Record<string, string>) };
  },
};

const TargetResultSchema: Schema<TargetResult> = obj({
  name: str, method: str, path: str, sent: int, completed: int, failed: int,
  statusCodes: counts, errors: counts, latency: nullable(LatencyStats), throughputPerS: num, timeline: arr(timelineEntry),
});

const LoadResultSchema: Schema<LoadResult> = obj({
  t0EpochMs: num,
  durationMs: num,
  targets: arr(TargetResultSchema),
  probe: nullable(TargetResultSchema),
  generator: obj({ sendLagP99Ms: num, sendLagMaxMs: num, cpuMs: num, notes: arr(str) }),
});

/** What the generator's process sends its parent. */
export const ChildMessage = tagged({
  /** The warm-up ended: the measured part started at `t0EpochMs` (optional: older generators said only when). */
  measuring: obj({ type: literal('measuring'), t0EpochMs: optional(num) }),
  progress: obj({ type: literal('progress'), phase: literal('warmup', 'measuring', 'draining'), elapsedMs: num, sent: int, completed: int }),
  result: obj({ type: literal('result'), result: LoadResultSchema }),
  /** The answer to the parent's `cut`: the measured part up to it; null when cut in the warm-up. The process exits after it. */
  cut: obj({ type: literal('cut'), result: nullable(LoadResultSchema) }),
  /** The run could not go on (a bad plan, a crash in the generator); the process exits after it. */
  error: obj({ type: literal('error'), message: str }),
});
export type ChildMessage = Infer<typeof ChildMessage>;

/** What the parent sends after the plan, one JSON line: stop sending now and send what was measured. */
export const CutMessage = obj({ type: literal('cut') });

export const LoadPlanSchema: Schema<LoadPlan> = obj({
  origin: str,
  targets: arr(obj({ name: str, method: str, path: str, headers: optional(headers), body: optional(nullable(str)) })),
  ratePerS: num,
  probe: nullable(obj({ path: str, ratePerS: num })),
  warmupMs: num,
  durationMs: num,
  timeoutMs: num,
  maxConnections: int,
});

/** Hosts the generator sends to: this machine only (the servers it measures bind 127.0.0.1). */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const METHOD = /^[A-Za-z]+$/;
/** A request target as sent: printable ASCII, no spaces (anything else percent-encoded first). */
const PATH = /^\/[\x21-\x7e]*$/;
/** RFC 9110 token: a header's name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE_BAD = /[\0\r\n]/;
/** The most requests per second, per stream, the scheduler is asked for (beyond it the generator, not the server, would be measured). */
export const MAX_RATE_PER_S = 100_000;

function pathProblem(path: string): string | null {
  if (!path.startsWith('/')) return `path must start with /, got ${JSON.stringify(path)}`;
  if (!PATH.test(path)) return `path ${JSON.stringify(path)} has a space or a character to percent-encode`;
  return null;
}

/** The most measured requests per stream: each keeps 19 bytes for the timeline and counts (95 MB at this cap). */
export const MAX_REQUESTS_PER_STREAM = 5_000_000;

/** What is wrong with a plan, or null: checked before the generator starts. */
export function planProblem(plan: LoadPlan): string | null {
  let url: URL;
  try {
    url = new URL(plan.origin);
  } catch {
    return `origin is not a URL: ${JSON.stringify(plan.origin)}`;
  }
  if (url.protocol !== 'http:' || !LOOPBACK.has(url.hostname) || url.pathname !== '/' || url.search || url.username) {
    return `origin must be http://127.0.0.1:PORT (this machine), got ${JSON.stringify(plan.origin)}`;
  }
  if (plan.targets.length === 0 && !plan.probe) return 'no targets and no probe: nothing to send';
  const rates: [string, number][] = [['ratePerS', plan.ratePerS], ...(plan.probe ? [['probe.ratePerS', plan.probe.ratePerS] as [string, number]] : [])];
  for (const [what, rate] of rates) if (!(rate > 0 && rate <= MAX_RATE_PER_S)) return `${what} must be above 0 and at most ${MAX_RATE_PER_S}, got ${rate}`;
  for (const t of plan.targets) {
    if (!METHOD.test(t.method)) return `${t.name}: method ${JSON.stringify(t.method)} is not an HTTP method`;
    const path = pathProblem(t.path);
    if (path) return `${t.name}: ${path}`;
    for (const [name, value] of Object.entries(t.headers ?? {})) {
      if (!HEADER_NAME.test(name)) return `${t.name}: header name ${JSON.stringify(name)} is not a token`;
      if (HEADER_VALUE_BAD.test(value)) return `${t.name}: header ${name}'s value has a line break or NUL`;
    }
  }
  const probePath = plan.probe && pathProblem(plan.probe.path);
  if (probePath) return `probe ${probePath}`;
  if (!(plan.warmupMs >= 0)) return `warmupMs must be 0 or more, got ${plan.warmupMs}`;
  if (!(plan.durationMs > 0)) return `durationMs must be above 0, got ${plan.durationMs}`;
  if (!(plan.timeoutMs > 0)) return `timeoutMs must be above 0, got ${plan.timeoutMs}`;
  if (!(plan.maxConnections >= 1)) return `maxConnections must be 1 or more, got ${plan.maxConnections}`;
  const most = Math.max(plan.ratePerS, plan.probe?.ratePerS ?? 0) * (plan.durationMs / 1000);
  if (most > MAX_REQUESTS_PER_STREAM) return `${Math.round(most)} requests in one stream: at most ${MAX_REQUESTS_PER_STREAM} (lower the rate or the duration)`;
  return null;
}
