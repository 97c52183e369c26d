/**
 * `looplag`: the headless face of the engine. Exit codes are a contract:
 * 0 measured, 1 the target could not be measured, 2 usage, 3 budget exceeded,
 * 4 calls raised, 5 calls unfinished or crashed, 124 timeout, 130 interrupted (precedence: report/exitCode.ts).
 *
 * `looplag serve APP …` measures the user's own server under load (src/cli/serve.ts);
 * `looplag test` runs looplag.json's budgets as tests (src/cli/test.ts).
 *
 * `main` is the steps in order; each lives in src/cli/: read the command line
 * (commandLine.ts, help.ts), plan the measurement (plan.ts), run or sweep in a session
 * that Ctrl+C can stop (session.ts), write the outputs and choose the exit code (outputs.ts).
 */
import { runSession } from './engine/runSession';
import { runSweep } from './engine/runSweep';
import { EXIT } from './report/exitCode';
import { readCommandLine } from './cli/commandLine';
import { planMeasurement } from './cli/plan';
import { startSession } from './cli/session';
import { writeRunOutputs, writeSweepOutputs } from './cli/outputs';
import { serveMain } from './cli/serve';
import { testMain } from './cli/test';

export async function main(argv: string[]): Promise<number> {
  // A subcommand of its own, first on the line (its flags are not `run`'s): looplag serve APP ….
  if (argv[0] === 'serve') return serveMain(argv.slice(1));
  // looplag.json's budgets as tests (src/cli/test.ts).
  if (argv[0] === 'test') return testMain(argv.slice(1));
  const commandLine = readCommandLine(argv);
  if ('exit' in commandLine) return commandLine.exit;
  const plan = planMeasurement(commandLine);
  if ('exit' in plan) return plan.exit;
  const session = startSession(plan);
  if (plan.sweep) {
    const sweep = await runSweep({ ...session.engine, settings: plan.settings, workers: plan.sweepWorkers, budgetS: plan.sweepBudgetS });
    session.finished();
    return writeSweepOutputs(sweep, plan);
  }
  const report = await runSession({ ...session.engine, settings: plan.settings, freeThreaded: plan.flags['free-threaded'] ?? 'auto' });
  session.finished();
  return writeRunOutputs(report, plan);
}

/** Run as a program: exits the process with the CLI's exit code. */
export function runCli(): void {
  main(process.argv.slice(2)).then(
    (code) => exitAfterFlush(code),
    (e) => {
      process.stderr.write(`looplag: internal error: ${e instanceof Error ? e.stack : e}\n`);
      exitAfterFlush(EXIT.notMeasured);
    },
  );
}

/**
 * Exit once stdout and stderr have flushed: writes to a pipe are asynchronous, and
 * process.exit() right after a large write (a --json report into `| jq`) cuts it off.
 * An empty write's callback runs after everything queued before it.
 */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

if (require.main === module) runCli();
