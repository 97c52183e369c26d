/**
 * Calls that do not finish, through the real CLI and real python3/node sidecars:
 * `--call-timeout` cuts a window whose call never ends (the sidecar's own cut, and the
 * host's watchdog when the sidecar cannot speak), calls lost with a pool member count
 * as crashed, and a window cut by --timeout in a stall keeps the stall. Each run carries
 * a LOOPLAG_TEST_TAG, so a test also proves nothing of it outlived the CLI.
 *
 * Durations are checked against the --timeout they must beat by a wide margin (the
 * machine may be busy), never as exact figures.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { assertNoProcessLeft, CliResult, FIXTURES, newTag, reportOf, run, runCli } from '../support/helpers';

const PY = path.join(FIXTURES, 'python', 'calls', 'targets.py');
const JS = path.join(FIXTURES, 'node', 'calls', 'targets.mjs');
/** Far above what any of these runs needs: a run that reaches it has hung. */
const TIMEOUT_S = 60;
const FAST = ['--concurrency', '2', '--workers', '2', '--no-gil-probe', '--timeout', String(TIMEOUT_S)];

async function cli(args: string[]): Promise<{ r: CliResult; seconds: number; tag: string }> {
  const tag = newTag();
  const t0 = Date.now();
  const r = await runCli(['run', ...args, '--json'], { env: { LOOPLAG_TEST_TAG: tag } });
  return { r, seconds: (Date.now() - t0) / 1000, tag };
}

/** The run's mode cut by the call timeout: failed, partial, every call unfinished, named in the error. */
function assertCut(r: CliResult, mode: string, fn: string): void {
  const report = reportOf(r);
  const cut = run(report, mode);
  assert.equal(cut.status, 'failed', JSON.stringify(cut.error));
  assert.equal(cut.error?.kind, 'call-timeout');
  assert.match(cut.error!.message, new RegExp(`calls 1–2 of ${fn}`));
  assert.equal(cut.partial, true);
  assert.equal(cut.taskStats.unfinishedCount, 2);
  assert.equal(cut.taskStats.okCount, 0, 'an unfinished call is not ok');
  assert.ok(cut.tasks.every((t) => t.status === 'unfinished'));
  assert.equal(report.status, 'partial');
  assert.equal(report.error, null, 'a call timeout is the mode\'s, not the session\'s');
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, new RegExp(`^looplag: calls did not finish in ${mode} \\(2 unfinished of 2 calls: `, 'm'));
  assert.doesNotMatch(report.headline ?? '', /responsive|safe/i);
}

function assertMeasured(r: CliResult, mode: string): void {
  const next = run(reportOf(r), mode);
  assert.equal(next.status, 'ok', JSON.stringify(next.error));
  assert.equal(next.taskStats.okCount, 2);
  assert.ok(next.lag.sampleCount > 0);
}

describe('--call-timeout: the sidecar stops waiting', () => {
  test('Node: a promise that never settles is cut at 1 s, named, and worker mode runs next (exit 5)', async () => {
    const { r, seconds, tag } = await cli([`${JS}::neverOnMain`, '--modes', 'inline,worker', '--call-timeout', '1', ...FAST]);
    assertCut(r, 'inline', 'neverOnMain');
    assert.match(run(reportOf(r), 'inline').error!.message, /did not finish within 1 s \(--call-timeout\)/);
    // The window up to the cut is kept: heartbeat samples over about the call timeout.
    assert.ok(run(reportOf(r), 'inline').lag.sampleCount > 0);
    assertMeasured(r, 'worker');
    assert.ok(seconds < TIMEOUT_S / 3, `took ${seconds} s`);
    await assertNoProcessLeft(tag);
  });

  test('Python: an asyncio coroutine that never finishes is cut at 1 s, and thread mode runs next (exit 5)', async () => {
    const { r, seconds, tag } = await cli([`${PY}::never_on_loop`, '--modes', 'inline,thread', '--call-timeout', '1', ...FAST]);
    assertCut(r, 'inline', 'never_on_loop');
    assert.ok(run(reportOf(r), 'inline').lag.sampleCount > 0);
    assertMeasured(r, 'thread');
    assert.ok(seconds < TIMEOUT_S / 3, `took ${seconds} s`);
    await assertNoProcessLeft(tag);
  });
});

