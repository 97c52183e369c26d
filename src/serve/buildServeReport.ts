/**
 * ServeInputs → looplag.serve/1: per variant the load generator's figures per endpoint
 * and for the probe, each server process's loop (lag, CPU, blockers), the stalls per
 * handler, the run's quality, the verdict and the headline. Pure and deterministic: the
 * same inputs give the same document (no clock is read; `createdAt` is the session's).
 */
import { clipToLoad } from './clip';
import type { ServerProcessWindow } from '../shared/protocol/serve';
import type { EndpointStats, ServeProcess, ServeReport, ServeVariantReport } from '../shared/protocol/serveReport';
import { SERVE_SCHEMA } from '../shared/protocol/serveReport';
import type { LoadResult, TargetResult } from './load/types';
import type { ServeInputs, ServeSettings, VariantInputs } from './inputs';
import { KNOBS } from '../shared/settings';
import { fmtMs, fmtPct } from '../shared/format';
import { decimateMinMax } from '../stats/decimate';
import { lagStats } from '../stats/lagStats';
import { reduceBlockers } from '../stats/blockers';
import { handlerBlocking, mergeBlockers } from '../stats/handlerBlockers';
import { arrivalWaitQuantile } from '../stats/arrivalWait';
import { round3 } from '../stats/percentiles';
import { TOOL_VERSION } from '../report/buildReport';
import { cutRequests, cutShort, GENERATOR_SEND_LAG_P99_MS, MANY_FAILED_FRAC, measured, serveHeadline, variantHeadline, variantLabel, verdictOf } from './verdict';

/** The document's type, where the session's code looks for it beside the builder. */
export type { ServeReport } from '../shared/protocol/serveReport';

/** Chart points kept per endpoint's latency timeline and per process's lag samples (min/max per bucket: twice as many at most). */
export const TIMELINE_BUCKETS = 500;
/** Failed requests' times kept per endpoint. */
export const FAILED_AT_KEPT = 500;

export function buildServeReport(inputs: ServeInputs): ServeReport {
  const s = inputs.settings;
  const budgetMs = s.budgetMs ?? KNOBS.lagBudgetMs.default;
  const variants = inputs.variants.map((v) => variantReport(v, inputs, budgetMs));
  // A variant cut short (cancel, timeout, a server gone under load) keeps its figures up to the cut: partial, not failed.
  const measuredAny = variants.some((v) => measured(v) || cutShort(v));
  const allOk = variants.every((v) => v.status !== 'failed');
  const status: ServeReport['status'] = !measuredAny ? 'failed' : inputs.error || !allOk ? 'partial' : 'complete';
  const first = variants[0];
  return {
    schema: SERVE_SCHEMA,
    tool: { name: 'looplag', version: TOOL_VERSION },
    createdAt: inputs.createdAt,
    status,
    error: inputs.error,
    app: inputs.app,
    routes: inputs.variants.find((v) => v.ready)?.ready?.routes ?? [],
    runtime: inputs.runtime,
    settings: {
      ratePerS: s.ratePerS,
      durationS: s.durationS,
      warmupS: s.warmupS,
      probeRatePerS: s.probeRatePerS,
      // A body may hold a password or a token: the document keeps its size only.
      endpoints: s.endpoints.map((e) => ({ name: e.name, method: e.method, path: e.path, bodyBytes: e.body == null ? null : new TextEncoder().encode(e.body).length })),
      budgetMs: s.budgetMs,
      verdictBudgetMs: budgetMs,
      heartbeatMs: s.heartbeatMs,
      stallMs: s.stallMs,
      attribution: s.attribution,
    },
    quality: {
      backgroundCpuFrac: null,
      trustworthy: variants.every((v) => v.quality.trustworthy),
      notes: variants.flatMap((v) => v.quality.notes.map((n) => `${v.label}: ${n}`)),
    },
    variants,
    headline: serveHeadline(variants, s.ratePerS, budgetMs, inputs.error),
    verdict: first ? first.verdict : 'not-measured',
    workspaceRoot: inputs.workspaceRoot,
  };
}

