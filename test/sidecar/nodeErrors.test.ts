/**
 * Every way a JavaScript/TypeScript run can go wrong, through the real CLI and a real
 * `node`: the exit code, the one stderr line and the report for each error kind, plus
 * per-task exceptions and user output that must never corrupt the report.
 *
 * Runs that hang, crash or are interrupted carry a LOOPLAG_TEST_TAG in their environment,
 * inherited by the sidecar, its worker threads' process and its pool children, so a test
 * can prove no process outlived the CLI. Waiting is a poll with a deadline on something
 * observable (a marker file the target writes), never a fixed sleep.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Report } from '../../src/shared/protocol';
import {
  assertNoProcessLeft, assertOneLineError, BIN, FIXTURES, newTag, processesWithTag, reportOf, REPO, run, runCli, scratchFolders, waitFor,
} from '../support/helpers';

const ERRORS = path.join(FIXTURES, 'node', 'errors');
const WORKERS = path.join(ERRORS, 'workers.cjs');
const BUSY = path.join(FIXTURES, 'node', 'measure', 'loop.cjs');

/** Settings that keep each run short: two calls on a pool of two. */
const FAST = ['--concurrency', '2', '--workers', '2'];

const scratch = scratchFolders();

const scratchDir = scratch.dir;

/** A JS string literal for --args (a path, here). */
const lit = (s: string) => JSON.stringify(s);

// ---------------------------------------------------------------------------

