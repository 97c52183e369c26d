/**
 * The sweep's recommendation with the spread of repeated rounds (issue 10, point 9): a W
 * above the core count for CPU-bound work only when it beats W = cores by more than the
 * spread; the budget's plan for each window; per-round throughput from task records.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { beatsBeyondSpread, cpuShare, recommend, sweepHeadline } from '../../src/advice/sweep';
import { sweepRoundsFor, SWEEP_MIN_REPEATS, SWEEP_MIN_WINDOW_MS } from '../../src/engine/runSweep';
import { roundThroughputs } from '../../src/report/buildSweep';
import type { Report, SweepPoint, TaskRecord } from '../../src/shared/protocol';

const ctx: Pick<Report, 'target' | 'settings'> = {
  target: { file: 'w.py', qualname: 'fib', lines: null, language: 'python', args: '28', line: 1, isAsync: false },
  settings: { concurrency: 8, workers: null, switchIntervalS: null, heartbeatMs: 1, stallMs: 50, gilProbe: true, modes: ['process'], timeoutS: 120 },
};

/** A process-mode point; `cpu` is CPU/wall over the window (≈ min(W, cores) when CPU-bound). */
function pt(workers: number, tput: number, min: number, max: number, cpu = Math.min(workers, 2) * 0.97): SweepPoint {
  return {
    mode: 'process', workers, effectiveWorkers: Math.min(workers, 8), status: 'ok', error: null, wallMs: 600, throughputPerS: tput,
    repeats: 3, throughputMinPerS: min, throughputMaxPerS: max, throughputSpread: (max - min) / 2 / tput,
    lag: { p50Ms: 1, p99Ms: 4, maxMs: 12, stallCount: 0, stalledFrac: 0 }, cpuParallelism: cpu, queueMaxMs: 0, startupMs: null, backgroundCpuFrac: 0.02,
  };
}

test('README picture: W=4 at 91.4/s beats W=2 at 69.0/s by less than the rounds\' spread on 2 cores → W=2', () => {
  // Pure Python, process mode, 2 cores: W=4's rounds range 62–121/s, W=2's 60–78/s.
  const points = [pt(1, 35.2, 33, 37), pt(2, 69.0, 60, 78), pt(4, 91.4, 62, 121)];
  assert.ok(!beatsBeyondSpread(points[2], points[1]));
  const rec = recommend('process', points, 100, ctx, 2);
  assert.equal(rec.workers, 2, rec.reason);
  assert.match(rec.reason, /W=4 measured 91\.4\/s \(62\.0–121\.0\/s over 3 rounds\), within the spread of W=2's 69\.0\/s/);
  assert.match(rec.reason, /on 2 cores CPU-bound work \(CPU\/wall 0\.97 per call\) runs at most 2 calls at once/);
  assert.match(rec.code ?? '', /max_workers=2/);
});

test('W=4 beating W=2 by more than the spread is recommended, and the reason says it beat the spread', () => {
  const points = [pt(1, 35.2, 34, 36), pt(2, 69.0, 66, 72), pt(4, 91.4, 88, 95)];
  const rec = recommend('process', points, 100, ctx, 2);
  assert.equal(rec.workers, 4, rec.reason);
  assert.match(rec.reason, /it beat W=2 \(66\.0–72\.0\/s over 3 rounds\) by more than the spread/);
});

test('the spread rule is for CPU-bound work only: waiting calls (CPU/wall ≪ W) gain from W above the cores', () => {
  const points = [pt(1, 9.8, 9, 10.5, 0.03), pt(2, 19.5, 17, 21, 0.05), pt(4, 38, 30, 45, 0.1)];
  assert.ok(cpuShare(points, 2)! < 0.1);
  assert.equal(recommend('process', points, 100, ctx, 2).workers, 4);
});

test('CPU share on a busy machine is of the cores other processes left', () => {
  // W=1 got 0.67 of a core while other processes used 65% of 2 cores (0.7 core left): CPU-bound.
  const busy = { ...pt(1, 7.5, 7, 8, 0.67), backgroundCpuFrac: 0.65 };
  assert.ok(cpuShare([busy], 2)! > 0.9);
  const points = [busy, { ...pt(2, 9.4, 8.4, 10.4), backgroundCpuFrac: 0.6 }, { ...pt(4, 10.1, 9, 11.5), backgroundCpuFrac: 0.6 }];
  assert.equal(recommend('process', points, 100, ctx, 2).workers, 2);
});

test('points without repeats (older documents) compare their single values', () => {
  const single = (p: SweepPoint): SweepPoint => ({ ...p, repeats: undefined, throughputMinPerS: undefined, throughputMaxPerS: undefined, throughputSpread: undefined });
  const rec = recommend('process', [single(pt(1, 35, 35, 35)), single(pt(2, 69, 69, 69)), single(pt(4, 91.4, 91.4, 91.4))], 100, ctx, 2);
  assert.equal(rec.workers, 4);
});

test('the budget plans each window: 0.5 s and 3 rounds when it allows, fewer and shorter when not, and says so', () => {
  const roomy = sweepRoundsFor(60, 14);
  assert.equal(roomy.note, null);
  assert.equal(roomy.rounds.minWindowMs, SWEEP_MIN_WINDOW_MS);
  assert.equal(roomy.rounds.minRepeats, SWEEP_MIN_REPEATS);
  assert.equal(roomy.rounds.maxWindowMs, 3000);
  const tight = sweepRoundsFor(0.3, 3);
  assert.equal(tight.rounds.minWindowMs, 70);
  assert.equal(tight.rounds.minRepeats, 1);
  assert.match(tight.note ?? '', /windows shortened from 500 to 70 ms and repeats reduced from 3 to 1 round\b/);
  assert.match(tight.note ?? '', /--sweep-budget-s/);
});

test('per-round throughput: calls over first queued to last ended, overall over the rounds\' summed time', () => {
  const task = (round: number, q: number, end: number): TaskRecord => ({ id: 0, queuedMs: q, startMs: q, endMs: end, worker: 'w', error: null, round });
  const tasks = [task(0, 0, 100), task(0, 0, 200), task(1, 200, 300), task(1, 200, 250), task(1, 250, 400)];
  const r = roundThroughputs(tasks)!;
  assert.deepEqual(r.perRound, [10, 15]);
  assert.equal(r.overall, 12.5);
  assert.equal(roundThroughputs([{ ...task(0, 0, 1), round: undefined }]), null, 'no rounds: a plain window');
});

test('a window whose every call raised is left out of the recommendation, and the headline says calls raised first', () => {
  const raising = { ...pt(4, 400, 390, 410), raised: { count: 8, calls: 8, error: "ModuleNotFoundError: No module named 'yaml_extras' (calls.py:6)" } };
  const points = [pt(1, 35.2, 34, 36), pt(2, 69.0, 66, 72), raising];
  const rec = recommend('process', points, 100, ctx, 2);
  assert.equal(rec.workers, 2, 'the fast error path at W=4 is not the best throughput');
  const headline = sweepHeadline([rec], rec, 100, null, points);
  assert.match(headline, /^Calls raised in 1 of 3 windows \(first: ModuleNotFoundError: No module named 'yaml_extras' \(calls\.py:6\)\)/);
  const allRaised = points.map((p) => ({ ...p, raised: raising.raised }));
  const none = recommend('process', allRaised, 100, ctx, 2);
  assert.equal(none.workers, null);
  assert.match(sweepHeadline([none], undefined, 100, null, allRaised), /^Every call raised .*no pool size is recommended/);
});