function variantReport(given: VariantInputs, inputs: ServeInputs, budgetMs: number): ServeVariantReport {
  const s = inputs.settings;
  const load = given.load;
  // The server's figures over the load's measured part (see clip.ts); CPU over its whole window.
  const v = { ...given, server: given.server.map((w) => clipToLoad(w, load)) };
  const probePath = load?.probe?.path ?? null;
  const processes = v.server.map((w, i) => processReport(w, given.server[i], load, s));
  const worst = [...processes].sort((a, b) => b.lag.p99Ms - a.lag.p99Ms || a.pid - b.pid)[0];
  const stalledMs = processes.reduce((a, p) => a + p.lag.stalledMs, 0);
  const endpoints = load ? load.targets.map(endpointStats) : [];
  const probe = load?.probe ? endpointStats(load.probe) : null;
  const figures = {
    label: variantLabel(v.variant, inputs.app),
    status: v.status,
    error: v.error,
    server: v.ready ? { name: v.ready.server, pids: v.ready.pids, startupMs: v.ready.startupMs } : null,
    endpoints,
    probe,
    loop: {
      processes,
      merged: worst ? {
        p99Ms: worst.lag.p99Ms,
        maxMs: Math.max(...processes.map((p) => p.lag.maxMs)),
        stallCount: processes.reduce((a, p) => a + p.lag.stallCount, 0),
        stalledMs: round3(stalledMs),
        worstPid: worst.pid,
        arrivalWaitP99Ms: round3(arrivalWaitQuantile(v.server.flatMap((w) => w.samples.map((x) => x[1])), v.server.reduce((a, w) => a + w.wallMs, 0), 0.99)),
      } : null,
    },
  };
  const merged = figures.loop.merged;
  return {
    name: v.variant.name,
    ...figures,
    processes: v.variant.processes,
    threadTokens: v.variant.threadTokens,
    cpu: cpuOf(given.server),
    blockers: mergeBlockers(processes, stalledMs),
    byHandler: handlerBlocking(v.server, { heartbeatMs: s.heartbeatMs, stallMs: s.stallMs, enabled: s.attribution, probePath }),
    quality: qualityOf(load, [...endpoints, ...(probe ? [probe] : [])]),
    probeVsLoop: probe?.latency && merged ? {
      probeP99Ms: probe.latency.p99Ms,
      loopLagP99Ms: merged.p99Ms,
      arrivalWaitP99Ms: merged.arrivalWaitP99Ms,
      ratio: merged.arrivalWaitP99Ms > 0 ? round3(probe.latency.p99Ms / merged.arrivalWaitP99Ms) : null,
    } : null,
    verdict: verdictOf(figures, budgetMs),
    headline: variantHeadline(figures, s.ratePerS, budgetMs),
    notes: v.notes ?? [],
    output: v.output,
  };
}

/** The generator's figures for one stream, with the failures counted and the timeline decimated for charts. */
export function endpointStats(t: TargetResult): EndpointStats {
  const errorResponses = Object.entries(t.statusCodes).reduce((a, [code, n]) => a + (Number(code) >= 400 ? n : 0), 0);
  const ok = t.timeline.filter((r) => r[1] !== null);
  const chart = decimateMinMax(ok.map((r) => r[0]), ok.map((r) => r[1] as number), TIMELINE_BUCKETS);
  const failedAt = t.timeline.filter((r) => r[1] === null || r[2] >= 400).map((r) => r[0]);
  return {
    name: t.name,
    method: t.method,
    path: t.path,
    sent: t.sent,
    completed: t.completed,
    failed: t.failed,
    errorResponses,
    timedOut: t.errors.timeout ?? 0,
    statusCodes: { ...t.statusCodes },
    errors: { ...t.errors },
    latency: t.latency,
    throughputPerS: t.throughputPerS,
    timeline: chart.x.map((x, i) => [x, chart.y[i]]),
    failedAtMs: thin(failedAt, FAILED_AT_KEPT),
  };
}

