/**
 * Advice that fits the code it is about (issue 10, point 7, and the warm-up checks of
 * point 3): the side of a transfer that costs and what it is made of, figures beyond the
 * cores marked suspect, cache hits told apart from the work. Synthetic reports.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { advise, headline } from '../../src/advice/advise';
import { transferStats } from '../../src/report/buildReport';
import { fmtSpeedup } from '../../src/shared/format';
import { formatReportText } from '../../src/report/textTable';
import type { LagStats, ModeRun, Report, TaskRecord } from '../../src/shared/protocol';
import { argsKindOf, kindOf } from '../../src/sidecars/node/valueKind';
import { callSplit, implausibleFigures } from '../../src/stats/plausibility';

function lag(max: number): LagStats {
  return { p50Ms: 0.1, p90Ms: max / 2, p99Ms: max, maxMs: max, meanMs: 0.1, stallCount: max >= 50 ? 1 : 0, stalledMs: max >= 50 ? max : 0, stalledFrac: 0, sampleCount: 100, expectedSampleCount: 100, samples: [] };
}

/** Tasks with these run times (ms), started one after another, on `workers` named workers round-robin. */
function tasks(times: number[], workers = 1): TaskRecord[] {
  let t = 0;
  return times.map((ms, id) => {
    const rec = { id, queuedMs: 0, startMs: t, endMs: t + ms, worker: `w${id % workers}`, cpuMs: null, error: null };
    t += ms + 0.01;
    return rec;
  });
}

function run(mode: string, times: number[], o: Partial<ModeRun> = {}): ModeRun {
  const sorted = [...times].sort((a, b) => a - b);
  const wallMs = o.wallMs ?? times.reduce((a, b) => a + b, 0) + 1;
  return {
    mode: mode as ModeRun['mode'], status: 'ok', error: null, wallMs, startupMs: null, workers: mode === 'inline' ? 1 : 2,
    tasks: tasks(times, mode === 'inline' ? 1 : 2),
    taskStats: { okCount: times.length, errorCount: 0, queueP50Ms: 0, queueMaxMs: 0, runP50Ms: sorted[Math.ceil(sorted.length / 2) - 1], runMaxMs: sorted[sorted.length - 1], runSumMs: 0 },
    lag: lag(1), gilWait: null, cpu: { userMs: wallMs, systemMs: 0, parallelism: 1 }, throughputPerS: 1, speedup: null, backgroundCpuFrac: 0.01,
    output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
    ...o,
  };
}

function report(runs: ModeRun[], language: Report['target']['language'] = 'python'): Report {
  const node = language !== 'python';
  return {
    schema: 'looplag.report/1', tool: { name: 'looplag', version: 't' }, createdAt: '2026-01-01T00:00:00Z', status: 'complete', error: null,
    target: { file: 'x.py', qualname: 'work', lines: null, line: 1, language, args: '1', isAsync: false },
    runtime: { name: node ? 'node' : 'python', version: 'x', executable: 'x', implementation: 'x', gilEnabled: !node, cpuCount: 2, platform: 'linux', switchIntervalS: 0.005 },
    settings: { concurrency: 10, workers: null, switchIntervalS: 0.005, heartbeatMs: 1, stallMs: 50, gilProbe: false, modes: runs.map((r) => r.mode), timeoutS: 60, lagBudgetMs: 100, plannedMode: null },
    quality: { backgroundCpuFrac: 0.01, trustworthy: true, notes: [] }, baseline: null, diagnostic: null, runs, advice: [],
  };
}

const HITS = Array.from({ length: 9 }, () => 0.004);

