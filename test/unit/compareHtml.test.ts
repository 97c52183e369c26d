/**
 * Save as HTML while comparing (issue 16): the page written holds both reports, so the
 * file shows the comparison the panel shows; without a comparison, the report alone.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, test } from 'node:test';
import * as vscode from 'vscode';
import { ReportView } from '../../src/host/reportView';
import { HistoryStore } from '../../src/report/historyStore';
import { comparePair } from '../support/comparePair';
import * as fake from '../support/fakeVscode';
import { REPO, waitFor } from '../support/helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-comparehtml-'));
const stubs = fake.stubs();
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => stubs.restore());

/** The JSON the page embeds (report/html.ts: the inert `looplag-data` element). */
function embedded(file: string): { report: { createdAt: string }; compare: { createdAt: string } | null } {
  const html = fs.readFileSync(file, 'utf8');
  const m = /<script type="application\/json" id="looplag-data">(.*?)<\/script>/s.exec(html);
  assert.ok(m, 'the data element');
  return JSON.parse(m[1]);
}

test('Save as HTML on a comparison writes both reports into the page; Stop comparing, the report alone', async () => {
  const { before, after: newer } = comparePair();
  const log = (fake.window as unknown as { createOutputChannel(): vscode.LogOutputChannel }).createOutputChannel();
  const history = new HistoryStore(fs.mkdtempSync(path.join(tmp, 'h-')));
  const older = await history.add(before, 'cpu_bound_task', before.headline!);
  // The repository as the extension's folder: Save HTML reads the built UI from dist/webview.
  const view = new ReportView(vscode.Uri.file(REPO), history, log, {
    active: () => undefined, lagBudgetMs: () => 100, rerun: async () => undefined, cancel: () => undefined,
  });
  view.panel.show(true);
  const panel = fake.created.at(-1)!;
  panel.webview.received.fire({ type: 'ready' });
  const currentId = await view.runFinished(newer, 'cpu_bound_task', newer.headline!);
  const out = path.join(tmp, 'page.html');
  stubs.stub(vscode.window, { showSaveDialog: async () => vscode.Uri.file(out) });
  const saved = async () => {
    fs.rmSync(out, { force: true });
    panel.webview.received.fire({ type: 'saveHtml', id: currentId! });
    for (let i = 0; i < 500 && !fs.existsSync(out); i++) await new Promise((r) => setTimeout(r, 2));
    return embedded(out);
  };

  panel.webview.received.fire({ type: 'compare', id: older.id });
  await waitFor(() => panel.webview.posted.some((m) => (m as { compare?: unknown }).compare), 'a state with the compared report');
  const both = await saved();
  assert.equal(both.report.createdAt, newer.createdAt);
  assert.equal(both.compare?.createdAt, before.createdAt, 'the compared report is in the page');

  panel.webview.received.fire({ type: 'compare', id: null });
  await waitFor(() => !(panel.webview.posted.length && (panel.webview.posted.at(-1) as { compare?: unknown }).compare), 'a state without the compared report');
  const alone = await saved();
  assert.equal(alone.report.createdAt, newer.createdAt);
  assert.equal(alone.compare, null, 'no comparison: the report alone');
});
