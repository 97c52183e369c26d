import type { ModeRun, Report } from '../shared/protocol';
import { withinBudget } from '../advice/budget';
import { budgetOf, fmtMs, fmtPct } from '../shared/format';
import { allCallsRaised } from '../stats/callErrors';

export type VerdictLevel = 'critical' | 'warning' | 'info' | 'ok';

export interface Verdict {
  mode: string;
  level: VerdictLevel;
  text: string;
}

/**
 * One line per mode a person can act on. Advice for the mode wins when the report
 * has it; otherwise the line is read off the numbers against the stall threshold
 * and the lag budget.
 */
export function verdicts(report: Report, lagBudgetMs = budgetOf(report)): Verdict[] {
  return report.runs.map((run) => {
    const advice = report.advice.find((a) => a.mode === run.mode && a.severity !== 'info');
    if (advice) return { mode: run.mode, level: advice.severity, text: `${run.mode}: ${advice.title}` };
    return fromNumbers(run, report.settings.stallMs, lagBudgetMs);
  });
}

/** The line for a mode without advice: over the budget it is a warning, within it not, stalls or not. */
function fromNumbers(run: ModeRun, stallMs: number, budgetMs: number): Verdict {
  const mode = run.mode;
  if (run.status === 'skipped') return { mode, level: 'info', text: `${mode}: skipped — ${run.error?.message ?? 'not measured'}` };
  if (run.status === 'failed') return { mode, level: 'critical', text: `${mode}: failed — ${run.error?.message ?? 'unknown error'}` };
  const lag = run.lag;
  if (allCallsRaised(run)) return { mode, level: 'critical', text: `${mode}: every call raised — the error path was measured, not the work` };
  const errors = run.taskStats.errorCount ? ` (${run.taskStats.errorCount} of ${run.tasks.length} calls raised)` : '';
  if (lag.stalledFrac >= 0.5) {
    return { mode, level: 'critical', text: `${mode}: loop starved ${fmtPct(lag.stalledFrac)} of the time, longest stall ${fmtMs(lag.maxMs)}${errors}` };
  }
  if (!withinBudget(run, budgetMs)) {
    return { mode, level: 'warning', text: `${mode}: max lag ${fmtMs(lag.maxMs)} over the ${fmtMs(budgetMs)} budget, ${lag.stallCount} stall(s) ≥ ${fmtMs(stallMs)}${errors}` };
  }
  const busy = run.elu === undefined || run.elu === null ? '' : `, loop busy ${fmtPct(run.elu)} of the time`;
  const stalls = lag.stallCount ? `, ${lag.stallCount} stall(s) ≥ ${fmtMs(stallMs)}` : '';
  return {
    mode, level: run.taskStats.errorCount ? 'warning' : 'ok',
    text: `${mode}: loop responsive within the ${fmtMs(budgetMs)} budget — p99 ${fmtMs(lag.p99Ms)}, max ${fmtMs(lag.maxMs)}${stalls}${busy}${errors}`,
  };
}

/**
 * The editor hint: one short phrase per measured mode, e.g.
 * `inline: 1.20 s stall · thread: starved · process: 3.10 ms p99`.
 */
export function compactHeadline(report: Report): string {
  const parts: string[] = [];
  for (const r of report.runs) {
    if (r.status === 'skipped') continue;
    if (r.status === 'failed') {
      parts.push(`${r.mode}: failed`);
      continue;
    }
    const lag = r.lag;
    let phrase: string;
    if (lag.stallCount === 1 || (r.mode === 'inline' && lag.stallCount > 0)) phrase = `${fmtMs(lag.maxMs)} stall`;
    else if (lag.stalledFrac >= 0.9) phrase = 'starved';
    else if (lag.stallCount > 0) phrase = `${lag.stallCount} stalls, max ${fmtMs(lag.maxMs)}`;
    else phrase = `${fmtMs(lag.p99Ms)} p99`;
    parts.push(`${r.mode}: ${phrase}`);
  }
  if (!parts.length) return report.error ? `${report.error.kind}: ${report.error.message}` : 'nothing measured';
  return parts.join(' · ');
}
