import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildReport, SessionState } from '../../src/report/buildReport';
import { assessQuality, BUSY_MACHINE_FRAC } from '../../src/report/quality';
import { reportMarkdown } from '../../src/report/markdown';
import { formatReportText } from '../../src/report/textTable';
import { RawWindow, Report, RunSettings } from '../../src/shared/protocol';
import { exitCode } from '../../src/report/exitCode';

const settings: RunSettings = {
  concurrency: 2, workers: null, switchIntervalS: null, heartbeatMs: 1, stallMs: 50, gilProbe: true,
  modes: ['inline', 'thread', 'process'], timeoutS: 120,
};

function window(mode: RawWindow['mode'], wallMs: number, lags: number[], extra: Partial<RawWindow> = {}): RawWindow {
  return {
    mode, status: 'ok', error: null, wallMs, startupMs: null, workers: 1,
    tasks: [
      { id: 0, queuedMs: 0, startMs: 0, endMs: wallMs / 2, worker: 'w', error: null },
      { id: 1, queuedMs: 0, startMs: wallMs / 2, endMs: wallMs, worker: 'w', error: null },
    ],
    samples: lags.map((lag, i) => [i + 1, lag]), gilWaitsMs: [5, 5, 6],
    cpu: { userMs: wallMs * 0.9, systemMs: wallMs * 0.1 }, backgroundCpuFrac: 0.01,
    output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
    ...extra,
  };
}

function state(windows: RawWindow[], extra: Partial<SessionState> = {}): SessionState {
  return {
    target: { file: 'app.py', qualname: 'f', lines: null, args: '', language: 'python' },
    settings, createdAt: new Date('2026-01-01T00:00:00Z'),
    runtime: { name: 'python', version: '3.11.7', executable: 'python3', implementation: 'CPython', gilEnabled: true, cpuCount: 2, platform: 'linux', switchIntervalS: 0.005 },
    resolved: null, baseline: window('baseline', 300, [0.1, 0.1, 0.2]), windows, error: null, finished: true, ...extra,
  };
}

test('speedup and throughput are relative to inline; the report validates', () => {
  const r = buildReport(state([window('inline', 400, [390]), window('thread', 400, [100, 200]), window('process', 200, [0.1])]));
  Report.parse(JSON.parse(JSON.stringify(r)));
  const by = (m: string) => r.runs.find((x) => x.mode === m)!;
  assert.equal(by('inline').speedup, 1);
  assert.equal(by('process').speedup, 2);
  assert.equal(by('process').throughputPerS, 10);
  assert.equal(by('inline').cpu.parallelism, 1);
  assert.equal(r.status, 'complete');
  assert.equal(r.settings.switchIntervalS, 0.005, 'the interpreter default is reported when none was set');
  assert.equal(r.baseline!.lag.maxMs, 0.2);
});

test('a session that ended early is partial and lists the modes it never reached', () => {
  const r = buildReport(state([window('inline', 400, [390])], {
    error: { kind: 'crashed', message: 'killed by SIGSEGV', detail: null },
  }));
  assert.equal(r.status, 'partial');
  assert.deepEqual(r.runs.map((x) => [x.mode, x.status]), [['inline', 'ok'], ['thread', 'skipped'], ['process', 'skipped']]);
  assert.match(r.runs[1].error!.message, /not measured: killed by SIGSEGV/);
  const failed = buildReport(state([], { error: { kind: 'syntax-error', message: 'bad', detail: null } }));
  assert.equal(failed.status, 'failed');
});

test('without an inline run there is no speedup', () => {
  const r = buildReport(state([window('thread', 400, [1])], { settings: { ...settings, modes: ['thread'] } }));
  assert.equal(r.runs[0].speedup, null);
});

