/**
 * ServeSweepInputs → looplag.serveSweep/1: each point summarised from its looplag.serve/1
 * document (the verdict is that document's, src/serve/verdict.ts: never judged twice), each
 * variant's highest rate sustained within the budget and where it stopped climbing, and a
 * headline with the verdict first. Pure and deterministic.
 */
import { TOOL_VERSION } from '../../report/buildReport';
import { fmtRate, printable } from '../../shared/format';
import type { ServeReport, ServeVariantReport } from '../../shared/protocol/serveReport';
import { SERVE_SWEEP_SCHEMA, ServeSweep, ServeSweepPoint, ServeSweepVariant } from '../../shared/protocol/serveSweep';
import { KNOBS } from '../../shared/settings';
import { round3 } from '../../stats/percentiles';
import type { ServeVariant } from '../inputs';
import { fmtBudget, measured, overBudgetFigures, requestFailures, streamsOf, variantLabel } from '../verdict';
import { ClimbStep, stopReason, sustained, sustainedRate } from './climb';
import type { ServeSweepInputs } from './run';

/** An error message in a headline is cut here: the point's `error` keeps it whole. */
const MESSAGE_CHARS = 160;

export function buildServeSweep(inputs: ServeSweepInputs): ServeSweep {
  const s = inputs.settings;
  const budgetMs = s.budgetMs ?? KNOBS.lagBudgetMs.default;
  const reports = inputs.steps.flatMap((steps) => steps.flatMap((x) => ('outcome' in x ? [x.outcome.point] : [])));
  const variants = inputs.variants.map((v, i) => variantOf(v, inputs.steps[i] ?? [], inputs, budgetMs));
  const points = variants.flatMap((v) => v.points);
  const anyMeasured = points.some((p) => p.status === 'measured');
  const status: ServeSweep['status'] = !anyMeasured ? 'failed' : inputs.error || points.some((p) => p.status === 'failed') ? 'partial' : 'complete';
  const first = reports[0];
  return {
    schema: SERVE_SWEEP_SCHEMA,
    tool: { name: 'looplag', version: TOOL_VERSION },
    createdAt: inputs.createdAt,
    status,
    error: inputs.error,
    app: inputs.app,
    routes: reports.find((r) => r.routes.length)?.routes ?? [],
    runtime: inputs.runtime,
    settings: {
      ratesPerS: inputs.ratesPerS,
      processes: inputs.processes,
      threadTokens: inputs.threadTokens,
      durationS: s.durationS,
      warmupS: s.warmupS,
      probeRatePerS: s.probeRatePerS,
      // As looplag.serve/1 keeps them: a body's size, never its content.
      endpoints: first?.settings.endpoints ?? s.endpoints.map((e) => ({ name: e.name, method: e.method, path: e.path, bodyBytes: e.body == null ? null : new TextEncoder().encode(e.body).length })),
      budgetMs: s.budgetMs,
      verdictBudgetMs: budgetMs,
      heartbeatMs: s.heartbeatMs,
      stallMs: s.stallMs,
      attribution: s.attribution,
      timeoutS: inputs.timeoutS,
    },
    quality: {
      trustworthy: points.every((p) => p.trustworthy),
      notes: variants.flatMap((v) => v.points.flatMap((p) => p.notes.map((n) => `${v.label} at ${fmtRate(p.ratePerS)} req/s: ${n}`))),
    },
    variants,
    headline: sweepHeadline(variants, s.endpoints.map((e) => e.name), budgetMs, inputs.error),
    workspaceRoot: inputs.workspaceRoot,
  };
}

function variantOf(v: ServeVariant, steps: readonly ClimbStep<ServeReport>[], inputs: ServeSweepInputs, budgetMs: number): ServeSweepVariant {
  const points = steps.map((step) => pointOf(step, budgetMs));
  // Where the variant stopped climbing: its first point not sustained, unless the sweep itself ended there (cancel, --timeout).
  const at = steps.findIndex((x) => 'outcome' in x && !x.outcome.ended && !sustained(x.outcome));
  const stopAt = at >= 0 ? points[at] : undefined;
  const reason = stopAt ? stopReason(stopAt.verdict, stopAt.ratePerS, stopAt.fellBehind) : null;
  return {
    name: v.name,
    label: variantLabel(v, inputs.app),
    processes: v.processes,
    threadTokens: v.threadTokens,
    sustainedRatePerS: sustainedRate(steps),
    sustainedAll: points.length > 0 && points.every((p) => p.status === 'measured' && p.verdict === 'within-budget' && !p.fellBehind.length),
    stop: stopAt && reason ? { ratePerS: stopAt.ratePerS, verdict: stopAt.verdict, reason: withWhy(reason, stopAt) } : null,
    points,
  };
}

/** `over budget at 20 req/s: probe p99 850.0 ms`, `not measured at 5 req/s: No module named 'app'`. */
function withWhy(reason: string, p: ServeSweepPoint): string {
  if (p.overBudget.length) return `${reason}: ${p.overBudget.join(', ')}`;
  if (p.fellBehind.length) return `${reason}: ${p.fellBehind.join('; ')}`;
  if (p.verdict === 'not-measured' && p.error) {
    const m = printable(p.error.message);
    return `${reason}: ${m.length > MESSAGE_CHARS ? `${m.slice(0, MESSAGE_CHARS - 1)}…` : m}`;
  }
  if (p.verdict === 'failed-requests') return `${reason}: ${p.failures} of ${p.endpoints.reduce((a, e) => a + e.sent, 0)} requests`;
  return reason;
}

