/**
 * Every way a run can go wrong, through the real CLI (`bin/looplag.js run …`) and a
 * real python3: the exit code, the one stderr line and the report are checked for
 * each error kind, plus usage errors, budgets, noisy user output and target shapes.
 * The cases Node has too (a module that cannot load, bad arguments, a missing
 * interpreter, values a pool cannot take, raising calls) are one table with the Node
 * ones: test/support/errorCases.ts.
 *
 * Runs that hang, crash or are interrupted carry a LOOPLAG_TEST_TAG in their
 * environment, inherited by the sidecar and its pool children, so a test can prove
 * no process outlived the CLI. Waiting is always a poll with a deadline on something
 * observable (a marker file the target writes), never a fixed sleep.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { CLI_OPTIONS } from '../../src/cli/commandLine';
import { Report } from '../../src/shared/protocol';
import { assertNoProcessLeft, assertOneLineError, CliResult, newTag, reportOf, run, runCli, waitFor, writePy, scratchFolders } from '../support/helpers';
import { ERROR_FIXTURES, expectInterrupted, expectTimeout, sharedErrorTests, startUntilMarker } from '../support/errorCases';

const { targets: TARGETS, workers: WORKERS, fast: FAST } = ERROR_FIXTURES.python;
const ERRORS = path.dirname(TARGETS);

const scratch = scratchFolders();

function py(source: string, name?: string): string {
  const file = writePy(source, name);
  scratch.keep(path.dirname(file));
  return file;
}

const scratchDir = scratch.dir;

/** The 1-based line numbers strictly between `# snippet:NAME:start` and `…:end`. */
function snippetLines(file: string, name: string): { start: number; end: number } {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.includes(`# snippet:${name}:start`)) + 2;
  const end = lines.findIndex((l) => l.includes(`# snippet:${name}:end`));
  assert.ok(start > 1 && end >= start, `snippet markers for ${name}`);
  return { start, end };
}

// ---------------------------------------------------------------------------

sharedErrorTests('python');

