/** Where the loop was blocked (issue 13): the reducer on synthetic lags and samples, and the plan's switch. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { COVERAGE_STALL_MS, reduceBlockers, StallInputs, TOP_BLOCKERS } from '../../src/stats/blockers';
import { RawAttribution, RawFrame, RawStackSample } from '../../src/shared/protocol';
import { runPlanFor } from '../../src/engine/runPlan';
import { settingsFrom } from '../../src/engine/options';
import { RUNTIMES } from '../../src/shared/modes';
import { readCommandLine } from '../../src/cli/commandLine';
import { planMeasurement } from '../../src/cli/plan';
import { REPO } from '../support/helpers';

const user = (file: string, line: number, fn: string): RawFrame => ({ file, line, function: fn, kind: 'user', source: `${fn}()` });
const FRAMES: RawFrame[] = [
  user('services/feeds.py', 17, 'parse_feed'), //                                         0
  { file: 'lxml/etree.pyx', line: null, function: 'fromstring', kind: 'library' }, //      1
  user('services/feeds.py', 30, 'render'), //                                             2
  { file: 'asyncio/base_events.py', line: 1922, function: '_run_once', kind: 'stdlib' }, // 3
  { file: 'looplag_sidecar/calls.py', line: 80, function: '_call_on_loop', kind: 'tool' }, // 4
  user('jobs.py', 20, 'job'), //                                                          5
  user('jobs.py', 21, 'job'), //                                                          6
];
// Stacks, innermost first: 0 parse_feed → fromstring; 1 render; 2 the loop in asyncio; 3 jobs:20; 4 jobs:21.
const STACKS = [[1, 0, 4], [2, 4], [3], [5], [6]];

function raw(samples: RawStackSample[], extra: Partial<RawAttribution> = {}): RawAttribution {
  return { method: 'current-frames', intervalMs: 10, frames: FRAMES, stacks: STACKS, samples, ...extra };
}
const at = (tMs: number, dump: number, stack: number, thread: RawStackSample['thread'] = 'loop', cpuMs?: number): RawStackSample =>
  ({ tMs, dump, thread, stack, ...(cpuMs !== undefined ? { cpuMs } : {}) });
const lags = (samples: number[][], stallMs = 50): StallInputs => ({ samples, heartbeatMs: 1, stallMs });
const shareSum = (bs: { share: number }[]) => bs.reduce((a, b) => a + b.share, 0);

test('inline: the loop\'s user line owns each dump; shares of the stalled time rank the lines, the library frame below', () => {
  // Two stalls of 100 ms (wakes at 110 and 215); the quiet gaps' samples explain nothing.
  const lag = lags([[10, 0.1], [110, 100], [115, 0.2], [215, 100]]);
  const samples = [
    at(20, 0, 0), at(40, 1, 0), at(60, 2, 0), at(80, 3, 1), //   stall 1: 3 of 4 dumps in parse_feed
    at(112, 4, 1), //                                              the quiet gap: ignored
    at(130, 5, 0), at(215, 6, 1), //                               stall 2 (a sample at the wake belongs to it)
  ];
  const { blockers, attribution } = reduceBlockers(raw(samples), lag, true);
  assert.deepEqual(blockers.map((b) => [b.file, b.line, b.thread, b.step, b.stalledMs, b.share, b.stalls]), [
    ['services/feeds.py', 17, 'loop', 'call', 125, 0.625, 2],
    ['services/feeds.py', 30, 'loop', 'call', 75, 0.375, 2],
  ]);
  assert.deepEqual(blockers[0].library, { file: 'lxml/etree.pyx', line: null, function: 'fromstring', kind: 'library' });
  assert.equal(blockers[1].library, null, 'nothing below the user line');
  assert.equal(blockers[0].source, 'parse_feed()');
  assert.ok(blockers[0].stack.every((f) => f.kind !== 'tool'), 'the sidecar\'s frames are left out');
  assert.equal(attribution.status, 'ok');
  assert.equal(attribution.coverage, 1);
  assert.equal(attribution.coverage20Ms, 1);
  assert.equal(attribution.stalledMs, 200);
  assert.equal(attribution.samples, samples.length);
  assert.equal(attribution.weighting, undefined, 'nothing was split between threads');
});

test('shares never add up past 1; stalls without a sample are noSample; coverage over long stalls apart', () => {
  // Shares are rounded down; a stall with no sample; a short stall (12 ms) that is sampled.
  const lag = lags([[100, 90], [200, 90], [300, 90], [400, 90], [420, 12]], 10);
  const three = raw([at(50, 0, 0), at(150, 1, 1), at(250, 2, 3), at(415, 3, 0)]);
  const { blockers, attribution } = reduceBlockers(three, lag, true);
  assert.ok(shareSum(blockers) <= 1, `Σshare ${shareSum(blockers)}`);
  assert.equal(attribution.unattributed.noSampleMs, 90);
  assert.equal(attribution.stalledMs, 372);
  assert.equal(attribution.attributedMs, 282);
  assert.equal(attribution.coverage, 0.758);
  // ≥ 20 ms: the four 90 ms stalls, three of them sampled.
  assert.ok(COVERAGE_STALL_MS > 12);
  assert.equal(attribution.coverage20Ms, 0.75);
});

test('thread mode: workers share a dump by the CPU each got (the GIL holder), equally without clocks; the loop\'s await never shows', () => {
  const lag = lags([[100, 99]]);
  // One dump: the loop waits in asyncio (no user frame), worker A in jobs:20 got 9 ms of CPU, worker B in jobs:21 1 ms.
  const cpu = reduceBlockers(raw([at(50, 0, 2, 'loop', 0), at(50, 0, 3, 'worker', 9), at(50, 0, 4, 'worker', 1)]), lag, true);
  assert.deepEqual(cpu.blockers.map((b) => [b.line, b.thread, b.share]), [[20, 'gil-holder', 0.9], [21, 'gil-holder', 0.1]]);
  assert.equal(cpu.attribution.weighting, 'cpu-time');
  assert.ok(!cpu.blockers.some((b) => b.thread === 'loop'));
  const equal = reduceBlockers(raw([at(50, 0, 2, 'loop'), at(50, 0, 3, 'worker'), at(50, 0, 4, 'worker')]), lag, true);
  assert.deepEqual(equal.blockers.map((b) => [b.line, b.share]), [[20, 0.5], [21, 0.5]]);
  assert.equal(equal.attribution.weighting, 'equal');
  // One worker without a CPU clock: weighing by CPU would give it nothing, so all share equally.
  const partial = reduceBlockers(raw([at(50, 0, 2, 'loop', 3), at(50, 0, 3, 'worker', 9), at(50, 0, 4, 'worker')]), lag, true);
  assert.deepEqual(partial.blockers.map((b) => [b.line, b.share]), [[20, 0.5], [21, 0.5]]);
  assert.equal(partial.attribution.weighting, 'equal');
  // The loop's own CPU without a user frame is nobody's line; a pool manager is a step.
  const mixed = reduceBlockers(raw([at(50, 0, 2, 'loop', 5), at(50, 0, 3, 'worker', 5), at(50, 0, 2, 'pool-manager', 0)]), lag, true);
  assert.deepEqual(mixed.blockers.map((b) => [b.line, b.share]), [[20, 0.5]]);
  assert.equal(mixed.attribution.unattributed.otherMs, 49.5);
});

test('a dump in which hardly any thread ran (under 10% of the gap) is notRunning, not a line', () => {
  const lag = lags([[0, 0.1], [100, 99]]); // a 100 ms gap, one dump
  const idle = reduceBlockers(raw([at(50, 0, 2, 'loop', 0.5), at(50, 0, 3, 'worker', 4)]), lag, true);
  assert.deepEqual(idle.blockers, []);
  assert.equal(idle.attribution.unattributed.notRunningMs, 99);
  assert.equal(idle.attribution.coverage, 0);
  const ran = reduceBlockers(raw([at(50, 0, 2, 'loop', 0.5), at(50, 0, 3, 'worker', 10)]), lag, true);
  assert.equal(ran.blockers[0].line, 20, 'just over 10% of the gap ran: the worker is blamed');
});

test('spans credit their overlap with a stall to their step on the main thread; the rest without samples is noSample', () => {
  // The stall covers 40–100 ms; serializing ran 30–70 (30 ms inside), deserializing 95–130 (5 ms inside).
  const lag = lags([[100, 60], [200, 0.1]]);
  const spans: RawAttribution['spans'] = [{ step: 'serialize-args', startMs: 30, endMs: 70 }, { step: 'deserialize-result', startMs: 95, endMs: 130 }];
  const { blockers, attribution } = reduceBlockers({ method: 'spans', intervalMs: 0, frames: [], stacks: [], samples: [], spans }, lag, true);
  assert.deepEqual(blockers.map((b) => [b.step, b.thread, b.file, b.stalledMs, b.share]), [
    ['serialize-args', 'main', null, 30, 0.5], ['deserialize-result', 'main', null, 5, 0.0833],
  ]);
  assert.equal(attribution.unattributed.noSampleMs, 25);
  assert.equal(attribution.method, 'spans');
  // Spans that overlap each other cannot explain more than the stall.
  const twice = reduceBlockers({ method: 'spans', intervalMs: 0, frames: [], stacks: [], samples: [], spans: [spans[0], spans[0], spans[0]] }, lag, true);
  assert.ok(twice.attribution.attributedMs <= 60 && shareSum(twice.blockers) <= 1);
});

test('the top 10 by stalled time are kept; the rest still count as attributed', () => {
  const frames: RawFrame[] = Array.from({ length: 12 }, (_, i) => user('many.py', i + 1, `f${i}`));
  // Line i gets i + 1 dumps in one long stall: line 12 most.
  const samples: RawStackSample[] = [];
  let dump = 0;
  frames.forEach((_, i) => { for (let k = 0; k <= i; k++) samples.push(at(10 + dump, dump++, i)); });
  const lag = lags([[1000, 780]]);
  const { blockers, attribution } = reduceBlockers({ method: 'current-frames', intervalMs: 10, frames, stacks: frames.map((_, i) => [i]), samples }, lag, true);
  assert.equal(blockers.length, TOP_BLOCKERS);
  assert.deepEqual(blockers.map((b) => b.line), [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
  assert.equal(attribution.attributedMs, 780);
  assert.equal(attribution.coverage, 1);
});

test('deterministic: the samples\' order does not matter, and ties go by file and line', () => {
  const lag = lags([[100, 90], [200, 90]]);
  const samples = [at(50, 0, 3, 'loop'), at(150, 1, 1, 'loop'), at(60, 2, 0, 'loop'), at(160, 3, 4, 'loop')];
  const a = reduceBlockers(raw(samples), lag, true);
  const b = reduceBlockers(raw([...samples].reverse()), lag, true);
  assert.deepEqual(a, b);
  // Four equal shares: by file, then line.
  assert.deepEqual(a.blockers.map((x) => `${x.file}:${x.line}`), ['jobs.py:20', 'jobs.py:21', 'services/feeds.py:17', 'services/feeds.py:30']);
});

test('off, unavailable, failed; a stack index the sidecar never sent is noted, not a crash', () => {
  const lag = lags([[100, 90]]);
  const off = reduceBlockers(raw([at(50, 0, 0)]), lag, false);
  assert.deepEqual([off.attribution.status, off.blockers.length, off.attribution.coverage, off.attribution.stalledMs], ['off', 0, null, 90]);
  const none = reduceBlockers(null, lag, true);
  assert.equal(none.attribution.status, 'unavailable');
  assert.match(none.attribution.reason!, /no stacks/);
  const ft = reduceBlockers(raw([], { unavailable: 'not sampled on a free-threaded build' }), lag, true);
  assert.deepEqual([ft.attribution.status, ft.attribution.reason, ft.blockers.length], ['unavailable', 'not sampled on a free-threaded build', 0]);
  const failed = reduceBlockers(raw([at(50, 0, 0)], { error: 'inspector: Profiler.start failed' }), lag, true);
  assert.deepEqual([failed.attribution.status, failed.attribution.reason], ['failed', 'inspector: Profiler.start failed']);
  const bad = reduceBlockers(raw([at(50, 0, 99, 'worker')]), lag, true);
  assert.deepEqual(bad.blockers, []);
  assert.match(bad.attribution.notes!.join(), /1 samples named a stack the sidecar did not send/);
  assert.equal(bad.attribution.unattributed.otherMs, 90);
});

test('inline, the loop alone and in asyncio\'s own frames (waiting in select on a busy machine): no line of the target', () => {
  const r = reduceBlockers(raw([at(50, 0, 2, 'loop'), at(60, 1, 0, 'loop')]), lags([[100, 90]]), true);
  assert.deepEqual(r.blockers.map((b) => [b.file, b.line]), [['services/feeds.py', 17]]);
  assert.ok(r.attribution.unattributed.otherMs > 0, JSON.stringify(r.attribution.unattributed));
});

test('Node inline: GC on the loop is its own step, keyed by its runtime frame', () => {
  const frames: RawFrame[] = [{ file: null, line: null, function: '(garbage collector)', kind: 'runtime' }, user('app.js', 9, 'parseThenMatch')];
  const lag = lags([[100, 80]]);
  const samples = [at(30, 0, 0), at(40, 1, 1), at(50, 2, 1), at(60, 3, 1)];
  const { blockers } = reduceBlockers({ method: 'v8-cpu-profiler', intervalMs: 2, frames, stacks: [[0], [1]], samples }, lag, true);
  assert.deepEqual(blockers.map((b) => [b.function, b.step, b.share]), [['parseThenMatch', 'call', 0.75], ['(garbage collector)', 'gc', 0.25]]);
});

test('the plan carries attribution with the runtime\'s sampling defaults, enabled unless --no-attribution; off in a sweep', () => {
  const target = { file: 'app.py', qualname: 'f', lines: null, args: '', language: 'python' as const, workspaceRoot: null };
  const on = settingsFrom({ gilProbe: true });
  assert.deepEqual(runPlanFor({ target, settings: on }, on, ['inline']).attribution, { enabled: true, intervalMs: 10, rearmMs: 5 });
  const js = { ...target, file: 'app.js', language: 'javascript' as const };
  assert.deepEqual(runPlanFor({ target: js, settings: on }, on, ['inline']).attribution, { enabled: true, intervalMs: RUNTIMES.node.attribution.intervalMs });
  const off = settingsFrom({ gilProbe: true, attribution: false });
  assert.equal(runPlanFor({ target, settings: off }, off, ['inline']).attribution?.enabled, false);
  assert.equal(runPlanFor({ target, settings: on, sweepWorkers: [1, 2] }, on, ['thread']).attribution?.enabled, false);

  const file = path.join(REPO, 'examples', 'python', 'cpu_bound.py');
  const planOf = (...flags: string[]) => {
    const line = readCommandLine(['run', `${file}::cpu_bound_task`, ...flags]);
    assert.ok(!('exit' in line));
    const plan = planMeasurement(line);
    assert.ok(!('exit' in plan));
    return runPlanFor({ target: plan.target, settings: plan.settings }, plan.settings, plan.settings.modes);
  };
  assert.equal(planOf().attribution?.enabled, true);
  assert.equal(planOf('--no-attribution').attribution?.enabled, false);
});
