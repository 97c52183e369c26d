/**
 * `looplag`: the headless face of the engine. Exit codes are a contract:
 * 0 measured, 1 the target could not be measured, 2 usage, 3 budget exceeded,
 * 4 calls raised, 5 calls unfinished or crashed, 124 timeout, 130 interrupted (precedence: report/exitCode.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Progress, runSession } from './engine/runSession';
import { languageOf, parseKnob, parseModes, parseTargetArg, settingsFrom, UsageError } from './engine/options';
import { KNOBS } from './shared/settings';
import { TOOL_VERSION } from './report/buildReport';
import { EXIT, errorExitCode, exitCode } from './report/exitCode';
import { formatReportText } from './report/textTable';
import { formatSweepText } from './report/sweepText';
import { DEFAULT_SWEEP_BUDGET_S, DEFAULT_SWEEP_WORKERS, parseWorkerList, runSweep } from './engine/runSweep';
import { documentJson, reportHtml, writeFileAtomicSync } from './report/export';

const HELP = `looplag ${TOOL_VERSION}: measure what a function does to the event loop

Usage:
  looplag run FILE::FUNCTION [options]     a top-level function (exported or not), or
                                           Class.method (Python: a staticmethod or
                                           classmethod; JS/TS: a static method)
  looplag run FILE:START-END [options]     a snippet: lines START..END (1-based),
                                           run as a function in the module's scope
  looplag sweep TARGET [options]           pool modes over a list of pool sizes (--workers
                                           LIST, default 1,2,4,cores,cores+4,32,40):
                                           throughput and lag per size, the recommended W
  looplag --help | --version

FILE is Python (.py) or JavaScript/TypeScript (.js .mjs .cjs .ts .mts .cts; ESM or
CommonJS; TypeScript runs without a build step).

Each mode runs N concurrent calls while a heartbeat on the event loop records lag.
Python (asyncio):
  inline       the N calls scheduled at once on the event loop (no offloading)
  thread       loop.run_in_executor(ThreadPoolExecutor(max_workers=W))
  process      ProcessPoolExecutor(max_workers=W), created and warmed before measuring
  interpreter  InterpreterPoolExecutor (Python 3.14+; otherwise reported as skipped)
Node:
  inline       the N calls scheduled at once on the main thread (no offloading)
  worker       a pool of W worker_threads (default: os.availableParallelism())
  process      a pool of W child processes (child_process.fork), started before measuring

Options:
  --args TEXT            call arguments as written inside the parentheses,
                         e.g. "365, 10**6" or "data, n=5" (evaluated in the module)
  --modes LIST           comma-separated modes (default: all of the language's modes)
  --concurrency N        concurrent calls per mode (default: 10)
  --workers N            pool size W; 0 = the executor's default (default: 0)
                         (sweep: a list, e.g. 1,2,4,cores,cores+4,32,40)
  --switch-interval S    sys.setswitchinterval(S) in seconds; 0 = leave it (default: 0)
  --heartbeat-ms N       heartbeat interval in whole ms (default: 1)
  --stall-ms N           lag at or above this is a stall (default: 50)
  --timeout S            give up after S seconds, keeping what was measured (default: 120)
  --call-timeout S       a call still running S seconds after it started is unfinished:
                         its mode's window is cut there (kept, marked partial) and the
                         next mode runs (default: --timeout / (modes + 1), at least 1)
  --python PATH          interpreter (default: python3, then python)
  --free-threaded PATH   also run thread mode under this free-threaded Python (3.13t+),
                         as its own column; "auto" finds python3.14t/3.13t on PATH
                         (default: auto; "off" to skip)
  --plan MODE            the mode you mean to deploy, which the headline judges
                         (default: thread for sync Python, inline for async and Node)
  --node PATH            Node for JS/TS targets (default: node on PATH, then the
                         Node running this CLI)
  --workspace DIR        workspace root added to sys.path (default: current directory)
  --no-gil-probe         do not run the GIL-wait probe thread at all (Python only;
                         by default it runs in the baseline and the one-thread
                         diagnostic window, never in a window whose lag is reported)
  --gil-probe-in-window  also run the GIL-wait probe in every measured window
                         (per-window GIL waits; it competes for the GIL and
                         inflates thread-mode lag for pure-Python work)
  --no-warmup            no unmeasured warm-up call before each window (for code
                         with side effects; one-time costs then land in the window)
  --json                 print the report (looplag.report/1) alone on stdout
  --out FILE             also write the report as JSON to FILE
  --html FILE            also write the report as a self-contained HTML page
                         (charts and tables; opens offline, attach it to a PR)
  --budget-ms X          the lag budget the headline judges with (default 100); exit 3
                         when any measured mode's max lag exceeds X ms
  --sweep-budget-s S     sweep: the time budget for all windows (default: 60); each
                         window runs repeated rounds (at least 3 and 0.5 s when the
                         budget allows, fewer and shorter when not, and says so)
  --verbose              print error details and the sidecar's own stderr
  -h, --help             this help
  -v, --version          the version

Exit codes (when several apply, the first listed of 1/124/130, then 5, then 4, then 3):
  0    measured (a mode may still have failed; see the report)
  1    the target could not be measured (one line on stderr says why)
  2    usage error
  3    a mode's max lag exceeded --budget-ms
  4    calls raised in a measured mode (with or without --budget-ms): the window timed
       the error path; one line on stderr names the first exception and its line
  5    calls did not finish: cut by --call-timeout or lost in a crash (a pool
       member or a mode's sidecar died); one line on stderr gives each mode's counts
  124  timed out (the report keeps the modes measured before)
  130  interrupted (Ctrl+C)

Example:
  looplag run examples/python/cpu_bound.py::cpu_bound_task --args "365, 350_000" --budget-ms 100
`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv),
      allowPositionals: true,
      options: {
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
        json: { type: 'boolean' },
        out: { type: 'string' },
        html: { type: 'string' },
        'budget-ms': { type: 'string' },
        'sweep-budget-s': { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (e) {
    return usage((e as Error).message);
  }
  const { values: o, positionals } = parsed;
  if (o.help) {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  if (o.version) {
    process.stdout.write(`${TOOL_VERSION}\n`);
    return EXIT.ok;
  }
  const command = positionals[0];
  if ((command !== 'run' && command !== 'sweep') || positionals.length !== 2) {
    return usage(positionals.length === 0 ? 'missing command' : `expected \`looplag run TARGET\` or \`looplag sweep TARGET\`, got \`${positionals.join(' ')}\``);
  }
  const sweep = command === 'sweep';
  let sweepWorkers: number[] = [];
  let sweepBudgetS = DEFAULT_SWEEP_BUDGET_S;

  let target, settings, budgetMs;
  try {
    target = parseTargetArg(positionals[1]);
    // A folder first: it has no file type, and "unsupported file type" would mislead.
    const folder = isDirectory(target.file);
    const language = folder ? null : languageOf(target.file);
    const unusable = unusableTarget(target.file);
    if (unusable || !language) {
      process.stderr.write(`looplag: error [target-not-found]: ${unusable}\n`);
      return EXIT.notMeasured;
    }
    settings = settingsFrom({
      // A sweep's --workers is a list, and its modes default to the pool modes.
      modes: o.modes ?? (sweep ? (language === 'python' ? 'thread,process' : 'worker,process') : undefined),
      concurrency: o.concurrency, workers: sweep ? undefined : o.workers, switchInterval: o['switch-interval'],
      heartbeatMs: o['heartbeat-ms'], stallMs: o['stall-ms'], timeout: o.timeout, callTimeout: o['call-timeout'], gilProbe: !o['no-gil-probe'],
      gilProbeInWindow: Boolean(o['gil-probe-in-window']), warmup: !o['no-warmup'],
    }, language);
    if (sweep) {
      sweepWorkers = parseWorkerList((o.workers ?? DEFAULT_SWEEP_WORKERS.join(',')).split(','));
      if (o.html) throw new UsageError('--html applies to `looplag run`; a sweep writes --json / --out');
      if (settings.modes.includes('inline')) throw new UsageError('a sweep measures pool modes: drop inline from --modes');
      sweepBudgetS = parseKnob(KNOBS.sweepBudgetS, o['sweep-budget-s']) ?? DEFAULT_SWEEP_BUDGET_S;
    } else if (o['sweep-budget-s'] !== undefined) {
      throw new UsageError('--sweep-budget-s applies to `looplag sweep`');
    }
    budgetMs = parseKnob(KNOBS.lagBudgetMs, o['budget-ms']);
    for (const [flag, file] of [['--out', o.out], ['--html', o.html]] as const) {
      if (file) checkOutputPath(flag, file);
    }
    if (o.out && o.html && sameFile(o.out, o.html)) throw new UsageError(`--out and --html name the same file: ${o.out}`);
    const workspaceRoot = path.resolve(o.workspace ?? process.cwd());
    // The sidecar starts in this folder, and spawning in a missing folder fails with
    // ENOENT, which would read as "no Python interpreter found".
    if (!isDirectory(workspaceRoot)) {
      throw new UsageError(`--workspace ${workspaceRoot} is not a folder`);
    }
    const plannedMode = o.plan ? parseModes(o.plan, language)[0] : null;
    settings = { ...settings, lagBudgetMs: budgetMs, plannedMode };
    target = { ...target, language, args: o.args ?? '', workspaceRoot };
  } catch (e) {
    if (e instanceof UsageError) return usage(e.message);
    throw e;
  }

  const progress = process.stderr.isTTY && !o.json ? new ProgressLine() : null;
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (signal?: NodeJS.Signals) => {
    // A second Ctrl+C stops at once (SidecarProcess's 'exit' hook still kills the
    // sidecar's process tree). A second SIGTERM or SIGHUP is not a person insisting:
    // a session ending sends both, and the partial report must still be written.
    if (++interrupts > 1) {
      if (signal === 'SIGINT') process.exit(EXIT.interrupted);
      return;
    }
    // Said now, because stopping can take the cancel grace period (a sidecar stuck
    // behind a GIL-holding call cannot answer), and a user may press Ctrl+C again.
    progress?.clear();
    process.stderr.write('looplag: interrupted; stopping (interrupt again to stop at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const onSighup = () => {
    // The terminal closed: stop like SIGTERM (partial report to --out, sidecars killed)
    // rather than Node's default for SIGHUP, an exit that skips both. Writing to a
    // terminal that is gone fails (EIO): that must not end the run before --out is written.
    ignoreHangup();
    onSigint('SIGHUP');
  };
  process.on('SIGHUP', onSighup);
  // What both a run and a sweep hand the engine.
  const engine = {
    target,
    python: o.python,
    node: o.node,
    signal: controller.signal,
    onProgress: (p: Progress) => progress?.update(p),
    onStderr: o.verbose ? (text: string) => void process.stderr.write(text) : undefined,
  };
  const finished = () => {
    progress?.clear();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    process.off('SIGHUP', onSighup);
    // Until the report is written, a terminal closing must not kill the CLI mid-write
    // (Node's default for SIGHUP) and leave a temp file behind.
    process.on('SIGHUP', ignoreHangup);
  };
  if (sweep) {
    const result = await runSweep({ ...engine, settings: { ...settings, lagBudgetMs: budgetMs ?? KNOBS.lagBudgetMs.default }, workers: sweepWorkers, budgetS: sweepBudgetS });
    finished();
    if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
    else process.stdout.write(formatSweepText(result));
    try {
      if (o.out) writeFileAtomicSync(o.out, documentJson(result));
    } catch (e) {
      process.stderr.write(`looplag: could not write the sweep: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    if (result.error) {
      process.stderr.write(`looplag: error [${result.error.kind}]: ${result.error.message}\n`);
      return errorExitCode(result.error.kind);
    }
    const raised = result.points.filter((p) => p.raised);
    if (raised.length) {
      process.stderr.write(`looplag: calls raised in ${raised.map((p) => `${p.mode} W=${p.workers} (${p.raised!.count} of ${p.raised!.calls}: ${p.raised!.error})`).join(', ')}\n`);
      return EXIT.callsFailed;
    }
    return EXIT.ok;
  }
  const report = await runSession({ ...engine, settings, freeThreaded: o['free-threaded'] ?? 'auto' });
  finished();

  if (o.json) process.stdout.write(JSON.stringify(report) + '\n');
  else process.stdout.write(formatReportText(report));
  // Each file on its own: one that cannot be written does not cost the other.
  const writeFailures = [
    o.out ? tryWrite(o.out, () => documentJson(report)) : null,
    // The report UI bundle is built next to this file (dist/webview).
    o.html ? tryWrite(o.html, () => reportHtml(report, path.join(__dirname, 'webview'))) : null,
  ].filter((m) => m !== null);
  if (writeFailures.length) {
    for (const m of writeFailures) process.stderr.write(`looplag: could not write the report: ${m}\n`);
    return EXIT.usage;
  }
  const { code, stderr } = exitCode(report, budgetMs, Boolean(o.verbose));
  for (const line of stderr) process.stderr.write(line + '\n');
  return code;
}

function usage(message: string): number {
  process.stderr.write(`looplag: ${message}\nRun \`looplag --help\` for usage.\n`);
  return EXIT.usage;
}

/** After a run: the terminal is gone, but the report files are still written. */
function ignoreHangup(): void {
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
}

