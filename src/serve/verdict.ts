/**
 * Service mode's verdict and headline (issue 14): the rules that decide (failed
 * requests first, then the probe's p99 and the loops' lag p99 against the budget) and the words that say it,
 * in the user's terms: what any other request waited while this endpoint was under load.
 * Pure; read by buildServeReport (the document), serveExitCode (the CLI's gate) and the views.
 */
import type { EndpointStats, ServeVariantReport, ServeVerdict } from '../shared/protocol/serveReport';
import type { ServeApp } from '../shared/protocol/serve';
import { fmtMs, fmtRate, printable } from '../shared/format';

/** What the rules read of a variant (a document's variant has it all). */
export type VariantFigures = Pick<ServeVariantReport, 'status' | 'error' | 'server' | 'endpoints' | 'probe' | 'loop' | 'label'>;

/** A generator whose own sends were this late (p99) set the pace itself: its figures are not the server's alone. */
export const GENERATOR_SEND_LAG_P99_MS = 10;
/** With this share of requests unanswered or answered 4xx/5xx, the server was not serving the load the figures describe. */
export const MANY_FAILED_FRAC = 0.1;
/** An error message in a headline is cut here: the document's `error` keeps it whole. */
const MESSAGE_CHARS = 200;

/** What one server process is called, per kind of app: one and many. */
const PROCESS_NOUNS: { [K in ServeApp['type']]: [string, string] } = {
  asgi: ['uvicorn worker', 'uvicorn workers'],
  node: ['Node cluster worker', 'Node cluster workers'],
};

/**
 * `as written`, `2 uvicorn workers`, `3 Node cluster workers`, `8 thread tokens`. Typed by the
 * document's fields, not inputs.ts's ServeVariant: the webview imports this module, and
 * inputs.ts reaches Node's types, which its DOM-only tsconfig has not.
 */
export function variantLabel(v: Pick<ServeVariantReport, 'name' | 'processes' | 'threadTokens'>, app: Pick<ServeApp, 'type'>): string {
  if (v.name === 'as-written') return 'as written';
  if (v.name === 'threads') return v.threadTokens === null ? 'the default thread tokens' : `${v.threadTokens} thread token${v.threadTokens === 1 ? '' : 's'}`;
  const [one, many] = PROCESS_NOUNS[app.type];
  return `${v.processes} ${v.processes === 1 ? one : many}`;
}

/** Requests still waiting for their answer when the run was cut (the generator's error `cut`): neither failures nor latency. */
export function cutRequests(e: Pick<EndpointStats, 'errors'>): number {
  return e.errors.cut ?? 0;
}

/**
 * Requests that got no real answer: connection errors and 4xx/5xx responses (timeouts are
 * a stalled server's, judged as latency; requests in flight at a cut had no time to answer).
 */
export function requestFailures(e: EndpointStats): number {
  return e.errorResponses + e.failed - e.timedOut - cutRequests(e);
}

/** The streams a variant sent: its endpoints, then the probe. */
export function streamsOf(v: Pick<VariantFigures, 'endpoints' | 'probe'>): EndpointStats[] {
  return [...v.endpoints, ...(v.probe ? [v.probe] : [])];
}

/** Measured: the server listened and the load ran (an endpoint or the probe sent requests). */
export function measured(v: VariantFigures): boolean {
  return v.status === 'ok' && streamsOf(v).some((e) => e.sent > 0);
}

/**
 * Cut short: the variant failed (cancelled, timed out, the server gone) after the load had
 * sent measured requests. Its figures stop at the cut: shown as such, never given a verdict.
 */
export function cutShort(v: Pick<VariantFigures, 'status' | 'endpoints' | 'probe'>): boolean {
  return v.status === 'failed' && streamsOf(v).some((e) => e.sent > 0);
}

/**
 * The figure the headline leads with: the probe's p99 (what any other request waited),
 * else what the heartbeat predicts it would have been (stats/arrivalWait.ts; the lag p99
 * counts a stall once and would call a loop stalling 100 ms four times a second healthy).
 */
export function judgedP99Ms(v: Pick<VariantFigures, 'probe' | 'loop'>): number | null {
  return v.probe?.latency?.p99Ms ?? v.loop.merged?.arrivalWaitP99Ms ?? null;
}

