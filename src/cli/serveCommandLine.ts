/**
 * `looplag serve`'s command line: argv (after `serve`) to a checked session
 * (serve/serveArgs.ts), or the exit code once help or a usage error has been printed.
 */
import { UsageError } from '../engine/options';
import { EXIT } from '../report/exitCode';
import { parseServeArgs, ServeCommand } from '../serve/serveArgs';
import { SERVE_HELP } from './serveHelp';

export { BODY_METHODS, NODE_SCRIPT_EXTENSIONS, parseApp, parseEndpoint } from '../serve/appSpec';
export { parseEndpoints, parseHeaders, parseServeArgs, parseSweep, SERVE_OPTIONS } from '../serve/serveArgs';
export type { ServeCommand, ServeSweepFlags } from '../serve/serveArgs';

/** The checked session, or the exit code once help or a usage error has been printed. */
export function readServeCommandLine(argv: string[], cwd: string = process.cwd()): ServeCommand | { exit: number } {
  try {
    const parsed = parseServeArgs(argv, cwd);
    if (parsed === 'help') {
      process.stdout.write(SERVE_HELP);
      return { exit: EXIT.ok };
    }
    return parsed;
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`looplag serve: ${(e as Error).message}\nRun \`looplag serve --help\` for usage.\n`);
      return { exit: EXIT.usage };
    }
    throw e;
  }
}
