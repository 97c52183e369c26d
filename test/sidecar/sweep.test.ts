/**
 * `looplag sweep` on a real python3 through the real CLI: the recommended pool size is
 * one a person could deploy (within the budget, a thread pool never recommended for work
 * the GIL serialises when its lag is over budget, processes for CPU-bound Python), the
 * `--json` document validates as `looplag.sweep/1`, a sweep costs little beyond its
 * measured windows, Ctrl+C leaves no process behind, and bad worker lists are usage
 * errors.
 *
 * Throughput comparisons need our processes to get the cores they ask for: they are
 * measured again while the sweep distrusts its windows, then skipped, saying how busy
 * the machine was. What load can only strengthen (a GIL-holding call's stall) is
 * asserted regardless.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { BUSY_MACHINE_FRAC } from '../../src/report/quality';
import { formatSweepText } from '../../src/report/sweepText';
import { Sweep, SWEEP_SCHEMA, type SweepPoint } from '../../src/shared/protocol';
import { assertNoProcessLeft, BIN, FIXTURES, newTag, processesWithTag, REPO, tmpDir, waitFor } from '../support/helpers';

const PY = 'test/fixtures/python/advice';
/** Naive recursive fib(n) in pure Python: ~45 ms for n=28, time-sliced. */
const FIB = `${PY}/pure_python.py::fib`;
/** sorted() of 300k ints: ~80 ms in one C call holding the GIL. */
const SORT = `${PY}/holds_gil.py::sort_big_list`;
/** zlib.compress of 4 MiB of noise: ~80 ms with the GIL released. */
const DEFLATE = `${PY}/releases_gil.py::deflate_noise`;

const ATTEMPTS_ON_BUSY_MACHINE = 3;

const scratch: string[] = [];
after(() => {
  for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true });
});

interface SweepResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Validated `--json` output, when there was any. */
  sweep: Sweep | null;
  /** From spawning the CLI to its exit, measured here (not the sweep's own clock). */
  elapsedMs: number;
}

/** `node bin/looplag.js sweep …` (runCli parses `--json` as a report, so not that). */
function runSweepCli(args: string[], opts: { env?: NodeJS.ProcessEnv; onStart?(pid: number): void } = {}): Promise<SweepResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, 'sweep', ...args], {
      cwd: REPO,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    opts.onStart?.(child.pid!);
    child.on('close', (code) => {
      const elapsedMs = performance.now() - t0;
      let sweep: Sweep | null = null;
      try {
        if (args.includes('--json') && stdout.trim()) sweep = Sweep.parse(JSON.parse(stdout));
      } catch (e) {
        reject(new Error(`--json output is not a valid ${SWEEP_SCHEMA}: ${(e as Error).message}\n${stdout.slice(0, 2000)}`));
        return;
      }
      resolve({ code, stdout, stderr, sweep, elapsedMs });
    });
  });
}

