/**
 * A cancel's one sentence (issue 16: "the two cancel messages disagree about how many
 * modes were measured"): the report's error (the panel's banner, the CLI, Markdown) and
 * the editor's notification both come from cancelledMessage, counted from the session's
 * final windows.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { buildReport, SessionState, withCancelSummary } from '../../src/report/buildReport';
import { cancelledMessage } from '../../src/report/cancelText';
import { formatReportText } from '../../src/report/textTable';
import { explainFailure } from '../../src/host/errorPrompts';
import { RawWindow, RunSettings } from '../../src/shared/protocol';
import * as fake from '../support/fakeVscode';

const settings: RunSettings = {
  concurrency: 2, workers: null, switchIntervalS: null, heartbeatMs: 1, stallMs: 50, gilProbe: true,
  modes: ['inline', 'thread', 'process', 'interpreter'], timeoutS: 120,
};

function window(mode: RawWindow['mode'], extra: Partial<RawWindow> = {}): RawWindow {
  return {
    mode, status: 'ok', error: null, wallMs: 200, startupMs: null, workers: 2,
    tasks: [{ id: 0, queuedMs: 0, startMs: 0, endMs: 100, worker: 'w', error: null }],
    samples: [[1, 0.5], [2, 60]], gilWaitsMs: null,
    cpu: { userMs: 100, systemMs: 0 }, backgroundCpuFrac: 0.01,
    output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
    ...extra,
  };
}

const CANCELLED = { kind: 'cancelled' as const, message: 'cancelled (1 mode(s) measured)', detail: null };

/**
 * Cancel pressed during thread mode: inline had finished, the interpreter mode is skipped
 * on this Python (its window came first here), and the thread window cut by the cancel
 * arrived after it (what the old message, counted at the cancel, missed).
 */
function cancelledState(): SessionState {
  return {
    target: { file: 'app.py', qualname: 'f', lines: null, args: '', language: 'python' },
    settings, createdAt: new Date('2026-01-01T00:00:00Z'), runtime: null, resolved: null, baseline: null,
    windows: [
      window('inline'),
      window('interpreter', { status: 'skipped', error: { kind: 'unsupported-target', message: 'needs Python 3.14', detail: null }, samples: [], tasks: [] }),
      window('thread', { partial: true, tasks: [{ id: 0, queuedMs: 0, startMs: 0, endMs: null, worker: 'w', error: null }] }),
    ],
    error: CANCELLED, finished: true,
  };
}

afterEach(() => fake.settings.clear());

test('the wording: what was measured whole and what was cut short, a sweep by pool size, nothing measured', () => {
  const report = buildReport(withCancelSummary(cancelledState(), 'run'));
  assert.equal(cancelledMessage(report.runs), 'cancelled after 2 modes measured: inline, thread (cut short)');
  assert.equal(cancelledMessage([]), 'cancelled before any mode was measured');
  assert.equal(cancelledMessage([], 'sweep'), 'cancelled before any pool size was measured');
  const point = (workers: number) => ({ ...report.runs[0], mode: 'thread' as const, workers });
  assert.equal(cancelledMessage([point(1)], 'sweep'), 'cancelled after 1 pool size measured: thread W=1');
  // A window that ended with the cancel's error (Node's worker mode) was cut short too; a crash says so.
  const stopped = { ...report.runs[0], mode: 'worker' as const, status: 'failed' as const, error: CANCELLED };
  const crashed = { ...stopped, mode: 'process' as const, error: { ...CANCELLED, kind: 'crashed' as const } };
  assert.equal(cancelledMessage([report.runs[0], stopped, crashed]), 'cancelled after 3 modes measured: inline, worker (cut short), process (failed)');
  // A cut window the host recorded for a sidecar that could not answer has no figures.
  const deaf = { ...report.runs[0], partial: true, lag: { ...report.runs[0].lag, sampleCount: 0 } };
  assert.equal(cancelledMessage([deaf]), 'cancelled before any mode was measured');
});

test('the report\'s error, the CLI\'s table and the notification say the same count, from the final windows', async () => {
  const report = buildReport(withCancelSummary(cancelledState(), 'run'));
  const sentence = 'cancelled after 2 modes measured: inline, thread (cut short)';
  assert.equal(report.error?.message, sentence, 'not the count at the moment of the cancel');
  assert.equal(report.status, 'partial');
  // The mode never reached says why, in the same words.
  assert.equal(report.runs.find((r) => r.mode === 'process')?.error?.message, `not measured: ${sentence}`);
  assert.ok(formatReportText(report).includes(`error [cancelled]: ${sentence}`));
  // The editor's notification (runController: explainFailure with `run ${report.error.message}`).
  const shown: string[] = [];
  const original = (fake.window as Record<string, unknown>).showInformationMessage;
  Object.assign(fake.window, { showInformationMessage: async (text: string) => void shown.push(text) });
  try {
    await explainFailure(report.error!, { uri: fake.Uri.file('/w/app.py') as never, language: 'python' }, `run ${report.error!.message}`, { error() {} } as never);
  } finally {
    Object.assign(fake.window, { showInformationMessage: original });
  }
  assert.deepEqual(shown, [`Loop Lag: run ${sentence}.`]);
});
