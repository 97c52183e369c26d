/**
 * The measured diagnostics' host class over the fake `vscode` (host/measuredDiagnostics.ts,
 * measuredActions.ts): a report shown puts diagnostics on the calls in async code of the open
 * documents, worded and graded from the report; an edit on a call's line removes its
 * diagnostic, an edit above moves it; an edit of the measured function makes them "measured
 * before your last change"; the setting and Clear take them away; the history brings them
 * back; the code actions are the measurement's, the preferred one first.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';
import * as vscode from 'vscode';
import { targetSourceHash } from '../../src/fixes/functionSource';
import { MeasuredCodeActions } from '../../src/host/measuredActions';
import { MeasuredDiagnostics } from '../../src/host/measuredDiagnostics';
import type { HistoryStore } from '../../src/report/historyStore';
import { Report } from '../../src/shared/protocol';
import * as fake from '../support/fakeVscode';
import { FIXTURES, tmpDir, waitFor } from '../support/helpers';

const DIR = path.join(FIXTURES, 'measured');
const RENDER = path.join(DIR, 'pkg', 'render.py');
const VIEWS = path.join(DIR, 'pkg', 'views.py');

function doc(file: string, text = fs.readFileSync(file, 'utf8')) {
  const lines = text.split('\n');
  return { uri: vscode.Uri.file(file), languageId: 'python', version: 1, lineCount: lines.length, getText: () => text };
}

function report(): Report {
  const base = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8')));
  const text = fs.readFileSync(RENDER, 'utf8');
  const target = { ...base.target, file: RENDER, qualname: 'render', line: 14, module: 'pkg.render' };
  return { ...base, target: { ...target, sourceHash: targetSourceHash(text, { ...target, lines: null })! } };
}

const log = { info: (t: string) => fake.logLines.push(t), warn() {}, error() {} } as unknown as vscode.LogOutputChannel;
const shown = (file: string) => (fake.diagnosticSets.get(vscode.Uri.file(file).toString()) ?? []) as unknown as vscode.Diagnostic[];
const lines = (file: string) => shown(file).map((d) => `${(d.range.start as vscode.Position).line + 1} ${d.severity} ${d.message}`);

afterEach(() => {
  fake.diagnosticSets.clear();
  fake.settings.clear();
  Object.assign(fake.workspace, { textDocuments: [] });
});

function setup(history: Partial<HistoryStore> = { list: async () => [], get: async () => null }) {
  const reports = new fake.EventEmitter<Report | null>();
  const docs = [doc(RENDER), doc(VIEWS)];
  Object.assign(fake.workspace, { textDocuments: docs });
  const diagnostics = new MeasuredDiagnostics(reports.event as vscode.Event<Report | null>, history as HistoryStore, log);
  return { reports, docs, diagnostics };
}

test('a report shown: the calls in async code get a diagnostic, the one on the loop by inline, the to_thread one by thread mode; none in plain defs or where the mode had no stall', async () => {
  fake.settings.set('looplag.lagBudgetMs', 80);
  const { reports, diagnostics } = setup();
  reports.fire(report());
  await waitFor(() => shown(VIEWS).length === 2, 'diagnostics in views.py');
  const at = (iso: string) => new Date(iso).toTimeString().slice(0, 5);
  const when = at(report().createdAt);
  assert.deepEqual(lines(RENDER), [
    `26 1 \`render()\` blocked the loop 88.5 ms for 3 concurrent calls (measured ${when}, inline)`,
    `27 2 \`render()\` stalled the loop 72.6 ms in a thread pool for 3 concurrent calls (measured ${when}, thread)`,
  ]);
  assert.deepEqual(lines(VIEWS).map((l) => l.split(' ').slice(0, 3).join(' ')), ['6 1 `draw()`', '6 1 `rmod.render()`']);
  const d = shown(RENDER)[0];
  assert.equal(d.source, 'Loop Lag');
  assert.equal((d.code as { value: string }).value, 'looplag.measured');
  diagnostics.dispose();
});

test('the code actions: the fix the measurement prefers (threads within budget → to_thread), then Measure again and Show report', async () => {
  const { reports, diagnostics, docs } = setup();
  reports.fire(report());
  await waitFor(() => shown(RENDER).length === 2, 'diagnostics in render.py');
  const actions = await new MeasuredCodeActions(diagnostics, log).provideCodeActions(docs[0] as unknown as vscode.TextDocument, shown(RENDER)[0].range, { diagnostics: [shown(RENDER)[0]] } as unknown as vscode.CodeActionContext);
  assert.deepEqual(actions.map((a) => [a.title, a.isPreferred ?? false]), [
    ['Await render() in a thread (asyncio.to_thread)', true],
    ['Await render() in a process pool (run_in_executor)', false],
    ['Measure render() again', false],
    ['Show Loop Lag report', false],
  ], 'no FastAPI fix: page() is no route (logged)');
  assert.ok(fake.logLines.some((l) => /Make the endpoint a plain def.*" not offered .*not a FastAPI route/.test(l)));
  const edit = actions[0].edit as unknown as fake.WorkspaceEdit;
  assert.deepEqual(edit.sets[0][1].map((e) => e.newText), ['await asyncio.to_thread(render, ']);
  // The offloaded call (to_thread) gets no rewrite: only Measure again and Show report.
  const offloaded = await new MeasuredCodeActions(diagnostics, log).provideCodeActions(docs[0] as unknown as vscode.TextDocument, shown(RENDER)[1].range, { diagnostics: [shown(RENDER)[1]] } as unknown as vscode.CodeActionContext);
  assert.deepEqual(offloaded.map((a) => a.title), ['Measure render() again', 'Show Loop Lag report']);
  diagnostics.dispose();
});

test('edits: a line added above moves the diagnostics, an edit on the call\'s line removes its own; an edit of render() makes the rest stale', async () => {
  const { reports, diagnostics, docs } = setup();
  reports.fire(report());
  await waitFor(() => shown(RENDER).length === 2, 'diagnostics in render.py');
  const change = (document: unknown, line: number, character: number, text: string, endLine = line, endCharacter = character) => fake.editorEvents.documentChanged.fire({
    document, contentChanges: [{ range: new vscode.Range(new vscode.Position(line, character), new vscode.Position(endLine, endCharacter)), text }],
  });
  change(docs[0], 0, 0, '# new first line\n');
  assert.deepEqual(lines(RENDER).map((l) => l.split(' ')[0]), ['27', '28']);
  change(docs[0], 26, 12, 'x'); // in `first = render(n)`, now line 27
  assert.deepEqual(lines(RENDER).map((l) => l.split(' ')[0]), ['28']);
  // render()'s body edited: the document's text and version change, and the hash with them.
  const edited = fs.readFileSync(RENDER, 'utf8').replace('total += i * scale', 'total += i * scale + 1');
  Object.assign(docs[0], { version: 2, getText: () => edited });
  change(docs[0], 20, 0, '');
  await waitFor(() => shown(VIEWS).every((d) => /measured before your last change/.test(d.message)), 'views.py\'s diagnostics stale');
  assert.deepEqual(lines(VIEWS), ['6 2 `draw()` was measured before your last change — measure it again', '6 2 `rmod.render()` was measured before your last change — measure it again']);
  diagnostics.dispose();
});

test('looplag.diagnostics.enabled off removes them at once, on brings them back; Clear removes them until the next report', async () => {
  const { reports, diagnostics } = setup();
  reports.fire(report());
  await waitFor(() => shown(RENDER).length === 2, 'diagnostics in render.py');
  fake.settings.set('looplag.diagnostics.enabled', false);
  fake.editorEvents.configurationChanged.fire({ affectsConfiguration: (s: string) => s === 'looplag.diagnostics.enabled' });
  assert.deepEqual([shown(RENDER).length, shown(VIEWS).length], [0, 0]);
  fake.settings.set('looplag.diagnostics.enabled', true);
  fake.editorEvents.configurationChanged.fire({ affectsConfiguration: (s: string) => s === 'looplag.diagnostics.enabled' });
  assert.deepEqual([shown(RENDER).length, shown(VIEWS).length], [2, 2]);
  diagnostics.clear();
  assert.deepEqual([shown(RENDER).length, shown(VIEWS).length], [0, 0]);
  reports.fire(report());
  await waitFor(() => shown(RENDER).length === 2, 'the next report\'s diagnostics');
  diagnostics.dispose();
});

test('after a reload: the newest report of each function in the history; an older report shown later does not replace it', async () => {
  const newer = report();
  const older = { ...report(), createdAt: '2020-01-01T00:00:00.000Z', runs: report().runs.map((r) => ({ ...r, lag: { ...r.lag, maxMs: 999 } })) };
  const byId: Record<string, Report> = { a: newer, b: older };
  const { reports, diagnostics } = setup({
    list: async () => [{ id: 'a', createdAt: newer.createdAt, label: 'render', headline: '', status: 'complete' }, { id: 'b', createdAt: older.createdAt, label: 'render', headline: '', status: 'complete' }],
    get: async (id: string) => byId[id],
  });
  await diagnostics.loadHistory();
  await waitFor(() => shown(RENDER).length === 2, 'diagnostics from the history');
  assert.match(shown(RENDER)[0].message, /88\.5 ms/);
  reports.fire(older);
  // Drawn again at once from what is held (a budget change does that, synchronously): had the
  // older report replaced the newest, its 999 ms would show now.
  fake.editorEvents.configurationChanged.fire({ affectsConfiguration: (key: string) => key === 'looplag.lagBudgetMs' });
  assert.match(shown(RENDER)[0].message, /88\.5 ms/, 'the older report picked in the panel does not replace the newest');
  diagnostics.dispose();
});

test('JS/TS: the calls in a route handler and an async function get the diagnostic; hovering one shows the report\'s fix as a code block, escaped', async () => {
  const RENDER_TS = path.join(DIR, 'web', 'render.ts');
  const SERVER = path.join(DIR, 'web', 'server.ts');
  const base = report();
  const target = { ...base.target, file: RENDER_TS, qualname: 'render', line: 6, language: 'typescript' as const, module: undefined };
  const ts: Report = {
    ...base,
    target: { ...target, sourceHash: targetSourceHash(fs.readFileSync(RENDER_TS, 'utf8'), { ...target, lines: null })! },
    advice: [{ id: 'worker-recommended', severity: 'warning', mode: 'worker', title: 'Run `render` in <b>worker</b> threads', detail: 'd', fix: 'const pool = 1;\n// ``` fence', docs: null }],
  };
  const reports = new fake.EventEmitter<Report | null>();
  const server = { ...doc(SERVER), languageId: 'typescript' };
  Object.assign(fake.workspace, { textDocuments: [server, { ...doc(RENDER_TS), languageId: 'typescript' }] });
  const diagnostics = new MeasuredDiagnostics(reports.event as vscode.Event<Report | null>, { list: async () => [], get: async () => null } as unknown as HistoryStore, log);
  reports.fire(ts);
  await waitFor(() => shown(SERVER).length === 2, 'diagnostics in server.ts');
  assert.deepEqual(lines(SERVER).map((l) => l.split(' ').slice(0, 3).join(' ')), ['8 2 `render()`', '12 2 `R.render()`'], 'not sync()\'s call');
  const hover = fake.hoverProviders[fake.hoverProviders.length - 1].provider.provideHover(server, new vscode.Position(7, 22)) as fake.Hover;
  const md = hover.contents;
  assert.equal(md.isTrusted, false);
  assert.match(md.value, /\*\*Run `render` in \\<b\\>worker\\<\/b\\> threads\*\*/);
  assert.match(md.value, /````typescript\nconst pool = 1;\n\/\/ ``` fence\n````/);
  assert.equal(fake.hoverProviders[fake.hoverProviders.length - 1].provider.provideHover(server, new vscode.Position(15, 10)), undefined, 'no hover off the diagnostics');
  diagnostics.dispose();
});

test('JS/TS: a worker run within budget makes "Await render() in a worker pool module" the preferred fix: the pool created beside render.ts, the call awaited through it; an existing pool is reused; workers over budget offer none', async () => {
  fake.settings.set('looplag.lagBudgetMs', 50);
  const dir = tmpDir('looplag-pool-host-');
  for (const f of ['package.json', 'render.ts', 'server.ts']) fs.copyFileSync(path.join(FIXTURES, 'fixes', 'pool', 'ts', f), path.join(dir, f));
  const RENDER_TS = path.join(dir, 'render.ts');
  const SERVER = path.join(dir, 'server.ts');
  const base = report();
  const target = { ...base.target, file: RENDER_TS, qualname: 'render', line: 2, language: 'typescript' as const, module: undefined };
  const withWorker = (lagMaxMs: number): Report => ({
    ...base,
    target: { ...target, sourceHash: targetSourceHash(fs.readFileSync(RENDER_TS, 'utf8'), { ...target, lines: null })! },
    runs: [...base.runs, { ...base.runs[1], mode: 'worker', lag: { ...base.runs[1].lag, maxMs: lagMaxMs } }],
    advice: [],
  });
  const server = { ...doc(SERVER), languageId: 'typescript', fileName: SERVER };
  Object.assign(fake.workspace, { textDocuments: [server, { ...doc(RENDER_TS), languageId: 'typescript' }] });
  const reports = new fake.EventEmitter<Report | null>();
  const diagnostics = new MeasuredDiagnostics(reports.event as vscode.Event<Report | null>, { list: async () => [], get: async () => null } as unknown as HistoryStore, log);
  const actionsAt = (i: number) => new MeasuredCodeActions(diagnostics, log).provideCodeActions(server as unknown as vscode.TextDocument, shown(SERVER)[i].range, { diagnostics: [shown(SERVER)[i]] } as unknown as vscode.CodeActionContext);
  reports.fire(withWorker(3.2));
  await waitFor(() => shown(SERVER).length === 3, 'diagnostics in server.ts');
  const [pool, again, report_] = await actionsAt(0);
  assert.deepEqual([pool.title, pool.isPreferred, again.title, report_.title], ['Await render() in a worker pool module (worker_threads)', true, 'Measure render() again', 'Show Loop Lag report']);
  const edit = pool.edit as unknown as fake.WorkspaceEdit;
  const POOL_FILE = path.join(dir, 'render.worker-pool.ts');
  assert.deepEqual(edit.created.map((c) => [(c.uri as vscode.Uri).fsPath, c.options]), [[POOL_FILE, { ignoreIfExists: false }]]);
  assert.match(edit.edits[0].newText, /^\/\/ A pool of worker threads running render\(\)[\s\S]*export function run\(/);
  assert.deepEqual(edit.sets[0][1].map((e) => e.newText), ["import * as renderPool from './render.worker-pool.js';\n", 'async ', '(await renderPool.run', ')']);
  // An argument holding a function: not offered (the log says why), the rest stays.
  assert.deepEqual((await actionsAt(2)).map((a) => a.title), ['Measure render() again', 'Show Loop Lag report']);
  assert.ok(fake.logLines.some((l) => /worker pool module.*not offered.*structured clone/.test(l)));
  // The pool exists (a call fixed before): only the call's edits, the file kept as it is.
  fs.writeFileSync(POOL_FILE, "import { render } from './render.js';\n");
  const reused = (await actionsAt(1))[0].edit as unknown as fake.WorkspaceEdit;
  assert.deepEqual([reused.created, reused.edits], [[], []]);
  assert.deepEqual(reused.sets[0][1].map((e) => e.newText), ["import * as renderPool from './render.worker-pool.js';\n", '(await renderPool.run', ')']);
  // A file of that name that is not render.ts's pool: not offered (not overwritten, not imported).
  fs.writeFileSync(POOL_FILE, '// something else\n');
  assert.deepEqual((await actionsAt(1)).map((a) => a.title), ['Measure render() again', 'Show Loop Lag report']);
  assert.ok(fake.logLines.some((l) => /render\.worker-pool\.ts exists and does not import render\.ts/.test(l)));
  // The pool open in the editor, unsaved, as render.ts's pool: the editor's text counts, not the disk's.
  const editorDocs = [server, { ...doc(RENDER_TS), languageId: 'typescript' }];
  Object.assign(fake.workspace, { textDocuments: [...editorDocs, { ...doc(POOL_FILE, "import { render as target } from './render.js';\n"), languageId: 'typescript' }] });
  const openPool = (await actionsAt(1))[0].edit as unknown as fake.WorkspaceEdit;
  assert.deepEqual([openPool.created, openPool.edits], [[], []], 'the open pool reused, not created');
  Object.assign(fake.workspace, { textDocuments: editorDocs });
  // A cancelled request, or the document edited while the files were read: no actions (their ranges are stale).
  const context = { diagnostics: [shown(SERVER)[0]] } as unknown as vscode.CodeActionContext;
  const cancelled = { isCancellationRequested: true } as vscode.CancellationToken;
  assert.deepEqual(await new MeasuredCodeActions(diagnostics, log).provideCodeActions(server as unknown as vscode.TextDocument, shown(SERVER)[0].range, context, cancelled), []);
  let version = 1;
  const edited = { ...server, get version() { return version++; } };
  assert.deepEqual(await new MeasuredCodeActions(diagnostics, log).provideCodeActions(edited as unknown as vscode.TextDocument, shown(SERVER)[0].range, context), []);
  // Workers over the budget (and no worker-recommended advice): the measurement dictates no edit.
  reports.fire({ ...withWorker(77.7), createdAt: new Date(Date.parse(base.createdAt) + 60_000).toISOString() });
  await waitFor(() => /77\.7/.test(JSON.stringify(diagnostics.lookup(server.uri, shown(SERVER)[0])?.summary.runs)), 'the newer report');
  assert.deepEqual((await actionsAt(0)).map((a) => a.title), ['Measure render() again', 'Show Loop Lag report']);
  diagnostics.dispose();
});
