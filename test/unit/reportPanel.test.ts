import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as vscode from 'vscode';
import { registerReportSerializer, REPORT_VIEW_TYPE, ReportPanelController } from '../../src/panel/reportPanel';
import type { FromWebview, ToWebview } from '../../src/shared/webviewProtocol';
import * as fake from '../support/fakeVscode';

function setup() {
  const received: FromWebview[] = [];
  const logs: string[] = [];
  let closed = 0;
  const state: Extract<ToWebview, { type: 'state' }> = {
    type: 'state', currentId: null, current: null, compare: null, history: [], running: null,
    options: { lagBudgetMs: 100, host: 'vscode' },
  };
  const controller = new ReportPanelController(vscode.Uri.file('/ext'), {
    state: () => state,
    onMessage: (m) => received.push(m),
    onClosed: () => closed++,
    log: (t) => logs.push(t),
  });
  return { controller, received, logs, closed: () => closed };
}

test('create-or-show: one panel beside the editor, restricted resources, nonce CSP', () => {
  const before = fake.created.length;
  const { controller } = setup();
  controller.show();
  controller.show();
  assert.equal(fake.created.length, before + 1, 'the second show reveals, not creates');
  const panel = fake.created.at(-1)!;
  assert.equal(panel.revealed, 1);
  assert.equal(panel.viewType, REPORT_VIEW_TYPE);
  const options = panel.webview.options as { enableScripts: boolean; localResourceRoots: { path: string }[] };
  assert.equal(options.enableScripts, true);
  assert.deepEqual(options.localResourceRoots.map((u) => u.path), ['/ext/dist/webview', '/ext/media']);
  const nonce = /nonce="([^"]+)"/.exec(panel.webview.html)![1];
  assert.ok(nonce.length >= 16);
  assert.match(panel.webview.html, new RegExp(`<script nonce="${nonce.replace(/[+/=]/g, (c) => `\\${c}`)}" src="https://fake.vscode-cdn.net/ext/dist/webview/main.js">`));
  // A second panel gets a different nonce.
  controller.dispose();
  controller.show();
  assert.notEqual(/nonce="([^"]+)"/.exec(fake.created.at(-1)!.webview.html)![1], nonce);
});

test('state is sent only after ready, and again after the webview reloads', () => {
  const { controller, received, logs } = setup();
  controller.show();
  const panel = fake.created.at(-1)!;
  controller.refresh();
  assert.equal(panel.webview.posted.length, 0, 'nothing before ready');
  panel.webview.received.fire({ type: 'ready' });
  assert.deepEqual(panel.webview.posted.map((m) => (m as { type: string }).type), ['state']);
  panel.setVisible(false);
  controller.refresh();
  assert.equal(panel.webview.posted.length, 1, 'a hidden (destroyed) webview is not posted to');
  panel.setVisible(true);
  panel.webview.received.fire({ type: 'ready' });
  assert.equal(panel.webview.posted.length, 2, 're-sent when visible again');
  panel.webview.received.fire({ type: 'rerun' });
  panel.webview.received.fire({ type: 'select', id: 7 });
  panel.webview.received.fire('not even an object');
  assert.deepEqual(received, [{ type: 'rerun' }]);
  assert.equal(logs.length, 2);
  assert.match(logs[0], /id: expected string/);
});

test('closing the panel tells the host; the serializer revives into the same controller', async () => {
  const { controller, closed } = setup();
  controller.show();
  const panel = fake.created.at(-1)!;
  panel.dispose();
  assert.equal(closed(), 1);
  assert.equal(controller.isOpen, false);
  const registration = registerReportSerializer(controller);
  const restored = new fake.FakePanel(REPORT_VIEW_TYPE, 'Loop Lag', {}, {});
  await fake.serializers.get(REPORT_VIEW_TYPE)!.deserializeWebviewPanel(restored, undefined);
  assert.equal(controller.isOpen, true);
  assert.match(restored.webview.html, /Content-Security-Policy/);
  restored.webview.received.fire({ type: 'ready' });
  assert.equal(restored.webview.posted.length, 1);
  registration.dispose();
});