test('callSplit: one miss then hits is a cache; a pause in the middle of a run is not', () => {
  assert.equal(callSplit(run('inline', [12, ...HITS]))?.slowCount, 1);
  // The same slow call, but not the first: a GC pause or a preemption.
  assert.equal(callSplit(run('inline', [0.004, 0.004, 12, ...HITS.slice(2)])), null);
  // One miss per worker, each its worker's first call (a per-worker cache, as Node workers have).
  assert.equal(callSplit(run('worker', [12, 11, ...Array.from({ length: 8 }, () => 0.01)]))?.slowCount, 2);
  // Steady calls, or a split under the 1 ms floor: nothing.
  assert.equal(callSplit(run('inline', Array.from({ length: 10 }, () => 20))), null);
  assert.equal(callSplit(run('inline', [0.5, ...HITS])), null);
  // A slow first call that used next to no CPU waited (preempted on a busy machine): no miss.
  const preempted = run('inline', [4, ...HITS]);
  preempted.tasks = preempted.tasks.map((t, i) => ({ ...t, cpuMs: i === 0 ? 0.01 : 0.004 }));
  assert.equal(callSplit(preempted), null);
  const computed = run('inline', [4, ...HITS]);
  computed.tasks = computed.tasks.map((t, i) => ({ ...t, cpuMs: i === 0 ? 3.9 : 0.004 }));
  assert.equal(callSplit(computed)?.slowCount, 1);
});

test('cached-calls: a miss/hits split replaces healthy, in its mode and in modes that only measured hits', () => {
  const r = report([run('inline', [12, ...HITS]), run('thread', Array.from({ length: 10 }, () => 0.02), { wallMs: 3 })]);
  const advice = advise(r);
  const cached = advice.filter((a) => a.id === 'cached-calls');
  assert.deepEqual(cached.map((a) => [a.mode, a.severity]), [['inline', 'warning'], ['thread', 'warning']]);
  assert.match(cached[0].detail, /The first of 10 calls took 12\.0 ms/);
  assert.ok(!advice.some((a) => a.id === 'healthy'), advice.map((a) => a.id).join(', '));
});

test('cached-calls: a warm-up call that dwarfs the measured calls says the window measured hits', () => {
  const steady = run('thread', Array.from({ length: 10 }, () => 0.01), { wallMs: 2, warmupMs: [9.5] });
  const advice = advise(report([steady]));
  const a = advice.find((x) => x.id === 'cached-calls');
  assert.equal(a?.mode, 'thread');
  assert.match(a!.detail, /warm-up call took 9\.50 ms/);
  assert.ok(!advice.some((x) => x.id === 'healthy'));
  // The sentence users act on says it too, not only the advice below it.
  assert.match(headline(report([steady])), /^Safe in a thread pool as measured, but the calls measured look like cache hits, not the work/);
  // A trivial function's warm-up of a few ms (the pool thread's start on a busy machine)
  // against µs calls is no cache: a note at most, and healthy stays.
  const trivial = advise(report([run('thread', Array.from({ length: 10 }, () => 0.002), { wallMs: 2, warmupMs: [1.8] })]));
  assert.ok(!trivial.some((x) => x.id === 'cached-calls' && x.severity !== 'info'), JSON.stringify(trivial.map((x) => [x.id, x.severity])));
  assert.ok(trivial.some((x) => x.id === 'healthy'));
  // A warm-up a little slower than the calls (JIT, imports) is not a cache.
  assert.ok(!advise(report([run('thread', Array.from({ length: 10 }, () => 5), { warmupMs: [12] })])).some((x) => x.id === 'cached-calls'));
  // A much slower warm-up before calls that do real work is a one-time cost (a lazy import):
  // a note, healthy stays, and the headline does not call it a cache.
  const lazyImport = report([run('thread', Array.from({ length: 10 }, () => 20), { warmupMs: [300] })]);
  const note = advise(lazyImport).find((x) => x.id === 'cached-calls');
  assert.equal(note?.severity, 'info');
  assert.match(note!.title, /one-time cost/);
  assert.ok(advise(lazyImport).some((x) => x.id === 'healthy'));
  assert.doesNotMatch(headline(lazyImport), /cache/);
});

