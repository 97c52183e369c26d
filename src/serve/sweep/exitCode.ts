/**
 * `looplag serve --sweep-rate`'s exit code, with `looplag serve`'s codes and precedence
 * (src/serve/exitCode.ts). Climbing until a rate is not sustained is what a sweep is for:
 * a higher rate over the budget (or with failed requests) is the sweep's finding, not an
 * error. What fails it is a variant that does not manage the *lowest* rate: 4 when its
 * requests failed there (the endpoint fails without load: no latency means anything), 3
 * (only with --budget-ms) when it was over the budget there. A server that failed after it
 * listened, at any rate, is 5; 1 when no point was measured; 124/130 first.
 */
import { errorExitCode, EXIT } from '../../report/exitCode';
import { printable } from '../../shared/format';
import type { ServeSweep, ServeSweepPoint } from '../../shared/protocol/serveSweep';
import { fmtBudget } from '../verdict';
import { fmtRate } from '../../shared/format';

export function serveSweepExitCode(doc: ServeSweep, budgetMs: number | null, verbose = false): { code: number; stderr: string[] } {
  const err = doc.error;
  const points = doc.variants.flatMap((v) => v.points.map((p) => [v, p] as const));
  const anyMeasured = points.some(([, p]) => p.status === 'measured');
  if (err && (err.kind === 'cancelled' || err.kind === 'timeout' || !anyMeasured)) {
    const stderr = [`looplag: error [${err.kind}]: ${printable(err.message)}`];
    if (verbose && err.detail) stderr.push(err.detail.trimEnd());
    return { code: errorExitCode(err.kind), stderr };
  }
  if (!anyMeasured) {
    const why = points.filter(([, p]) => p.status === 'failed').map(([v, p]) => `${v.label} at ${fmtRate(p.ratePerS)} req/s (${printable(p.error?.message ?? 'no requests were sent')})`);
    return { code: EXIT.notMeasured, stderr: [`looplag: nothing measured: ${why.join('; ') || 'no point ran'}`] };
  }
  // Listened, then failed: crashed under load or killed at a limit (its figures stop there).
  const crashed = points.filter(([, p]) => p.status === 'failed' && p.startupMs !== null);
  if (crashed.length) {
    const which = crashed.map(([v, p]) => `${v.label} at ${fmtRate(p.ratePerS)} req/s (${printable(p.error?.message ?? 'failed while serving')})`).join('; ');
    return { code: EXIT.callsUnfinished, stderr: [`looplag: a server failed under load: ${which}`] };
  }
  const lowest = doc.variants.map((v) => [v, v.points[0]] as const).filter((x): x is readonly [typeof x[0], ServeSweepPoint] => x[1]?.status === 'measured');
  const failing = lowest.filter(([, p]) => p.verdict === 'failed-requests');
  if (failing.length) {
    const which = failing.map(([v, p]) => `${v.label}: ${p.failures} requests failed at ${fmtRate(p.ratePerS)} req/s, the lowest rate (${p.endpoints.filter((e) => e.failures > 0).map((e) => printable(e.name)).join(', ') || 'the probe'})`);
    return { code: EXIT.callsFailed, stderr: [`looplag: ${which.join('; ')}`] };
  }
  if (budgetMs !== null) {
    const over = lowest.filter(([, p]) => p.verdict === 'over-budget');
    if (over.length) {
      const which = over.map(([v, p]) => `${v.label} at ${fmtRate(p.ratePerS)} req/s, the lowest rate (${p.overBudget.join(', ')})`).join(', ');
      return { code: EXIT.budget, stderr: [`looplag: budget ${fmtBudget(budgetMs)} exceeded: ${which}`] };
    }
  }
  return { code: EXIT.ok, stderr: [] };
}
