/**
 * Calls that did not finish, on synthetic windows: how each call's status is derived,
 * the counts, the report's status, exit code 5 and its precedence, the views' marks,
 * and that no verdict calls a cut mode safe.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { advise } from '../../src/advice/advise';
import { defaultCallTimeoutS } from '../../src/engine/options';
import { buildReport, SessionState } from '../../src/report/buildReport';
import { exitCode } from '../../src/report/exitCode';
import { reportMarkdown } from '../../src/report/markdown';
import { formatReportText, partialPhrase } from '../../src/report/textTable';
import { verdicts } from '../../src/report/verdict';
import { RawWindow, Report, RunError, RunSettings } from '../../src/shared/protocol';
import { taskStats } from '../../src/stats/lagStats';

const settings: RunSettings = {
  concurrency: 4, workers: null, switchIntervalS: null, heartbeatMs: 1, stallMs: 50, gilProbe: false,
  modes: ['inline', 'thread'], timeoutS: 120, callTimeoutS: 1, lagBudgetMs: 100,
};

/** Four calls: two ended at 10 ms, two still open when the window ended at `wallMs`. */
function cutWindow(mode: RawWindow['mode'], error: RunError, extra: Partial<RawWindow> = {}): RawWindow {
  return {
    mode, status: 'failed', error, wallMs: 1000, startupMs: null, workers: 2,
    tasks: [0, 1, 2, 3].map((id) => ({ id, queuedMs: 0, startMs: id < 2 ? 0 : 10, endMs: id < 2 ? 10 : null, worker: 'w', error: null })),
    samples: [[1, 0.1], [2, 0.2]], gilWaitsMs: null,
    cpu: { userMs: 10, systemMs: 1 }, backgroundCpuFrac: 0,
    output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
    ...extra,
  };
}

function okWindow(mode: RawWindow['mode']): RawWindow {
  return {
    ...cutWindow(mode, { kind: 'timeout', message: '', detail: null }),
    status: 'ok', error: null,
    tasks: [0, 1, 2, 3].map((id) => ({ id, queuedMs: 0, startMs: 0, endMs: 10, worker: 'w', error: null })),
  };
}

function report(windows: RawWindow[], error: RunError | null = null): Report {
  const state: SessionState = {
    target: { file: 'app.py', qualname: 'f', lines: null, args: '', language: 'python' },
    settings, createdAt: new Date('2026-01-01T00:00:00Z'), runtime: null, resolved: null, baseline: null,
    windows, error, finished: true,
  };
  const r = buildReport(state);
  return Report.parse(JSON.parse(JSON.stringify(r)));
}

const CALL_TIMEOUT: RunError = { kind: 'call-timeout', message: 'calls 3–4 of f in inline did not finish within 1 s (--call-timeout)', detail: null };
const CRASH: RunError = { kind: 'crashed', message: 'a process worker died', detail: null };

test('a cut window: the open calls are unfinished, not ok; the run is partial; the report partial; exit 5', () => {
  const r = report([cutWindow('inline', CALL_TIMEOUT, { partial: true }), okWindow('thread')]);
  const inline = r.runs[0];
  assert.deepEqual(inline.tasks.map((t) => t.status), ['ok', 'ok', 'unfinished', 'unfinished']);
  assert.equal(inline.taskStats.okCount, 2);
  assert.equal(inline.taskStats.unfinishedCount, 2);
  assert.equal(inline.taskStats.crashedCount, 0);
  assert.equal(inline.partial, true);
  assert.equal(r.runs[1].partial, undefined);
  assert.equal(r.status, 'partial');
  const exit = exitCode(r, null);
  assert.equal(exit.code, 5);
  assert.deepEqual(exit.stderr, ['looplag: calls did not finish in inline (2 unfinished of 4 calls: calls 3–4 of f in inline did not finish within 1 s (--call-timeout))']);
});

test('calls lost with a crashed pool are crashed; the run is partial even unmarked', () => {
  const r = report([okWindow('inline'), cutWindow('thread', CRASH)]);
  assert.equal(r.runs[1].taskStats.crashedCount, 2);
  assert.equal(r.runs[1].partial, true);
  assert.equal(exitCode(r, null).code, 5);
  assert.match(exitCode(r, null).stderr[0], /thread \(2 crashed of 4 calls: a process worker died\)/);
});

