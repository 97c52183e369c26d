/**
 * Worker sweeps in the history (issue 16): kept beside the reports in one store (old
 * indexes load as before), never replacing the report on show, selectable from the
 * history, shown again by the status bar's id, and exported like a run (JSON, Markdown
 * with the recommendation first, a standalone HTML page).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, test } from 'node:test';
import * as vscode from 'vscode';
import { ReportView } from '../../src/host/reportView';
import { HistoryStore } from '../../src/report/historyStore';
import { sweepHistoryLabel, sweepMarkdown } from '../../src/report/sweepText';
import { Report, Sweep } from '../../src/shared/protocol';
import { ToWebview } from '../../src/shared/webviewProtocol';
import * as fake from '../support/fakeVscode';
import { FIXTURES, REPO, waitFor } from '../support/helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-sweephistory-'));
const stubs = fake.stubs();
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => stubs.restore());

const REPORT = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'cpu-bound-python.json'), 'utf8')));
/** A real `looplag sweep --out` document: cpu_bound_task over W = 1, 2, 4 in thread and process modes. */
const SWEEP = Sweep.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sweep-python.json'), 'utf8')));

test('the store keeps reports and sweeps in one history, each kind with its own limit and read back only as itself', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'store-'));
  const store = new HistoryStore(dir, 2, 1);
  const at = (i: number) => new Date(Date.UTC(2026, 0, i)).toISOString();
  const r1 = await store.add({ ...REPORT, createdAt: at(1) }, 'run 1', 'h1');
  const s1 = await store.addSweep({ ...SWEEP, createdAt: at(2) }, sweepHistoryLabel(SWEEP), SWEEP.headline);
  const r2 = await store.add({ ...REPORT, createdAt: at(3) }, 'run 2', 'h2');
  assert.deepEqual((await store.list()).map((e) => [e.label, e.kind]), [
    ['run 2', undefined], ['sweep · cpu_bound_task() · best process W=2', 'sweep'], ['run 1', undefined],
  ]);
  assert.equal((await store.getSweep(s1.id))?.headline, SWEEP.headline);
  assert.equal(await store.get(s1.id), null, 'a sweep is not a report');
  assert.equal(await store.getSweep(r1.id), null, 'a report is not a sweep');
  assert.equal((await store.get(r2.id))?.createdAt, at(3));
  // A third report drops the oldest report, not the older sweep: reports have their own limit.
  await store.add({ ...REPORT, createdAt: at(4) }, 'run 3', 'h3');
  assert.equal(await store.get(r1.id), null);
  assert.equal((await store.getSweep(s1.id))?.headline, SWEEP.headline, 'the sweep outlives newer reports');
  assert.equal(fs.readdirSync(path.join(dir, 'reports')).length, 2);
  // A second sweep drops the first (limit 1), and its file, and no report.
  const s2 = await store.addSweep({ ...SWEEP, createdAt: at(5) }, sweepHistoryLabel(SWEEP), SWEEP.headline);
  assert.equal(await new HistoryStore(dir).getSweep(s1.id), null);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'sweeps')), [`${s2.id}.json`], 'the dropped sweep is deleted');
  assert.deepEqual((await new HistoryStore(dir).list()).map((e) => e.label), ['sweep · cpu_bound_task() · best process W=2', 'run 3', 'run 2']);
});

test('a history written before sweeps were kept (entries without `kind`) loads and reads as before', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'old-'));
  // The index and the file as the previous release wrote them.
  const id = '1767225600000-abc123';
  fs.mkdirSync(path.join(dir, 'reports'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'reports', `${id}.json`), JSON.stringify(REPORT));
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify([{ id, createdAt: REPORT.createdAt, label: 'cpu_bound_task', headline: 'h', status: 'complete' }]));
  const store = new HistoryStore(dir);
  const [entry] = await store.list();
  assert.deepEqual(entry, { id, createdAt: REPORT.createdAt, label: 'cpu_bound_task', headline: 'h', status: 'complete' });
  assert.equal((await store.get(id))?.target.qualname, REPORT.target.qualname);
  // A sweep added now goes beside it; the old entry is rewritten unchanged (no `kind` added).
  await store.addSweep(SWEEP, 'sweep', SWEEP.headline);
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as Record<string, unknown>[];
  assert.deepEqual(index[1], { id, createdAt: REPORT.createdAt, label: 'cpu_bound_task', headline: 'h', status: 'complete' });
  assert.equal(index[0].kind, 'sweep');
});

