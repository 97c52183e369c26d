/**
 * The panel's `openLocation` (a blocker's line, clicked): the host opens it at the line
 * when the report's blockers name it and it is inside the report's workspace, and refuses
 * anything else (a line no blocker names, `..`, an absolute path elsewhere, a symlink out,
 * a missing file, a malformed message). The report is data: a crafted one must not open
 * arbitrary files.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, before, after, test } from 'node:test';
import * as vscode from 'vscode';
import { ReportView } from '../../src/host/reportView';
import { reportRoot, resolveReportFile } from '../../src/host/reveal';
import { HistoryStore } from '../../src/report/historyStore';
import { Report } from '../../src/shared/protocol';
import { FromWebview } from '../../src/shared/webviewProtocol';
import * as fake from '../support/fakeVscode';
import { FIXTURES } from '../support/helpers';

let tmp: string;
let ws: string;
let other: string;
const stubs = fake.stubs();

before(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-open-')));
  ws = path.join(tmp, 'ws');
  other = path.join(tmp, 'other');
  fs.mkdirSync(path.join(ws, 'services'), { recursive: true });
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(ws, 'app.py'), 'def main():\n    pass\n');
  fs.writeFileSync(path.join(ws, 'services', 'feeds.py'), Array.from({ length: 30 }, (_, i) => `x${i} = ${i}`).join('\n'));
  fs.writeFileSync(path.join(ws, '..feeds.py'), 'a name that starts with two dots is still inside\n');
  fs.writeFileSync(path.join(other, 'secret.py'), 'TOKEN = "x"\n');
  fs.writeFileSync(path.join(other, 'app.py'), 'def main():\n    pass\n');
  fs.symlinkSync(path.join(other, 'secret.py'), path.join(ws, 'link.py'));
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => stubs.restore());

/** The places the tests open, named by the report's blockers (the panel only offers those). */
const NAMED: [string, number][] = [['services/feeds.py', 12], ['../other/secret.py', 1], ['services/../../other/secret.py', 1],
  ['/etc/passwd', 1], ['link.py', 1], ['services/missing.py', 1], ['.', 1], ['..feeds.py', 1], ['secret.py', 1]];

function report(targetFile: string, named: [string, number][] = [...NAMED, [path.join(other, 'secret.py'), 1]]): Report {
  const r = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8')));
  const frame = (file: string, line: number) => ({ file, line, function: 'f', kind: 'user' as const });
  // The first as a blocker's line, the rest in its stack (both are offered).
  const [first, ...rest] = named;
  const blocker = { file: first[0], line: first[1], function: 'f', source: null, thread: 'loop' as const, step: 'call' as const,
    stalledMs: 10, share: 0.5, samples: 1, stalls: 1, stack: [frame(...first), ...rest.map(([f, l]) => frame(f, l))] };
  return { ...r, target: { ...r.target, file: targetFile }, runs: r.runs.map((run, i) => (i === 0 ? { ...run, blockers: [blocker] } : run)) };
}

/** The fake editor, the workspace folder being `ws`. */
function editorStubs() {
  return fake.fakeEditor(stubs, ws, 'ws', { centred: true });
}

async function panelWith(current: Report, compare: Report | null = null) {
  const storage = fs.mkdtempSync(path.join(tmp, 'history-'));
  const log = (fake.window as unknown as { createOutputChannel(): vscode.LogOutputChannel }).createOutputChannel();
  const view = new ReportView(vscode.Uri.file('/ext'), new HistoryStore(storage), log, {
    active: () => undefined, lagBudgetMs: () => 100, rerun: async () => undefined, cancel: () => undefined,
  });
  if (compare) await view.runFinished(compare, 'older', 'h');
  const compareId = compare ? (await new HistoryStore(storage).list())[0].id : null;
  await view.runFinished(current, 'run', 'h');
  view.panel.show(true);
  const panel = fake.created.at(-1)!;
  panel.webview.received.fire({ type: 'ready' });
  if (compareId) {
    // Compare is asynchronous (a history read): wait for the state that carries it.
    const post = panel.webview.postMessage.bind(panel.webview);
    const compared = new Promise<void>((resolve) => {
      panel.webview.postMessage = (m: unknown) => {
        if ((m as { compare?: unknown }).compare) resolve();
        return post(m);
      };
    });
    panel.webview.received.fire({ type: 'compare', id: compareId });
    await compared;
  }
  return { view, send: (m: unknown) => panel.webview.received.fire(m) };
}

test('a line inside the report\'s workspace opens at that line, centred', async () => {
  const ed = editorStubs();
  const { view, send } = await panelWith(report(path.join(ws, 'app.py')));
  try {
    const done = ed.next();
    send({ type: 'openLocation', file: 'services/feeds.py', line: 12 });
    await done;
    assert.deepEqual(ed.opened, [{ file: path.join(ws, 'services', 'feeds.py'), line: 12, centred: true }]);
    assert.deepEqual(ed.warnings, []);
  } finally {
    view.dispose();
  }
});