/** A complete sweep; again while it distrusts its windows. */
async function sweepOnQuietMachine(t: TestContext, target: string, options: string[]): Promise<SweepResult> {
  const once = async () => {
    const r = await runSweepCli([target, '--timeout', '60', ...options, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = r.sweep!;
    assert.equal(s.status, 'complete', JSON.stringify(s.error));
    for (const p of s.points) assert.equal(p.status, 'ok', `${p.mode} W=${p.workers}: ${JSON.stringify(p.error)}`);
    t.diagnostic(numbersOf(r));
    return r;
  };
  let r = await once();
  for (let attempt = 1; attempt < ATTEMPTS_ON_BUSY_MACHINE && !r.sweep!.quality.trustworthy; attempt++) r = await once();
  return r;
}

function quietOrSkip(t: TestContext, r: SweepResult): boolean {
  const s = r.sweep!;
  if (s.quality.trustworthy) return true;
  const busy = s.points.filter((p) => (p.backgroundCpuFrac ?? 0) >= BUSY_MACHINE_FRAC);
  t.skip(`other processes used up to ${((s.quality.backgroundCpuFrac ?? 0) * 100).toFixed(0)}% of the CPU ` +
    `(${busy.length} of ${s.points.length} windows at ≥ ${BUSY_MACHINE_FRAC * 100}%) in each of ${ATTEMPTS_ON_BUSY_MACHINE} sweeps; ` +
    'throughput and lag comparisons are not checked');
  return false;
}

function points(s: Sweep, mode: string): SweepPoint[] {
  return s.points.filter((p) => p.mode === mode);
}

function point(s: Sweep, mode: string, workers: number): SweepPoint {
  const p = s.points.find((x) => x.mode === mode && x.workers === workers);
  assert.ok(p, `no ${mode} W=${workers} point`);
  return p;
}

function recommendation(s: Sweep, mode: string) {
  const r = s.recommendations.find((x) => x.mode === mode);
  assert.ok(r, `no ${mode} recommendation`);
  return r;
}

function maxThroughput(ps: SweepPoint[]): number {
  return Math.max(...ps.map((p) => p.throughputPerS ?? 0));
}

/** The numbers behind a verdict, for assertion messages and the test log. */
function numbersOf(r: SweepResult): string {
  const s = r.sweep!;
  const lines = [`headline: ${s.headline}`,
    `elapsed ${r.elapsedMs.toFixed(0)} ms (sweep's own total ${s.settings.totalMs} ms, windows ${s.settings.windowsMs} ms), ` +
    `background ${s.quality.backgroundCpuFrac ?? '?'}`];
  for (const p of s.points) {
    lines.push(`${p.mode} W=${p.workers} (${p.effectiveWorkers} busy): wall ${p.wallMs.toFixed(1)} ms, ` +
      `${p.throughputPerS?.toFixed(1) ?? '–'}/s, lag p99 ${p.lag.p99Ms} / max ${p.lag.maxMs} ms, CPU/wall ${p.cpuParallelism.toFixed(2)}, ` +
      `start-up ${p.startupMs ?? '–'}, background ${p.backgroundCpuFrac ?? '?'}`);
  }
  for (const rec of s.recommendations) lines.push(`→ ${rec.mode}: W=${rec.workers ?? 'none'}: ${rec.reason}`);
  return lines.join('\n');
}

/** What every recommendation must be, on any machine: a W that was measured, within the budget. */
function assertRecommendationsWithinBudget(s: Sweep): void {
  const budget = s.settings.lagBudgetMs;
  for (const rec of s.recommendations) {
    if (rec.workers === null) {
      assert.equal(rec.code, null);
      continue;
    }
    const p = point(s, rec.mode, rec.workers);
    assert.ok(p.lag.maxMs <= budget && rec.lagMaxMs! <= budget, `${rec.mode} W=${rec.workers}: max lag ${p.lag.maxMs} ms over the ${budget} ms budget`);
    assert.ok(rec.code?.includes(`max_workers=${rec.workers}`), rec.code ?? 'no code');
  }
}

describe('pure Python (fib), 7 pool sizes × thread and process', () => {
  const WORKERS = [1, 2, 3, 4, 6, 8, 40];
  const CONCURRENCY = 6;
  let r: SweepResult;

  test('the --json document validates, with a point per size and mode in order', async (t) => {
    // 8 s for 14 windows: ~0.4 s and 3 rounds each, enough for these comparisons and a short test.
    r = await sweepOnQuietMachine(t, FIB, ['--args', '28', '--modes', 'thread,process', '--workers', WORKERS.join(','), '--concurrency', String(CONCURRENCY), '--sweep-budget-s', '8']);
    const s = r.sweep!;
    assert.equal(s.schema, 'looplag.sweep/1');
    assert.deepEqual(s.settings.workers, WORKERS);
    assert.deepEqual(s.points.map((p) => `${p.mode}:${p.workers}`), ['thread', 'process'].flatMap((m) => WORKERS.map((w) => `${m}:${w}`)));
    for (const p of s.points) {
      assert.equal(p.effectiveWorkers, Math.min(p.workers, CONCURRENCY));
      // One pool per mode, started once: start-up is on each mode's first point only.
      assert.equal(p.startupMs !== null, p.workers === WORKERS[0], `${p.mode} W=${p.workers} start-up ${p.startupMs}`);
    }
    if (s.best) assert.equal(recommendation(s, s.best.mode).workers, s.best.workers);
  });

  test('it costs little beyond its windows: start to exit ≤ 1.5 × the windows\' wall time', (t) => {
    assert.ok(r, 'the sweep ran');
    const s = r.sweep!;
    const sum = s.points.reduce((a, p) => a + p.wallMs, 0);
    assert.ok(Math.abs(s.settings.windowsMs! - sum) < 1, `windowsMs ${s.settings.windowsMs} = Σ point wall ${sum}`);
    // The sweep's own clock starts after the CLI has started: it cannot exceed ours.
    assert.ok(s.settings.totalMs! <= r.elapsedMs, `totalMs ${s.settings.totalMs} ≤ elapsed ${r.elapsedMs}`);
    if (!quietOrSkip(t, r)) return;
    // Measured from outside (Node start, Python start, the baseline window, two pool
    // start-ups): the 14 windows (~3 s here) dominate, a one-off ~0.6 s on top.
    assert.ok(r.elapsedMs <= 1.5 * s.settings.windowsMs!, numbersOf(r));
  });

  test('recommendations: processes, not threads, and never a lag over budget', (t) => {
    assert.ok(r, 'the sweep ran');
    const s = r.sweep!;
    assertRecommendationsWithinBudget(s);
    if (!quietOrSkip(t, r)) return;
    const thread = points(s, 'thread');
    const proc = points(s, 'process');
    // The GIL runs one thread at a time: more threads add no throughput over one worker…
    // (one worker measured twice: thread W=1 is the session's first window and ran
    // warm-up-slow in 1 of 3 local runs, 16.9/s against 23.9/s for process W=1).
    const oneWorker = Math.max(point(s, 'thread', 1).throughputPerS!, point(s, 'process', 1).throughputPerS!);
    assert.ok(maxThroughput(thread) <= 1.3 * oneWorker, numbersOf(r));
    // …only lag: each thread is one more GIL competitor ahead of the loop.
    assert.ok(point(s, 'thread', 6).lag.maxMs >= 2 * point(s, 'thread', 1).lag.maxMs, numbersOf(r));
    // Processes use both cores.
    assert.ok(maxThroughput(proc) >= 1.5 * maxThroughput(thread), numbersOf(r));
    assert.equal(s.best?.mode, 'process', numbersOf(r));
    assert.match(s.headline, /^Use process with W=\d+: /);
    const rec = recommendation(s, 'process');
    // One process cannot reach two cores' throughput; more than the calls in flight
    // (W=8, 40: the same 6 busy) is never the smallest good size.
    assert.ok(rec.workers !== null && rec.workers >= 2 && rec.workers <= CONCURRENCY, numbersOf(r));
  });
});

test('GIL-holding sorted(), budget below one call: no thread pool size is recommended, processes are', async (t) => {
  const r = await sweepOnQuietMachine(t, SORT, ['--modes', 'thread,process', '--workers', '1,2,4', '--concurrency', '4', '--budget-ms', '40', '--sweep-budget-s', '3']);
  const s = r.sweep!;
  assertRecommendationsWithinBudget(s);
  // Each call keeps the loop out for all of its ~80 ms, whatever W (and load only lengthens it).
  for (const p of points(s, 'thread')) assert.ok(p.lag.maxMs > 40, numbersOf(r));
  const thread = recommendation(s, 'thread');
  assert.equal(thread.workers, null, numbersOf(r));
  assert.match(thread.reason, /no pool size kept the loop's max lag within 40\.0 ms/);
  if (!quietOrSkip(t, r)) return;
  const proc = recommendation(s, 'process');
  assert.ok(proc.workers !== null && proc.workers >= 2, numbersOf(r));
  assert.deepEqual(s.best, { mode: 'process', workers: proc.workers });
});

test('GIL-releasing zlib: a thread pool of 2+ is recommended, and it pays (≥ 1.3× one thread)', async (t) => {
  const r = await sweepOnQuietMachine(t, DEFLATE, ['--modes', 'thread,process', '--workers', '1,2,4', '--concurrency', '4', '--sweep-budget-s', '3']);
  const s = r.sweep!;
  assertRecommendationsWithinBudget(s);
  if (!quietOrSkip(t, r)) return;
  assert.ok(point(s, 'thread', 2).throughputPerS! >= 1.3 * point(s, 'thread', 1).throughputPerS!, numbersOf(r));
  const rec = recommendation(s, 'thread');
  assert.ok(rec.workers !== null && rec.workers >= 2, numbersOf(r));
  // The loop kept its beat while two threads compressed.
  assert.ok(point(s, 'thread', 2).lag.maxMs < s.settings.stallMs, numbersOf(r));
});

describe('pure Python (fib) in process mode over W = 1, 2, 4: repeated rounds and their spread', () => {
  const ARGS = ['--args', '25', '--modes', 'process', '--workers', '1,2,4', '--concurrency', '4', '--free-threaded', 'off'];
  let roomy: SweepResult;

  test('each W runs ≥ 3 rounds over ≥ 0.5 s, the spread is reported, and W=4 is recommended only if it beats W=2 by more than it', async () => {
    // 6 s for 3 windows leaves ~1.4 s each: the 0.5 s and 3-round minimums hold.
    roomy = await runSweepCli([FIB, ...ARGS, '--sweep-budget-s', '6', '--timeout', '60', '--json']);
    assert.equal(roomy.code, 0, roomy.stderr);
    const s = roomy.sweep!;
    t_log(s);
    assert.equal(s.settings.budgetS, 6);
    assert.equal(s.settings.minWindowMs, 500);
    assert.equal(s.settings.minRepeats, 3);
    for (const p of s.points) {
      assert.equal(p.status, 'ok', JSON.stringify(p.error));
      assert.ok((p.repeats ?? 0) >= 3, `W=${p.workers}: ${p.repeats} rounds`);
      assert.ok(p.wallMs >= s.settings.minWindowMs!, `W=${p.workers}: window ${p.wallMs} ms`);
      assert.ok(p.throughputMinPerS! <= p.throughputPerS! && p.throughputPerS! <= p.throughputMaxPerS!, JSON.stringify(p));
      assert.ok(Math.abs(p.throughputSpread! - (p.throughputMaxPerS! - p.throughputMinPerS!) / 2 / p.throughputPerS!) < 1e-3, JSON.stringify(p));
    }
    // The rule, on whatever this machine measured (2 cores here: W=4 is above them).
    const cores = s.runtime!.cpuCount;
    const rec = recommendation(s, 'process');
    const w2 = point(s, 'process', Math.min(2, cores));
    const w4 = point(s, 'process', 4);
    if (cores <= 2 && w4.throughputPerS! > w2.throughputPerS!) {
      const beyond = w4.throughputMinPerS! > w2.throughputMaxPerS!;
      const best = Math.max(...s.points.map((p) => p.throughputPerS!));
      // W=4 only when W=2 is not within 5% of the best (the smallest such W is picked first:
      // 92.2/s against 96.1/s was, beyond the spread or not) and W=4 beat it beyond the spread.
      const smallerClose = s.points.some((p) => p.mode === 'process' && p.workers < 4 && p.throughputPerS! >= 0.95 * best);
      assert.equal(rec.workers === 4, beyond && !smallerClose && w4.throughputPerS! >= 0.95 * best, numbersOf(roomy));
      // Said when W=4 alone is within 5% of the best (else W=2 is picked as close enough anyway).
      // (A busy machine can make W=1 the best by far: then neither is within 5% and W=1 is picked.)
      if (!beyond && w2.throughputPerS! < 0.95 * best && w4.throughputPerS! >= 0.95 * best) {
        assert.match(rec.reason, /within the spread of W=\d/, numbersOf(roomy));
      }
    }
    assert.match(formatLine(roomy.stdout), /±\d+%/);
  });

  test('a small --sweep-budget-s makes the sweep shorter and says it reduced the rounds', async () => {
    assert.ok(roomy, 'the roomy sweep ran');
    const r = await runSweepCli([FIB, ...ARGS, '--sweep-budget-s', '0.3', '--timeout', '60', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = r.sweep!;
    t_log(s);
    assert.equal(s.settings.minRepeats, 1);
    assert.ok(s.settings.minWindowMs! < 500);
    assert.ok(s.quality.notes.some((n) => /repeats reduced from 3 to 1 round/.test(n) && /--sweep-budget-s/.test(n)), s.quality.notes.join('\n'));
    assert.ok(s.settings.windowsMs! < 0.5 * roomy.sweep!.settings.windowsMs!, `windows ${s.settings.windowsMs} ms vs ${roomy.sweep!.settings.windowsMs} ms`);
    for (const p of s.points) assert.ok((p.repeats ?? 0) >= 1, `W=${p.workers}: ${p.repeats} rounds`);
  });
});

test('Node worker pool: each W runs repeated rounds within the budget and reports their spread', async () => {
  const r = await runSweepCli([`${FIXTURES}/node/advice/handlers.cjs::cpuSync`, '--args', '25', '--modes', 'worker', '--workers', '1,2',
    '--concurrency', '2', '--sweep-budget-s', '3', '--timeout', '60', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = r.sweep!;
  t_log(s);
  assert.equal(s.settings.minRepeats, 3);
  for (const p of s.points) {
    assert.equal(p.status, 'ok', JSON.stringify(p.error));
    assert.ok((p.repeats ?? 0) >= 3, `W=${p.workers}: ${p.repeats} rounds`);
    assert.ok(p.wallMs >= s.settings.minWindowMs!, `W=${p.workers}: window ${p.wallMs} ms`);
    assert.ok(p.throughputSpread !== null && p.throughputSpread !== undefined, JSON.stringify(p));
  }
});

/** The document's own text: the CLI prints the document, not the table, with --json. */
function formatLine(stdout: string): string {
  return formatSweepText(Sweep.parse(JSON.parse(stdout)));
}

function t_log(s: Sweep): void {
  for (const p of s.points) {
    process.stderr.write(`# ${p.mode} W=${p.workers}: ${p.throughputPerS}/s (${p.throughputMinPerS}–${p.throughputMaxPerS}, ${p.repeats} rounds), wall ${p.wallMs} ms, CPU/wall ${p.cpuParallelism}, background ${p.backgroundCpuFrac}\n`);
  }
  for (const r of s.recommendations) process.stderr.write(`# → ${r.mode} W=${r.workers}: ${r.reason}\n`);
}

test('Ctrl+C during a sweep: exit 130, a partial document, and no process left', async () => {
  const tag = newTag();
  const dir = tmpDir();
  scratch.push(dir);
  const marker = path.join(dir, 'child-called');
  let cliPid = 0;
  const running = runSweepCli([`${PY}/pure_python.py::fib_marking_children`, '--args', `${JSON.stringify(marker)}, 30`,
    '--modes', 'process', '--workers', '1,2,4', '--concurrency', '4', '--json'],
  { env: { LOOPLAG_TEST_TAG: tag }, onStart: (pid) => (cliPid = pid) });
  // A pool child is running the target: the CLI, the sidecar and the children are all up.
  await waitFor(() => fs.existsSync(marker), 'a process-pool child to start a call');
  assert.ok(processesWithTag(tag).length >= 3, `tagged processes while sweeping: ${processesWithTag(tag).length}`);
  const t0 = performance.now();
  process.kill(cliPid, 'SIGINT');
  const r = await running;
  const stopMs = performance.now() - t0;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /interrupted; stopping/);
  assert.match(r.stderr, /error \[cancelled\]/);
  assert.notEqual(r.sweep!.status, 'complete');
  assert.equal(r.sweep!.error?.kind, 'cancelled');
  // What was measured, by pool size (cancelText.ts): the same sentence as the CLI's line.
  assert.match(r.sweep!.error!.message, /^cancelled (before any pool size was measured|after \d+ pool sizes? measured: process W=\d)/);
  assert.ok(r.stderr.includes(`error [cancelled]: ${r.sweep!.error!.message}`), r.stderr);
  assert.ok(stopMs < 5000, `took ${stopMs.toFixed(0)} ms to stop`);
  await assertNoProcessLeft(tag);
});

describe('a bad --workers list is a usage error (exit 2), before anything runs', () => {
  for (const [list, message] of [
    ['1,two,4', /bad worker count "two"/],
    ['0', /must be from 1 to 1024/],
    ['1,2000', /must be from 1 to 1024/],
    ['cores*2', /bad worker count "cores\*2"/],
    [',', /at least one worker count/],
  ] as const) {
    test(`--workers ${list}`, async () => {
      const tag = newTag();
      const r = await runSweepCli([FIB, '--workers', list, '--json'], { env: { LOOPLAG_TEST_TAG: tag } });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /Run `looplag --help` for usage/);
      assert.equal(r.stdout, '', 'no document for a sweep that never ran');
      await assertNoProcessLeft(tag);
    });
  }
});

test('a pool that cannot take the call still has its row: arguments that cannot be pickled fail the process mode, named', async () => {
  const r = await runSweepCli([`${FIXTURES}/python/advice/pure_python.py::tiny`, '--args', 'lambda: 1', '--workers', '1,2', '--concurrency', '2', '--free-threaded', 'off', '--json']);
  assert.equal(r.code, 4, r.stderr); // thread mode's calls raise on the lambda: calls raised
  const proc = r.sweep!.points.filter((p) => p.mode === 'process');
  assert.equal(proc.length, 1, 'one failed row for the process mode');
  assert.equal(proc[0].status, 'failed');
  assert.equal(proc[0].error?.kind, 'not-picklable');
  assert.equal(recommendation(r.sweep!, 'process').workers, null);
});

test('calls that raise: exit 4, the headline says so first, and no W is recommended from the error path', async () => {
  const r = await runSweepCli([`${FIXTURES}/python/verdicts/calls.py::lazy_import`, '--modes', 'thread', '--workers', '1,2', '--concurrency', '2',
    '--sweep-budget-s', '2', '--free-threaded', 'off', '--json']);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /calls raised in thread W=1 \(\d+ of \d+: ModuleNotFoundError: No module named 'looplag_no_such_module'/);
  assert.ok(r.sweep!.points.every((p) => p.raised && p.raised.count === p.raised.calls), JSON.stringify(r.sweep!.points.map((p) => p.raised)));
  assert.match(r.sweep!.headline, /^Every call raised ModuleNotFoundError/);
  assert.equal(recommendation(r.sweep!, 'thread').workers, null);
});

test('a pool member that dies between two windows fails the next window at once instead of hanging', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await runSweepCli([`${FIXTURES}/node/advice/dies_later.cjs::work`, '--modes', 'worker', '--workers', '1,2,3', '--concurrency', '1', '--timeout', '30', '--json']);
    assert.notEqual(r.sweep!.error?.kind, 'timeout', `run ${i + 1} waited for the timeout: ${r.stderr}`);
    const failed = r.sweep!.points.filter((p) => p.status === 'failed');
    assert.ok(failed.every((p) => p.error?.kind === 'crashed'), JSON.stringify(failed.map((p) => p.error)));
  }
});