/**
 * `--concurrency -1` as `--concurrency=-1`: parseArgs reads a value that starts with a
 * dash as the next option ("argument is ambiguous"), so a negative number would never
 * reach the range check that says what the option accepts.
 */
function joinNegativeValues(argv: string[]): string[] {
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

/** Why the target file cannot be measured (missing, a folder, unreadable), or null. */
function unusableTarget(file: string): string | null {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return `file not found: ${file}`;
  }
  if (stat.isDirectory()) return `${file} is a folder, not a file: name a file and its function (FILE::FUNCTION)`;
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (e) {
    return `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (e as Error).message}`;
  }
  return null;
}

/** Whether two output paths are one file: through symlinked folders, or hard links of an existing file. */
function sameFile(a: string, b: string): boolean {
  const real = (p: string) => {
    const abs = path.resolve(p);
    try {
      return fs.realpathSync(abs);
    } catch {
      try {
        return path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs)); // not written yet
      } catch {
        return abs;
      }
    }
  };
  if (real(a) === real(b)) return true;
  try {
    const [x, y] = [fs.statSync(a), fs.statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Checked before measuring: a run whose report cannot be saved should not run at all
 * (a folder named as the file used to fail only after the whole measurement).
 */
function checkOutputPath(flag: string, file: string): void {
  const resolved = path.resolve(file);
  const dir = path.dirname(resolved);
  if (!isDirectory(dir)) throw new UsageError(`${flag} ${file}: folder ${dir} does not exist`);
  let stat: fs.Stats | null = null;
  try {
    stat = fs.statSync(resolved);
  } catch {
    // Not there yet: it is created (the folder must be writable, checked below).
  }
  if (stat?.isDirectory()) throw new UsageError(`${flag} ${file} is a folder; name the file to write, e.g. ${path.join(file, flag === '--out' ? 'report.json' : 'report.html')}`);
  if (stat && !stat.isFile()) throw new UsageError(`${flag} ${file} is not a regular file`);
  try {
    // The report is written next to the file and renamed over it: the folder must be writable.
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${file}: cannot write in folder ${dir} (permission denied)`);
  }
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

class ProgressLine {
  update(p: Progress): void {
    const count = p.phase === 'running' ? (p.total ? ` ${p.done}/${p.total}` : ` ${p.done} calls`) : '';
    process.stderr.write(`\r\x1b[K[looplag] ${p.mode}: ${p.phase}${count}`);
  }
  clear(): void {
    process.stderr.write('\r\x1b[K');
  }
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