test('quality: a busy window makes the report untrustworthy and says which', () => {
  const q = assessQuality({ windows: [{ mode: 'thread', backgroundCpuFrac: BUSY_MACHINE_FRAC + 0.1 }, { mode: 'inline', backgroundCpuFrac: 0 }], baseline: null, gilProbe: false });
  assert.equal(q.trustworthy, false);
  assert.equal(q.backgroundCpuFrac, BUSY_MACHINE_FRAC + 0.1);
  assert.match(q.notes[0], /35% of the machine's CPU during the thread window/);
  const calm = assessQuality({ windows: [{ mode: 'thread', backgroundCpuFrac: 0.02 }], baseline: null, gilProbe: true });
  assert.equal(calm.trustworthy, true);
  assert.match(calm.notes.join(' '), /GIL waits come from the one-thread diagnostic window/);
  const inWindow = assessQuality({ windows: [{ mode: 'thread', backgroundCpuFrac: 0.02 }], baseline: null, gilProbe: true, gilProbeInWindow: true });
  assert.match(inWindow.notes.join(' '), /GIL-wait probe thread ran in every window/);
});

test('the text table has a row per measured mode; a skipped mode gets one line under it, not a row of dashes', () => {
  const r = buildReport(state([window('inline', 400, [390]), { ...window('process', 0, []), status: 'skipped', error: { kind: 'unsupported-mode', message: 'needs 3.14', detail: null } }]));
  const text = formatReportText(r);
  assert.match(text, /^inline\s+ok\s+1\s+400\.0 ms/m);
  assert.doesNotMatch(text, /^process\s+skipped/m);
  assert.match(text, /^process: skipped \[unsupported-mode\] needs 3\.14$/m);
});

test('exit codes: errors map to 1, 124, 130; the budget to 3', () => {
  {
    const ok = buildReport(state([window('inline', 400, [390]), window('process', 200, [0.1])]));
    assert.equal(exitCode(ok, null).code, 0);
    assert.equal(exitCode(ok, 400).code, 0);
    const over = exitCode(ok, 100);
    assert.equal(over.code, 3);
    assert.match(over.stderr[0], /budget 100\.0 ms exceeded by inline \(max 390\.0 ms\)/);
    const withError = (kind: 'timeout' | 'cancelled' | 'import-error') => buildReport(state([], { error: { kind, message: 'x', detail: null } }));
    assert.equal(exitCode(withError('timeout'), null).code, 124);
    assert.equal(exitCode(withError('cancelled'), null).code, 130);
    assert.deepEqual(exitCode(withError('import-error'), 1), { code: 1, stderr: ['looplag: error [import-error]: x'] });
  }
});

test('thread mode measured without the probe shows the diagnostic\'s GIL waits, and says so', () => {
  const diagnostic = window('diagnostic', 100, [5, 5], { gilWaitsMs: [4, 5, 6, 7] });
  const r = buildReport(state([window('inline', 400, [390], { gilWaitsMs: null }), window('thread', 400, [5, 6], { gilWaitsMs: null })], { diagnostic }));
  Report.parse(JSON.parse(JSON.stringify(r)));
  const thread = r.runs.find((x) => x.mode === 'thread')!;
  assert.equal(thread.gilWaitSource, 'diagnostic');
  assert.deepEqual(thread.gilWait, r.diagnostic!.gilWait);
  const inline = r.runs.find((x) => x.mode === 'inline')!;
  assert.equal(inline.gilWait, null, 'only thread mode borrows the diagnostic\'s waits');
  assert.equal(inline.gilWaitSource, undefined);
  const own = buildReport(state([window('thread', 400, [5, 6])], { diagnostic }));
  assert.equal(own.runs[0].gilWaitSource, 'window', 'a probe in the window (the opt-in) keeps its own waits');
  assert.deepEqual(own.runs[0].gilWait?.sampleCount, 3);
});

test('Node: the threadpool probe becomes runs[].threadpool (p50, max, count, idle) and a column in the text table and the markdown', () => {
  const probes = [0.1, 0.2, 300, 400, 500, 600, 0.1];
  const r = buildReport(state([window('inline', 800, [1, 2], { gilWaitsMs: null, elu: 0.1, threadpool: { probesMs: probes, idleMs: 0.04 } })], {
    target: { file: 'app.js', qualname: 'f', lines: null, args: '', language: 'javascript' },
    settings: { ...settings, modes: ['inline'], gilProbe: false },
    runtime: { name: 'node', version: '20.20.2', executable: 'node', implementation: 'node', gilEnabled: false, cpuCount: 2, platform: 'linux', switchIntervalS: 0 },
  }));
  Report.parse(JSON.parse(JSON.stringify(r)));
  assert.deepEqual(r.runs[0].threadpool, { probeP50Ms: 300, probeMaxMs: 600, probeCount: 7, idleMs: 0.04 });
  assert.match(formatReportText(r), /threadpool wait[\s\S]*^inline .*300\.0 ms \/ 600\.0 ms/m);
  assert.match(reportMarkdown(r), /\| threadpool wait \|[\s\S]*\| 300\.0 ms \/ 600\.0 ms \|/);
  // A Python report has no such column.
  const py = buildReport(state([window('inline', 400, [390])]));
  assert.equal(py.runs[0].threadpool, undefined);
  assert.doesNotMatch(reportMarkdown(py), /threadpool/);
});
