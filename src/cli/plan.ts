/**
 * The CLI's second step: from the command line to what to measure and how, checked
 * before anything starts (engine/plan.ts), or the exit code once the reason it cannot
 * run has been printed.
 */
import { checkPlan, Plan } from '../engine/plan';
import { UsageError } from '../engine/options';
import { EXIT } from '../report/exitCode';
import { CommandLine, usage } from './commandLine';

export { checkOutputPath, checkPlan, isDirectory, sameFile } from '../engine/plan';
export type { Plan } from '../engine/plan';

/** The plan, or the exit code once the reason it cannot run has been printed. */
export function planMeasurement(commandLine: CommandLine): Plan | { exit: number } {
  try {
    const plan = checkPlan(commandLine);
    if ('unusable' in plan) {
      process.stderr.write(`looplag: error [target-not-found]: ${plan.unusable}\n`);
      return { exit: EXIT.notMeasured };
    }
    return plan;
  } catch (e) {
    if (e instanceof UsageError) return { exit: usage(e.message) };
    throw e;
  }
}