/**
 * What went over the budget, as the gate's line names it: the probe's p99 (without a
 * probe, the wait the heartbeat predicts for one), the worst server loop's lag p99 (a process whose loop stalls delays the requests it takes even
 * when the probe mostly reached another), requests unanswered past the generator's timeout.
 */
export function overBudgetFigures(v: VariantFigures, budgetMs: number): string[] {
  const out: string[] = [];
  const probe = v.probe?.latency?.p99Ms;
  const loop = v.loop.merged?.p99Ms;
  const predicted = v.probe ? undefined : v.loop.merged?.arrivalWaitP99Ms;
  if (probe !== undefined && probe > budgetMs) out.push(`probe p99 ${fmtMs(probe)}`);
  if (predicted !== undefined && predicted > budgetMs) out.push(`predicted wait p99 ${fmtMs(predicted)}`);
  if (loop !== undefined && loop > budgetMs) out.push(`loop lag p99 ${fmtMs(loop)}`);
  const timedOut = streamsOf(v).reduce((a, e) => a + e.timedOut, 0);
  if (timedOut) out.push(`${timedOut} timed out`);
  return out;
}

export function overBudget(v: VariantFigures, budgetMs: number): boolean {
  return overBudgetFigures(v, budgetMs).length > 0;
}

export function verdictOf(v: VariantFigures, budgetMs: number): ServeVerdict {
  if (!measured(v)) return 'not-measured';
  if (streamsOf(v).some((e) => requestFailures(e) > 0)) return 'failed-requests';
  return overBudget(v, budgetMs) ? 'over-budget' : 'within-budget';
}

/** `500: 30, ECONNRESET: 7`: the failures' statuses and errors, most frequent first (timeouts left out). */
export function failureCounts(e: EndpointStats): string {
  const counts = [
    ...Object.entries(e.statusCodes).filter(([code]) => Number(code) >= 400),
    ...Object.entries(e.errors).filter(([kind]) => kind !== 'timeout'),
  ].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const shown = counts.slice(0, 3).map(([k, n]) => `${printable(k)}: ${n}`);
  return shown.join(', ') + (counts.length > 3 ? `, ${counts.length - 3} more` : '');
}

/** `GET /x failed 37 of 200 requests (500: 37)`. */
export function failurePhrase(e: EndpointStats, name = printable(e.name)): string {
  return `${name} failed ${requestFailures(e)} of ${e.sent} request${e.sent === 1 ? '' : 's'} (${failureCounts(e)})`;
}

/** `GET /a`, `GET /a and POST /b`, `GET /a, GET /b and POST /c`. */
function joinNames(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? 'no endpoint') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** A budget as the user gave it: `100 ms` (fmtMs would say `100.0 ms`), `1.50 s`. */
export function fmtBudget(ms: number): string {
  return ms < 1000 ? `${ms} ms` : fmtMs(ms);
}

