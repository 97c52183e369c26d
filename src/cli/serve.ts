/**
 * `looplag serve APP …`: the command line (serveCommandLine.ts; a `--sweep-rate` sweep
 * goes on in serveSweep.ts), the session that Ctrl+C can stop (serve/session.ts), the
 * looplag.serve/1 document on stdout (the table, or `--json`), in `--out` and as a page
 * in `--html`, and the exit code (serve/exitCode.ts).
 */
import { EXIT } from '../report/exitCode';
import { serveHtml } from '../report/export';
import { serveText } from '../report/serveText';
import { buildServeReport } from '../serve/buildServeReport';
import { serveExitCode } from '../serve/exitCode';
import { runServe, ServeOptions } from '../serve/session';
import { WEBVIEW_DIR, writeFiles } from './outputs';
import { ServeProgressLine } from './serveProgress';
import { readServeCommandLine, ServeCommand } from './serveCommandLine';
import { serveSweepMain } from './serveSweep';
import { stopOnSignals } from './session';

export async function serveMain(argv: string[]): Promise<number> {
  const command = readServeCommandLine(argv);
  if ('exit' in command) return command.exit;
  if (command.sweep) return serveSweepMain({ ...command, sweep: command.sweep });
  const inputs = await inServeSession(command, (common, progress) => runServe({
    ...common,
    processes: command.processes,
    threadTokens: command.threadTokens,
    onProgress: (p) => progress?.update(p),
  }));
  const report = buildServeReport(inputs);
  const json = JSON.stringify(report, null, 2) + '\n';
  process.stdout.write(command.json ? json : serveText(report));
  if (!writeFiles('document', [[command.out, () => json], [command.html, () => serveHtml(report, WEBVIEW_DIR)]])) return EXIT.usage;
  const { code, stderr } = serveExitCode(report, command.budgetMs, command.verbose);
  for (const line of stderr) process.stderr.write(line + '\n');
  return code;
}

/** What a session and a sweep both take from the command line. */
export type CommonServeOptions = Pick<ServeOptions, 'app' | 'settings' | 'workspaceRoot' | 'timeoutS' | 'python' | 'node' | 'signal' | 'onStderr'>;

/**
 * Runs `run` with the command line's common options, Ctrl+C wired to its signal and a
 * progress line on a terminal (none with --json); the line is gone and the signal
 * handlers released when it ends, however it ends.
 */
export async function inServeSession<T>(command: ServeCommand, run: (common: CommonServeOptions, progress: ServeProgressLine | null) => Promise<T>): Promise<T> {
  const progress = process.stderr.isTTY && !command.json ? new ServeProgressLine() : null;
  const interrupts = stopOnSignals(() => progress?.clear());
  try {
    return await run({
      app: command.app,
      settings: command.settings,
      workspaceRoot: command.workspaceRoot,
      ...(command.timeoutS !== null ? { timeoutS: command.timeoutS } : {}),
      python: command.python,
      node: command.node,
      signal: interrupts.signal,
      onStderr: command.verbose ? (text) => void process.stderr.write(text) : undefined,
    }, progress);
  } finally {
    progress?.clear();
    interrupts.finished();
  }
}
