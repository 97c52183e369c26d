/**
 * The loop itself: calls that block it inline (sync or `async`), a worker pool that
 * freed it (Node), and the all-clear when nothing in the planned mode needs fixing.
 */
import { RUNTIME_NAMES } from '../../shared/modes';
import type { Advice } from '../../shared/protocol';
import { fmtMs, fmtPct, fmtSpeedup } from '../../shared/format';
import { withinBudget } from '../budget';
import { atOf, citedBlockers } from '../blockers';
import { loopLinesSentence } from '../blockerText';
import { DOCS, WORDS } from '../runtimes';
import { SNIPPETS } from '../snippets';
import * as Py from '../snippets/python';
import * as Js from '../snippets/node';
import { Facts, fnName, lagSeverity, rule, targetCall } from './facts';

export const inlineBlocksLoop = rule(RUNTIME_NAMES, (f) => {
  const r = f.ok('inline');
  if (!r || r.lag.maxMs < f.stallMs) return undefined;
  const calls = r.tasks.length;
  const lines = citedBlockers(r, 'loop');
  return {
    id: 'inline-blocks-loop',
    severity: lagSeverity(r, f),
    mode: 'inline',
    title: `Called on the event loop, ${calls} concurrent calls froze it for ${fmtMs(r.lag.maxMs)}`,
    detail: `Inline, the loop could not respond ${fmtPct(r.lag.stalledFrac)} of ${fmtMs(r.wallMs)}: the longest stall was ` +
      `${fmtMs(r.lag.maxMs)} (stall threshold ${fmtMs(f.stallMs)}, budget ${fmtMs(f.budgetMs)}), with ${r.lag.sampleCount} of ` +
      `${r.lag.expectedSampleCount} heartbeats. Any other request arriving then waited up to ${fmtMs(r.lag.maxMs)}` +
      `${WORDS[f.runtime].loopBusy(r)}.${loopLinesSentence(lines, f.runtime)}`,
    // Offload it: threads only for work that releases the GIL (only Python has one), else the runtime's pool.
    fix: f.gilBehaviour?.kind === 'released' ? Py.threadHandler(Py.pyTarget(f.report)) : SNIPPETS[f.runtime].offloadPool(f.report),
    docs: DOCS[f.runtime].offload,
    ...atOf(lines[0]),
  };
});

export const asyncBlocksLoop = rule(RUNTIME_NAMES, (f) => {
  const r = f.ok('inline');
  if (!f.report.target.isAsync || !r || r.lag.maxMs < f.stallMs) return undefined;
  const words = WORDS[f.runtime];
  const lines = citedBlockers(r, 'loop');
  return {
    id: 'async-def-blocks-loop',
    severity: lagSeverity(r, f),
    mode: 'inline',
    title: words.asyncBlocksTitle,
    detail: `${fnName(f.report)} is ${words.asyncKind}, yet its calls blocked the loop for up to ` +
      `${fmtMs(r.lag.maxMs)} (task run p50 ${fmtMs(r.taskStats.runP50Ms)}): being async only helps while it awaits. ` +
      'The CPU-bound part runs between awaits, with the whole server waiting. The fix runs the whole call in a pool; ' +
      'better still, move only its CPU-bound part into a plain function and await that in the pool.' +
      loopLinesSentence(lines, f.runtime),
    // The whole call off the loop (it runs to completion there); better still, only its CPU-bound part.
    fix: SNIPPETS[f.runtime].offloadPool(f.report),
    docs: DOCS[f.runtime].offload,
    ...atOf(lines[0]),
  };
});

export const workerRecommended = rule(['node'], (f) => {
  const i = f.ok('inline');
  const w = f.ok('worker');
  if (!i || !w || i.lag.maxMs < f.stallMs || !withinBudget(w, f.budgetMs)) return undefined;
  return {
    id: 'worker-recommended',
    severity: withinBudget(i, f.budgetMs) ? 'info' : 'warning',
    mode: 'worker',
    title: `Move it to a worker_threads pool: the loop stays responsive (p99 ${fmtMs(w.lag.p99Ms)})`,
    detail: `On the main thread the loop stalled up to ${fmtMs(i.lag.maxMs)} (ELU ${fmtPct(i.elu ?? 1)}); in ${w.workers} worker threads the loop's ` +
      `lag was p99 ${fmtMs(w.lag.p99Ms)}, max ${fmtMs(w.lag.maxMs)} (ELU ${fmtPct(w.elu ?? 0)}), ${fmtSpeedup(w)} the inline throughput. ` +
      `Starting the pool took ${fmtMs(w.startupMs)}: create it once at start-up.`,
    fix: Js.workerPool(Js.nodeTarget(f.report)),
    docs: DOCS.node.workers,
  };
});

/** Nothing to fix in the planned mode: said only when no other advice for it is a warning or worse. */
export function healthy(f: Facts, advice: Advice[]): Advice | undefined {
  const r = f.ok(f.planned);
  if (!r || !withinBudget(r, f.budgetMs) || r.taskStats.errorCount > 0) return undefined;
  if (advice.some((a) => (a.mode === f.planned || !a.mode) && (a.severity === 'critical' || a.severity === 'warning'))) return undefined;
  return {
    id: 'healthy',
    severity: 'ok',
    mode: f.planned,
    title: `Nothing to fix in ${f.planned} mode: the loop stays responsive`,
    detail: `${r.tasks.length} concurrent calls of ${targetCall(f.report)} in ${f.planned} mode: lag p99 ${fmtMs(r.lag.p99Ms)}, max ${fmtMs(r.lag.maxMs)} ` +
      `(budget ${fmtMs(f.budgetMs)}), ${r.lag.stallCount ? `${r.lag.stallCount} stall(s) over ${fmtMs(f.stallMs)}, all within budget` : `no stall over ${fmtMs(f.stallMs)}`}` + (r.elu !== undefined && r.elu !== null ? `, loop busy ${fmtPct(r.elu)} of the time` : '') + '.',
    fix: null,
    docs: null,
  };
}
