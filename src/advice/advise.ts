/**
 * From a report to a diagnosis: the facts the rules read (above all, how the target
 * treats the GIL), the advice list, and a one-sentence headline answering "is it safe
 * to run this the way I plan?".
 */
import type { Advice, ModeRun, Report } from '../shared/protocol';
import { budgetOf, fmtMs, fmtPct, suspectOf } from '../shared/format';
import { allCallsRaised, callErrorOf, describeCallError } from '../stats/callErrors';
import { withinBudget } from './budget';
import { Facts, GilBehaviour, healthy, rulesFor } from './rules';
import * as T from './thresholds';
import { SNIPPETS } from './snippets';
import { SYNC_PLANNED_MODE } from './runtimes';
import { MODES, RUNTIMES, RuntimeName, runtimeNameOfReport } from '../shared/modes';
import { MODE_OF_RUNS_IN, routeWordsOf } from './frameworkText';

/**
 * The mode the user means to deploy when they did not say: where the framework serving
 * it runs it (target.framework), else an `async def`/async function is called on the
 * loop; a sync Python function is what Starlette/FastAPI run in their thread pool; a
 * Node handler runs on the main thread.
 */
export function plannedModeOf(report: Report): string {
  const asked = report.settings.plannedMode;
  if (asked) return asked;
  // The framework serving it says where it runs (a FastAPI `def` endpoint: its threadpool).
  const fw = report.target.framework;
  const inferred = fw ? MODE_OF_RUNS_IN[fw.runsIn] : report.target.isAsync ? 'inline' : SYNC_PLANNED_MODE[runtimeNameOfReport(report)];
  if (report.runs.some((r) => r.mode === inferred) || !report.runs.length) return inferred;
  // The usual plan was not measured (the user's modes leave it out): judge the first
  // mode that was, rather than answer "not measured".
  return (report.runs.find((r) => r.status !== 'skipped') ?? report.runs[0]).mode;
}

/**
 * GIL behaviour from the one-thread diagnostic window, where the signals differ most:
 * a native call holding the GIL is one stall as long as the call; pure Python gives the
 * loop a turn every switch interval, so lags of about one interval; GIL-releasing work
 * leaves the loop on time. Without the diagnostic (older reports), thread mode's GIL
 * waits say the same less sharply.
 */
export function classifyGil(report: Report): GilBehaviour | null {
  if (!RUNTIMES[runtimeNameOfReport(report)].gil) return null;
  const switchMs = (report.settings.switchIntervalS ?? report.runtime?.switchIntervalS ?? 0.005) * 1000;
  const d = report.diagnostic;
  // A call shorter than a few switch intervals cannot show either signature: the loop
  // may simply not have woken during it. Then the diagnostic says nothing.
  if (d && d.callMs !== null && d.callMs >= T.NATIVE_HOLD_MIN_INTERVALS * switchMs) {
    const lag = d.lag;
    const hold = lag.maxMs >= T.NATIVE_HOLD_FRAC * d.callMs && lag.maxMs >= T.NATIVE_HOLD_MIN_INTERVALS * switchMs;
    const evidence = `In a one-thread diagnostic, one call ran ${fmtMs(d.callMs)} while the loop's longest lag was ${fmtMs(lag.maxMs)} ` +
      `(p50 ${fmtMs(lag.p50Ms)}, ${lag.sampleCount} of ${lag.expectedSampleCount} heartbeats; switch interval ${fmtMs(switchMs)})`;
    if (hold) return { kind: 'native-hold', evidence: `${evidence}: the loop did not run for ${fmtPct(lag.maxMs / d.callMs)} of the call.` };
    if (lag.p50Ms >= T.CONTENTION_P50_FRAC * switchMs) {
      return { kind: 'time-sliced', evidence: `${evidence}: the loop got the GIL back about every switch interval, waiting ~${fmtMs(lag.p50Ms)} each time.` };
    }
    return { kind: 'released', evidence: `${evidence}: the loop ran on time while the call worked.` };
  }
  const t = report.runs.find((r) => r.mode === 'thread' && r.status === 'ok');
  // Only waits measured in thread mode's own window fit its calls; the diagnostic's were read above.
  if (t?.gilWaitSource === 'diagnostic') return null;
  if (!t?.gilWait || !t.taskStats.runP50Ms || t.taskStats.runP50Ms < T.NATIVE_HOLD_MIN_INTERVALS * switchMs) return null;
  const g = t.gilWait;
  const evidence = `In thread mode the GIL-wait probe waited p50 ${fmtMs(g.p50Ms)}, max ${fmtMs(g.maxMs)} (switch interval ${fmtMs(switchMs)}, call p50 ${fmtMs(t.taskStats.runP50Ms)})`;
  if (g.maxMs >= T.NATIVE_HOLD_FRAC * t.taskStats.runP50Ms && g.maxMs >= T.NATIVE_HOLD_MIN_INTERVALS * switchMs && g.sampleCount <= t.tasks.length * 4) {
    return { kind: 'native-hold', evidence: `${evidence}: waits as long as a call.` };
  }
  if (g.p50Ms >= T.CONTENTION_P50_FRAC * switchMs) return { kind: 'time-sliced', evidence: `${evidence}: about one switch interval per wait.` };
  return { kind: 'released', evidence: `${evidence}: the GIL was free.` };
}