describe('the target cannot be loaded: exit 1, one line, and the kind in the report', () => {
  test('syntax-error in JavaScript names its line', async () => {
    const file = path.join(ERRORS, 'syntax.js');
    const r = await runCli(['run', `${file}::ok`, '--modes', 'inline,worker', ...FAST, '--json']);
    assertOneLineError(r, 'syntax-error', /\(line 6\)/);
    const report = reportOf(r);
    assert.equal(report.status, 'failed');
    assert.equal(report.error?.line, 6);
    assert.equal(report.error?.file, file);
    assert.deepEqual(report.runs.map((x) => [x.mode, x.status]), [['inline', 'skipped'], ['worker', 'skipped']]);
  });

  test('syntax-error in TypeScript names its line', async () => {
    const file = path.join(ERRORS, 'syntax.ts');
    const r = await runCli(['run', `${file}::ok`, '--args', '{ x: 1 }', '--modes', 'inline', ...FAST, '--json']);
    assertOneLineError(r, 'syntax-error', /\(line 10\)/);
    assert.equal(reportOf(r).error?.line, 10);
    assert.equal(reportOf(r).error?.file, file);
    assert.equal(reportOf(r).target.language, 'typescript');
  });

  test('import-error: a require of a package that is not installed', async () => {
    const r = await runCli(['run', `${path.join(ERRORS, 'missing.cjs')}::f`, '--modes', 'inline', ...FAST, '--json']);
    assertOneLineError(r, 'import-error', /cannot load missing\.cjs: Cannot find module 'looplag-no-such-package-xyz'/);
    assert.equal(reportOf(r).error?.kind, 'import-error');
  });

  test('target-not-found lists the top-level functions', async () => {
    const r = await runCli(['run', `${WORKERS}::nope`, '--modes', 'inline', ...FAST, '--json']);
    assertOneLineError(r, 'target-not-found', /no `nope` at the top level of workers\.cjs \(top-level functions here: returnsFunction, take, /);
    assert.equal(reportOf(r).error?.kind, 'target-not-found');
  });
});

describe('bad-arguments: nothing runs, in any mode', () => {
  const cases: [string, string, RegExp][] = [
    ['text that escapes the parentheses', '1) + (2', /the call arguments are not valid: /],
    // Valid inside an array literal (a hole; closing it early), never as a call's arguments.
    ['an empty argument', '1,,2', /the call arguments are not valid: /],
    ['text that closes a bracket', '5], extra: [6', /the call arguments are not valid: /],
    ['an expression that throws', 'JSON.parse("{")', /evaluating the arguments \(JSON\.parse\("\{"\)\) threw SyntaxError: /],
    ['an unknown name', 'undefinedName', /threw ReferenceError: undefinedName is not defined/],
  ];
  for (const [what, args, pattern] of cases) {
    test(what, async () => {
      const r = await runCli(['run', `${BUSY}::busy`, '--args', args, '--modes', 'inline,worker', ...FAST, '--json']);
      assertOneLineError(r, 'bad-arguments', pattern);
      const report = reportOf(r);
      assert.equal(report.error?.kind, 'bad-arguments');
      assert.deepEqual(report.runs.map((x) => [x.mode, x.status]), [['inline', 'skipped'], ['worker', 'skipped']]);
    });
  }
});

describe('runtime not found', () => {
  test('--node pointing nowhere', async () => {
    const r = await runCli(['run', `${BUSY}::busy`, '--args', '1', '--node', '/nonexistent', ...FAST, '--json']);
    assertOneLineError(r, 'interpreter-not-found', /cannot start Node `\/nonexistent`/);
    assert.equal(reportOf(r).status, 'failed');
    assert.equal(reportOf(r).runtime, null);
  });
});

describe('not-transferable: only the pool runs fail; inline is measured (exit 0)', () => {
  const cases: [string, string, string, RegExp][] = [
    // Named by type and place (issue 10), not by V8's "… could not be cloned".
    ['a function as argument', 'take', '() => 1', /the call arguments can't be sent to a (worker thread|child process): `arguments\[0\]` is an anonymous function, which cannot be copied/],
    ['a function as result', 'returnsFunction', '', /the return value can't be sent back from the (worker thread|child process): `result` is (an anonymous function|a function `\w+`), which cannot be copied/],
  ];
  for (const [what, fn, args, pattern] of cases) {
    test(what, async () => {
      const r = await runCli(['run', `${WORKERS}::${fn}`, '--args', args, '--modes', 'inline,worker,process', ...FAST, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const report = reportOf(r);
      assert.equal(report.error, null);
      assert.equal(run(report, 'inline').status, 'ok');
      assert.equal(run(report, 'inline').taskStats.okCount, 2);
      for (const mode of ['worker', 'process']) {
        const m = run(report, mode);
        assert.equal(m.status, 'failed', mode);
        assert.equal(m.error?.kind, 'not-transferable', mode);
        assert.match(m.error!.message, pattern, mode);
      }
    });
  }
});

describe('timeout: exit 124, what was measured is kept, nothing is left running', () => {
  async function timedOut(fn: string, args: string, modes: string, timeoutS: number, measured: number) {
    const tag = newTag();
    const t0 = Date.now();
    // --call-timeout far past --timeout: this is the session timeout's path (its default,
    // derived from --timeout, would cut these calls first).
    const r = await runCli(['run', `${WORKERS}::${fn}`, '--args', args, '--modes', modes, ...FAST, '--timeout', String(timeoutS), '--call-timeout', '600', '--json'], {
      env: { LOOPLAG_TEST_TAG: tag },
    });
    const elapsedMs = Date.now() - t0;
    assert.equal(r.code, 124, r.stderr);
    assert.match(r.stderr, new RegExp(`^looplag: error \\[timeout\\]: gave up after ${timeoutS} s(?: [^\\n]+)? \\(${measured} mode\\(s\\) measured\\)\\n$`));
    // The deadline, the 1 s grace before the kill, and process start-up; not a hang.
    assert.ok(elapsedMs < timeoutS * 1000 + 4000, `took ${elapsedMs} ms`);
    await assertNoProcessLeft(tag);
    const report = reportOf(r);
    assert.equal(report.error?.kind, 'timeout');
    return report;
  }

  for (const mode of ['worker', 'process']) {
    test(`a ${mode} blocked in Atomics.wait`, async () => {
      const marker = path.join(scratchDir(), 'called');
      const report = await timedOut('blockInPool', `${lit(marker)}, 60`, `inline,${mode}`, 4, 1);
      assert.ok(fs.existsSync(marker), `the ${mode} run had started`);
      assert.equal(report.status, 'partial');
      assert.equal(run(report, 'inline').status, 'ok');
      assert.equal(run(report, mode).status, 'failed');
      assert.equal(run(report, mode).error?.kind, 'timeout');
    });
  }

  test('the main thread in an endless synchronous loop (deaf to the cancel message) is killed', async () => {
    const marker = path.join(scratchDir(), 'called');
    const report = await timedOut('spinForever', lit(marker), 'inline', 2, 0);
    assert.ok(fs.existsSync(marker), 'the inline run had started');
    assert.equal(report.status, 'failed');
  });
});

describe('crashed', () => {
  test('process.exit(3) inline ends the sidecar: exit 1, one line', async () => {
    const tag = newTag();
    const r = await runCli(['run', `${WORKERS}::exitNow`, '--args', '3', '--modes', 'inline,worker', ...FAST, '--json'], {
      env: { LOOPLAG_TEST_TAG: tag },
    });
    assertOneLineError(r, 'crashed', /the Node sidecar, while measuring, exited with code 3 \(user code may have called process\.exit\(3\)\)/);
    const report = reportOf(r);
    assert.equal(report.error?.kind, 'crashed');
    assert.notEqual(run(report, 'inline').status, 'ok');
    await assertNoProcessLeft(tag);
  });

  test('process.exit(4) in a worker thread or a pool child fails that run only (exit 5: its calls were lost)', async () => {
    const tag = newTag();
    const r = await runCli(['run', `${WORKERS}::exitInPool`, '--args', '4', '--modes', 'inline,worker,process', ...FAST, '--json'], {
      env: { LOOPLAG_TEST_TAG: tag },
    });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /^looplag: calls did not finish in worker \(.*; process \(/);
    const report = reportOf(r);
    assert.equal(report.error, null);
    assert.equal(report.status, 'partial');
    assert.equal(run(report, 'inline').status, 'ok');
    for (const mode of ['worker', 'process']) {
      const m = run(report, mode);
      assert.equal(m.status, 'failed', mode);
      assert.equal(m.error?.kind, 'crashed', mode);
      // Each member's warm-up call (on by default) is the first to run the exit.
      assert.match(m.error!.message, /exited with code 4 \(user code may have called process\.exit\(4\)\)/, mode);
    }
    await assertNoProcessLeft(tag);
  });
});

describe('cancelled', () => {
  async function interrupted(fn: string, modes: string, mode: string, measured: number) {
    const tag = newTag();
    const marker = path.join(scratchDir(), 'called');
    let cliPid = 0;
    const running = runCli(['run', `${WORKERS}::${fn}`, '--args', fn === 'blockInPool' ? `${lit(marker)}, 60` : lit(marker), '--modes', modes, ...FAST, '--json'], {
      env: { LOOPLAG_TEST_TAG: tag }, onStart: (pid) => (cliPid = pid),
    });
    await waitFor(() => fs.existsSync(marker), `the ${mode} run to start`);
    assert.ok(processesWithTag(tag).length >= 2, 'tagged processes while running');
    const t0 = Date.now();
    process.kill(cliPid, 'SIGINT');
    const r = await running;
    const elapsedMs = Date.now() - t0;
    assert.equal(r.code, 130, r.stderr);
    assert.ok(elapsedMs < 3000, `took ${elapsedMs} ms after SIGINT`);
    assert.equal(r.stderr, 'looplag: interrupted; stopping (interrupt again to stop at once)\n' +
      `looplag: error [cancelled]: cancelled (${measured} mode(s) measured)\n`);
    await assertNoProcessLeft(tag);
    const report = reportOf(r);
    assert.equal(report.error?.kind, 'cancelled');
    return report;
  }

  test('SIGINT while a worker thread is blocked: exit 130 within a couple of seconds, nothing left', async () => {
    const report = await interrupted('blockInPool', 'inline,worker', 'worker', 1);
    assert.equal(report.status, 'partial');
    assert.equal(run(report, 'inline').status, 'ok');
    assert.equal(run(report, 'worker').error?.kind, 'cancelled');
  });

  test('SIGINT while the main thread spins forever: the deaf sidecar is killed', async () => {
    const report = await interrupted('spinForever', 'inline', 'inline', 0);
    assert.equal(report.status, 'failed');
  });
});

test('a throwing call is a per-task error that keeps its message, not a failed run (exit 4: calls failed)', async () => {
  const r = await runCli(['run', `${WORKERS}::boom`, '--args', '42', '--modes', 'inline,worker,process', ...FAST, '--json']);
  // Issue 10: calls that raised exit 4 (was 0), so a CI gate sees them.
  assert.equal(r.code, 4, r.stderr);
  const report = reportOf(r);
  assert.equal(report.status, 'complete');
  for (const mode of ['inline', 'worker', 'process']) {
    const m = run(report, mode);
    assert.equal(m.status, 'ok', mode);
    assert.equal(m.taskStats.errorCount, 2, mode);
    for (const t of m.tasks) {
      assert.equal(t.error?.type, 'RangeError', mode);
      assert.equal(t.error?.message, 'task boom 42', mode);
      assert.match(t.error?.traceback ?? '', /RangeError: task boom 42\n\s+at boom \(.*workers\.cjs:\d+:\d+\)/, mode);
    }
  }
});

// ---------------------------------------------------------------------------

describe('user output never corrupts the report', () => {
  /** What one call of noisy(n) prints on stdout: two protocol look-alikes, then n x's. */
  const printed = (n: number) => '{"type":"done"}\n{"type":"error","error":{"kind":"crashed","message":"fake","detail":null}}\n' + 'x'.repeat(n);
  const CAP = 64 * 1024; // DEFAULT_OUTPUT_CAP_BYTES

  test('protocol look-alike lines on stdout, and stderr, are captured as text (inline)', async () => {
    const r = await runCli(['run', `${WORKERS}::noisy`, '--args', '5', '--modes', 'inline', ...FAST, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout.indexOf('\n'), r.stdout.length - 1, 'one JSON document on one line');
    const report = reportOf(r);
    assert.equal(report.status, 'complete');
    assert.equal(report.error, null);
    // The 2 calls and the unmeasured warm-up call before them (it ran in this mode too).
    const calls = 2 + (run(report, 'inline').warmupMs?.length ?? 0);
    assert.deepEqual(run(report, 'inline').output, {
      stdout: printed(5).repeat(calls), stderr: 'noisy stderr\n'.repeat(calls), truncated: false,
      stdoutBytes: calls * printed(5).length, stderrBytes: calls * 'noisy stderr\n'.length,
    });
  });

  test('10 MB on stdout is capped, head and tail kept (inline)', async () => {
    const n = 10 * 1024 * 1024;
    const r = await runCli(['run', `${WORKERS}::noisy`, '--args', String(n), '--modes', 'inline', ...FAST, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const inline = run(reportOf(r), 'inline');
    const out = inline.output;
    assert.equal(out.stdoutBytes, (2 + (inline.warmupMs?.length ?? 0)) * printed(n).length, 'the calls and the warm-up call');
    assert.equal(out.truncated, true);
    assert.ok(out.stdout.length < CAP + 200, `kept ${out.stdout.length} chars`);
    assert.ok(out.stdout.startsWith('{"type":"done"}\n'), 'the head is kept');
    assert.ok(/\n\.\.\. \[\d+ bytes omitted by Loop Lag\] \.\.\.\nx+$/.test(out.stdout), 'marker, then the tail');
  });

  test('what worker threads and pool children print is captured whole, in their own window', async () => {
    for (const modes of ['worker,process', 'process,worker']) {
      const r = await runCli(['run', `${WORKERS}::noisy`, '--args', '1000', '--modes', modes, ...FAST, '--json']);
      assert.equal(r.code, 0, r.stderr);
      for (const mode of modes.split(',')) {
        const out = run(reportOf(r), mode).output;
        // The 2 calls and each member's unmeasured warm-up call, made while the pool started.
        const calls = 2 + (run(reportOf(r), mode).warmupMs?.length ?? 0);
        assert.equal(out.stdoutBytes, calls * printed(1000).length, `${modes}: ${mode} stdout bytes`);
        assert.equal(out.stderr, 'noisy stderr\n'.repeat(calls), `${modes}: ${mode} stderr`);
      }
    }
  });

  test('--json through a shell pipe is the whole report', async () => {
    // `| cat`, as a user would pipe to jq: the pipe, unlike runCli's socket, takes 64 KiB at a time.
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} run ${JSON.stringify(`${WORKERS}::noisy`)} ` +
      `--args 1000000 --modes inline ${FAST.join(' ')} --json | cat`;
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn('sh', ['-c', command], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString('utf8')));
      child.on('error', reject);
      child.on('close', () => resolve(text));
    });
    assert.ok(stdout.length > 64 * 1024, `a report of ${stdout.length} chars: the test needs one over 64 KiB`);
    assert.doesNotThrow(() => Report.parse(JSON.parse(stdout)));
  });
});
