/**
 * `looplag serve APP --sweep-rate LIST …`: the sweep (serve/sweep/run.ts) in a session that
 * Ctrl+C can stop, the looplag.serveSweep/1 document on stdout (the table, or `--json`)
 * and in `--out`, and the exit code (serve/sweep/exitCode.ts).
 */
import { EXIT } from '../report/exitCode';
import { serveSweepText } from '../report/serveSweepText';
import { buildServeSweep } from '../serve/sweep/build';
import { serveSweepExitCode } from '../serve/sweep/exitCode';
import { runServeSweep } from '../serve/sweep/run';
import { writeFiles } from './outputs';
import { inServeSession } from './serve';
import type { ServeCommand, ServeSweepFlags } from './serveCommandLine';

export async function serveSweepMain(command: ServeCommand & { sweep: ServeSweepFlags }): Promise<number> {
  const inputs = await inServeSession(command, (common, progress) => runServeSweep({
    ...common,
    ratesPerS: command.sweep.ratesPerS,
    processes: command.processes,
    threadTokens: command.sweep.threadTokens,
    onProgress: (p) => progress?.update({ ...p, variant: `${p.variant} at ${p.ratePerS} req/s` }),
  }));
  const doc = buildServeSweep(inputs);
  const json = JSON.stringify(doc, null, 2) + '\n';
  process.stdout.write(command.json ? json : serveSweepText(doc));
  if (!writeFiles('document', [[command.out, () => json]])) return EXIT.usage;
  const { code, stderr } = serveSweepExitCode(doc, command.budgetMs, command.verbose);
  for (const line of stderr) process.stderr.write(line + '\n');
  return code;
}
