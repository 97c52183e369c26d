/**
 * `looplag serve APP --sweep-rate LIST …`: the sweep (serve/sweep/run.ts) in a session that
 * Ctrl+C can stop, the looplag.serveSweep/1 document on stdout (the table, or `--json`)
 * and in `--out`, and the exit code (serve/sweep/exitCode.ts).
 */
import { EXIT } from '../report/exitCode';
import { writeFileAtomicSync } from '../report/export';
import { serveSweepText } from '../report/serveSweepText';
import { buildServeSweep } from '../serve/sweep/build';
import { serveSweepExitCode } from '../serve/sweep/exitCode';
import { runServeSweep } from '../serve/sweep/run';
import type { ServeCommand, ServeSweepFlags } from './serveCommandLine';
import { ServeProgressLine } from './serveProgress';
import { stopOnSignals } from './session';

export async function serveSweepMain(command: ServeCommand & { sweep: ServeSweepFlags }): Promise<number> {
  const progress = process.stderr.isTTY && !command.json ? new ServeProgressLine() : null;
  const interrupts = stopOnSignals(() => progress?.clear());
  const inputs = await runServeSweep({
    app: command.app,
    settings: command.settings,
    ratesPerS: command.sweep.ratesPerS,
    processes: command.processes,
    threadTokens: command.sweep.threadTokens,
    workspaceRoot: command.workspaceRoot,
    ...(command.timeoutS !== null ? { timeoutS: command.timeoutS } : {}),
    python: command.python,
    node: command.node,
    signal: interrupts.signal,
    onProgress: (p) => progress?.update({ ...p, variant: `${p.variant} at ${p.ratePerS} req/s` }),
    onStderr: command.verbose ? (text) => void process.stderr.write(text) : undefined,
  });
  progress?.clear();
  interrupts.finished();
  const doc = buildServeSweep(inputs);
  const json = JSON.stringify(doc, null, 2) + '\n';
  process.stdout.write(command.json ? json : serveSweepText(doc));
  if (command.out) {
    try {
      writeFileAtomicSync(command.out, json);
    } catch (e) {
      process.stderr.write(`looplag: could not write the document: ${command.out}: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
  }
  const { code, stderr } = serveSweepExitCode(doc, command.budgetMs, command.verbose);
  for (const line of stderr) process.stderr.write(line + '\n');
  return code;
}
