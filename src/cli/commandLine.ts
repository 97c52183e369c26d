/**
 * The CLI's first step: argv to a command, its target and its flags, or the exit code
 * when there is nothing to measure (`--help`, `--version`, a usage error).
 */
import { TOOL_VERSION } from '../report/buildReport';
import { EXIT } from '../report/exitCode';
import { CommandLine, parseRunArgs } from '../engine/runFlags';
import { HELP } from './help';

export { CLI_OPTIONS, joinNegativeValues } from '../engine/runFlags';
export type { CliFlags, CommandLine } from '../engine/runFlags';

/** The command line, or the exit code once help, the version or a usage error has been printed. */
export function readCommandLine(argv: string[]): CommandLine | { exit: number } {
  let parsed;
  try {
    parsed = parseRunArgs(argv);
  } catch (e) {
    return { exit: usage((e as Error).message) };
  }
  const { values: flags, positionals } = parsed;
  if (flags.help) {
    process.stdout.write(HELP);
    return { exit: EXIT.ok };
  }
  if (flags.version) {
    process.stdout.write(`${TOOL_VERSION}\n`);
    return { exit: EXIT.ok };
  }
  const command = positionals[0];
  if ((command !== 'run' && command !== 'sweep') || positionals.length !== 2) {
    return { exit: usage(positionals.length === 0 ? 'missing command' : `expected \`looplag run TARGET\` or \`looplag sweep TARGET\`, got \`${positionals.join(' ')}\``) };
  }
  return { command, targetArg: positionals[1], flags };
}

/** Prints a usage error: exit 2. */
export function usage(message: string): number {
  process.stderr.write(`looplag: ${message}\nRun \`looplag --help\` for usage.\n`);
  return EXIT.usage;
}
