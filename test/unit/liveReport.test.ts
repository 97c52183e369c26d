/**
 * Issue 12: live panel updates send what changed (a finished window), not the whole
 * report each time. The host side (ReportView over the fake panel) and the webview side
 * (validate, apply) together must rebuild every partial report exactly, including after
 * an update the panel missed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as vscode from 'vscode';
import { ReportView } from '../../src/host/reportView';
import { HistoryStore } from '../../src/report/historyStore';
import { applyLiveDelta, liveDelta } from '../../src/shared/liveReport';
import { Report } from '../../src/shared/protocol';
import { ToWebview } from '../../src/shared/webviewProtocol';
import * as fake from '../support/fakeVscode';
import { FIXTURES } from '../support/helpers';

const sample = (): Report => Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8')));

/** The partial reports of a run whose modes finish one by one, each with its own headline. */
function partials(order: number[]): Report[] {
  const whole = sample();
  return order.map((_, i) => ({ ...whole, status: 'partial' as const, headline: `after ${i + 1}`, runs: order.slice(0, i + 1).map((k) => whole.runs[k]) }));
}

test('liveDelta/applyLiveDelta: new runs only; all again when inline arrives after others; null when the base lacks a run', () => {
  const steps = partials([1, 2, 0, 3]); // thread, process, inline (late), interpreter
  let shown: Report | null = null;
  let base: Report | null = null;
  const sent: number[] = [];
  for (const p of steps) {
    const d = liveDelta(base, p);
    assert.deepEqual(d.head.runs, []);
    shown = applyLiveDelta(shown, d);
    assert.deepEqual(shown, p);
    sent.push(d.runs.length);
    base = p;
  }
  assert.deepEqual(sent, [1, 1, 3, 1]);
  // A base from another run (another createdAt) counts as nothing.
  const other = { ...steps[1], createdAt: '2020-01-01T00:00:00.000Z' };
  assert.equal(liveDelta(other, steps[2]).runs.length, 3);
  // The webview missed the thread window: it cannot rebuild, and says so.
  assert.equal(applyLiveDelta(null, liveDelta(steps[0], steps[1])), null);
  assert.equal(applyLiveDelta({ ...steps[0], runs: [] }, liveDelta(steps[0], steps[1])), null);
});

test('ReportView posts liveDelta messages that rebuild each partial report; a missed update is recovered by the whole state', async () => {
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-live-'));
  const log = (fake.window as unknown as { createOutputChannel(): vscode.LogOutputChannel }).createOutputChannel();
  const view = new ReportView(vscode.Uri.file('/ext'), new HistoryStore(path.join(storage, 'history')), log, {
    active: () => ({ kind: 'run', progress: { mode: 'thread', phase: 'running', done: 1, total: 2 }, label: 'f', concurrency: 2 }),
    lagBudgetMs: () => 100,
    rerun: async () => undefined,
    cancel: () => undefined,
  });
  try {
    const steps = partials([0, 1, 2, 3]);
    view.runStarted();
    view.panel.show(true);
    const panel = fake.created.at(-1)!;
    panel.webview.received.fire({ type: 'ready' });
    // The webview side: what it shows, from the messages it gets.
    let shown: Report | null = null;
    let seen = 0;
    const webviewReads = () => {
      for (const raw of panel.webview.posted.slice(seen)) {
        const m = ToWebview.parse(JSON.parse(JSON.stringify(raw)));
        if (m.type === 'state') shown = m.current;
        if (m.type === 'liveDelta') shown = applyLiveDelta(shown, m);
      }
      seen = panel.webview.posted.length;
    };
    webviewReads();
    assert.equal(shown, null);

    view.runProgressed(steps[0]);
    view.runProgressed(steps[1]);
    webviewReads();
    assert.deepEqual(shown, steps[1]);
    const last = panel.webview.posted.at(-1) as { type: string; runs: unknown[]; progress: unknown };
    assert.equal(last.type, 'liveDelta');
    assert.equal(last.runs.length, 1, 'only the thread window');
    assert.deepEqual(last.progress, { mode: 'thread', phase: 'running', done: 1, total: 2 });

    // Hidden: the webview goes away and misses the process window; shown again, it says ready.
    panel.setVisible(false);
    view.runProgressed(steps[2]);
    panel.setVisible(true);
    shown = null; // a reloaded webview starts empty
    panel.webview.received.fire({ type: 'ready' });
    webviewReads();
    assert.deepEqual(shown, steps[2], 'the whole state carries the run so far');
    view.runProgressed(steps[3]);
    webviewReads();
    assert.deepEqual(shown, steps[3]);
    assert.equal((panel.webview.posted.at(-1) as { runs: unknown[] }).runs.length, 1, 'only the interpreter window');
  } finally {
    view.dispose();
    fs.rmSync(storage, { recursive: true, force: true });
  }
});