function viewWith(storage: string, active: () => { kind: 'sweep' } | undefined = () => undefined) {
  const log = (fake.window as unknown as { createOutputChannel(): vscode.LogOutputChannel }).createOutputChannel();
  // The repository as the extension's folder: Save as HTML reads the built UI from dist/webview.
  const view = new ReportView(vscode.Uri.file(REPO), new HistoryStore(storage), log, {
    active: active as never, lagBudgetMs: () => 100, rerun: async () => undefined, cancel: () => undefined,
  });
  view.panel.show(true);
  const panel = fake.created.at(-1)!;
  // Every message the host posts is valid for the webview (parsed as it parses them).
  const posted = () => panel.webview.posted.map((m) => ToWebview.parse(m));
  /** The whole state the panel gets next (as after `ready`), once `pred` holds for it. */
  const state = async (pred: (m: ToWebview) => boolean = () => true): Promise<ToWebview> => {
    for (let i = 0; i < 200; i++) {
      panel.webview.posted.length = 0;
      panel.webview.received.fire({ type: 'ready' });
      const m = posted().at(-1);
      if (m && pred(m)) return m;
      await new Promise((r) => setImmediate(r));
    }
    assert.fail(`no such state: ${JSON.stringify(posted().at(-1)).slice(0, 300)}`);
  };
  const send = (m: unknown) => panel.webview.received.fire(m);
  return { view, state, send, posted };
}

test('after a sweep the panel shows it with the history listing it and the report before; the report on show stays the run\'s', async () => {
  let sweeping = false;
  const { view, state, send } = viewWith(fs.mkdtempSync(path.join(tmp, 'h-')), () => (sweeping ? { kind: 'sweep' } : undefined));
  const reportId = await view.runFinished(REPORT, 'cpu_bound_task', 'h');
  sweeping = true;
  view.sweepStarted({ ...SWEEP, points: [] });
  view.sweepProgressed(SWEEP);
  sweeping = false;
  const sweepId = await view.sweepFinished(SWEEP);
  assert.ok(reportId && sweepId);
  const shown = await state();
  assert.ok(shown.type === 'sweep', shown.type);
  assert.equal(shown.id, sweepId);
  assert.deepEqual(shown.history?.map((e) => [e.id, e.kind ?? 'report', e.label]), [
    [sweepId, 'sweep', 'sweep · cpu_bound_task() · best process W=2'], [reportId, 'report', 'cpu_bound_task'],
  ]);
  assert.equal(view.shownReport, REPORT, 'Re-run and Show Report still have the run');

  // The report from the history, then the sweep again.
  send({ type: 'select', id: reportId });
  const report = await state((m) => m.type === 'state');
  assert.ok(report.type === 'state');
  assert.equal(report.currentId, reportId);
  assert.equal(report.current?.createdAt, REPORT.createdAt);
  send({ type: 'select', id: sweepId });
  const again = await state((m) => m.type === 'sweep');
  assert.ok(again.type === 'sweep' && again.sweep.createdAt === SWEEP.createdAt && again.id === sweepId);

  // Show Report: the run, not the sweep.
  await view.showReport();
  assert.equal((await state()).type, 'state');
  view.dispose();
});

test('the status bar\'s sweep id shows that sweep from the history, also after a newer one; a sweep without points is not kept', async () => {
  const storage = fs.mkdtempSync(path.join(tmp, 'h-'));
  const { view, state } = viewWith(storage);
  await view.runFinished({ ...REPORT, createdAt: '2020-01-01T00:00:00.000Z' }, 'cpu_bound_task', 'h');
  const firstId = await view.sweepFinished(SWEEP);
  const newer: Sweep = { ...SWEEP, createdAt: new Date(Date.parse(SWEEP.createdAt) + 60_000).toISOString(), headline: 'newer' };
  await view.sweepFinished(newer);
  assert.equal(await view.sweepFinished({ ...SWEEP, points: [], status: 'failed' }), null, 'nothing measured: not kept');
  assert.equal((await new HistoryStore(storage).list()).length, 3);
  await view.showReport();
  assert.equal(await view.showSweep(firstId!), true);
  const shown = await state();
  assert.ok(shown.type === 'sweep' && shown.sweep.headline === SWEEP.headline && shown.id === firstId);
  // After a reload (a new view on the same storage): the newest report is selected, never a sweep.
  const reloaded = viewWith(storage);
  await reloaded.view.loadHistory();
  assert.equal(reloaded.view.shownReport?.createdAt, '2020-01-01T00:00:00.000Z');
  assert.equal((await reloaded.state()).type, 'state');
  assert.equal(await reloaded.view.showSweep(firstId!), true, 'the stored sweep');
  view.dispose();
  reloaded.view.dispose();
});