test('exit precedence: 124 and 130 before 5; 5 before 4 and 3', () => {
  const timedOut = report([cutWindow('inline', { kind: 'timeout', message: 'timed out while measuring inline', detail: null })],
    { kind: 'timeout', message: 'gave up after 3 s', detail: null });
  assert.equal(exitCode(timedOut, null).code, 124);
  const raisedToo = okWindow('thread');
  raisedToo.tasks[0].error = { type: 'ValueError', message: 'x', traceback: null };
  const both = report([cutWindow('inline', CALL_TIMEOUT), raisedToo]);
  assert.equal(exitCode(both, 0).code, 5, 'unfinished before raised and budget');
});

test('a mode whose sidecar crashed while others were measured: exit 5; with nothing measured anywhere: exit 1', () => {
  const lost: RawWindow = { ...cutWindow('thread', CRASH), samples: [], tasks: [] };
  const some = report([okWindow('inline'), lost], { ...CRASH, message: 'the Python sidecar exited with code 3' });
  assert.equal(exitCode(some, null).code, 5);
  const none = report([{ ...lost, mode: 'inline' }], { ...CRASH, message: 'the Python sidecar exited with code 3' });
  assert.equal(exitCode(none, null).code, 1);
});

test('old reports: a task without status is raised with an error, else ok (as before)', () => {
  const s = taskStats([
    { id: 0, queuedMs: 0, startMs: 0, endMs: 1, worker: null, error: null },
    { id: 1, queuedMs: 0, startMs: 0, endMs: 1, worker: null, error: { type: 'E', message: 'm', traceback: null } },
    { id: 2, queuedMs: 0, startMs: null, endMs: null, worker: null, error: null, status: 'crashed' },
  ]);
  assert.equal(s.okCount, 1);
  assert.equal(s.errorCount, 1);
  assert.equal(s.crashedCount, 1);
});

test('views mark a partial run; no lag figures without samples; no verdict calls it safe', () => {
  const noSamples: RawWindow = { ...cutWindow('inline', CALL_TIMEOUT, { partial: true }), samples: [] };
  const r = report([noSamples, okWindow('thread')]);
  assert.equal(partialPhrase(r.runs[0]), 'partial: cut at 1.00 s by --call-timeout; 2 unfinished of 4 calls; no lag samples');
  assert.equal(partialPhrase(r.runs[1]), null);
  const text = formatReportText(r);
  assert.match(text, /^inline: partial: cut at 1\.00 s by --call-timeout/m);
  assert.match(text, /^inline\s+failed \(partial\)/m);
  assert.match(reportMarkdown(r), /inline \(partial\) \| – \| – \| – \|/);
  const v = verdicts(r).find((x) => x.mode === 'inline')!;
  assert.notEqual(v.level, 'ok');
  const a = advise(r).filter((x) => x.mode === 'inline');
  assert.ok(a.some((x) => x.id === 'calls-unfinished' && x.severity === 'critical'));
  assert.ok(!a.some((x) => x.severity === 'ok'));
  // A cut inline window with a quiet loop so far is still no verdict, planned or not.
  const cut = buildReport({
    target: { file: 'app.py', qualname: 'f', lines: null, args: '', language: 'python' },
    settings: { ...settings, plannedMode: 'inline', modes: ['inline'] }, createdAt: new Date(), runtime: null, resolved: null,
    baseline: null, windows: [cutWindow('inline', CALL_TIMEOUT, { partial: true })], error: null, finished: true,
  });
  assert.match(cut.headline ?? '', /^Cut short on the event loop \(called directly\): calls 3–4 of f .* An unfinished call is not a verdict\./);
  assert.ok(!cut.advice.some((x) => x.id === 'healthy'));
});

test('the default call timeout: --timeout over (modes + 1), at least 1 s', () => {
  assert.equal(defaultCallTimeoutS(120, 4), 24);
  assert.equal(defaultCallTimeoutS(120, 1), 60);
  assert.equal(defaultCallTimeoutS(2, 3), 1);
});
