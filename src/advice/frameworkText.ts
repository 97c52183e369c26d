/**
 * The headline in the words of the web framework serving the target (report
 * target.framework, found by the sidecar in the user's runtime): "Safe as written:
 * FastAPI runs `def` endpoints in its threadpool (40 threads)…", "this `async def`
 * endpoint (GET /login) blocks every other request…". Used only when the planned mode is
 * the one the framework runs the function in; the verdict itself is the headline's.
 */
import { frameworkInfo } from '../shared/frameworks';
import { budgetOf, fmtMs } from '../shared/format';
import { withinBudget } from './budget';
import type { Report, ReportFramework } from '../shared/protocol';

/** The mode that measures what the framework does with the function. */
export const MODE_OF_RUNS_IN: { readonly [K in ReportFramework['runsIn']]: string } = {
  threadpool: 'thread',
  loop: 'inline',
};

export interface RouteWords {
  /** Where it runs, for the sentences that keep the tool's form ("Cut short …", "Every call … raised"). */
  how: string;
  /** "requests": each call stands for one. */
  calls: string;
  safe(concurrency: number, lag: string): string;
  notSafe(concurrency: number, maxMs: number, budget: string): string;
  /** The alternative's lead in the framework's terms, or null for the generic "In a process pool it is". */
  alternative(mode: string): string | null;
  /** The alternative to offer first when it is clean (the framework's own way out). */
  preferred: string | null;
}

/**
 * The framework's words for this report, or null: no framework, one this version does
 * not know (a report from a newer sidecar: worded as a plain function), or the user plans
 * another mode.
 */
export function routeWordsOf(report: Report, planned: string): RouteWords | null {
  const fw = report.target.framework;
  const info = fw && frameworkInfo(fw.name);
  if (!fw || !info || MODE_OF_RUNS_IN[fw.runsIn] !== planned) return null;
  const route = fw.route ? ` (${fw.route})` : '';
  const decl = info.declarations;
  // Where the declaration decides where it runs, say which one the user wrote.
  const handler = decl ? `\`${decl[report.target.isAsync ? 1 : 0]}\` ${info.handler}` : info.handler;
  // After "Express runs", "this handler"; on its own, "this Express handler".
  const subject = decl ? `this ${handler}` : `this ${info.label} ${handler}`;
  if (fw.runsIn === 'threadpool') {
    const on = onThreads(report, planned, fw, info.label);
    const pool = `its threadpool${fw.threadpoolSize && !on ? ` (${fw.threadpoolSize} threads)` : ''}`;
    return {
      how: `in ${info.label}'s threadpool`,
      calls: 'requests',
      safe: (n, lag) => `Safe as written${route}: ${info.label} runs \`${decl?.[0] ?? 'sync'}\` ${info.handler}s in ${pool}; with ${n} concurrent requests${on} the loop stayed responsive (${lag})`,
      notSafe: (n, maxMs, budget) => `Not safe as written: ${info.label} runs this ${handler}${route} in ${pool}, yet at ${n} concurrent requests${on} ` +
        `it blocks every other request for up to ${fmtMs(maxMs)} (${budget})`,
      alternative: () => null,
      preferred: null,
    };
  }
  return {
    how: `on the event loop, where ${info.label} runs it`,
    calls: 'requests',
    safe: (n, lag) => `Safe as written${route}: ${info.label} runs this ${handler} on the event loop, and with ${n} concurrent requests it stayed responsive (${lag})`,
    notSafe: (n, maxMs, budget) => `Not safe as written: ${subject}${route} blocks every other request for up to ${fmtMs(maxMs)} at ${n} concurrent requests (${budget})`,
    // An `async def` endpoint declared `def` runs in the framework's threadpool: the one-word fix, when threads kept the loop responsive.
    alternative: (mode) => (decl && mode === MODE_OF_RUNS_IN.threadpool ? `Declared as \`${decl[0]}\`, ${info.label} would run it in its threadpool` : null),
    preferred: decl ? MODE_OF_RUNS_IN.threadpool : null,
  };
}

/**
 * " on 4 threads (FastAPI's pool has 40)" when the thread run's pool is not the one the
 * framework would use for these requests (min(its size, concurrency): the sidecar's
 * default without --workers), so the sentence describes what was measured; else "".
 */
function onThreads(report: Report, planned: string, fw: ReportFramework, label: string): string {
  const measured = report.runs.find((r) => r.mode === planned)?.workers ?? null;
  if (measured === null || !fw.threadpoolSize || measured === Math.min(fw.threadpoolSize, report.settings.concurrency)) return '';
  return ` on ${measured} thread${measured === 1 ? '' : 's'} (${label}'s pool has ${fw.threadpoolSize})`;
}

/**
 * The next step's title in the framework's words, for the advice that says the function
 * blocks the loop where the framework runs it; null keeps the advice's own title.
 */
export function routeStepTitle(report: Report, planned: string, adviceId: string): string | null {
  const fw = report.target.framework;
  const run = report.runs.find((r) => r.mode === planned && r.status === 'ok');
  // Only when the loop went over the budget: then the step says what the headline does.
  const info = fw && frameworkInfo(fw.name);
  if (!fw || !info || !run || withinBudget(run, budgetOf(report)) || !routeWordsOf(report, planned) || !BLOCKS_LOOP_ADVICE.has(adviceId)) return null;
  const where = fw.runsIn === 'threadpool' ? `in ${info.label}'s threadpool` : 'on the event loop';
  const on = fw.runsIn === 'threadpool' ? onThreads(report, planned, fw, info.label) : '';
  return `Take the blocking work out of ${fw.route ?? `this ${info.handler}`}: ${where} it blocks every other request for up to ${fmtMs(run.lag.maxMs)} ` +
    `at ${report.settings.concurrency} concurrent requests${on}`;
}

/** Advice whose finding is "the loop stalled in the planned mode" (the headline's own finding). */
const BLOCKS_LOOP_ADVICE = new Set(['inline-blocks-loop', 'async-def-blocks-loop', 'gil-held-native', 'gil-contention']);