function factsOf(report: Report): Facts {
  const ok = (mode: string): ModeRun | undefined => report.runs.find((r) => r.mode === mode && r.status === 'ok');
  return {
    report,
    runtime: runtimeNameOfReport(report),
    budgetMs: budgetOf(report),
    stallMs: report.settings.stallMs,
    switchMs: (report.settings.switchIntervalS ?? report.runtime?.switchIntervalS ?? 0.005) * 1000,
    cores: report.runtime?.cpuCount ?? 1,
    planned: plannedModeOf(report),
    ok,
    gilBehaviour: classifyGil(report),
  };
}

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2, ok: 3 } as const;

/** Every rule over the report, most severe first (stable within a severity). */
export function advise(report: Report): Advice[] {
  const facts = factsOf(report);
  const advice: Advice[] = [];
  for (const rule of rulesFor(facts.runtime)) {
    const out = rule.check(facts);
    if (Array.isArray(out)) advice.push(...out);
    else if (out) advice.push(out);
  }
  const ok = healthy(facts, advice);
  if (ok) advice.push(ok);
  const sorted = advice
    .map((a, i) => ({ a, i }))
    .sort((x, y) => SEVERITY_ORDER[x.a.severity] - SEVERITY_ORDER[y.a.severity] || x.i - y.i)
    .map((x) => x.a);
  return withoutRepeatedSetups(sorted, facts.runtime);
}

/**
 * One complete setup block per report: an advice whose fix repeats one shown above
 * (several rules recommend the same pool) refers to it instead.
 */
function withoutRepeatedSetups(advice: Advice[], runtime: RuntimeName): Advice[] {
  const firstWith = new Map<string, Advice>();
  return advice.map((a) => {
    if (!a.fix) return a;
    const first = firstWith.get(a.fix);
    if (!first) {
      firstWith.set(a.fix, a);
      return a;
    }
    return { ...a, fix: SNIPPETS[runtime].sameSetup(first.title) };
  });
}

const HOW: Record<string, string> = Object.fromEntries(Object.entries(MODES).map(([m, info]) => [m, info.how]));

/**
 * How many times longer the calls took in this pool than one after another inline, when
 * that is a collapse worth leading with (see THROUGHPUT_COLLAPSE_FACTOR); else null.
 */
export function slowdownVsInline(report: Report, run: ModeRun): number | null {
  const inline = report.runs.find((r) => r.mode === 'inline' && r.status === 'ok' && r.taskStats.errorCount === 0);
  if (!inline || run === inline || run.status !== 'ok' || inline.wallMs <= 0) return null;
  // Over a few ms of window, a ratio is pool start-up noise, not throughput.
  if (run.wallMs - inline.wallMs < T.MIN_MEASURABLE_WINDOW_MS) return null;
  const slowdown = run.wallMs / inline.wallMs;
  return slowdown >= T.THROUGHPUT_COLLAPSE_FACTOR ? slowdown : null;
}

/**
 * One sentence: is it safe to run this the way the user plans, and if not, what is.
 * In order: calls that raised (the window timed the error path), then lag max vs the
 * budget (withinBudget, the one rule), then throughput when the pool made the calls
 * far slower than inline.
 */
