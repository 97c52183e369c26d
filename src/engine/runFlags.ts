/**
 * `looplag run` and `looplag sweep`'s flags, and how they are read: the table the CLI
 * parses argv with (cli/commandLine.ts) and looplag.json's function budgets are checked
 * against (budgets/fields.ts, budgets/config.ts), so neither imports the other's face.
 */
import { parseArgs } from 'node:util';

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

/** argv as `looplag run` reads it (flags and positionals); throws parseArgs' errors. */
export function parseRunArgs(argv: string[]) {
  return parseArgs({ args: joinNegativeValues(argv), allowPositionals: true, options: CLI_OPTIONS });
}

/** The flags as parseArgs read them. */
export type CliFlags = ReturnType<typeof parseRunArgs>['values'];

export interface CommandLine {
  command: 'run' | 'sweep';
  /** As typed: `FILE::FUNCTION` or `FILE:START-END`. */
  targetArg: string;
  flags: CliFlags;
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