function processReport(w: ServerProcessWindow, whole: ServerProcessWindow, load: LoadResult | null, s: ServeSettings): ServeProcess {
  const opts = { heartbeatMs: s.heartbeatMs, stallMs: s.stallMs, wallMs: w.wallMs };
  const lag = lagStats(w.samples, opts);
  const found = reduceBlockers(w.attribution, { samples: w.samples, heartbeatMs: s.heartbeatMs, stallMs: s.stallMs }, s.attribution);
  const chart = decimateMinMax(w.samples.map((x) => x[0]), w.samples.map((x) => x[1]), TIMELINE_BUCKETS);
  return {
    pid: w.pid,
    t0EpochMs: w.t0EpochMs,
    offsetMs: load ? round3(w.t0EpochMs - load.t0EpochMs) : null,
    wallMs: w.wallMs,
    lag: { ...lag, samples: chart.x.map((x, i) => [x, chart.y[i]]) },
    arrivalWaitP99Ms: round3(arrivalWaitQuantile(w.samples.map((x) => x[1]), w.wallMs, 0.99)),
    cpu: { userMs: w.cpu.userMs, systemMs: w.cpu.systemMs, parallelism: whole.wallMs > 0 ? round3((w.cpu.userMs + w.cpu.systemMs) / whole.wallMs) : 0 },
    requests: w.requests.reduce((a, r) => a + r.spans.length + r.dropped, 0),
    threadTokens: w.threadTokens ?? null,
    blockers: found.blockers,
    attribution: found.attribution,
    notes: w.notes ?? [],
  };
}

/** All server processes together: CPU over the longest window. */
function cpuOf(windows: readonly ServerProcessWindow[]): ServeVariantReport['cpu'] {
  if (!windows.length) return null;
  const userMs = round3(windows.reduce((a, w) => a + w.cpu.userMs, 0));
  const systemMs = round3(windows.reduce((a, w) => a + w.cpu.systemMs, 0));
  const wallMs = Math.max(...windows.map((w) => w.wallMs));
  return { userMs, systemMs, parallelism: wallMs > 0 ? round3((userMs + systemMs) / wallMs) : 0 };
}

/**
 * Whether the figures describe the server: the generator kept its schedule (its own send
 * lag under GENERATOR_SEND_LAG_P99_MS) and the server answered most requests.
 */
function qualityOf(load: LoadResult | null, streams: readonly EndpointStats[]): ServeVariantReport['quality'] {
  if (!load) return { trustworthy: true, generatorSendLagP99Ms: null, generatorSendLagMaxMs: null, generatorCpuMs: null, failedFrac: null, notes: [] };
  const g = load.generator;
  const notes: string[] = [];
  // Requests in flight at a cut had no time to answer: neither the server's failures nor its answers.
  const sent = streams.reduce((a, e) => a + e.sent - cutRequests(e), 0);
  const bad = streams.reduce((a, e) => a + e.failed - cutRequests(e) + e.errorResponses, 0);
  const failedFrac = sent > 0 ? round3(bad / sent) : null;
  const lateSender = g.sendLagP99Ms > GENERATOR_SEND_LAG_P99_MS;
  if (lateSender) {
    notes.push(`The load generator itself sent late (p99 ${fmtMs(g.sendLagP99Ms)}, max ${fmtMs(g.sendLagMaxMs)}): ` +
      'it, not the server, may have set the pace. Lower --rate or rerun on a quieter machine.');
  }
  const manyFailed = failedFrac !== null && failedFrac >= MANY_FAILED_FRAC;
  if (manyFailed) notes.push(`${bad} of ${sent} requests (${fmtPct(failedFrac)}) got no answer or a 4xx/5xx: the server was not serving the load these figures describe.`);
  notes.push(...g.notes.map((n) => `load generator: ${n}`));
  return {
    trustworthy: !lateSender && !manyFailed,
    generatorSendLagP99Ms: g.sendLagP99Ms,
    generatorSendLagMaxMs: g.sendLagMaxMs,
    generatorCpuMs: g.cpuMs,
    failedFrac,
    notes,
  };
}

/** At most `n` of `xs`, evenly spaced, the first and the last kept. */
function thin(xs: number[], n: number): number[] {
  if (xs.length <= n) return xs;
  return Array.from({ length: n }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (n - 1))]);
}