function why(v: VariantFigures): string {
  const m = printable(v.error?.message ?? 'no requests were sent');
  return m.length > MESSAGE_CHARS ? `${m.slice(0, MESSAGE_CHARS - 1)}…` : m;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** `with 2 uvicorn workers` / `as written`: how a variant is named inside a sentence. */
function withLabel(v: VariantFigures): string {
  return v.label === 'as written' ? v.label : `with ${v.label}`;
}

/** With a probe within the budget: `, but the server's loop lagged p99 150 ms` when a loop went over it; else nothing. */
function loopOverPhrase(v: VariantFigures, budgetMs: number, lead: string): string {
  const probe = v.probe?.latency?.p99Ms;
  const loop = v.loop.merged?.p99Ms;
  if (probe === undefined || loop === undefined || probe > budgetMs || loop <= budgetMs) return '';
  return `${lead}${v.loop.processes.length > 1 ? 'one server loop' : "the server's loop"} lagged p99 ${fmtMs(loop)}`;
}

/** `; 12 of 200 requests to GET /a timed out`, or nothing. */
function timeoutPhrase(v: VariantFigures): string {
  const out = streamsOf(v).filter((e) => e.timedOut > 0).map((e) => `${e.timedOut} of ${e.sent} requests to ${printable(e.name)} timed out`);
  return out.length ? `; ${out.join(', ')}` : '';
}

/**
 * One sentence for a variant, e.g. `At 20 req/s on GET /reports/sales, a trivial request
 * waited p99 850 ms (budget 100 ms).` Failed requests come before any latency; a variant
 * that was not measured says why.
 */
export function variantHeadline(v: VariantFigures, ratePerS: number, budgetMs: number): string {
  const verdict = verdictOf(v, budgetMs);
  if (cutShort(v)) return `${capital(withLabel(v))}, cut short (${why(v)}): until then, ${latencyClause(v, ratePerS, budgetMs)}; no verdict.`;
  if (verdict === 'not-measured') {
    return v.server ? `${capital(withLabel(v))}, the server was not measured: ${why(v)}.` : `${capital(withLabel(v))}, the server did not start: ${why(v)}.`;
  }
  if (verdict === 'failed-requests') {
    const failing = streamsOf(v).filter((e) => requestFailures(e) > 0).map((e) => failurePhrase(e, e === v.probe ? 'the probe' : printable(e.name)));
    const scope = v.label === 'as written' ? '' : `${capital(withLabel(v))}: `;
    return `${scope}${failing.join('; ')}: the latency of the rest is not ${failing.length > 1 ? 'their' : 'its'} real cost.`;
  }
  const clause = latencyClause(v, ratePerS, budgetMs, v.label === 'as written' ? '' : ` ${withLabel(v)}`);
  return `${capital(clause)}.`;
}

/** `at 20 req/s on GET /a, a trivial request waited p99 850 ms (budget 100 ms)`: what the load measured. */
function latencyClause(v: VariantFigures, ratePerS: number, budgetMs: number, scope = ''): string {
  const names = v.endpoints.map((e) => printable(e.name));
  const at = `at ${fmtRate(ratePerS)} req/s${names.length > 1 ? ' each' : ''} on ${joinNames(names)}${scope}`;
  const judged = judgedP99Ms(v);
  const answered = streamsOf(v).reduce((a, e) => a + e.completed, 0);
  const what = v.probe?.latency ? `a trivial request waited p99 ${fmtMs(v.probe.latency.p99Ms)}${loopOverPhrase(v, budgetMs, ', but ')}`
    : judged !== null ? `a request arriving at random would have waited p99 ${fmtMs(judged)} for the loop`
      : `${answered} of ${streamsOf(v).reduce((a, e) => a + e.sent, 0)} requests were answered`;
  return `${at}, ${what} (budget ${fmtBudget(budgetMs)})${timeoutPhrase(v)}`;
}

/** A variant after the first, in the document's headline: `with 2 uvicorn workers: p99 12 ms`. */
export function variantPhrase(v: VariantFigures, budgetMs: number): string {
  const verdict = verdictOf(v, budgetMs);
  const name = withLabel(v);
  if (cutShort(v)) {
    const judged = judgedP99Ms(v);
    return `${name}: cut short (${why(v)})${judged === null ? '' : `, until then ${v.probe?.latency ? '' : 'predicted wait '}p99 ${fmtMs(judged)}`}`;
  }
  if (verdict === 'not-measured') return `${name}: ${v.server ? 'not measured' : 'did not start'} (${why(v)})`;
  if (verdict === 'failed-requests') {
    return `${name}: ${streamsOf(v).filter((e) => requestFailures(e) > 0).map((e) => failurePhrase(e, e === v.probe ? 'the probe' : printable(e.name))).join('; ')}`;
  }
  const p99 = `${v.probe?.latency ? '' : 'predicted wait '}p99 ${fmtMs(judgedP99Ms(v))}${loopOverPhrase(v, budgetMs, ', ')}`;
  return `${name}: ${p99}${timeoutPhrase(v).replace(/^; /, ', ')}`;
}

/** The document's headline: the first variant's sentence, then each other variant's phrase. */
export function serveHeadline(variants: readonly VariantFigures[], ratePerS: number, budgetMs: number, error: { message: string } | null): string {
  if (!variants.length) return `Not measured: ${printable(error?.message ?? 'no variant ran')}.`;
  const [first, ...rest] = variants;
  const opening = variantHeadline(first, ratePerS, budgetMs);
  if (!rest.length) return opening;
  return `${opening.replace(/\.$/, '')}; ${rest.map((v) => variantPhrase(v, budgetMs)).join('; ')}.`;
}
