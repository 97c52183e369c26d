/**
 * What the measurements mean, checked on real python3 through the real CLI: each
 * property is a mechanism of CPython's GIL or of the event loop, asserted as a ratio
 * with room for a noisy 2-core machine, never as a recorded number.
 *
 * Some bounds only hold when our threads get the CPU when they ask for it. When other
 * processes load the machine, our threads wait on the CPU run queue as well as for the
 * GIL, and the report itself calls the window untrustworthy; such a window is measured
 * again, as the report advises, and the test is skipped, saying why, if it stays busy.
 */
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { test, type TestContext } from 'node:test';
import { BUSY_MACHINE_FRAC } from '../../src/report/quality';
import type { ModeRun, Report } from '../../src/shared/protocol';
import { measureMode } from '../support/helpers';

const WORKLOADS = 'test/fixtures/python/workloads.py';
/** Pure-Python bytecode loop: holds the GIL until the interpreter forces a switch. */
const SPIN = `${WORKLOADS}::spin`;
/** One sha256 pass over 128 MiB: a single C call (~75 ms) that releases the GIL. */
const HASH = `${WORKLOADS}::hash_big_buffer`;
/** pow() on big ints: one C call that holds the GIL ~150 ms (the example). */
const POW = 'examples/python/cpu_bound.py::cpu_bound_task';

/** Measurements of a busy window before giving up and skipping. */
const ATTEMPTS_ON_BUSY_MACHINE = 3;

interface Measured {
  report: Report;
  run: ModeRun;
  /** The switch interval the sidecar ran with, ms. */
  switchMs: number;
}

/** One mode of one target through `looplag run --json`; every call must have succeeded. */
async function measure(t: TestContext, target: string, mode: string, options: string[]): Promise<Measured> {
  const { report, run: r } = await measureMode(target, mode, options);
  assert.ok(report.settings.switchIntervalS !== null, 'the report names the switch interval');
  const m = { report, run: r, switchMs: report.settings.switchIntervalS * 1000 };
  t.diagnostic(describe(m));
  return m;
}

/** `measure`, again while other processes' load makes the report distrust the window. */
async function measureOnQuietMachine(t: TestContext, target: string, mode: string, options: string[]): Promise<Measured> {
  let m = await measure(t, target, mode, options);
  for (let attempt = 1; attempt < ATTEMPTS_ON_BUSY_MACHINE && isBusy(m); attempt++) {
    m = await measure(t, target, mode, options);
  }
  return m;
}

function isBusy(m: Measured): boolean {
  const bg = m.run.backgroundCpuFrac;
  return bg !== null && bg >= BUSY_MACHINE_FRAC;
}

/** Skips the test, saying why, unless the report trusts every window; true when it does. */
function quietOrSkip(t: TestContext, ...ms: Measured[]): boolean {
  const reasons: string[] = [];
  for (const m of ms) {
    const bg = m.run.backgroundCpuFrac;
    if (bg === null) reasons.push(`background CPU load cannot be measured here (${m.run.mode} window)`);
    else if (bg >= BUSY_MACHINE_FRAC) {
      reasons.push(`other processes used ${(bg * 100).toFixed(0)}% of the CPU during the ${m.run.mode} window ` +
        `(W=${m.run.workers}, switch=${m.switchMs} ms) in each of ${ATTEMPTS_ON_BUSY_MACHINE} attempts; ` +
        `the report trusts < ${BUSY_MACHINE_FRAC * 100}%`);
    }
  }
  if (!reasons.length) return true;
  t.skip(reasons.join('; '));
  return false;
}

/** The numbers behind a verdict, for assertion messages and the test log. */
function describe(m: Measured): string {
  const { lag, gilWait } = m.run;
  const bg = m.run.backgroundCpuFrac;
  return `${m.run.mode} W=${m.run.workers} switch=${m.switchMs} ms: wall ${m.run.wallMs.toFixed(1)} ms, ` +
    `Σ task ${m.run.taskStats.runSumMs.toFixed(1)} ms, lag p50 ${lag.p50Ms} / p99 ${lag.p99Ms} / max ${lag.maxMs} ms ` +
    `over ${lag.sampleCount} beats, stalls ${lag.stallCount} (${lag.stalledMs.toFixed(1)} ms), ` +
    `GIL wait p50 ${gilWait?.p50Ms ?? '–'} ms, background ${bg === null ? '?' : bg.toFixed(3)}`;
}

