/**
 * `looplag test [--config FILE] [--filter TEXT] [--junit FILE] [--json]`: looplag.json's
 * budgets as tests (issue 15). Reads and checks the file (budgets/config.ts: an error names
 * the budget and the field, exit 2), runs each budget as `looplag run` / `looplag serve`
 * would (budgets/run.ts), prints a line per budget as it ends and a summary, writes
 * `--junit` (budgets/junit.ts), even after Ctrl+C (what finished, the rest skipped), and
 * exits with the budgets' code (budgetsExitCode).
 */
import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { BudgetFileError, DEFAULT_BUDGETS_FILE, loadBudgetConfig } from '../budgets/config';
import { junitXml } from '../budgets/junit';
import { BudgetResult, budgetsExitCode, resultLine, runBudgets, summaryLine } from '../budgets/run';
import { UsageError } from '../engine/options';
import { writeFileAtomicSync } from '../report/export';
import { EXIT } from '../report/exitCode';
import { printable } from '../shared/format';
import { checkOutputPath } from './plan';
import { stopOnSignals } from './session';

/** Every flag `looplag test` accepts (a test checks that `looplag test --help` documents each one). */
export const TEST_OPTIONS = {
  config: { type: 'string' },
  filter: { type: 'string', multiple: true },
  junit: { type: 'string' },
  json: { type: 'boolean' },
  python: { type: 'string' },
  node: { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function testMain(argv: string[], cwd: string = process.cwd()): Promise<number> {
  let o;
  let config;
  try {
    ({ values: o } = parseArgs({ args: argv, options: TEST_OPTIONS, allowPositionals: false }));
    if (o.help) {
      process.stdout.write(TEST_HELP);
      return EXIT.ok;
    }
    if (o.junit) checkOutputPath('--junit', path.resolve(cwd, o.junit));
    config = loadBudgetConfig(o.config ?? DEFAULT_BUDGETS_FILE, cwd);
    const filters = o.filter ?? [];
    if (filters.length) {
      const kept = config.budgets.filter((b) => filters.some((f) => b.name.includes(f)));
      if (!kept.length) throw new UsageError(`--filter ${filters.map((f) => JSON.stringify(f)).join(', ')} matches no budget in ${config.file} (${config.budgets.map((b) => JSON.stringify(b.name)).join(', ')})`);
      config = { ...config, budgets: kept };
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof BudgetFileError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`looplag test: ${(e as Error).message}\nRun \`looplag test --help\` for usage.\n`);
      return EXIT.usage;
    }
    throw e;
  }
  const opts = o;
  const started = new Date();
  const progress = process.stderr.isTTY && !opts.json;
  const interrupts = stopOnSignals(() => undefined);
  const results = await runBudgets(config, {
    python: opts.python,
    node: opts.node,
    signal: interrupts.signal,
    onStderr: opts.verbose ? (t) => void process.stderr.write(t) : undefined,
    onStart: (b) => progress && process.stderr.write(`\r\x1b[K[looplag] ${printable(b.name)}: measuring`),
  }, (r) => {
    if (progress) process.stderr.write('\r\x1b[K');
    if (!opts.json) process.stdout.write(resultLine(r) + '\n');
  });
  interrupts.finished();
  if (opts.json) process.stdout.write(JSON.stringify(testDocument(results, config.file)) + '\n');
  else process.stdout.write(summaryLine(results) + '\n');
  if (opts.junit) {
    try {
      writeFileAtomicSync(path.resolve(cwd, opts.junit), junitXml(results, { file: config.file, timestamp: started.toISOString().slice(0, 19) }));
    } catch (e) {
      process.stderr.write(`looplag test: could not write --junit ${opts.junit}: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
  }
  return budgetsExitCode(results);
}

/** `--json`: looplag.test/1, each budget's result with its document (README: "looplag test --json"). */
function testDocument(results: BudgetResult[], file: string) {
  return { schema: 'looplag.test/1', file, exitCode: budgetsExitCode(results), results };
}

/** `looplag test --help` (a test checks it documents every flag). */
export const TEST_HELP = `Usage: looplag test [options]

Runs the budgets in looplag.json as tests: each function or endpoint measured as
\`looplag run\` / \`looplag serve\` would, one line per budget, verdict first.

Options:
  --config FILE     the budget file (default: ./looplag.json; relative paths in it
                    are read from its folder, which is also the workspace)
  --filter TEXT     only the budgets whose name contains TEXT (repeatable)
  --junit FILE      also write JUnit XML (a testcase per budget) for CI systems
  --json            print a looplag.test/1 document instead of the lines
  --python PATH     the Python for budgets that name none
  --node PATH       the Node for budgets that name none
  --verbose         pass the sidecars' stderr through
  -h, --help        this help

Exit codes (the budgets' worst, in this order):
  130  interrupted (Ctrl+C): what finished is still printed and written
  1    a budget could not be measured
  124  a budget's measurement hit its --timeout
  5    calls or a server did not finish
  4    calls raised or requests failed
  3    a budget was exceeded
  2    usage: a bad flag, or looplag.json is invalid (the budget and field named)
  0    every budget within its budget
`;