function pointOf(step: ClimbStep<ServeReport>, budgetMs: number): ServeSweepPoint {
  if ('notRun' in step) {
    return {
      ratePerS: step.ratePerS, status: 'not-run', verdict: 'not-measured', reason: step.notRun, error: null, startupMs: null, probe: null,
      loop: null, endpoints: [], failures: 0, completedPerS: 0, overBudget: [], fellBehind: [], topBlocker: null, trustworthy: true, headline: '', notes: [],
    };
  }
  const report = step.outcome.point;
  const v: ServeVariantReport | undefined = report.variants[0];
  if (!v) {
    return {
      ratePerS: step.ratePerS, status: 'failed', verdict: 'not-measured', reason: null, error: report.error, startupMs: null, probe: null,
      loop: null, endpoints: [], failures: 0, completedPerS: 0, overBudget: [], fellBehind: [], topBlocker: null, trustworthy: true, headline: report.headline, notes: [],
    };
  }
  const m = v.loop.merged;
  const ok = measured(v);
  return {
    ratePerS: step.ratePerS,
    status: ok ? 'measured' : 'failed',
    verdict: v.verdict,
    reason: null,
    error: v.error ?? report.error,
    startupMs: v.server?.startupMs ?? null,
    probe: v.probe?.latency ? { p50Ms: v.probe.latency.p50Ms, p99Ms: v.probe.latency.p99Ms } : null,
    loop: m ? { lagP99Ms: m.p99Ms, lagMaxMs: m.maxMs, arrivalWaitP99Ms: m.arrivalWaitP99Ms, stallCount: m.stallCount } : null,
    endpoints: v.endpoints.map((e) => ({
      name: e.name, sent: e.sent, completed: e.completed, failures: requestFailures(e), timedOut: e.timedOut, p99Ms: e.latency?.p99Ms ?? null, throughputPerS: e.throughputPerS,
    })),
    failures: streamsOf(v).reduce((a, e) => a + requestFailures(e), 0),
    completedPerS: round3(v.endpoints.reduce((a, e) => a + e.throughputPerS, 0)),
    overBudget: ok ? overBudgetFigures(v, budgetMs) : [],
    fellBehind: ('outcome' in step && step.outcome.behind) ? [...step.outcome.behind] : [],
    topBlocker: v.blockers[0] ?? null,
    trustworthy: v.quality.trustworthy,
    headline: v.headline,
    notes: [...v.notes, ...v.quality.notes],
  };
}

/** `10 req/s`, `none of the rates`, with why it stopped (or that it never did); null when no point of the variant was measured. */
function outcomePhrase(v: ServeSweepVariant, error: ServeSweep['error']): { amount: string; detail: string } | null {
  if (!v.points.some((p) => p.status === 'measured')) return null;
  const amount = v.sustainedRatePerS === null ? 'none of the rates' : `${fmtRate(v.sustainedRatePerS)} req/s`;
  if (v.stop) return { amount, detail: ` (${v.stop.reason})` };
  if (v.sustainedAll) return { amount, detail: ', the highest rate tried' };
  // Climbing when the sweep ended (cancel, --timeout): what it sustained so far.
  return { amount: `${amount} so far`, detail: ` (${error?.kind === 'timeout' ? 'timed out' : error?.kind === 'cancelled' ? 'cancelled' : 'the sweep ended'})` };
}

/** Why a variant has no measured point: its first failure's message, else why its rates were not run. */
function notMeasuredWhy(v: ServeSweepVariant): string {
  const failed = v.points.find((p) => p.status === 'failed');
  const m = printable(failed?.error?.message ?? v.points.find((p) => p.reason)?.reason ?? 'no point ran');
  return m.length > MESSAGE_CHARS ? `${m.slice(0, MESSAGE_CHARS - 1)}…` : m;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * `As written sustains 10 req/s on GET /x within 100 ms (over budget at 20 req/s (probe p99
 * 850.0 ms)); with 2 uvicorn workers: 40 req/s, the highest rate tried.`
 */
export function sweepHeadline(variants: readonly ServeSweepVariant[], endpoints: readonly string[], budgetMs: number, error: ServeSweep['error']): string {
  const measuredAny = variants.some((v) => v.points.some((p) => p.status === 'measured'));
  if (!variants.length || (!measuredAny && error)) return `Not measured: ${printable(error?.message ?? 'no variant ran')}.`;
  const [first, ...rest] = variants;
  const names = endpoints.map(printable);
  const on = names.length <= 1 ? (names[0] ?? 'no endpoint') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} (each)`;
  const f = outcomePhrase(first, error);
  const opening = f ? `${capital(first.label)} sustains ${f.amount} on ${on} within ${fmtBudget(budgetMs)}${f.detail}`
    : `${capital(first.label)} was not measured on ${on} (${notMeasuredWhy(first)})`;
  const others = rest.map((v) => {
    const o = outcomePhrase(v, error);
    return o ? `with ${v.label}: ${o.amount}${o.detail}` : `with ${v.label}: not measured (${notMeasuredWhy(v)})`;
  });
  return `${[opening, ...others].join('; ')}.`;
}