test('during a run a stored sweep picked in the history is not shown over it, and the run\'s end is on show; a sweep gone from the history is not replaced by another', async () => {
  let running = false;
  const { view, state, send } = viewWith(fs.mkdtempSync(path.join(tmp, 'h-')), () => (running ? { kind: 'run' } as never : undefined));
  const sweepId = await view.sweepFinished(SWEEP);
  running = true;
  view.runStarted();
  view.runProgressed(REPORT);
  send({ type: 'select', id: sweepId });
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  running = false;
  const runId = await view.runFinished(REPORT, 'cpu_bound_task', 'h');
  const shown = await state();
  assert.ok(shown.type === 'state' && shown.currentId === runId, `the finished run, not the stored sweep: ${shown.type}`);
  assert.equal(await view.showSweep('1767225600000-gone00'), false, 'no sweep under that id: the caller shows the report view');
  view.dispose();
});

test('a sweep exports like a run: Save as HTML writes the standalone page with the sweep, Copy Markdown the sweep\'s Markdown', async () => {
  const { view, send, posted } = viewWith(fs.mkdtempSync(path.join(tmp, 'h-')));
  await view.sweepFinished(SWEEP);
  const copied: string[] = [];
  stubs.stub(vscode.env.clipboard, { writeText: async (t: string) => void copied.push(t) });
  const out = path.join(tmp, 'saved.html');
  let asked: string | undefined;
  stubs.stub(vscode.window, { showSaveDialog: async (o: { defaultUri: vscode.Uri }) => ((asked = path.basename(o.defaultUri.fsPath)), vscode.Uri.file(out)) });
  send({ type: 'ready' }); // the panel posts (the notice among others) only once its webview said so
  send({ type: 'saveHtml', id: 'sweep' });
  await waitFor(() => posted().some((m) => m.type === 'notice'), 'the Save as HTML notice');
  assert.equal(asked, 'looplag-sweep-cpu_bound_task.html');
  const html = fs.readFileSync(out, 'utf8');
  const data = /<script type="application\/json" id="looplag-data">(.*?)<\/script>/s.exec(html);
  assert.ok(data, 'the page embeds its data');
  assert.deepEqual(JSON.parse(data[1]), { sweep: SWEEP });
  assert.match(html, /<title>Loop Lag: sweep cpu_bound_task<\/title>/);
  send({ type: 'copyMarkdown', id: 'sweep' });
  await waitFor(() => copied.length > 0, 'the copied Markdown');
  assert.equal(copied[0], sweepMarkdown(SWEEP));
  view.dispose();
});

test('the sweep\'s Markdown: headline, then each mode\'s W with its code, then a row per pool size', () => {
  const md = sweepMarkdown(SWEEP);
  const lines = md.split('\n');
  assert.equal(lines[0], '### Loop Lag worker sweep: `cpu_bound_task()`');
  const headline = lines.indexOf(`**${SWEEP.headline.replace(/[\\|`*_[\]<>]/g, (c) => `\\${c}`)}**`);
  const table = lines.findIndex((l) => l.startsWith('| mode | W |'));
  assert.ok(headline > 0 && table > headline, 'the headline before the table');
  for (const r of SWEEP.recommendations) {
    const at = lines.findIndex((l) => l.startsWith(`- **${r.mode}**: W = ${r.workers}:`));
    assert.ok(at > headline && at < table, `${r.mode}'s recommendation before the table`);
    assert.ok(md.includes('  ```python\n'), 'its code, fenced');
  }
  const rows = lines.filter((l) => /^\| (thread|process) \|/.test(l));
  assert.deepEqual(rows.map((l) => l.split('|').slice(1, 3).map((c) => c.trim()).join(' ')),
    SWEEP.points.map((p) => `${p.mode} ${p.workers}${SWEEP.recommendations.find((r) => r.mode === p.mode)?.workers === p.workers ? ' ★' : ''}`));
  // Over the budget: marked, not only coloured.
  for (const p of SWEEP.points.filter((x) => x.lag.maxMs > SWEEP.settings.lagBudgetMs)) {
    assert.ok(rows.some((l) => l.startsWith(`| ${p.mode} | ${p.workers} |`) && l.includes('▲')), `${p.mode} W=${p.workers} over the budget`);
  }
  // A name from user code cannot break the table or the heading.
  const hostile = sweepMarkdown({ ...SWEEP, headline: 'a | b <img src=x>', target: { ...SWEEP.target, qualname: 'f`x' } });
  assert.ok(hostile.includes('**a \\| b \\<img src=x\\>**'));
  assert.ok(hostile.startsWith("### Loop Lag worker sweep: `f'x()`"));
});