test('inline pure Python: the loop is blocked for every call back to back, and the GIL probe waits one interval', async (t) => {
  // The probe runs in a measured window only when asked (issue 10): here it is what is checked.
  const m = await measure(t, SPIN, 'inline', ['--concurrency', '8', '--args', '2_000_000', '--gil-probe-in-window']);
  // All N calls run in one loop iteration, so the heartbeat wakes once, after the last.
  // Other processes' load stretches the calls and the stall alike.
  const sumMs = m.run.taskStats.runSumMs; // Σ (endMs − startMs) over the tasks
  assert.ok(m.run.lag.maxMs >= 0.9 * sumMs, `max lag ${m.run.lag.maxMs} ms < 0.9 × Σ task ${sumMs} ms`);
  // The loop thread never lets the GIL go by itself: the probe gets it only when the
  // interpreter forces a switch, one interval after the probe asked (p50 in 0.8–1.5 ×).
  const gil = m.run.gilWait!;
  assert.ok(gil.sampleCount >= 20, describe(m));
  assert.ok(gil.p50Ms >= 0.8 * m.switchMs && gil.p50Ms <= 1.5 * m.switchMs, `GIL wait p50 ${gil.p50Ms} ms: ${describe(m)}`);
});

test('thread + pow(): the loop is stalled for most of the window (stalled ≥ 0.8 × wall)', async (t) => {
  // pow() holds the GIL for the whole call: a thread pool serialises the calls and the
  // loop only runs, at best, in the gaps between two of them.
  const m = await measure(t, POW, 'thread', ['--concurrency', '6']);
  assert.ok(m.run.lag.stalledMs >= 0.8 * m.run.wallMs, describe(m));
});

test('thread + pure Python: lag is whole switch intervals, and grows with the workers and the interval', async (t) => {
  // Each wake-up of the loop waits for a worker to be forced off the GIL (≥ one
  // interval); the more threads queue for the GIL, the longer the loop can lose the race.
  // The GIL probe is off: it is one more contender of our own, and it makes the number of
  // intervals the loop loses in a row, hence p99, vary more from run to run.
  const opts = (workers: number, switchS: number) => ['--concurrency', '16', '--args', '3_000_000',
    '--workers', String(workers), '--switch-interval', String(switchS), '--no-gil-probe'];
  const base = await measureOnQuietMachine(t, SPIN, 'thread', opts(1, 0.005));
  const manyWorkers = await measureOnQuietMachine(t, SPIN, 'thread', opts(8, 0.005));
  const longInterval = await measureOnQuietMachine(t, SPIN, 'thread', opts(1, 0.02));

  // Load only adds to a wait, so this half holds on a busy machine too.
  for (const m of [base, manyWorkers, longInterval]) {
    assert.ok(m.run.lag.p50Ms >= 0.5 * m.switchMs, describe(m));
  }
  // Run-queue waits inflate the base p99 on a busy machine: compare quiet windows only.
  if (!quietOrSkip(t, base, manyWorkers, longInterval)) return;
  // "Grows", by a factor well clear of run-to-run noise (about 10× and 4× in practice).
  assert.ok(manyWorkers.run.lag.p99Ms >= 2 * base.run.lag.p99Ms,
    `p99 did not grow with W:\n${describe(base)}\n${describe(manyWorkers)}`);
  // The interval sets the typical wake-up's wait (p50: one interval, so 4× here); p99 also
  // takes other processes' run-queue waits, which a window trusted at 22% background
  // inflated to 4.7 intervals at 5 ms (CI: 23.5 ms against 38.6 ms at 20 ms).
  assert.ok(longInterval.run.lag.p50Ms >= 2 * base.run.lag.p50Ms && longInterval.run.lag.p99Ms >= base.run.lag.p99Ms,
    `lag did not grow with the switch interval:\n${describe(base)}\n${describe(longInterval)}`);
});

test('thread + hashlib: hashing releases the GIL, so the loop never stalls (no lag ≥ 50 ms)', async (t) => {
  // As many workers as cores: the loop thread then competes with them for the GIL, not
  // for a core (six hashing threads on two cores, plus other processes' load, kept it off
  // the CPU for over 50 ms). With that, the bound holds on a busy machine too: a quiet
  // window is preferred but not required.
  const workers = String(os.availableParallelism());
  const m = await measureOnQuietMachine(t, HASH, 'thread', ['--concurrency', '12', '--workers', workers]);
  const stallMs = m.report.settings.stallMs;
  assert.equal(stallMs, 50);
  // Each call is one C call longer than a stall: had it held the GIL, the loop would have stalled.
  const cpuMs = m.run.tasks.map((task) => task.cpuMs ?? 0).sort((a, b) => a - b);
  assert.ok(cpuMs[cpuMs.length >> 1] >= stallMs, `calls too short to tell (CPU ms: ${cpuMs.join(', ')})`);
  assert.equal(m.run.lag.stallCount, 0, describe(m));
});

test('process: the loop stays responsive (p99 < 10 ms) when the machine is otherwise quiet', async (t) => {
  // The workers have their own GILs; what is left is CPU scheduling.
  const m = await measureOnQuietMachine(t, SPIN, 'process', ['--concurrency', '8', '--args', '4_000_000']);
  if (!quietOrSkip(t, m)) return;
  assert.ok(m.run.lag.p99Ms < 10, describe(m));
});
