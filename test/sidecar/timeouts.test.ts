/**
 * `--timeout` is a hard limit, and nothing a run started outlives it (issue 11 §2):
 * - user code's children that keep copies of the sidecar's pipes (a `setsid()` fork, a
 *   detached Node child with inherited stdio) must not keep the CLI waiting for the
 *   pipes' end, and are killed with the run although they left its process group;
 * - user code that patches the clocks and timers cannot stop the tool's own timing;
 * - a timeout says which mode, phase and calls were running.
 * Real CLI runs; leftovers are found in /proc by a tag in their environment.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { assertNoProcessLeft, FIXTURES, newTag, reportOf, run, runCli, scratchFolders } from '../support/helpers';

const PY = path.join(FIXTURES, 'python', 'timeouts');
const JS = path.join(FIXTURES, 'node', 'timeouts');
const scratch = scratchFolders();
/** Fail fast where the old build waits a minute on the leftover child's pipes. */
const HANG = { timeout: 30_000 };

interface Timed {
  code: number | null;
  stderr: string;
  elapsedMs: number;
  report: ReturnType<typeof reportOf> | null;
}

/**
 * One CLI run with a fresh tag; afterwards no tagged process may be alive, and the
 * children the target noted (by pid, in a scratch folder) are killed whatever happened,
 * so a failing run cannot leave 60 s sleepers to the next test.
 */
async function runTagged(args: string[]): Promise<Timed> {
  const tag = newTag();
  const pids = scratch.dir();
  const t0 = Date.now();
  try {
    const r = await runCli([...args, '--json'], { env: { LOOPLAG_TEST_TAG: tag, LOOPLAG_TEST_PIDS_DIR: pids } });
    const elapsedMs = Date.now() - t0;
    await assertNoProcessLeft(tag);
    return { code: r.code, stderr: r.stderr, elapsedMs, report: r.report };
  } finally {
    for (const pid of fs.readdirSync(pids).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone (killed with the run)
      }
    }
  }
}