describe('the target cannot be loaded: exit 1, one line, and the kind in the report', () => {
  test('syntax-error in a module the target imports names that module and line', async () => {
    const dir = scratchDir();
    fs.writeFileSync(path.join(dir, 'broken_helper.py'), 'X = 1\nY = (\n');
    const file = path.join(dir, 'uses_helper.py');
    fs.writeFileSync(file, 'import broken_helper\n\n\ndef f():\n    pass\n');
    const r = await runCli(['run', `${file}::f`, '--modes', 'inline', ...FAST, '--json']);
    assertOneLineError(r, 'syntax-error', /broken_helper\.py/);
    assert.equal(reportOf(r).error?.file, path.join(dir, 'broken_helper.py'));
    assert.equal(reportOf(r).error?.line, 2);
  });

  test('import-error: the module raises while importing; the traceback is in the detail', async () => {
    const file = py('import os\n\n\ndef f():\n    pass\n\n\nraise RuntimeError("config missing at import")\n');
    const r = await runCli(['run', `${file}::f`, '--modes', 'inline', ...FAST, '--json']);
    assertOneLineError(r, 'import-error', /RuntimeError: config missing at import/);
    const err = reportOf(r).error!;
    assert.equal(err.kind, 'import-error');
    assert.equal(err.line, 8);
    assert.match(err.detail ?? '', /^Traceback \(most recent call last\):/);
    assert.match(err.detail ?? '', /target_mod\.py", line 8, in <module>/);

    // --verbose adds the detail under the one line.
    const verbose = await runCli(['run', `${file}::f`, '--modes', 'inline', ...FAST, '--verbose']);
    assert.equal(verbose.code, 1);
    assert.match(verbose.stderr, /Traceback \(most recent call last\):[\s\S]*RuntimeError: config missing at import/);
  });

  test('target-not-found: a method name without its class, a file that does not exist', async () => {
    // A method name without its class gets a "did you mean".
    const bare = await runCli(['run', `${TARGETS}::double`, '--modes', 'inline', ...FAST]);
    assertOneLineError(bare, 'target-not-found', /did you mean `Shapes\.double`/);

    // A file that does not exist is caught before Python starts.
    const missing = await runCli(['run', path.join(ERRORS, 'no_such_file.py::f')]);
    assertOneLineError(missing, 'target-not-found', /file not found/);
  });

  test('snippets that are not runnable say why', async () => {
    const { start } = snippetLines(TARGETS, 'sync');
    const marker = start - 1; // the `# snippet:sync:start` comment alone
    const comments = await runCli(['run', `${TARGETS}:${marker}-${marker}`, '--modes', 'inline', ...FAST]);
    assertOneLineError(comments, 'target-not-found', new RegExp(`lines ${marker}-${marker} of targets\\.py hold no statements`));

    const def = fs.readFileSync(TARGETS, 'utf8').split('\n').findIndex((l) => l.startsWith('def sync_snippet_host')) + 1;
    const half = await runCli(['run', `${TARGETS}:${def}-${def}`, '--modes', 'inline', ...FAST, '--json']);
    assertOneLineError(half, 'syntax-error', /the selected lines are not a complete block of statements/);
    assert.equal(reportOf(half).error?.line, def);

    const beyond = await runCli(['run', `${TARGETS}:5000-5001`, '--modes', 'inline', ...FAST]);
    assertOneLineError(beyond, 'target-not-found', /lines 5000-5001 are outside targets\.py/);
  });

  test('unsupported-target: an instance method says to select a snippet or use @staticmethod', async () => {
    const r = await runCli(['run', `${TARGETS}::Shapes.area`, '--modes', 'inline', ...FAST, '--json']);
    assertOneLineError(r, 'unsupported-target', /`Shapes\.area` is an instance method/);
    assert.match(r.stderr, /Select a snippet that creates a `Shapes`/);
    assert.match(r.stderr, /@staticmethod/);
  });

  test('unsupported-target: a nested function names the outer function to select', async () => {
    const r = await runCli(['run', `${TARGETS}::inner_helper`, '--modes', 'inline', ...FAST, '--json']);
    assertOneLineError(r, 'unsupported-target', /`inner_helper` is a nested function inside `outer`/);
    assert.match(r.stderr, /Select `outer`/);
  });
});

describe('bad-arguments', () => {
  test('arguments are evaluated in the module: its names work', async () => {
    const r = await runCli(['run', `${TARGETS}::beta`, '--args', 'LOADED_AS, b="!"', '--modes', 'inline', ...FAST, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(run(reportOf(r), 'inline').taskStats.errorCount, 0);
  });
});

describe('interpreter-not-found', () => {
  test('no python3 or python on PATH', async () => {
    const r = await runCli(['run', `${TARGETS}::alpha`, ...FAST], { env: { PATH: '/nonexistent' } });
    assertOneLineError(r, 'interpreter-not-found', /no Python interpreter found \(tried python3, python\)/);
  });

  test('--python that is not Python: /bin/false', async () => {
    const r = await runCli(['run', `${TARGETS}::alpha`, '--python', '/bin/false', ...FAST, '--json']);
    assertOneLineError(r, 'interpreter-not-found', /`\/bin\/false` exited with code 1 before the sidecar started; is it a working Python/);
  });

  test('--python that is not Python: a script that prints something else', async () => {
    const fake = path.join(scratchDir(), 'fake-python');
    fs.writeFileSync(fake, '#!/bin/sh\necho "Python? Never heard of it."\n', { mode: 0o755 });
    const r = await runCli(['run', `${TARGETS}::alpha`, '--python', fake, ...FAST, '--json']);
    assertOneLineError(r, 'interpreter-not-found', /is it a working Python 3\.9\+\?/);
    assert.match(reportOf(r).error?.detail ?? '', /Never heard of it/);
  });

  test('--python that hangs without a word is not mistaken for a timeout of the target, and is killed', async () => {
    const fake = path.join(scratchDir(), 'hanging-python');
    fs.writeFileSync(fake, '#!/bin/sh\nexec sleep 60\n', { mode: 0o755 });
    const tag = newTag();
    const r = await runCli(['run', `${TARGETS}::alpha`, '--python', fake, '--timeout', '2', ...FAST], { env: { LOOPLAG_TEST_TAG: tag } });
    assertOneLineError(r, 'interpreter-not-found', /did not start the Loop Lag sidecar within 2 s; is it a working Python/);
    await assertNoProcessLeft(tag);
  });

  test('--python that is not Python: a script that exits quietly with 0', async () => {
    const fake = path.join(scratchDir(), 'quiet-python');
    fs.writeFileSync(fake, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const r = await runCli(['run', `${TARGETS}::alpha`, '--python', fake, ...FAST]);
    assertOneLineError(r, 'interpreter-not-found', /exited with code 0 before the sidecar started/);
  });
});

describe('timeout: exit 124, what was measured is kept, nothing is left running', () => {
  /** Timed out after inline was measured (2 calls ok): the report, with --out when given. */
  async function timedOut(args: string[], timeoutS: number, out?: string) {
    const report = await expectTimeout([...args, ...FAST], timeoutS, 1, out);
    assert.equal(report.status, 'partial');
    assert.equal(run(report, 'inline').status, 'ok');
    assert.equal(run(report, 'inline').taskStats.okCount, 2);
    return report;
  }

  test('a long sleep in a pool thread (--json)', async () => {
    // 4 s: two sidecars (one per mode) start and load the target before thread mode's call.
    const report = await timedOut([`${WORKERS}::sleep_in_thread`, '--args', '60', '--modes', 'inline,thread'], 4);
    // The thread run was cut short: marked as not finished, never as "ok".
    assert.notEqual(run(report, 'thread').status, 'ok');
    assert.equal(run(report, 'thread').error?.kind, 'timeout', 'the interrupted run says why, like the report');
  });

  test('a pool thread stuck in a GIL-holding pow() (--out)', async () => {
    const marker = path.join(scratchDir(), 'called');
    const out = path.join(scratchDir(), 'report.json');
    const report = await timedOut(
      [`${WORKERS}::hold_gil_in_thread`, '--args', JSON.stringify(marker), '--modes', 'inline,thread'], 4, out);
    assert.ok(fs.existsSync(marker), 'the thread run had started');
    assert.notEqual(run(report, 'thread').status, 'ok');
    assert.equal(run(report, 'thread').error?.kind, 'timeout', 'the interrupted run says why, like the report');
  });

  test('a process-pool child that sleeps', async () => {
    const marker = path.join(scratchDir(), 'called');
    const report = await timedOut(
      [`${WORKERS}::sleep_in_child`, '--args', `${JSON.stringify(marker)}, 60`, '--modes', 'inline,process'], 4);
    assert.ok(fs.existsSync(marker), 'the process run had started');
    assert.notEqual(run(report, 'process').status, 'ok');
    assert.equal(run(report, 'process').error?.kind, 'timeout', 'the interrupted run says why, like the report');
  });
});

describe('crashed', () => {
  // A mode's sidecar crashing while the session goes on to the others is exit 5 (calls
  // lost in a crash), not 1: the other modes were measured.
  function assertModeCrash(r: CliResult, mode: string, pattern: RegExp): void {
    assert.equal(r.code, 5, `exit code\n${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr}`);
    assert.match(lines[0], new RegExp(`^looplag: calls did not finish in ${mode} \\(`));
    assert.match(lines[0], pattern);
  }

  test('os._exit(3) in a pool thread after inline succeeded: inline kept, exit 5', async () => {
    const tag = newTag();
    const r = await runCli(['run', `${WORKERS}::exit_in_thread`, '--args', '3', '--modes', 'inline,thread', ...FAST, '--json'], {
      env: { LOOPLAG_TEST_TAG: tag },
    });
    assertModeCrash(r, 'thread', /the Python sidecar, while measuring, exited with code 3 \(user code may have called os\._exit\(3\)\)/);
    const report = reportOf(r);
    assert.equal(report.status, 'partial');
    assert.equal(run(report, 'inline').status, 'ok');
    assert.equal(run(report, 'thread').status, 'skipped');
    assert.equal(run(report, 'thread').error?.kind, 'crashed');
    await assertNoProcessLeft(tag);
  });

  test('a segfault in a pool thread names the signal', async () => {
    const r = await runCli(['run', `${WORKERS}::segfault_in_thread`, '--modes', 'inline,thread', ...FAST, '--json']);
    assertModeCrash(r, 'thread', /killed by SIGSEGV, a segmentation fault: an invalid memory access in native code/);
    const report = reportOf(r);
    assert.equal(run(report, 'inline').status, 'ok');
    // faulthandler's dump points at the user's line.
    assert.match(report.error?.detail ?? '', /Fatal Python error: Segmentation fault[\s\S]*workers\.py", line \d+ in segfault_in_thread/);
  });

  test('a process-pool child that calls os._exit fails that run only (exit 5: its call was lost)', async () => {
    const tag = newTag();
    const r = await runCli(['run', `${WORKERS}::exit_in_child`, '--args', '7', '--modes', 'inline,thread,process', ...FAST, '--json'], {
      env: { LOOPLAG_TEST_TAG: tag },
    });
    assertModeCrash(r, 'process', /a process worker died while running the target/);
    const report = reportOf(r);
    assert.equal(report.error, null);
    assert.equal(report.status, 'partial');
    assert.equal(run(report, 'inline').status, 'ok');
    assert.equal(run(report, 'thread').status, 'ok');
    const proc = run(report, 'process');
    assert.equal(proc.status, 'failed');
    assert.equal(proc.error?.kind, 'crashed');
    assert.match(proc.error!.message, /a process worker died while running the target/);
    assert.match(proc.error!.detail ?? '', /exit code 7/);
    await assertNoProcessLeft(tag);
  });
});

describe('cancelled', () => {
  /** A run whose pool thread holds the GIL, and the marker it writes once the thread is in pow(). */
  function gilBoundRun(): { args: string[]; marker: string } {
    const marker = path.join(scratchDir(), 'called');
    return { args: [`${WORKERS}::hold_gil_in_thread`, '--args', JSON.stringify(marker), '--modes', 'inline,thread', ...FAST], marker };
  }

  test('SIGINT while a pool thread holds the GIL: exit 130 within a couple of seconds, nothing left', async () => {
    const { args, marker } = gilBoundRun();
    const report = await expectInterrupted(args, marker, 'the thread run to start', 1);
    assert.equal(report.status, 'partial');
    assert.equal(run(report, 'inline').status, 'ok');
    assert.equal(run(report, 'thread').error?.kind, 'cancelled');
  });

  test('a second SIGINT stops at once and still takes the GIL-bound sidecar down', async () => {
    let stderr = '';
    const { args, marker } = gilBoundRun();
    const { running, cliPid, tag } = await startUntilMarker(args, marker, 'the thread run to start', (text) => (stderr += text));
    process.kill(cliPid, 'SIGINT');
    // Only after the CLI has taken the first interrupt: two signals sent back to back may merge into one.
    await waitFor(() => stderr.includes('interrupted; stopping'), 'the first interrupt to be taken', 5000);
    const t0 = Date.now();
    process.kill(cliPid, 'SIGINT');
    const r = await running;
    assert.equal(r.code, 130, r.stderr);
    assert.ok(Date.now() - t0 < 900, 'sooner than the cancel grace period');
    // Before the fix the sidecar, deaf to its closed stdin behind pow(), ran on forever.
    await assertNoProcessLeft(tag);
  });
});

// ---------------------------------------------------------------------------

describe('usage errors: exit 2 before anything runs', () => {
  const target = `${TARGETS}::alpha`;
  const cases: [string, string[], RegExp][] = [
    ['no command', [], /missing command/],
    ['an unknown command', ['measure', target], /expected `looplag run TARGET`/],
    ['two targets', ['run', target, target], /expected `looplag run TARGET`/],
    ['a target without a function or lines', ['run', TARGETS], /cannot read target/],
    ['a function name that is not an identifier', ['run', `${TARGETS}::1abc`], /cannot read target/],
    ['line 0', ['run', `${TARGETS}:0-3`], /bad line range 0-3/],
    ['a range that ends before it starts', ['run', `${TARGETS}:9-3`], /bad line range 9-3/],
    ['a file that is not Python', ['run', 'app.rb::f'], /unsupported file type \.rb/],
    ['an unknown mode', ['run', target, '--modes', 'inline,warp'], /unknown mode "warp": choose from inline, thread, process, interpreter/],
    ['an empty mode list', ['run', target, '--modes', ','], /--modes needs at least one mode/],
    ['concurrency 0', ['run', target, '--concurrency', '0'], /--concurrency must be a whole number from 1 to 10000, got "0"/],
    ['a fractional concurrency', ['run', target, '--concurrency', '1.5'], /--concurrency must be a whole number/],
    ['a non-numeric worker count', ['run', target, '--workers', 'many'], /--workers must be a whole number/],
    ['a negative timeout', ['run', target, '--timeout=-1'], /--timeout must be a number from 0\.1/],
    ['a non-numeric budget', ['run', target, '--budget-ms', 'fast'], /--budget-ms must be a number/],
    ['heartbeat 0 ms', ['run', target, '--heartbeat-ms', '0'], /--heartbeat-ms must be a whole number from 1 to 1000/],
    ['a switch interval over 10 s', ['run', target, '--switch-interval', '11'], /--switch-interval must be a number from 0 to 10/],
    ['an unknown option', ['run', target, '--frobnicate'], /Unknown option '--frobnicate'/],
    ['an option without its value', ['run', target, '--concurrency'], /--concurrency/],
    // Not "no Python interpreter found", which is what spawning in a missing folder reports.
    ['a --workspace that does not exist', ['run', target, '--workspace', '/nonexistent/looplag-ws'], /--workspace \/nonexistent\/looplag-ws is not a folder/],
    // A measurement that could not be saved must not run at all.
    ['an --out file in a folder that does not exist', ['run', target, '--out', '/nonexistent/r.json'], /--out \/nonexistent\/r\.json: folder \/nonexistent does not exist/],
    ['an --html file in a folder that does not exist', ['run', target, '--html', '/nonexistent/r.html'], /--html \/nonexistent\/r\.html: folder \/nonexistent does not exist/],
  ];
  for (const [what, args, pattern] of cases) {
    test(what, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.match(r.stderr, /Run `looplag --help` for usage\.\n$/);
      assert.equal(r.stdout, '');
    });
  }
});

test('--help documents every option the CLI accepts, and every exit code', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  // The options parseArgs accepts, from the table it is given, so a new one cannot go undocumented.
  const options = Object.keys(CLI_OPTIONS);
  assert.ok(options.length >= 15, `parsed options: ${options.join(', ')}`);
  for (const name of options) assert.match(r.stdout, new RegExp(`^ +(-\\w, )?--${name}\\b`, 'm'), `--${name} in --help`);
  for (const code of [0, 1, 2, 3, 124, 130]) assert.match(r.stdout, new RegExp(`^ +${code} +\\S`, 'm'), `exit code ${code}`);
  for (const mode of ['inline', 'thread', 'process', 'interpreter']) assert.match(r.stdout, new RegExp(`^ +${mode} +\\S`, 'm'));
});

describe('--budget-ms', () => {
  // A 150 ms sleep on the loop: the inline run's max lag is at least ~150 ms.
  const args = ['run', `${WORKERS}::block_loop`, '--args', '150', '--modes', 'inline', '--concurrency', '1', '--no-gil-probe'];

  test('exit 3 when a mode exceeds it', async () => {
    const r = await runCli([...args, '--budget-ms', '20', '--json']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^looplag: lag budget 20\.0 ms exceeded by inline \(max \d+(\.\d+)? ms\)\n$/);
    assert.ok(run(reportOf(r), 'inline').lag.maxMs > 20);
    assert.equal(reportOf(r).settings.lagBudgetMs, 20, 'the report records the budget, so its views mark against it');
  });

  test('exit 0 when no mode exceeds it', async () => {
    const r = await runCli([...args, '--budget-ms', '10000', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok(run(reportOf(r), 'inline').lag.maxMs < 10000);
  });
});

// ---------------------------------------------------------------------------

describe('user output never corrupts the report', () => {
  const TEN_MB = 10 * 1024 * 1024;
  const CAP = 64 * 1024; // DEFAULT_OUTPUT_CAP_BYTES

  test('10 MB on stdout, some stderr, and prints from pool children (--json)', async () => {
    const r = await runCli(['run', `${WORKERS}::noisy`, '--args', String(TEN_MB), '--modes', 'inline,process', ...FAST, '--json']);
    assert.equal(r.code, 0, r.stderr);
    // Exactly one JSON document on stdout, on one line.
    assert.ok(r.stdout.endsWith('}\n'), 'ends with the document');
    assert.equal(r.stdout.indexOf('\n'), r.stdout.length - 1, 'a single line');
    const report = reportOf(r);
    assert.equal(report.status, 'complete');

    const inline = run(report, 'inline').output;
    assert.equal(inline.stdoutBytes, 2 * TEN_MB);
    assert.equal(inline.stderrBytes, 2 * 'noisy stderr\n'.length);
    assert.equal(inline.stderr, 'noisy stderr\nnoisy stderr\n');
    assert.equal(inline.truncated, true);
    assert.ok(inline.stdout.length < CAP + 200, `kept ${inline.stdout.length} chars`);
    // (Boolean checks: a failed match would print 64 KiB of x.)
    assert.ok(/^x+\n\.\.\. \[\d+ bytes omitted by Loop Lag\] \.\.\.\nx+$/.test(inline.stdout), 'head, marker, tail');
    const omitted = Number(/\[(\d+) bytes omitted/.exec(inline.stdout)![1]);
    assert.equal(omitted, 2 * TEN_MB - CAP);

    const proc = run(report, 'process').output;
    const childLine = 'hello from a pool child\n';
    assert.equal(proc.stdoutBytes, 2 * (TEN_MB + childLine.length));
    assert.equal(proc.stderrBytes, 2 * 'noisy stderr\n'.length);
    assert.equal(proc.truncated, true);
    assert.ok(proc.stdout.endsWith('hello from a pool child\n'), `the tail keeps the last child print: ${JSON.stringify(proc.stdout.slice(-60))}`);
  });

  test('small output is kept whole, and the text table is not interleaved with it', async () => {
    const out = path.join(scratchDir(), 'report.json');
    const r = await runCli(['run', `${WORKERS}::noisy`, '--args', '5', '--modes', 'inline,process', ...FAST, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Loop Lag · noisy\(5\)/);
    assert.doesNotMatch(r.stdout, /xxxxx|noisy stderr|hello from/);
    assert.doesNotMatch(r.stderr, /xxxxx|noisy stderr|hello from/);
    const report = Report.parse(JSON.parse(fs.readFileSync(out, 'utf8')));
    assert.deepEqual(run(report, 'inline').output, {
      stdout: 'xxxxxxxxxx', stderr: 'noisy stderr\nnoisy stderr\n', truncated: false, stdoutBytes: 10, stderrBytes: 26,
    });
    const proc = run(report, 'process').output;
    assert.equal(proc.truncated, false);
    // Each child writes its 5 x's, then its line: the two children may interleave.
    assert.equal(proc.stdout.split('hello from a pool child\n').length - 1, 2);
    assert.equal(proc.stdout.replace(/hello from a pool child\n/g, ''), 'xxxxxxxxxx');
  });
});

describe('target shapes', () => {
  test('an `if __name__ == "__main__":` block does not run', async () => {
    const marker = path.join(scratchDir(), 'main-ran');
    const r = await runCli(['run', `${TARGETS}::describe`, '--modes', 'inline,process', ...FAST, '--json'], {
      env: { LOOPLAG_MAIN_MARKER: marker },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.existsSync(marker), false, 'the __main__ block ran');
    for (const mode of ['inline', 'process']) {
      const m = run(reportOf(r), mode);
      assert.equal(m.status, 'ok');
      assert.equal(m.output.stdout, 'loaded as targets\nloaded as targets\n', mode);
    }
  });

  test('Class.staticmethod and Class.classmethod targets are called with their arguments', async () => {
    for (const [qualname, line] of [['Shapes.double', 'double 42\n'], ['Shapes.triple', 'Shapes triple 63\n']]) {
      const r = await runCli(['run', `${TARGETS}::${qualname}`, '--args', '21', '--modes', 'inline,thread', ...FAST, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const report = reportOf(r);
      assert.equal(report.target.qualname, qualname);
      for (const mode of ['inline', 'thread']) {
        assert.equal(run(report, mode).taskStats.okCount, 2, `${qualname} ${mode}`);
        assert.equal(run(report, mode).output.stdout, line.repeat(2), `${qualname} ${mode}`);
      }
    }
  });

  test('async def targets run in inline and thread modes', async () => {
    const r = await runCli(['run', `${TARGETS}::fetch`, '--args', '5', '--modes', 'inline,thread', ...FAST, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = reportOf(r);
    assert.equal(report.target.isAsync, true);
    assert.equal(run(report, 'inline').output.stdout, 'fetched 5 in loop\n'.repeat(2));
    assert.equal(run(report, 'thread').output.stdout, 'fetched 5 in pool thread\n'.repeat(2));
    for (const mode of ['inline', 'thread']) assert.equal(run(report, mode).taskStats.errorCount, 0);
  });

  test('a snippet by line range runs in the module namespace', async () => {
    const { start, end } = snippetLines(TARGETS, 'sync');
    const r = await runCli(['run', `${TARGETS}:${start}-${end}`, '--modes', 'inline,thread,process', ...FAST, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = reportOf(r);
    assert.deepEqual(report.target.lines, { start, end });
    assert.equal(report.target.line, start);
    assert.equal(report.target.isAsync, false);
    for (const mode of ['inline', 'thread', 'process']) {
      assert.equal(run(report, mode).output.stdout, 'sync snippet 4950\n'.repeat(2), mode);
    }
  });

  test('`await` in a snippet makes it async', async () => {
    const { start, end } = snippetLines(TARGETS, 'async');
    const r = await runCli(['run', `${TARGETS}:${start}-${end}`, '--modes', 'inline,thread', ...FAST, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = reportOf(r);
    assert.equal(report.target.isAsync, true);
    for (const mode of ['inline', 'thread']) assert.equal(run(report, mode).output.stdout, 'async snippet 7\n'.repeat(2), mode);
  });

  test('a raising snippet points its traceback at the real line of the file', async () => {
    const { start, end } = snippetLines(TARGETS, 'raising');
    const r = await runCli(['run', `${TARGETS}:${start}-${end}`, '--modes', 'inline', ...FAST, '--json']);
    assert.equal(r.code, 4, r.stderr); // calls failed (issue 10; was 0)
    assert.match(r.stderr, new RegExp(`\\(targets\\.py:${end}\\)\\)$`, 'm'), 'the exit line names the same line');
    const task = run(reportOf(r), 'inline').tasks[0];
    assert.equal(task.error?.type, 'ZeroDivisionError');
    assert.match(task.error?.traceback ?? '', new RegExp(`targets\\.py", line ${end}, in __looplag_snippet__`));
  });
});
