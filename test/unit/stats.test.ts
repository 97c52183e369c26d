import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gilWaitStats, lagStats, taskStats } from '../../src/stats/lagStats';
import { percentileSorted } from '../../src/stats/percentiles';

test('nearest-rank percentiles', () => {
  const xs = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentileSorted(xs, 0.5), 50);
  assert.equal(percentileSorted(xs, 0.99), 99);
  assert.equal(percentileSorted(xs, 1), 100);
  assert.equal(percentileSorted(xs, 0), 1);
  assert.equal(percentileSorted([], 0.5), 0);
  assert.equal(percentileSorted([7], 0.99), 7);
});

test('one stall that swallows a thousand beats: percentiles stay low, stall totals and beat count tell the truth', () => {
  // 1 s window, 1 ms heartbeat: 500 on-time beats, then one 500 ms stall.
  const samples: number[][] = [];
  for (let i = 1; i <= 500; i++) samples.push([i * 1.05, 0.05]);
  samples.push([1025, 500]);
  const s = lagStats(samples, { heartbeatMs: 1, stallMs: 50, wallMs: 1000 });
  assert.equal(s.p50Ms, 0.05);
  assert.equal(s.p99Ms, 0.05);
  assert.equal(s.maxMs, 500);
  assert.equal(s.stallCount, 1);
  assert.equal(s.stalledMs, 500);
  assert.equal(s.stalledFrac, 0.5);
  assert.equal(s.sampleCount, 501);
  assert.equal(s.expectedSampleCount, 1000);
  assert.deepEqual(s.samples[500], [1025, 500]);
});

test('stall threshold is inclusive and stalled fraction is capped at 1', () => {
  const s = lagStats([[10, 50], [20, 49.999], [2000, 3000]], { heartbeatMs: 1, stallMs: 50, wallMs: 2000 });
  assert.equal(s.stallCount, 2);
  assert.equal(s.stalledMs, 3050);
  assert.equal(s.stalledFrac, 1);
});

test('empty windows give zeros, not NaN', () => {
  const s = lagStats([], { heartbeatMs: 1, stallMs: 50, wallMs: 0 });
  for (const v of [s.p50Ms, s.p99Ms, s.maxMs, s.meanMs, s.stalledFrac]) assert.equal(v, 0);
  assert.equal(gilWaitStats(null), null);
  assert.deepEqual(gilWaitStats([]), { p50Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0, sampleCount: 0 });
});

test('the order of samples does not change the statistics', () => {
  const samples = Array.from({ length: 1000 }, (_, i) => [i, (i * 7919) % 101]);
  const shuffled = [...samples].reverse();
  const a = lagStats(samples, { heartbeatMs: 1, stallMs: 50, wallMs: 1000 });
  const b = lagStats(shuffled, { heartbeatMs: 1, stallMs: 50, wallMs: 1000 });
  assert.deepEqual({ ...a, samples: [] }, { ...b, samples: [] });
  assert.equal(a.maxMs, 100);
});

test('task stats: queue time is queued→start, run time start→end, errors counted', () => {
  const t = taskStats([
    { id: 0, queuedMs: 0, startMs: 0, endMs: 100, worker: 'w1', error: null },
    { id: 1, queuedMs: 0, startMs: 100, endMs: 250, worker: 'w1', error: null },
    { id: 2, queuedMs: 1, startMs: 251, endMs: 260, worker: 'w1', error: { type: 'ValueError', message: 'x', traceback: null } },
    { id: 3, queuedMs: 2, startMs: null, endMs: null, worker: null, error: { type: 'PicklingError', message: 'y', traceback: null } },
  ]);
  assert.equal(t.okCount, 2);
  assert.equal(t.errorCount, 2);
  assert.equal(t.queueMaxMs, 250);
  assert.equal(t.queueP50Ms, 100);
  assert.equal(t.runMaxMs, 150);
  assert.equal(t.runSumMs, 259);
});
