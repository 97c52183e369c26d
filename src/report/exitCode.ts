import type { Report, RunError } from '../shared/protocol';
import { fmtMs } from './textTable';

/** The CLI's exit codes: a contract scripts and CI gates rely on. */
export const EXIT = { ok: 0, notMeasured: 1, usage: 2, budget: 3, timeout: 124, interrupted: 130 } as const;

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
  if (budgetMs !== null) {
    const over = report.runs.filter((r) => r.status === 'ok' && r.lag.maxMs > budgetMs);
    if (over.length) {
      const which = over.map((r) => `${r.mode} (max ${fmtMs(r.lag.maxMs)})`).join(', ');
      return { code: EXIT.budget, stderr: [`looplag: lag budget ${fmtMs(budgetMs)} exceeded by ${which}`] };
    }
  }
  return { code: EXIT.ok, stderr: [] };
}
