/**
 * The CLI's first step: argv to a command, its target and its flags, or the exit code
 * when there is nothing to measure (`--help`, `--version`, a usage error).
 */
import { parseArgs } from 'node:util';
import { TOOL_VERSION } from '../report/buildReport';
import { EXIT } from '../report/exitCode';
import { HELP } from './help';

/** Every flag `looplag` accepts (a test checks that --help documents each one). */
export const CLI_OPTIONS = {
  args: { type: 'string' },
  modes: { type: 'string' },
  concurrency: { type: 'string' },
  workers: { type: 'string' },
  'switch-interval': { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'stall-ms': { type: 'string' },
  timeout: { type: 'string' },
  'call-timeout': { type: 'string' },
  python: { type: 'string' },
  node: { type: 'string' },
  'free-threaded': { type: 'string' },
  plan: { type: 'string' },
  workspace: { type: 'string' },
  'no-gil-probe': { type: 'boolean' },
  'gil-probe-in-window': { type: 'boolean' },
  'no-warmup': { type: 'boolean' },
  'no-attribution': { type: 'boolean' },
  json: { type: 'boolean' },
  out: { type: 'string' },
  html: { type: 'string' },
  'budget-ms': { type: 'string' },
  'sweep-budget-s': { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

function parse(argv: string[]) {
  return parseArgs({ args: joinNegativeValues(argv), allowPositionals: true, options: CLI_OPTIONS });
}

/** The flags as parseArgs read them. */
export type CliFlags = ReturnType<typeof parse>['values'];

export interface CommandLine {
  command: 'run' | 'sweep';
  /** As typed: `FILE::FUNCTION` or `FILE:START-END`. */
  targetArg: string;
  flags: CliFlags;
}

/** The command line, or the exit code once help, the version or a usage error has been printed. */
export function readCommandLine(argv: string[]): CommandLine | { exit: number } {
  let parsed;
  try {
    parsed = parse(argv);
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

/**
 * `--concurrency -1` as `--concurrency=-1`: parseArgs reads a value that starts with a
 * dash as the next option ("argument is ambiguous"), so a negative number would never
 * reach the range check that says what the option accepts.
 */
export function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (/^--[a-z-]+$/.test(argv[i]) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}
