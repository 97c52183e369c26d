import type { ModeRun } from '../shared/protocol';

/**
 * The one rule for "safe for the loop": the mode was measured and its longest lag
 * stayed within the budget. Stalls (lags over the stall threshold) are counted and
 * shown, but do not decide: a 54 ms stall under a 100 ms budget is within it.
 * The headline, `healthy`, the per-mode verdicts, the lag rules' severities and the
 * CLI's exit code 3 all ask this function.
 */
export function withinBudget(run: ModeRun, budgetMs: number): boolean {
  return run.status === 'ok' && run.lag.maxMs <= budgetMs;
}
