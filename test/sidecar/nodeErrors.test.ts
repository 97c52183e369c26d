/**
 * Every way a JavaScript/TypeScript run can go wrong, through the real CLI and a real
 * `node`: the exit code, the one stderr line and the report for each error kind, plus
 * per-task exceptions and user output that must never corrupt the report. The cases
 * Python has too (a module that cannot load, bad arguments, a missing runtime, values
 * a pool cannot take, throwing calls) are one table with the Python ones:
 * test/support/errorCases.ts.
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
import { assertNoProcessLeft, assertOneLineError, BIN, newTag, reportOf, REPO, run, runCli, scratchFolders } from '../support/helpers';
import { ERROR_FIXTURES, expectInterrupted, expectTimeout, sharedErrorTests } from '../support/errorCases';

const { workers: WORKERS, fast: FAST } = ERROR_FIXTURES.node;
const ERRORS = path.dirname(WORKERS);

const scratch = scratchFolders();

const scratchDir = scratch.dir;

/** A JS string literal for --args (a path, here). */
const lit = (s: string) => JSON.stringify(s);

// ---------------------------------------------------------------------------

sharedErrorTests('node');

describe('the target cannot be loaded: exit 1, one line, and the kind in the report', () => {
  test('syntax-error in TypeScript names its line', async () => {
    const file = path.join(ERRORS, 'syntax.ts');
    const r = await runCli(['run', `${file}::ok`, '--args', '{ x: 1 }', '--modes', 'inline', ...FAST, '--json']);
    assertOneLineError(r, 'syntax-error', /\(line 10\)/);
    assert.equal(reportOf(r).error?.line, 10);
    assert.equal(reportOf(r).error?.file, file);
    assert.equal(reportOf(r).target.language, 'typescript');
  });
});

describe('timeout: exit 124, what was measured is kept, nothing is left running', () => {
  function timedOut(fn: string, args: string, modes: string, timeoutS: number, measured: number) {
    return expectTimeout([`${WORKERS}::${fn}`, '--args', args, '--modes', modes, ...FAST], timeoutS, measured);
  }

  for (const mode of ['worker', 'process']) {
    test(`a ${mode} blocked in Atomics.wait`, async () => {
      let marker = path.join(scratchDir(), 'called');
      let report = await timedOut('blockInPool', `${lit(marker)}, 60`, `inline,${mode}`, 4, 1);
      if (!fs.existsSync(marker)) {
        // 4 s did not reach the pool's first call (a fresh sidecar per mode and a pool start,
        // on a loaded machine): again with room, so the test is about the block, not the load.
        marker = path.join(scratchDir(), 'called-again');
        report = await timedOut('blockInPool', `${lit(marker)}, 60`, `inline,${mode}`, 10, 1);
      }
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
  function interrupted(fn: string, modes: string, mode: string, measured: number) {
    const marker = path.join(scratchDir(), 'called');
    const args = [`${WORKERS}::${fn}`, '--args', fn === 'blockInPool' ? `${lit(marker)}, 60` : lit(marker), '--modes', modes, ...FAST];
    return expectInterrupted(args, marker, `the ${mode} run to start`, measured);
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
