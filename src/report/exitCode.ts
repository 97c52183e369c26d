import type { Report, RunError } from '../shared/protocol';
import { callErrorOf, describeCallError } from './callErrors';
import { fmtMs } from './textTable';
import { withinBudget } from './verdict';

/**
 * The CLI's exit codes: a contract scripts and CI gates rely on. When several apply,
 * the first of these wins: 1/124/130 (the session did not finish), 4 (calls raised:
 * the lag is the error path's, so a budget verdict on it means nothing), 3 (budget).
 */
export const EXIT = { ok: 0, notMeasured: 1, usage: 2, budget: 3, callsFailed: 4, timeout: 124, interrupted: 130 } as const;

/** The exit code for a session that ended early with this error kind (reports and sweeps alike). */
export function errorExitCode(kind: RunError['kind']): number {
  return kind === 'timeout' ? EXIT.timeout : kind === 'cancelled' ? EXIT.interrupted : EXIT.notMeasured;
}

/** The exit code for a finished report, and the stderr lines that explain it. */
export function exitCode(report: Report, budgetMs: number | null, verbose = false): { code: number; stderr: string[] } {
  const err = report.error;
  if (err) {
    const stderr = [`looplag: error [${err.kind}]: ${err.message}`];
    if (verbose && err.detail) stderr.push(err.detail.trimEnd());
    return { code: errorExitCode(err.kind), stderr };
  }
  const raised = report.runs.flatMap((r) => {
    const e = callErrorOf(r, report.target);
    return e ? [`${r.mode} (${e.raised} of ${e.calls}: ${describeCallError(e)})`] : [];
  });
  if (raised.length) return { code: EXIT.callsFailed, stderr: [`looplag: calls raised in ${raised.join(', ')}`] };
  if (budgetMs !== null) {
    const over = report.runs.filter((r) => r.status === 'ok' && !withinBudget(r, budgetMs));
    if (over.length) {
      const which = over.map((r) => `${r.mode} (max ${fmtMs(r.lag.maxMs)})`).join(', ');
      return { code: EXIT.budget, stderr: [`looplag: lag budget ${fmtMs(budgetMs)} exceeded by ${which}`] };
    }
  }
  return { code: EXIT.ok, stderr: [] };
}
