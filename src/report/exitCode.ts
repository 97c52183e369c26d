import type { Report, RunError } from '../shared/protocol';
import { callsLost } from './buildReport';
import { withinBudget } from '../advice/budget';
import { fmtMs } from '../shared/format';
import { callErrorOf, describeCallError } from '../stats/callErrors';

/**
 * The CLI's exit codes: a contract scripts and CI gates rely on. When several apply,
 * the first of these wins: 1/124/130 (the session did not finish), 5 (calls did not
 * finish: cut by --call-timeout or lost in a crash, so a mode's figures stop at the
 * cut), 4 (calls raised: the lag is the error path's, so a budget verdict on it means
 * nothing), 3 (budget).
 */
export const EXIT = { ok: 0, notMeasured: 1, usage: 2, budget: 3, callsFailed: 4, callsUnfinished: 5, timeout: 124, interrupted: 130 } as const;

/**
 * Per mode, the calls that did not finish, for the exit line: `process (3 of 4 calls
 * crashed: …)`. A mode whose sidecar died (the session went on to the others) counts
 * too, its calls lost in the crash or, before its window opened, none.
 */
export function unfinishedCalls(report: Report): string[] {
  return report.runs.flatMap((r) => {
    const unfinished = r.taskStats.unfinishedCount ?? 0;
    const crashed = r.taskStats.crashedCount ?? 0;
    if (!callsLost(r)) return [];
    const counts = [unfinished ? `${unfinished} unfinished` : '', crashed ? `${crashed} crashed` : ''].filter(Boolean).join(', ');
    const of = counts ? `${counts} of ${r.tasks.length} calls` : 'no call measured';
    return [`${r.mode} (${of}: ${r.error?.message ?? 'cut short'})`];
  });
}

/** The exit code for a session that ended early with this error kind (reports and sweeps alike). */
export function errorExitCode(kind: RunError['kind']): number {
  if (kind === 'timeout') return EXIT.timeout;
  if (kind === 'cancelled') return EXIT.interrupted;
  // A sweep window cut by --call-timeout: calls did not finish, as in a run.
  return kind === 'call-timeout' ? EXIT.callsUnfinished : EXIT.notMeasured;
}

/** The exit code for a finished report, and the stderr lines that explain it. */
export function exitCode(report: Report, budgetMs: number | null, verbose = false): { code: number; stderr: string[] } {
  const err = report.error;
  // A mode's sidecar crashed and the session went on to measure others: calls were lost,
  // the session was not. With nothing measured anywhere (no run with samples), it stays 1.
  const measuredSome = report.runs.some((r) => r.status === 'ok' || r.lag.sampleCount > 0);
  const modeCrash = err?.kind === 'crashed' && measuredSome && unfinishedCalls(report).length > 0;
  if (err && !modeCrash) {
    const stderr = [`looplag: error [${err.kind}]: ${err.message}`];
    if (verbose && err.detail) stderr.push(err.detail.trimEnd());
    return { code: errorExitCode(err.kind), stderr };
  }
  const lost = unfinishedCalls(report);
  if (lost.length) {
    const stderr = [`looplag: calls did not finish in ${lost.join('; ')}`];
    if (verbose && err?.detail) stderr.push(err.detail.trimEnd());
    return { code: EXIT.callsUnfinished, stderr };
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
