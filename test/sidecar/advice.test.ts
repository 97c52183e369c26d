/**
 * The advice engine on real runs: held-aside workloads (test/fixtures/*\/advice, not the
 * shipped examples/) through the real CLI on a real python3 and node, checking which
 * advice IDs appear (and in which mode), which must not, and the headline.
 *
 * What the advice says about the GIL comes from the one-thread diagnostic window, whose
 * signals are mechanisms: a native call that holds the GIL keeps the loop out for the
 * whole call (load can only lengthen that), pure Python hands the GIL back every switch
 * interval, GIL-releasing work leaves the loop on time. The last two, and every rule that
 * compares throughputs, need our threads to get a core when they ask. So each test first
 * asserts what holds on a busy machine too, then, if the report distrusts its windows
 * (and says so with `measurement-untrustworthy`) after three measurements, skips the
 * rest, saying how busy the machine was. Nothing passes silently.
 */
import * as os from 'node:os';
import assert from 'node:assert/strict';
import { MIN_USEFUL_SPEEDUP } from '../../src/advice/thresholds';
import { describe, test, type TestContext } from 'node:test';
import { plannedModeOf } from '../../src/advice/advise';
import { fmtMs } from '../../src/shared/format';
import type { Advice, Report } from '../../src/shared/protocol';
import { run, runCli } from '../support/helpers';

const PY = 'test/fixtures/python/advice';
const NODE = 'test/fixtures/node/advice/handlers.cjs';
/** sorted() of 300k pre-built ints: one C call (~80 ms) that holds the GIL throughout. */
const SORT = `${PY}/holds_gil.py::sort_big_list`;
/** Naive recursive fib(29): ~60 ms of bytecode, time-sliced every switch interval. */
const FIB = `${PY}/pure_python.py::fib`;
/** zlib.compress of 4 MiB of noise: ~80 ms in deflate() with the GIL released. */
const DEFLATE = `${PY}/releases_gil.py::deflate_noise`;

/** Measurements of a busy machine before giving up and skipping. */
const ATTEMPTS_ON_BUSY_MACHINE = 3;
/** Every run: no free-threaded column (its own test below), a generous timeout. */
const COMMON = ['--free-threaded', 'off', '--timeout', '60'];

