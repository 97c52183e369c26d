/** Placeholder until the **servereport** engineer's exit codes are merged (the lead takes theirs). */
import type { ServeReport } from './buildServeReport';
import { EXIT, errorExitCode } from '../report/exitCode';

export function serveExitCode(report: ServeReport, _budgetMs: number | null, _verbose = false): { code: number; stderr: string[] } {
  const err = report.inputs.error ?? report.inputs.variants.find((v) => v.status === 'failed')?.error ?? null;
  if (err) return { code: errorExitCode(err.kind), stderr: [`looplag: error [${err.kind}]: ${err.message}`] };
  return { code: EXIT.ok, stderr: [] };
}