describe('--call-timeout: the host\'s watchdog when the sidecar cannot act', () => {
  test('Python: a coroutine that swallows the cancel cannot keep the sidecar alive after the cut', async () => {
    const { r, seconds, tag } = await cli([`${PY}::ignores_cancel`, '--modes', 'inline', '--call-timeout', '1', ...FAST]);
    assertCut(r, 'inline', 'ignores_cancel');
    assert.ok(seconds < TIMEOUT_S / 3, `took ${seconds} s`);
    await assertNoProcessLeft(tag);
  });

  test('Node: a sync loop that never ends is cut by the host, and worker mode runs next', async () => {
    const { r, seconds, tag } = await cli([`${JS}::spinOnMain`, '--modes', 'inline,worker', '--call-timeout', '1', ...FAST]);
    assertCut(r, 'inline', 'spinOnMain');
    const cut = run(reportOf(r), 'inline');
    assert.match(cut.error!.message, /the sidecar could not answer/);
    // No invented figures: the sidecar's samples died with it.
    assert.equal(cut.lag.sampleCount, 0);
    assertMeasured(r, 'worker');
    assert.ok(seconds < TIMEOUT_S / 3, `took ${seconds} s`);
    await assertNoProcessLeft(tag);
  });

  test('Python: a call blocking the loop but not the GIL is cut by the host, the stall kept in the window', async () => {
    // time.sleep on the loop: the sidecar's loop cannot act, its cancel thread can.
    const { r, tag } = await cli([`${PY}::stall`, '--args', '20', '--modes', 'inline', '--concurrency', '1', '--no-warmup', '--call-timeout', '1', '--no-gil-probe', '--timeout', String(TIMEOUT_S)]);
    assert.equal(r.code, 5, r.stderr);
    const cut = run(reportOf(r), 'inline');
    assert.equal(cut.error?.kind, 'call-timeout', JSON.stringify(cut.error));
    assert.match(cut.error!.message, /call 1 of stall in inline did not finish within 1 s \(--call-timeout\).*the loop was blocked at the cut/);
    assert.equal(cut.partial, true);
    assert.equal(cut.taskStats.unfinishedCount, 1);
    // The stall in progress is the window's last sample: at least the limit, and the grace.
    assert.ok(cut.lag.maxMs >= 1000, `lag max ${cut.lag.maxMs} ms`);
    await assertNoProcessLeft(tag);
  });

  test('Python: a GIL-holding call in thread mode is cut by the host, and process mode runs next', async () => {
    const { r, seconds, tag } = await cli([`${PY}::gil_held_in_sidecar`, '--modes', 'thread,process', '--call-timeout', '1', ...FAST]);
    const report = reportOf(r);
    const cut = run(report, 'thread');
    assert.equal(cut.error?.kind, 'call-timeout', JSON.stringify(cut.error));
    assert.match(cut.error!.message, /gil_held_in_sidecar/);
    assert.match(cut.error!.message, /the sidecar could not answer/);
    assert.equal(cut.partial, true);
    assert.equal(cut.taskStats.unfinishedCount, 2);
    assertMeasured(r, 'process');
    assert.equal(r.code, 5, r.stderr);
    assert.ok(seconds < TIMEOUT_S / 3, `took ${seconds} s`);
    await assertNoProcessLeft(tag);
  });
});

