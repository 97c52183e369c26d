/**
 * `looplag serve APP …`: the command line (serveCommandLine.ts; a `--sweep-rate` sweep
 * goes on in serveSweep.ts), the session that Ctrl+C can stop (serve/session.ts), the
 * looplag.serve/1 document on stdout (the table, or `--json`), in `--out` and as a page
 * in `--html`, and the exit code (serve/exitCode.ts).
 */
import { EXIT } from '../report/exitCode';
import * as path from 'node:path';
import { serveHtml, writeFileAtomicSync } from '../report/export';
import { serveText } from '../report/serveText';
import { buildServeReport } from '../serve/buildServeReport';
import { serveExitCode } from '../serve/exitCode';
import { runServe } from '../serve/session';
import { ServeProgressLine } from './serveProgress';
import { readServeCommandLine } from './serveCommandLine';
import { serveSweepMain } from './serveSweep';
import { stopOnSignals } from './session';

export async function serveMain(argv: string[]): Promise<number> {
  const command = readServeCommandLine(argv);
  if ('exit' in command) return command.exit;
  if (command.sweep) return serveSweepMain({ ...command, sweep: command.sweep });
  const progress = process.stderr.isTTY && !command.json ? new ServeProgressLine() : null;
  const interrupts = stopOnSignals(() => progress?.clear());
  const inputs = await runServe({
    app: command.app,
    settings: command.settings,
    processes: command.processes,
    threadTokens: command.threadTokens,
    workspaceRoot: command.workspaceRoot,
    ...(command.timeoutS !== null ? { timeoutS: command.timeoutS } : {}),
    python: command.python,
    node: command.node,
    signal: interrupts.signal,
    onProgress: (p) => progress?.update(p),
    onStderr: command.verbose ? (text) => void process.stderr.write(text) : undefined,
  });
  progress?.clear();
  interrupts.finished();
  const report = buildServeReport(inputs);
  const json = JSON.stringify(report, null, 2) + '\n';
  process.stdout.write(command.json ? json : serveText(report));
  // Each file on its own: one that cannot be written does not cost the other.
  const writeFailures = [
    command.out ? tryWrite(command.out, () => json) : null,
    // The report UI bundle is built next to the CLI's bundle (dist/webview).
    command.html ? tryWrite(command.html, () => serveHtml(report, path.join(__dirname, 'webview'))) : null,
  ].filter((m) => m !== null);
  if (writeFailures.length) {
    for (const m of writeFailures) process.stderr.write(`looplag: could not write the document: ${m}\n`);
    return EXIT.usage;
  }
  const { code, stderr } = serveExitCode(report, command.budgetMs, command.verbose);
  for (const line of stderr) process.stderr.write(line + '\n');
  return code;
}

/** Writes `file` atomically; the error message when it could not, else null. */
function tryWrite(file: string, data: () => string): string | null {
  try {
    writeFileAtomicSync(file, data());
    return null;
  } catch (e) {
    return `${file}: ${(e as Error).message}`;
  }
}