test('speedup and CPU/wall above the cores are suspect, with the reason, and never shown as plain fact', () => {
  // Issue 10: a 1.0–1.7 s first RSA call in the inline window gave "speedups" of 3.05–3.89× on 2 cores.
  const inline = run('inline', [1400, 210, 205, 200, 215, 190, 200, 205, 210, 200], { wallMs: 3240 });
  const proc = run('process', Array.from({ length: 10 }, () => 200), { wallMs: 1000, speedup: 3.24, cpu: { userMs: 2500, systemMs: 0, parallelism: 2.5 } });
  const suspect = implausibleFigures(proc, inline, 2);
  assert.deepEqual(suspect.map((s) => s.field), ['speedup', 'parallelism']);
  assert.match(suspect[0].reason, /first call took 1\.40 s.*one-time cost/);
  proc.suspect = suspect;
  assert.equal(fmtSpeedup(proc), '3.24×?');
  const r = report([inline, proc]);
  r.advice = advise(r);
  assert.ok(r.advice.some((a) => a.id === 'implausible-speedup' && a.mode === 'process'));
  assert.match(formatReportText(r), /process: speedup \? 3\.24× on 2 cores is more than parallelism can give/);
  // Within the cores: a plain figure.
  assert.deepEqual(implausibleFigures({ ...proc, speedup: 1.9, cpu: { ...proc.cpu, parallelism: 1.9 }, suspect: undefined }, inline, 2), []);
});

test('transfer kinds: what the arguments and results are made of, shallowly', () => {
  assert.equal(argsKindOf([new Float64Array(4)]), 'typed-array');
  assert.equal(argsKindOf([new ArrayBuffer(4), 3]), 'arraybuffer');
  assert.equal(argsKindOf([[{ a: 1 }, { a: 2 }]]), 'plain-objects');
  assert.equal(argsKindOf([[1, 2, 3]]), 'number-array');
  assert.equal(argsKindOf(['x'.repeat(10), 2]), 'string');
  assert.equal(argsKindOf([1, true]), 'primitive');
  assert.equal(argsKindOf([]), 'none');
  assert.equal(argsKindOf([new Float64Array(1), 'x']), 'mixed');
  assert.equal(kindOf(new (class Point {})()), 'instance');
});

function transferRun(mode: string, argsMs: number, resultMs: number, argsKind: string, resultKind: string): ModeRun {
  const r = run(mode, Array.from({ length: 10 }, () => 20), { wallMs: 400 });
  r.tasks = r.tasks.map((t) => ({ ...t, transfer: { argsBytes: 1000, argsWriteMs: argsMs, argsReadMs: argsMs / 2, resultBytes: 32 << 20, resultWriteMs: resultMs / 2, resultReadMs: resultMs, argsKind, resultKind } }));
  r.transfer = transferStats(r.tasks);
  return r;
}

test('transfer-overhead names the side that costs and fits the fix to what it is made of', () => {
  // Issue 10: blamed "the parent pickles arguments" when the cost was a 32 MB result.
  const result = advise(report([transferRun('worker', 0.01, 30, 'primitive', 'plain-objects')], 'javascript')).find((a) => a.id === 'transfer-overhead')!;
  assert.match(result.title, /Copying the results back/);
  assert.match(result.detail, /sending the result back is what costs/i);
  assert.doesNotMatch(result.fix!, /ArrayBuffer.*transfer list|postMessage\(\{ buf \}/);
  assert.match(result.fix!, /Return only what the caller needs/);
  const args = advise(report([transferRun('worker', 30, 0.01, 'plain-objects', 'primitive')], 'javascript')).find((a) => a.id === 'transfer-overhead')!;
  assert.match(args.title, /Copying the arguments/);
  assert.match(args.fix!, /plain objects\/arrays: structured clone copies them/);
  const typed = advise(report([transferRun('worker', 30, 0.01, 'typed-array', 'primitive')], 'javascript')).find((a) => a.id === 'transfer-overhead')!;
  assert.match(typed.fix!, /buffersOf\(args\)/);
});