/** One `looplag run --json`; every measured mode must have run every call. */
async function measure(t: TestContext, target: string, options: string[]): Promise<Report> {
  const cli = await runCli(['run', target, ...COMMON, ...options, '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const report = cli.report!;
  for (const r of report.runs) {
    if (r.mode === 'interpreter') continue; // 3.14+ only
    assert.equal(r.status, 'ok', `${r.mode}: ${JSON.stringify(r.error)}`);
    assert.equal(r.taskStats.errorCount, 0, JSON.stringify(r.tasks.find((task) => task.error)?.error));
  }
  checkConsistency(report);
  t.diagnostic(numbersOf(report));
  return report;
}

/** `measure`, again while the report distrusts its windows (other processes' load). */
async function measureOnQuietMachine(t: TestContext, target: string, options: string[]): Promise<Report> {
  let report = await measure(t, target, options);
  for (let attempt = 1; attempt < ATTEMPTS_ON_BUSY_MACHINE && !report.quality.trustworthy; attempt++) {
    report = await measure(t, target, options);
  }
  return report;
}

/** Skips the rest of the test, saying why, unless the report trusts its windows. */
function quietOrSkip(t: TestContext, report: Report): boolean {
  if (report.quality.trustworthy) return true;
  const busy = report.runs.filter((r) => r.backgroundCpuFrac !== null)
    .map((r) => `${r.mode} ${((r.backgroundCpuFrac ?? 0) * 100).toFixed(0)}%`).join(', ');
  t.skip(`other processes loaded the machine in each of ${ATTEMPTS_ON_BUSY_MACHINE} measurements (last: ${busy}; ` +
    `the report trusts < 25%), so the report rightly says measurement-untrustworthy and the load-sensitive advice is not checked`);
  return false;
}

/** Holds for every report, busy or not: the busy flag and its advice agree, and the headline
 *  says "Safe" exactly when the planned mode's max lag is within the budget (the one rule:
 *  stalls under the budget do not decide) and no call raised. */
function checkConsistency(report: Report): void {
  const ids = idsOf(report);
  assert.equal(ids.includes('measurement-untrustworthy'), !report.quality.trustworthy,
    `measurement-untrustworthy iff the report distrusts a window (background ${report.quality.backgroundCpuFrac}): ${ids.join(', ')}`);
  assert.ok(report.headline, 'a headline');
  const planned = report.runs.find((r) => r.mode === plannedModeOf(report));
  if (!planned) {
    assert.match(report.headline, /^Not measured /);
    return;
  }
  const budget = report.settings.lagBudgetMs ?? 100;
  const safe = planned.status === 'ok' && planned.lag.maxMs <= budget;
  if (planned.taskStats.errorCount) assert.doesNotMatch(report.headline, /\bSafe\b/);
  else assert.match(report.headline, safe ? /^Safe / : /^Not safe /, `${planned.mode}: max ${planned.lag.maxMs} ms, ${planned.lag.stallCount} stalls`);
}

function idsOf(report: Report): string[] {
  return report.advice.map((a) => a.id);
}

/** The advice `id` for `mode` (null: not tied to a mode), failing with the whole list. */
function advice(report: Report, id: string, mode?: string | null): Advice {
  const found = report.advice.find((a) => a.id === id && (mode === undefined || a.mode === mode));
  assert.ok(found, `expected ${id}${mode === undefined ? '' : ` (${mode})`} in:\n${listOf(report)}`);
  return found;
}

function assertAbsent(report: Report, ...ids: string[]): void {
  const present = ids.filter((id) => idsOf(report).includes(id));
  assert.deepEqual(present, [], `unexpected advice in:\n${listOf(report)}`);
}

function modesOf(report: Report, id: string): string[] {
  return report.advice.filter((a) => a.id === id).map((a) => a.mode ?? '–').sort();
}

function listOf(report: Report): string {
  return report.advice.map((a) => `  ${a.severity} ${a.id} (${a.mode ?? '–'}): ${a.title}`).join('\n') + `\n${numbersOf(report)}`;
}

/** The numbers behind the advice, for assertion messages and the test log. */
function numbersOf(report: Report): string {
  const d = report.diagnostic;
  const lines = [`headline: ${report.headline}`, `advice: ${idsOf(report).join(', ')}`];
  if (d) lines.push(`diagnostic: call ${d.callMs} ms, lag p50 ${d.lag.p50Ms} / max ${d.lag.maxMs} ms over ${d.lag.sampleCount} beats`);
  for (const r of report.runs.filter((x) => x.status === 'ok')) {
    lines.push(`${r.mode} W=${r.workers}: wall ${r.wallMs.toFixed(1)} ms, lag p99 ${r.lag.p99Ms} / max ${r.lag.maxMs} ms, ` +
      `stalls ${r.lag.stallCount}, speedup ${r.speedup?.toFixed(2) ?? '–'}, CPU/wall ${r.cpu.parallelism.toFixed(2)}, ` +
      `start-up ${r.startupMs ?? '–'} ms, queue max ${r.taskStats.queueMaxMs ?? '–'} ms, background ${r.backgroundCpuFrac ?? '?'}`);
  }
  return lines.join('\n');
}

/** Advice about the GIL, and advice about Node, never on the other language. */
const GIL_IDS = ['gil-held-native', 'gil-contention', 'gil-released', 'no-thread-speedup', 'free-threaded'];
const NODE_IDS = ['worker-recommended', 'transfer-overhead', 'libuv-threadpool-saturated'];

describe('Python: what the GIL does decides the advice', () => {
  test('sorted() of a big list holds the GIL: gil-held-native (never gil-contention), not safe in a thread pool', async (t) => {
    const report = await measureOnQuietMachine(t, SORT, ['--modes', 'inline,thread,process', '--concurrency', '4', '--workers', '2']);
    // Mechanisms that load can only make stronger: the hold, and calls queueing behind it.
    const native = advice(report, 'gil-held-native', 'thread');
    assertAbsent(report, 'gil-contention', 'gil-released', 'healthy', 'async-def-blocks-loop', ...NODE_IDS);
    advice(report, 'inline-blocks-loop', 'inline');
    assert.deepEqual(modesOf(report, 'queueing').filter((m) => m === 'thread'), ['thread'], '4 calls on 2 threads queue');
    assert.match(report.headline!, /^Not safe in a thread pool: /);
    // It cites the diagnostic's numbers: one call, and the loop's longest lag as long as it.
    const d = report.diagnostic!;
    assert.ok(d.callMs !== null && d.lag.maxMs >= 0.5 * d.callMs, numbersOf(report));
    assert.ok(native.detail.includes(fmtMs(d.callMs)) && native.detail.includes(fmtMs(d.lag.maxMs)), native.detail);
    // --free-threaded off, and the GIL is the cause: the free-threaded advice says "not measured".
    assert.match(advice(report, 'free-threaded', 'thread').title, /not measured/);

    if (!quietOrSkip(t, report)) return;
    // Two threads take turns at one call at a time, yet a quiet CI run measured 1.30–1.44×
    // inline for them (and 1.23–2.72× for processes, which pickle a 300k-item result):
    // the speedups are too noisy to assert, so no-thread-speedup is checked to follow
    // the measured speedup.
    const speedup = report.runs.find((r) => r.mode === 'thread')!.speedup!;
    assert.equal(report.advice.some((a) => a.id === 'no-thread-speedup'), speedup < MIN_USEFUL_SPEEDUP, numbersOf(report));
    // Processes give each call its own GIL, but the loop's side unpickles each 300k-item
    // result: two landing together held it 118.8 ms once in CI (4 ms in the other runs).
    // The headline follows what was measured: the process pool is offered when it kept the budget.
    const proc = report.runs.find((r) => r.mode === 'process')!;
    if (proc.lag.maxMs <= (report.settings.lagBudgetMs ?? 100)) assert.match(report.headline!, /In a process pool it is: /, numbersOf(report));
    else {
      assert.doesNotMatch(report.headline!, /In a process pool it is/, numbersOf(report));
      t.diagnostic(`process mode's lag max ${proc.lag.maxMs} ms: over the budget this time (results unpickled on the loop's side)`);
    }
  });

  describe('other C calls that hold the GIL to the end: gil-held-native, never gil-contention', () => {
    for (const [fn, what] of [
      ['dump_big_json', 'json.dumps of 300k rows'],
      ['backtracking_regex', 'a regex backtracking 2**21 ways'],
      ['big_pow', 'pow(7, 900_000)'],
    ]) {
      test(what, async (t) => {
        // Load-proof: whoever holds the GIL, descheduled or not, the loop cannot run.
        const report = await measure(t, `${PY}/holds_gil.py::${fn}`, ['--modes', 'thread', '--concurrency', '2', '--workers', '2']);
        advice(report, 'gil-held-native', 'thread');
        assertAbsent(report, 'gil-contention', 'gil-released', 'healthy');
        assert.match(advice(report, 'free-threaded', 'thread').title, /not measured/);
        assert.equal(modesOf(report, 'queueing').length, 0, 'no more calls than threads: no queueing advice');
      });
    }
  });

  test('recursive pure Python: gil-contention (never gil-held-native), no thread speedup, processes pay off', async (t) => {
    const report = await measureOnQuietMachine(t, FIB, ['--args', '29', '--modes', 'inline,thread,process', '--concurrency', '8', '--workers', '2']);
    advice(report, 'inline-blocks-loop', 'inline');
    assert.deepEqual(modesOf(report, 'queueing'), ['process', 'thread'], '8 calls on 2 workers queue in both pools');
    assertAbsent(report, 'async-def-blocks-loop', ...NODE_IDS);
    if (!quietOrSkip(t, report)) return;

    const contention = advice(report, 'gil-contention', 'thread');
    assertAbsent(report, 'gil-held-native', 'gil-released');
    const d = report.diagnostic!;
    assert.ok(d.lag.maxMs < 0.5 * d.callMs!, `the loop got turns during the call: ${numbersOf(report)}`);
    assert.ok(contention.detail.includes(fmtMs(d.lag.p50Ms)), contention.detail);
    advice(report, 'no-thread-speedup', 'thread');
    assert.match(advice(report, 'free-threaded', 'thread').title, /not measured/);
    // ~60 ms calls, 4 per process: start-up (~65 ms) is well under half the window, and
    // the pool is faster than inline, so the process pool is not called an overhead.
    assertAbsent(report, 'process-overhead');
    assert.ok(run(report, 'process').speedup! >= 1.3, numbersOf(report));
  });

  test('pure Python on 8 threads (10 calls): still gil-contention, never mistaken for a native hold', async (t) => {
    const report = await measureOnQuietMachine(t, FIB, ['--args', '29', '--modes', 'thread', '--concurrency', '10', '--workers', '8']);
    if (!quietOrSkip(t, report)) return;
    const contention = advice(report, 'gil-contention', 'thread');
    assertAbsent(report, 'gil-held-native', 'gil-released');
    assert.match(contention.detail, /With 8 threads and 10 concurrent calls/);
    const r = run(report, 'thread');
    // Healthy only within the budget: a quiet machine kept the loop at a 95 ms max (budget 100 ms) once.
    if (r.lag.maxMs <= (report.settings.lagBudgetMs ?? 100)) advice(report, 'healthy', 'thread');
    else assertAbsent(report, 'healthy');
    // Eight GIL competitors: the loop waits more than an interval at p99.
    assert.ok(r.lag.p99Ms >= report.settings.switchIntervalS! * 1000, numbersOf(report));
    // Its severity follows the one rule: a problem over the budget, a note within it.
    assert.equal(contention.severity, r.lag.maxMs <= (report.settings.lagBudgetMs ?? 100) ? 'info' : 'critical', numbersOf(report));
  });

  test('zlib.compress releases the GIL: gil-released, no contention, threads help, safe in a thread pool', async (t) => {
    const report = await measureOnQuietMachine(t, DEFLATE, ['--modes', 'inline,thread,process', '--concurrency', '4', '--workers', '2']);
    advice(report, 'inline-blocks-loop', 'inline'); // four 80 ms calls back to back on the loop
    if (!quietOrSkip(t, report)) return;
    const released = advice(report, 'gil-released', 'thread');
    assert.equal(released.severity, 'ok', released.title);
    assertAbsent(report, 'gil-held-native', 'gil-contention', 'no-thread-speedup', 'free-threaded', 'async-def-blocks-loop');
    advice(report, 'healthy', 'thread');
    assert.match(report.headline!, /^Safe in a thread pool: /);
  });

  test('bz2.compress, as many calls as threads: gil-released and no queueing', async (t) => {
    const report = await measureOnQuietMachine(t, `${PY}/releases_gil.py::bzip_text`, ['--modes', 'thread', '--concurrency', '2', '--workers', '2']);
    assertAbsent(report, 'queueing');
    if (!quietOrSkip(t, report)) return;
    advice(report, 'gil-released', 'thread');
    assertAbsent(report, 'gil-held-native', 'gil-contention', 'free-threaded');
  });

  test('time.sleep: gil-released, and no no-thread-speedup (sleeping is not CPU-bound)', async (t) => {
    const report = await measureOnQuietMachine(t, `${PY}/releases_gil.py::nap`, ['--modes', 'inline,thread', '--concurrency', '4', '--workers', '2']);
    // Inline, four 80 ms sleeps block the loop back to back; a sleep uses no CPU, so the
    // no-thread-speedup rule (CPU-bound work only) never applies, busy machine or not.
    advice(report, 'inline-blocks-loop', 'inline');
    assert.ok(run(report, 'inline').cpu.parallelism < 0.3, numbersOf(report));
    assertAbsent(report, 'no-thread-speedup', 'gil-held-native');
    if (!quietOrSkip(t, report)) return;
    advice(report, 'gil-released', 'thread');
    assertAbsent(report, 'gil-contention', 'free-threaded');
    advice(report, 'healthy', 'thread');
    assert.match(report.headline!, /^Safe in a thread pool: /);
  });

  test('an async def doing CPU work: async-def-blocks-loop and inline-blocks-loop; not safe on the loop', async (t) => {
    const report = await measureOnQuietMachine(t, `${PY}/pure_python.py::async_fib_handler`, ['--args', '29', '--modes', 'inline,process', '--concurrency', '4', '--workers', '2']);
    // Four 60 ms computations between awaits: the loop is blocked whatever the load.
    assert.equal(advice(report, 'async-def-blocks-loop', 'inline').severity, 'critical');
    advice(report, 'inline-blocks-loop', 'inline');
    assert.match(report.headline!, /^Not safe on the event loop \(called directly\): /);
    assertAbsent(report, 'healthy', ...GIL_IDS.filter((id) => id !== 'free-threaded'));
    if (!quietOrSkip(t, report)) return;
    assert.match(report.headline!, /In a process pool it is: /);
  });

  // Issue 10 changed this: start-up is paid once, so it is said apart (pool-startup, info),
  // not as process-overhead, which now judges the pool per call.
  test('a process pool for a trivial task: pool-startup (start-up is most of the window), info only', async (t) => {
    const report = await measure(t, `${PY}/pure_python.py::tiny`, ['--modes', 'inline,process', '--concurrency', '4', '--workers', '2']);
    // Starting two processes takes tens of ms; four calls of sum(range(10)) take microseconds.
    const startup = advice(report, 'pool-startup', 'process');
    const p = run(report, 'process');
    assert.ok(p.startupMs! >= 5 * p.wallMs, numbersOf(report));
    assert.equal(startup.severity, 'info');
    assert.ok(startup.title.includes(fmtMs(p.startupMs)), startup.title);
    assertAbsent(report, 'inline-blocks-loop');
  });

  test('a trivial task: healthy in a thread pool, and no advice to move it to processes', async (t) => {
    const opts = ['--modes', 'inline,thread,process', '--concurrency', '4', '--workers', '2'];
    // Calls of a few µs: one preempted first call (≥ 1 ms on a loaded machine, while the
    // window is too short to measure the load) reads as a cache split. Measured again while
    // that is so; a rule that always fires on trivial calls still fails every attempt.
    let report = await measure(t, `${PY}/pure_python.py::tiny`, opts);
    for (let attempt = 1; attempt < ATTEMPTS_ON_BUSY_MACHINE && idsOf(report).includes('cached-calls'); attempt++) {
      report = await measure(t, `${PY}/pure_python.py::tiny`, opts);
    }
    assertAbsent(report, 'no-thread-speedup');
    advice(report, 'healthy', 'thread');
  });
});

describe('Python: the free-threaded comparison', () => {
  test('10 pure-Python calls on 4 threads: without the GIL the loop keeps its beat and the threads run in parallel', async (t) => {
    const ft = process.env.LOOPLAG_TEST_FREE_THREADED;
    if (!ft) {
      t.skip('LOOPLAG_TEST_FREE_THREADED is not set (npm test builds CPython 3.13t and sets it; see scripts/test.sh)');
      return;
    }
    const opts = ['--args', '29', '--modes', 'thread', '--concurrency', '10', '--workers', '4', '--no-gil-probe'];
    const measureFt = async () => {
      const cli = await runCli(['run', FIB, ...opts, '--free-threaded', ft, '--timeout', '60', '--json']);
      assert.equal(cli.code, 0, cli.stderr);
      checkConsistency(cli.report!);
      t.diagnostic(numbersOf(cli.report!));
      return cli.report!;
    };
    let report = await measureFt();
    for (let attempt = 1; attempt < ATTEMPTS_ON_BUSY_MACHINE && !report.quality.trustworthy; attempt++) report = await measureFt();

    const gil = run(report, 'thread');
    const free = run(report, 'free-threaded');
    assert.equal(free.status, 'ok', JSON.stringify(free.error));
    assert.equal(free.taskStats.errorCount, 0);
    assert.equal(free.gilEnabled, false, 'the free-threaded run says its GIL was off');
    assert.notEqual(gil.gilEnabled, false);
    const cited = advice(report, 'free-threaded', 'free-threaded');
    // It cites both runs' p99: the numbers the comparison rests on.
    assert.ok(cited.title.includes(fmtMs(free.lag.p99Ms)) && cited.title.includes(fmtMs(gil.lag.p99Ms)), cited.title);
    assert.ok(cited.detail.includes(fmtMs(free.lag.p99Ms)) && cited.detail.includes(fmtMs(gil.lag.p99Ms)), cited.detail);
    if (!quietOrSkip(t, report)) return;

    const switchMs = report.settings.switchIntervalS! * 1000;
    // With the GIL, the loop queues behind four threads for it: p99 several intervals.
    assert.ok(gil.lag.p99Ms >= 3 * switchMs, numbersOf(report));
    // Without it the loop only shares the cores (it wakes from sleep, so the scheduler favours it).
    assert.ok(free.lag.p99Ms < 0.25 * gil.lag.p99Ms, numbersOf(report));
    // Four threads on two cores: about two cores busy without the GIL, one with it.
    assert.ok(gil.cpu.parallelism < 1.3 && free.cpu.parallelism >= 1.5, numbersOf(report));
    assert.match(cited.title, /kept the loop responsive/);
  });
});

describe('Node: the loop and its workers', () => {
  test('a sync CPU function: inline-blocks-loop and worker-recommended; not safe on the loop', async (t) => {
    const report = await measureOnQuietMachine(t, `${NODE}::cpuSync`, ['--modes', 'inline,worker', '--concurrency', '4', '--workers', '2']);
    advice(report, 'inline-blocks-loop', 'inline');
    assert.match(report.headline!, /^Not safe on the event loop \(called directly\): /);
    assertAbsent(report, 'async-def-blocks-loop', 'healthy', ...GIL_IDS);
    if (!quietOrSkip(t, report)) return;
    const worker = advice(report, 'worker-recommended', 'worker');
    assert.ok(worker.detail.includes(fmtMs(run(report, 'worker').lag.p99Ms)), worker.detail);
    assert.match(report.headline!, /In worker threads it is: /);
    assertAbsent(report, 'transfer-overhead'); // a number in, a number out
  });

  test('an async function doing CPU work: async-def-blocks-loop and inline-blocks-loop', async (t) => {
    const report = await measure(t, `${NODE}::cpuAsync`, ['--modes', 'inline', '--concurrency', '4']);
    assert.equal(report.target.isAsync, true);
    assert.equal(advice(report, 'async-def-blocks-loop', 'inline').severity, 'critical');
    assert.match(advice(report, 'async-def-blocks-loop', 'inline').title, /async function/);
    advice(report, 'inline-blocks-loop', 'inline');
    assert.match(report.headline!, /^Not safe on the event loop \(called directly\): /);
  });

  test('a function returning 20k objects: transfer-overhead in worker and process modes', async (t) => {
    const report = await measure(t, `${NODE}::bigResult`, ['--modes', 'inline,worker,process', '--concurrency', '4', '--workers', '2']);
    // Cloning ~1 MB of objects back costs the loop milliseconds per call, busy machine or not.
    assert.deepEqual(modesOf(report, 'transfer-overhead'), ['process', 'worker']);
    for (const mode of ['worker', 'process']) {
      const r = run(report, mode);
      assert.ok(r.transfer!.resultBytesMean! >= 100 * 1024 && r.transfer!.loopMs / r.tasks.length >= 1, numbersOf(report));
    }
    assertAbsent(report, ...GIL_IDS);
  });

  test('a cheap function: healthy and safe on the loop, nothing else to fix', async (t) => {
    const options = ['--modes', 'inline,worker', '--concurrency', '4', '--workers', '2'];
    let report = await measureOnQuietMachine(t, `${NODE}::cheap`, options);
    if (!quietOrSkip(t, report)) return;
    // A first call preempted by other processes looks like a miss: Node gives no per-call CPU
    // time to tell them apart (Python's rule does), and its background share may be unknown.
    for (let attempt = 1; attempt < ATTEMPTS_ON_BUSY_MACHINE && idsOf(report).includes('cached-calls'); attempt++) {
      report = await measure(t, `${NODE}::cheap`, options);
    }
    if (idsOf(report).includes('cached-calls')) {
      t.skip(`a slow first call in each of ${ATTEMPTS_ON_BUSY_MACHINE} measurements (load ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores): ` +
        `without per-call CPU a preempted call cannot be told from a cache miss\n${listOf(report)}`);
      return;
    }
    advice(report, 'healthy', 'inline');
    assert.match(report.headline!, /^Safe on the event loop \(called directly\): /);
    assertAbsent(report, 'inline-blocks-loop', 'async-def-blocks-loop', 'worker-recommended', ...GIL_IDS);
  });

  test('a cheap function: no transfer-overhead for a 7-byte argument and a 5-byte result', async (t) => {
    const report = await measure(t, `${NODE}::cheap`, ['--modes', 'inline,worker', '--concurrency', '4', '--workers', '2']);
    assertAbsent(report, 'transfer-overhead');
  });
});
