/**
 * `looplag serve`'s exit code: the codes of a run (report/exitCode.ts's EXIT) with the same
 * precedence: the session did not finish (1, 124, 130) first, then a server that failed
 * after it listened (5: its figures stop at the failure, as a crashed mode's), then failed requests (4: the
 * latency measured was the failures', so a budget verdict on it means nothing, as for
 * calls that raised), then the budget (3, only when one was given: the probe's p99, a
 * server loop's lag p99, or a request that timed out).
 */
import type { ServeReport } from '../shared/protocol/serveReport';
import { errorExitCode, EXIT } from '../report/exitCode';
import { printable } from '../shared/format';
import { cutShort, failurePhrase, fmtBudget, measured, overBudget, overBudgetFigures, requestFailures, streamsOf } from './verdict';

export function serveExitCode(report: ServeReport, budgetMs: number | null, verbose = false): { code: number; stderr: string[] } {
  const err = report.error;
  // A cancel or a timeout stops the session whatever was measured; so does an error that left nothing measured.
  if (err && (err.kind === 'cancelled' || err.kind === 'timeout' || !report.variants.some(measured))) {
    const stderr = [`looplag: error [${err.kind}]: ${printable(err.message)}`];
    if (verbose && err.detail) stderr.push(err.detail.trimEnd());
    return { code: errorExitCode(err.kind), stderr };
  }
  const done = report.variants.filter(measured);
  // A server that failed under load after requests were measured has figures up to its failure: exit 5 below, not 1.
  if (!done.length && !report.variants.some(cutShort)) {
    const why = report.variants.map((v) => `${v.label} (${printable(v.error?.message ?? 'no requests were sent')})`).join('; ');
    return { code: EXIT.notMeasured, stderr: [`looplag: nothing measured: ${why || 'no variant ran'}`] };
  }
  // A server that listened, then failed (crashed under load, killed at a limit): its requests and
  // its loop stop at the failure, as calls lost with a crashed pool member do (5, before 4 and 3).
  const cut = report.variants.filter((v) => v.status === 'failed' && v.server !== null);
  if (cut.length) {
    const which = cut.map((v) => `${v.label} (${printable(v.error?.message ?? 'failed while serving')})`).join('; ');
    return { code: EXIT.callsUnfinished, stderr: [`looplag: a server failed under load: ${which}`] };
  }
  const failing = done.flatMap((v) => {
    const phrases = streamsOf(v).filter((e) => requestFailures(e) > 0).map((e) => failurePhrase(e, e === v.probe ? 'the probe' : printable(e.name)));
    return phrases.length ? [`${v.label}: ${phrases.join('; ')}`] : [];
  });
  if (failing.length) return { code: EXIT.callsFailed, stderr: [`looplag: ${failing.join('; ')}`] };
  if (budgetMs !== null) {
    const over = done.filter((v) => overBudget(v, budgetMs));
    if (over.length) {
      const which = over.map((v) => `${v.label} (${overBudgetFigures(v, budgetMs).join(', ')})`).join(', ');
      return { code: EXIT.budget, stderr: [`looplag: budget ${fmtBudget(budgetMs)} exceeded: ${which}`] };
    }
  }
  return { code: EXIT.ok, stderr: [] };
}