describe('user processes holding the sidecar\'s pipes do not hold the run', () => {
  for (const [what, target] of [
    ['a Python call that forks a setsid child of 60 s, then blocks', `${PY}/leftovers.py::fork_then_block`],
    ['a Node call that starts a detached child of 60 s with inherited stdio, then blocks', `${JS}/leftovers.cjs::detachThenBlock`],
  ]) {
    test(`--timeout 3: ${what} exits 124 within 5 s, nothing left`, HANG, async () => {
      const r = await runTagged(['run', target, '--modes', 'inline', '--concurrency', '1', '--timeout', '3', '--call-timeout', '600']);
      assert.equal(r.code, 124, r.stderr);
      assert.match(r.stderr, /error \[timeout\]: gave up after 3 s in inline mode/);
      // The bound: the deadline, the 1 s grace before the kill, start-up (3.7–4.6 s measured).
      assert.ok(r.elapsedMs < 5000, `took ${r.elapsedMs} ms`);
    });
  }

  for (const [what, target] of [
    ['a Python call that leaves a setsid child of 60 s', `${PY}/leftovers.py::fork_once`],
    ['a Node call that leaves a detached child of 60 s with inherited stdio', `${JS}/leftovers.cjs::detachOnce`],
  ]) {
    test(`a finished measurement with ${what} ends at once (exit 0), the child killed with the run`, HANG, async () => {
      const r = await runTagged(['run', target, '--modes', 'inline', '--timeout', '60']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(run(r.report!, 'inline').status, 'ok');
      assert.ok(r.elapsedMs < 15_000, `took ${r.elapsedMs} ms`);
    });
  }

  test('a Node child out of the group and without the tag (empty environment) holds the pipes: read for a bounded time only', HANG, async () => {
    // It survives the run (nothing can find it; the README says so): runTagged kills it by pid.
    const r = await runTagged(['run', `${JS}/leftovers.cjs::scrubbedOnce`, '--modes', 'inline', '--timeout', '60']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(run(r.report!, 'inline').status, 'ok');
    assert.ok(r.elapsedMs < 15_000, `took ${r.elapsedMs} ms`);
  });
});

describe('the tool\'s timing does not depend on what user code patches', () => {
  for (const [language, target, modes] of [
    ['Python (time.monotonic, time.perf_counter, time.sleep)', `${PY}/patched_clock.py::busy50`, ['inline', 'thread', 'process']],
    ['Node (setTimeout, setImmediate, setInterval, performance.now, process.hrtime, Date.now)', `${JS}/patchedClock.cjs::busy50`, ['inline', 'worker', 'process']],
  ] as const) {
    test(`${language} patched at import and in every call: each mode measured, a 50 ms call as ≈ 50 ms`, HANG, async () => {
      const r = await runTagged(['run', target, '--modes', modes.join(','), '--concurrency', '4', '--workers', '2', '--timeout', '25', '--no-gil-probe']);
      assert.equal(r.code, 0, r.stderr);
      const report = r.report!;
      for (const mode of modes) {
        const m = run(report, mode);
        assert.equal(m.status, 'ok', `${mode}: ${JSON.stringify(m.error)}`);
        assert.equal(m.taskStats.okCount, 4, mode);
        // A busy wait of 50 ms on a real clock: never shorter; longer only by preemption.
        assert.ok(m.taskStats.runP50Ms! >= 49 && m.taskStats.runP50Ms! < 200, `${mode}: p50 ${m.taskStats.runP50Ms} ms`);
      }
      // Four 50 ms calls back to back on the loop: the heartbeat still saw the stall.
      const inline = run(report, 'inline');
      assert.ok(inline.lag.maxMs >= 90, `inline max lag ${inline.lag.maxMs} ms`);
    });
  }
});

describe('a session timeout says where the run hung', () => {
  test('Python thread mode: the mode, how many calls of the target finished, how long the longest has run', HANG, async () => {
    const r = await runTagged(['run', `${PY}/leftovers.py::slow_after`, '--modes', 'thread', '--concurrency', '10', '--workers', '4', '--timeout', '3', '--call-timeout', '600']);
    assert.equal(r.code, 124, r.stderr);
    const m = /gave up after 3 s in thread mode: (\d+) of 10 calls of `slow_after` finished, (\d+) not finished \(running or queued; the longest for (\d+\.\d) s\) \(0 mode\(s\) measured\)\n$/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.equal(Number(m[1]) + Number(m[2]), 10);
    assert.ok(Number(m[2]) >= 6, 'at most the four fast calls finished');
    assert.ok(Number(m[3]) > 0 && Number(m[3]) <= 3, `longest ${m[3]} s`);
    assert.equal(r.report!.error?.kind, 'timeout');
  });

  test('Node worker mode: calls that never finish are named', HANG, async () => {
    const r = await runTagged(['run', `${JS}/leftovers.cjs::never`, '--modes', 'worker', '--concurrency', '2', '--workers', '2', '--no-warmup', '--timeout', '3', '--call-timeout', '600']);
    assert.equal(r.code, 124, r.stderr);
    assert.match(r.stderr, /gave up after 3 s in worker mode: 0 of 2 calls of `never` finished, 2 not finished \(running or queued; the longest for \d+\.\d s\)/);
  });

  test('before any mode: the import is named', HANG, async () => {
    const folder = scratch.dir();
    const file = path.join(folder, 'slow_import.py');
    fs.writeFileSync(file, 'import time\ntime.sleep(60)\n\ndef f():\n    pass\n');
    const r = await runTagged(['run', `${file}::f`, '--modes', 'inline', '--timeout', '3', '--call-timeout', '600']);
    assert.equal(r.code, 124, r.stderr);
    assert.match(r.stderr, /gave up after 3 s while importing slow_import\.py \(0 mode\(s\) measured\)/);
  });
});