export function headline(report: Report): string {
  const f = factsOf(report);
  const planned = f.planned;
  const run = report.runs.find((r) => r.mode === planned);
  // A route's handler, planned where its framework runs it: the same verdicts, in the framework's words.
  const route = routeWordsOf(report, planned);
  const how = route?.how ?? HOW[planned] ?? `in ${planned} mode`;
  const calls = report.settings.concurrency;
  const callsNoun = route?.calls ?? 'calls';
  const budget = `budget ${fmtMs(f.budgetMs)}`;
  // An alternative is offered only if it is safe on every count: no raised calls, no collapse.
  const clean = (r: ModeRun) => withinBudget(r, f.budgetMs) && r.taskStats.errorCount === 0 && slowdownVsInline(report, r) === null;
  const alternatives = report.runs.filter((r) => r.mode !== planned && clean(r)).sort((a, b) => (b.throughputPerS ?? 0) - (a.throughputPerS ?? 0));
  const alt = alternatives.find((r) => r.mode === route?.preferred) ?? alternatives[0];
  const altLead = alt ? route?.alternative(alt.mode) ?? `${cap(HOW[alt.mode] ?? alt.mode)} it is` : '';
  const altText = alt ? ` ${altLead}: p99 ${fmtMs(alt.lag.p99Ms)}, max ${fmtMs(alt.lag.maxMs)}${alt.speedup !== null && !suspectOf(alt, 'speedup') ? `, ${alt.speedup.toFixed(2)}× inline throughput` : ''}.` : '';
  const caveat = report.quality.trustworthy ? '' : ' (busy machine: rerun to confirm)';
  if (run?.partial) {
    // Calls that never finished (cut, or lost in a crash): the figures stop at the cut.
    return `Cut short ${how}: ${run.error?.message ?? 'calls did not finish'}. An unfinished call is not a verdict.${altText}`;
  }
  if (!run || run.status !== 'ok') {
    // A mode the session never reached carries "not measured: why" already.
    const why = (run?.error?.message ?? report.error?.message ?? '').replace(/^not measured:\s*/i, '');
    // Nothing ran at all (an import error, a missing interpreter): no mode is to blame, the error is the verdict.
    if (report.error && report.runs.every((r) => r.status === 'skipped')) return `Not measured: ${why}${missingModuleAction(report)}.`;
    return `Not measured ${how}${why ? `: ${why}` : ''}.${altText}`;
  }
  const raised = callErrorOf(run, report.target);
  if (raised && allCallsRaised(run)) {
    return `Every call ${how} raised ${describeCallError(raised)}: what was measured is the error path, not the work.${altText}`;
  }
  const lag = `lag p99 ${fmtMs(run.lag.p99Ms)}, max ${fmtMs(run.lag.maxMs)}, ${budget}`;
  const stalls = run.lag.stallCount ? `; ${run.lag.stallCount} stall(s) ≥ ${fmtMs(f.stallMs)}, within the budget` : '';
  if (raised) {
    const loop = withinBudget(run, f.budgetMs) ? `the loop stayed within budget (${lag})` : `the loop stalled up to ${fmtMs(run.lag.maxMs)} (${budget})`;
    return `${raised.raised} of ${raised.calls} calls ${how} raised ${describeCallError(raised)}, so the window mixes work and error path; ${loop}${caveat}.`;
  }
  if (!withinBudget(run, f.budgetMs)) {
    return (route ? route.notSafe(calls, run.lag.maxMs, budget) : `Not safe ${how}: with ${calls} concurrent calls the loop stalled up to ${fmtMs(run.lag.maxMs)} (${budget})`) +
      `${caveat}.` +
      (altText || ' No measured mode kept the loop within budget.');
  }
  const slowdown = slowdownVsInline(report, run);
  if (slowdown !== null) {
    const inline = report.runs.find((r) => r.mode === 'inline')!;
    return `Safe for the loop ${how}, but calls ran ${slowdown.toFixed(slowdown >= 10 ? 0 : 1)}× slower than inline ` +
      `(${calls} ${callsNoun} in ${fmtMs(run.wallMs)} vs ${fmtMs(inline.wallMs)}; ${lag})${caveat}.${altText}`;
  }
  // Within budget, but the advice found the loop is not the whole story: say so in the
  // sentence users act on rather than only further down.
  const advice = report.advice?.length ? report.advice : advise(report);
  const about = (id: string) => advice.find((a) => a.id === id && a.mode === planned && a.severity !== 'info' && a.severity !== 'ok');
  if (about('libuv-threadpool-saturated') && run.threadpool) {
    return `Safe for the loop ${how}, but ${calls} concurrent ${callsNoun} fill libuv's threadpool: an unrelated fs/crypto/dns call waited p50 ` +
      `${fmtMs(run.threadpool.probeP50Ms)}, max ${fmtMs(run.threadpool.probeMaxMs)} (${lag})${caveat}. Raise UV_THREADPOOL_SIZE or bound the calls in flight.`;
  }
  if (about('cached-calls')) {
    return `Safe ${how} as measured, but the calls measured look like cache hits, not the work (${lag})${caveat}: measure a cache miss before relying on it.`;
  }
  if (route) return `${route.safe(calls, `${lag}${stalls}`)}${caveat}.`;
  return `Safe ${how}: with ${calls} concurrent calls the loop stayed responsive (${lag}${stalls})${caveat}.`;
}

/**
 * For a module the interpreter could not import: which interpreter ran, and the two ways
 * out, as the headline's parenthesis (the error card says it on a line of its own).
 */
export function missingModuleAction(report: Report): string {
  const message = report.error?.message ?? '';
  const rt = report.runtime;
  if (report.error?.kind !== 'import-error' || !rt) return '';
  if (/\bNo module named\b/.test(message)) {
    return ` (${rt.implementation} ${rt.version} at ${rt.executable} ran it: install the module for that interpreter, or choose the one your code runs with)`;
  }
  if (/\bCannot find (module|package)\b|ERR_MODULE_NOT_FOUND/.test(message)) return ` (install it in the project: npm install)`;
  return '';
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
