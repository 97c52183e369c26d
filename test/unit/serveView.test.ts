/**
 * The report panel's service-mode view (host side, issue 14): a session's document posted
 * live as `serve` messages and re-sent as the whole state, the run view taking over when
 * a report is picked, Copy Markdown and Save HTML on a serve view, and the workspace's
 * last serve report kept on disk for Show Endpoint Report after a reload.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, test } from 'node:test';
import * as vscode from 'vscode';
import { ReportView } from '../../src/host/reportView';
import { HistoryStore } from '../../src/report/historyStore';
import { ServeReport } from '../../src/shared/protocol/serveReport';
import { ToWebview } from '../../src/shared/webviewProtocol';
import * as fake from '../support/fakeVscode';
import { FIXTURES, REPO, waitFor } from '../support/helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-serveview-'));
const stubs = fake.stubs();
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => stubs.restore());

const SERVE = ServeReport.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'serve', 'report', 'stalling-asgi.json'), 'utf8')));
const LIVE = { variant: 'as written', variantIndex: 0, variants: 1, phase: 'measuring', elapsedMs: 1200, durationMs: 10000, sent: 24, completed: 24 };

function viewWith(storage: string) {
  const log = (fake.window as unknown as { createOutputChannel(): vscode.LogOutputChannel }).createOutputChannel();
  // The repository as the extension's folder: Save HTML reads the built UI from dist/webview.
  const view = new ReportView(vscode.Uri.file(REPO), new HistoryStore(storage), log, {
    active: () => undefined, lagBudgetMs: () => 100, rerun: async () => undefined, cancel: () => undefined,
  });
  view.panel.show(true);
  const panel = fake.created.at(-1)!;
  panel.webview.received.fire({ type: 'ready' });
  // Every message the host posts is valid for the webview (parsed as it parses them).
  const posted = () => panel.webview.posted.map((m) => ToWebview.parse(m));
  return { view, panel, posted };
}

/** Wait until the panel has been posted a message matching `pred` (the handlers are asynchronous). */
async function postedMatching(posted: () => ToWebview[], pred: (m: ToWebview) => boolean): Promise<ToWebview> {
  for (let i = 0; i < 200; i++) {
    const m = posted().find(pred);
    if (m) return m;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`no such message among ${posted().map((m) => m.type).join(', ')}`);
}

test('a session live: `serve` messages with the document so far and the variant under load; the state re-sent is the serve view', async () => {
  const { view, panel, posted } = viewWith(fs.mkdtempSync(path.join(tmp, 'h-')));
  view.serveStarted({ ...SERVE, variants: [] }, LIVE);
  view.serveProgressed(SERVE, LIVE);
  const live = posted().filter((m) => m.type === 'serve').at(-1);
  assert.ok(live && live.type === 'serve');
  assert.deepEqual(live.running, LIVE);
  assert.equal(live.report.headline, SERVE.headline);
  await view.serveFinished(SERVE);
  const done = posted().filter((m) => m.type === 'serve').at(-1)!;
  assert.equal(done.type === 'serve' && done.running, null, 'finished: no longer running');
  panel.webview.posted.length = 0;
  panel.webview.received.fire({ type: 'ready' });
  assert.equal(posted()[0].type, 'serve', 'the whole state of a serve view is the serve message');
});

test('Copy Markdown copies the serve summary; Save HTML asks to save looplag-serve-<app>.html, Export JSON looplag-serve-<app>.json', async () => {
  const { view, panel, posted } = viewWith(fs.mkdtempSync(path.join(tmp, 'h-')));
  await view.serveFinished(SERVE);
  const copied: string[] = [];
  stubs.stub(vscode.env.clipboard, { writeText: async (t: string) => void copied.push(t) });
  let asked: string | undefined;
  stubs.stub(vscode.window, { showSaveDialog: async (o: { defaultUri: vscode.Uri }) => ((asked = path.basename(o.defaultUri.fsPath)), undefined) });
  panel.webview.received.fire({ type: 'copyMarkdown' });
  await postedMatching(posted, (m) => m.type === 'notice' && /Markdown/.test(m.text));
  assert.match(copied[0], new RegExp(SERVE.headline.slice(0, 30).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  panel.webview.received.fire({ type: 'saveHtml' });
  await waitFor(() => asked !== undefined, 'the save dialog');
  assert.match(asked ?? '', /^looplag-serve-.+\.html$/);
  asked = undefined;
  panel.webview.received.fire({ type: 'exportJson', id: 'serve' });
  await waitFor(() => asked !== undefined, 'the save dialog');
  assert.match(asked ?? '', /^looplag-serve-.+\.json$/);
});

test('the last serve report is kept on disk: a new view (after a reload) shows it with Show Endpoint Report', async () => {
  const storage = fs.mkdtempSync(path.join(tmp, 'h-'));
  await viewWith(storage).view.serveFinished(SERVE);
  const again = viewWith(storage);
  again.panel.webview.posted.length = 0;
  assert.equal(await again.view.showServe(), true);
  const m = await postedMatching(again.posted, (x) => x.type === 'serve');
  assert.equal(m.type === 'serve' && m.report.createdAt, SERVE.createdAt);
  assert.equal(await viewWith(fs.mkdtempSync(path.join(tmp, 'h-'))).view.showServe(), false, 'none kept: nothing to show');
});
