import type { Report } from '../shared/protocol';
import { fmtMs } from './textTable';

/** The CLI's exit codes: a contract scripts and CI gates rely on. */
export const EXIT = { ok: 0, notMeasured: 1, usage: 2, budget: 3, timeout: 124, interrupted: 130 } as const;

/** The exit code for a finished report, and the stderr lines that explain it. */
export function exitCode(report: Report, budgetMs: number | null, verbose = false): { code: number; stderr: string[] } {
  const err = report.error;
  if (err) {
    const stderr = [`looplag: error [${err.kind}]: ${err.message}`];
    if (verbose && err.detail) stderr.push(err.detail.trimEnd());
    const code = err.kind === 'timeout' ? EXIT.timeout : err.kind === 'cancelled' ? EXIT.interrupted : EXIT.notMeasured;
    return { code, stderr };
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