test('outside the workspace is refused with a message: .., an absolute path, a symlink out, a missing file', async () => {
  const ed = editorStubs();
  const { view, send } = await panelWith(report(path.join(ws, 'app.py')));
  try {
    const cases: [string, RegExp][] = [
      ['../other/secret.py', /outside the report's workspace/],
      ['services/../../other/secret.py', /outside the report's workspace/],
      [path.join(other, 'secret.py'), /outside the report's workspace/],
      ['/etc/passwd', /outside the report's workspace/],
      ['link.py', /leads outside the report's workspace/],
      ['services/missing.py', /was not found/],
      ['.', /outside the report's workspace/],
    ];
    for (const [file, why] of cases) {
      const done = ed.next();
      send({ type: 'openLocation', file, line: 1 });
      await done;
      assert.match(ed.warnings.at(-1)!, why, file);
      assert.ok(ed.warnings.at(-1)!.startsWith(`Loop Lag: cannot open ${file}: `));
    }
    assert.equal(ed.opened.length, 0, 'nothing opened');
    // A file whose name merely starts with two dots is inside, and opens.
    const done = ed.next();
    send({ type: 'openLocation', file: '..feeds.py', line: 1 });
    await done;
    assert.deepEqual(ed.opened.map((o) => o.file), [path.join(ws, '..feeds.py')]);
  } finally {
    view.dispose();
  }
});

test('a line the report\'s blockers do not name is refused, even inside the workspace', async () => {
  const ed = editorStubs();
  const { view, send } = await panelWith(report(path.join(ws, 'app.py'), [['services/feeds.py', 12]]));
  try {
    for (const [file, line] of [['services/feeds.py', 13], ['app.py', 1]] as const) {
      const done = ed.next();
      send({ type: 'openLocation', file, line });
      await done;
      assert.match(ed.warnings.at(-1)!, /names no such line/, `${file}:${line}`);
    }
    assert.equal(ed.opened.length, 0, 'nothing opened');
    const done = ed.next();
    send({ type: 'openLocation', file: 'services/feeds.py', line: 12 });
    await done;
    assert.deepEqual(ed.opened.map((o) => o.line), [12]);
  } finally {
    view.dispose();
  }
});

test('malformed openLocation messages are dropped by validation before the host sees them', () => {
  for (const bad of [
    { type: 'openLocation', file: 'a.py' },
    { type: 'openLocation', file: 1, line: 2 },
    { type: 'openLocation', file: 'a.py', line: 1.5 },
    { type: 'openLocation', file: 'a.py', line: 1, column: 'elsewhere' },
  ]) {
    assert.throws(() => FromWebview.parse(bad), Error, JSON.stringify(bad));
  }
  assert.deepEqual(FromWebview.parse({ type: 'openLocation', file: 'a.py', line: 3, column: 'compare' }), { type: 'openLocation', file: 'a.py', line: 3, column: 'compare' });
});

test('the root: the workspace folder of the measured file, else its folder; the compared report uses its own', async () => {
  stubs.stub(vscode.workspace, {
    getWorkspaceFolder: (uri: vscode.Uri) => (uri.fsPath.startsWith(ws + path.sep) ? { uri: vscode.Uri.file(ws) } : undefined),
    workspaceFolders: undefined,
  });
  assert.equal(reportRoot(report(path.join(ws, 'services', 'feeds.py'))), ws);
  assert.equal(reportRoot(report(path.join(other, 'app.py'))), other);
  assert.equal(reportRoot(report('examples/x.py')), null, 'a relative target with no folder open: nowhere to resolve it');
  assert.deepEqual(await resolveReportFile(other, 'secret.py'), { path: path.join(other, 'secret.py') });
  stubs.restore();

  // Side by side: the compared report (measured outside any workspace folder) opens its lines in its own folder.
  const ed = editorStubs();
  const { view, send } = await panelWith(report(path.join(ws, 'app.py')), report(path.join(other, 'app.py')));
  try {
    let done = ed.next();
    send({ type: 'openLocation', file: 'secret.py', line: 1, column: 'compare' });
    await done;
    assert.deepEqual(ed.opened.map((o) => o.file), [path.join(other, 'secret.py')]);
    done = ed.next();
    send({ type: 'openLocation', file: 'secret.py', line: 1, column: 'current' });
    await done;
    assert.match(ed.warnings.at(-1)!, /was not found/, 'the current report\'s workspace has no secret.py');
    assert.equal(ed.opened.length, 1);
  } finally {
    view.dispose();
  }
});