describe('--call-timeout: only calls that run past it are cut', () => {
  test('Node inline: 4 sync calls of 0.7 s back to back, --call-timeout 1: each is heard ending, none is cut (exit 0)', async () => {
    // They run in one check phase, 2.8 s without a turn of the loop: the watchdog must
    // judge each call, not the silence between the window's first and last progress.
    const { r } = await cli([`${JS}::busy`, '--args', '700', '--modes', 'inline', '--concurrency', '4', '--call-timeout', '1', '--no-warmup', '--timeout', String(TIMEOUT_S)]);
    assert.equal(r.code, 0, r.stderr);
    const inline = run(reportOf(r), 'inline');
    assert.equal(inline.status, 'ok', JSON.stringify(inline.error));
    assert.equal(inline.taskStats.okCount, 4);
  });

  test('a sweep window the host watchdog cuts (GIL held) is not dropped: status partial, exit 5', async () => {
    const tag = newTag();
    const out = path.join(os.tmpdir(), `${tag}.sweep.json`);
    after(() => fs.rmSync(out, { force: true }));
    const t0 = Date.now();
    const r = await runCli(['sweep', `${PY}::gil_held_later`, '--modes', 'thread', '--workers', '1,2,4', '--concurrency', '4',
      '--call-timeout', '1', '--sweep-budget-s', '3', '--no-gil-probe', '--timeout', String(TIMEOUT_S), '--out', out], { env: { LOOPLAG_TEST_TAG: tag } });
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(r.code, 5, r.stderr);
    const sweep = JSON.parse(fs.readFileSync(out, 'utf8')) as { status: string; error: { kind: string; message: string } | null };
    assert.equal(sweep.status, 'partial');
    assert.equal(sweep.error?.kind, 'call-timeout');
    assert.match(sweep.error!.message, /gil_held_later/);
    assert.ok(seconds < TIMEOUT_S / 3, `took ${seconds} s`);
    await assertNoProcessLeft(tag);
  });
});

describe('calls lost with a pool member are crashed', () => {
  for (const [lang, target] of [['Python', `${PY}::exit_on_second_call`], ['Node', `${JS}::exitOnSecondCall`]] as const) {
    test(`${lang}: a process-pool member exits mid-window: crashed calls, status partial, exit 5, stderr says so`, async () => {
      const { r, tag } = await cli([target, '--modes', 'process', '--concurrency', '4', '--workers', '2', '--no-gil-probe', '--timeout', String(TIMEOUT_S)]);
      const report = reportOf(r);
      const proc = run(report, 'process');
      assert.equal(proc.status, 'failed');
      assert.equal(proc.error?.kind, 'crashed');
      assert.ok((proc.taskStats.crashedCount ?? 0) >= 1, JSON.stringify(proc.taskStats));
      assert.equal(proc.taskStats.okCount + (proc.taskStats.crashedCount ?? 0), 4, 'every call counted once');
      assert.ok(proc.tasks.filter((t) => t.endMs === null).every((t) => t.status === 'crashed'));
      assert.equal(proc.partial, true);
      assert.equal(report.status, 'partial');
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /^looplag: calls did not finish in process \(\d+ crashed of 4 calls: /m);
      await assertNoProcessLeft(tag);
    });
  }
});

describe('a window cut by --timeout is kept', () => {
  test('Python: --timeout in a 20 s stall keeps the partial window, the stall in lag.maxMs (exit 124)', async () => {
    // --timeout 5: the window opens after the interpreter's start and the baseline (slow
    // on a busy machine), and the cut still lands ≥ 2 s into the stall.
    const { r, seconds, tag } = await cli([`${PY}::stall`, '--args', '20', '--modes', 'inline', '--concurrency', '1', '--no-warmup', '--no-gil-probe', '--timeout', '5', '--call-timeout', '600']);
    assert.equal(r.code, 124, r.stderr);
    assert.ok(seconds < 15, `took ${seconds} s: the cut did not wait for the stall to end`);
    const report = reportOf(r);
    const inline = run(report, 'inline');
    assert.equal(inline.status, 'failed');
    assert.equal(inline.error?.kind, 'timeout');
    assert.equal(inline.partial, true);
    assert.equal(inline.taskStats.unfinishedCount, 1);
    const call = inline.tasks[0];
    assert.ok(call.startMs !== null && call.endMs === null);
    // The stall measured: from the call's start to the cut (the window's end), less a
    // heartbeat's slack; and the timeout's cause, ≥ 2 s of it.
    const stallMs = inline.wallMs - call.startMs!;
    assert.ok(stallMs >= 2000, `stall ${stallMs} ms before the cut`);
    assert.ok(inline.lag.maxMs >= stallMs - 50, `lag max ${inline.lag.maxMs} ms < stall ${stallMs} ms`);
    await assertNoProcessLeft(tag);
  });
});
