/**
 * Two reports compared (issue 16): the delta of each figure judged by its direction,
 * "≈" inside the noise, the verdict change, and what makes two runs unlike.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { compareReports, DELTA_FIGURES, deltas, judgeDelta, NOISE_FRAC, verdictOf } from '../../src/report/compare';
import { Report } from '../../src/shared/protocol';
import { contrastRatio, DELTA_TEXT, PALETTES, THEME_KINDS } from '../../src/webview/palette';
import { comparePair } from '../support/comparePair';
import { FIXTURES } from '../support/helpers';

const figure = (key: string) => DELTA_FIGURES.find((f) => f.key === key)!;

test('a lag that fell is better (▼), one that rose worse (▲); throughput the other way round', () => {
  assert.deepEqual(pick(judgeDelta(figure('max'), 1000, 20)), { judgement: 'better', arrow: '▼', diff: -980, frac: -0.98 });
  assert.deepEqual(pick(judgeDelta(figure('max'), 20, 1000)), { judgement: 'worse', arrow: '▲', diff: 980, frac: 49 });
  assert.deepEqual(pick(judgeDelta(figure('throughput'), 10, 12)), { judgement: 'better', arrow: '▲', diff: 2, frac: 0.2 });
  assert.deepEqual(pick(judgeDelta(figure('throughput'), 12, 10)).judgement, 'worse');
  assert.deepEqual(pick(judgeDelta(figure('wall'), 100, 130)).judgement, 'worse');
  assert.deepEqual(pick(judgeDelta(figure('errors'), 0, 3)), { judgement: 'worse', arrow: '▲', diff: 3, frac: null });
});

test('inside the noise is ≈, not a colour: under 5%, or for a lag within the idle loop\'s own lag', () => {
  assert.equal(NOISE_FRAC, 0.05);
  assert.deepEqual(pick(judgeDelta(figure('throughput'), 100, 104.9)).arrow, '≈');
  assert.deepEqual(pick(judgeDelta(figure('throughput'), 100, 95.1)).judgement, 'noise');
  assert.deepEqual(pick(judgeDelta(figure('throughput'), 100, 94.9)).judgement, 'worse');
  // 0.5 → 1.1 ms is +120%, but the idle loop alone showed 1.2 ms: noise.
  assert.deepEqual(pick(judgeDelta(figure('p99'), 0.5, 1.1, 1.2)), { judgement: 'noise', arrow: '≈', diff: 0.6000000000000001, frac: 1.2000000000000002 });
  assert.equal(judgeDelta(figure('p99'), 0.5, 1.8, 1.2).judgement, 'worse');
  // The floor is for lags only: a count that doubled is a change.
  assert.equal(judgeDelta(figure('stalls'), 1, 2, 1.2).judgement, 'worse');
  assert.deepEqual(pick(judgeDelta(figure('stalls'), 3, 3)), { judgement: 'same', arrow: '=', diff: 0, frac: 0 });
  assert.equal(judgeDelta(figure('p99'), null, 3).judgement, 'only-after');
  assert.equal(judgeDelta(figure('p99'), 3, null).judgement, 'only-before');
});

test('the derived pair: thread\'s lag max fell 98.6% (better), process throughput +2% (≈), inline wall +30% (worse), GIL wait unchanged', () => {
  const { before, after } = comparePair();
  const c = compareReports(after, before); // either order: the older is before
  assert.equal(c.before, before);
  assert.equal(c.after, after);
  const d = (mode: string, key: string) => c.deltas.find((x) => x.mode === mode && x.figure.key === key)!;
  assert.equal(d('thread', 'max').judgement, 'better');
  assert.equal(d('thread', 'max').arrow, '▼');
  assert.ok(Math.abs(d('thread', 'max').diff! - (15.717 - 1089.694)) < 1e-9);
  assert.equal(d('thread', 'stalls').judgement, 'better');
  assert.equal(d('process', 'throughput').judgement, 'noise');
  assert.equal(d('inline', 'wall').judgement, 'worse');
  assert.equal(d('inline', 'wall').arrow, '▲');
  assert.equal(d('inline', 'throughput').arrow, '▼');
  assert.equal(d('thread', 'gil99').judgement, 'same');
  // Python: no ELU row; GIL wait only where a run has it (thread).
  assert.equal(c.deltas.filter((x) => x.figure.key === 'elu').length, 0);
  assert.deepEqual(c.deltas.filter((x) => x.figure.key === 'gil99').map((x) => x.mode), ['thread']);
  assert.deepEqual([...new Set(c.deltas.map((x) => x.mode))], ['inline', 'thread', 'process']);
  assert.deepEqual(c.verdicts.before, { word: 'Not safe', mode: 'thread' });
  assert.deepEqual(c.verdicts.after, { word: 'Safe', mode: 'thread' });
  assert.equal(c.verdicts.changed, true);
  assert.match(after.headline!, /^Safe in a thread pool/);
  // Both runs had a busy machine: said, with the load.
  assert.deepEqual(c.unfair, [
    'The machine was busy during the before run (other processes used 74% of its CPU): its lags and times are inflated.',
    'The machine was busy during the after run (other processes used 74% of its CPU): its lags and times are inflated.',
  ]);
});

test('unlike runs are named: target, interpreter, concurrency, budget; a mode in one run only', () => {
  const sample = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8')));
  const again: Report = structuredClone(sample);
  again.createdAt = new Date(Date.parse(sample.createdAt) + 1000).toISOString();
  assert.deepEqual(compareReports(sample, again).unfair, [], 'the same run twice on a quiet machine is like for like');
  again.settings = { ...again.settings, concurrency: 8, lagBudgetMs: 50 };
  again.runtime = { ...again.runtime!, executable: '/opt/python3.13/bin/python3', version: '3.13.1' };
  again.target = { ...again.target, args: '1' };
  again.runs = again.runs.filter((r) => r.mode !== 'process');
  const c = compareReports(sample, again);
  assert.equal(c.unfair.length, 4, c.unfair.join('\n'));
  assert.match(c.unfair[0], /^Different target: .*\(.*\) before, .*\(1\) after\.$/);
  assert.match(c.unfair[1], /^Different interpreter: CPython 3\.\d+\.\d+ \(\/usr\/bin\/python3\) before, CPython 3\.13\.1 \(\/opt\/python3\.13\/bin\/python3\) after\.$/);
  assert.equal(c.unfair[2], 'Different concurrency: 3 concurrent calls before, 8 concurrent calls after.');
  assert.equal(c.unfair[3], 'Different lag budget: 100.0 ms before, 50.0 ms after.');
  const process = c.deltas.filter((x) => x.mode === 'process');
  assert.ok(process.length > 0 && process.every((x) => x.judgement === 'only-before'), 'a mode measured before only');
});

test('a run where nothing was measured: verdict "Not measured", its figures absent', () => {
  const failed = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'import-error-python.json'), 'utf8')));
  assert.deepEqual(verdictOf(failed).word, 'Not measured');
  const { before } = comparePair();
  const rows = deltas(before, failed);
  assert.ok(rows.every((x) => x.judgement === 'only-before'), 'nothing to compare with after');
});

test('the better and worse colours are text colours: 4.5:1 on each kind\'s background (and Dark Modern\'s)', () => {
  for (const kind of THEME_KINDS) {
    const backgrounds = [PALETTES[kind].background, ...(kind === 'dark' ? ['#1f1f1f'] : [])];
    for (const bg of backgrounds) {
      for (const [what, colour] of Object.entries(DELTA_TEXT[kind])) {
        const ratio = contrastRatio(colour, bg);
        assert.ok(ratio >= 4.5, `${kind}: ${what} ${colour} on ${bg} is ${ratio.toFixed(2)}:1`);
      }
    }
  }
});

function pick(d: { judgement: string; arrow: string; diff: number | null; frac: number | null }) {
  return { judgement: d.judgement, arrow: d.arrow, diff: d.diff, frac: d.frac };
}

test('a run cut short: its wall time, throughput and stalls are not compared, and the unlike-runs list says so', () => {
  const { before, after } = comparePair();
  const cut: Report = structuredClone(after);
  const thread = cut.runs.find((r) => r.mode === 'thread')!;
  Object.assign(thread, { status: 'failed', partial: true, wallMs: thread.wallMs * 0.3 });
  const c = compareReports(before, cut);
  const rows = c.deltas.filter((d) => d.mode === 'thread');
  for (const key of ['wall', 'throughput', 'stalls']) {
    assert.equal(rows.find((d) => d.figure.key === key)?.judgement, 'cut-short', `${key} of a cut run is not judged`);
  }
  assert.notEqual(rows.find((d) => d.figure.key === 'max')?.judgement, 'cut-short', 'the lags it saw still compare');
  assert.ok(c.unfair.some((u) => /^The after run was cut short in thread: wall time, throughput and stalls stop at the cut/.test(u)), c.unfair.join('\n'));
  assert.equal(c.verdicts.after.word, 'Cut short');
});

test('exact counts are never ≈; a verdict flipped by a lag change within the noise says so; heartbeat, switch interval and GIL probe differences are named', () => {
  assert.equal(judgeDelta(figure('errors'), 200, 191).judgement, 'better', 'nine fewer calls raised is a change, not noise');
  assert.equal(figure('elu').fmtDelta(0.004), '+0.4 pts');
  const { before } = comparePair();
  const a: Report = structuredClone(before);
  const b: Report = structuredClone(before);
  b.createdAt = new Date(Date.parse(a.createdAt) + 1000).toISOString();
  const planned = verdictOf(a).mode;
  const budget = a.settings.lagBudgetMs ?? 100;
  a.runs.find((r) => r.mode === planned)!.lag.maxMs = budget * 0.99;
  b.runs.find((r) => r.mode === planned)!.lag.maxMs = budget * 1.01;
  const c = compareReports(a, b);
  assert.deepEqual([c.verdicts.before.word, c.verdicts.after.word, c.verdicts.changed, c.verdicts.withinNoise], ['Safe', 'Not safe', true, true]);
  b.settings = { ...b.settings, heartbeatMs: b.settings.heartbeatMs * 5, gilProbe: !b.settings.gilProbe };
  const unfair = compareReports(a, b).unfair;
  assert.ok(unfair.some((u) => u.startsWith('Different heartbeat:')), unfair.join('\n'));
  assert.ok(unfair.some((u) => u.startsWith('Different GIL probe:')), unfair.join('\n'));
});

test('"workers default" in both runs but other pools ran (a FastAPI def route gets its threadpool): the mode\'s pool sizes are named', () => {
  const { before } = comparePair();
  const a: Report = structuredClone(before);
  const b: Report = structuredClone(before);
  b.createdAt = new Date(Date.parse(a.createdAt) + 1000).toISOString();
  const thread = b.runs.find((r) => r.mode === 'thread')!;
  const was = thread.workers;
  thread.workers = (was ?? 0) + 4;
  const unfair = compareReports(a, b).unfair;
  assert.ok(unfair.includes(`Different thread pool: ${was} workers before, ${thread.workers} workers after.`), unfair.join('\n'));
});
