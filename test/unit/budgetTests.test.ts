/**
 * The Testing view's host side (host/budgetTests.ts, budgetRun.ts) on the fake `vscode`:
 * the items found (a file's budgets on their entries, a file that does not load with the
 * loader's message), and the run's refusals, which must start nothing: Restricted Mode,
 * and another measurement holding the slot. The real runs are the e2e test's (testing.test.ts).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';
import * as vscode from 'vscode';
import { busyMessage, TRUST_MESSAGE } from '../../src/host/budgetRun';
import { BudgetTests } from '../../src/host/budgetTests';
import type { RunController } from '../../src/host/runController';
import * as fake from '../support/fakeVscode';
import { FIXTURES, tmpDir } from '../support/helpers';

const s = fake.stubs();
afterEach(() => s.restore());

const GOOD = `{\r\n  "version": 1,\r\n  "budgets": [\r\n    { "name": "quick", "target": "work.py::quick", "args": "1000", "modes": ["inline"], "budgetMs": 300 },\r\n` +
  `    { "name": "spin", "target": "work.py::spin", "args": "400",\r\n      "modes": ["inline", "thread"], "budgetMs": 100 }\r\n  ]\r\n}\r\n`;
const BAD = JSON.stringify({ version: 1, budgets: [{ name: 'x', target: 'work.py::quick', concurrency: 0, budgetMs: 100 }] });

/** A workspace with a good looplag.json and a bad one in bad/, the view's items found; `prepare` records its calls. */
async function setUp(prepare: (label: string, work: (signal: AbortSignal) => Promise<unknown>) => Promise<unknown>, busyWith?: string) {
  const dir = tmpDir('looplag-testview-host-');
  fs.copyFileSync(path.join(FIXTURES, 'budgets', 'work.py'), path.join(dir, 'work.py'));
  fs.writeFileSync(path.join(dir, 'looplag.json'), GOOD);
  fs.mkdirSync(path.join(dir, 'bad'));
  fs.copyFileSync(path.join(FIXTURES, 'budgets', 'work.py'), path.join(dir, 'bad', 'work.py'));
  fs.writeFileSync(path.join(dir, 'bad', 'looplag.json'), BAD);
  s.stub(fake.workspaceFiles, { found: [fake.Uri.file(path.join(dir, 'looplag.json')), fake.Uri.file(path.join(dir, 'bad', 'looplag.json'))] });
  const runs = { prepare, reportView: { activeRun: busyWith === undefined ? undefined : { kind: 'run', label: busyWith, progress: null, concurrency: 1 } } } as unknown as RunController;
  const tests = new BudgetTests(runs, vscode.window.createOutputChannel('Loop Lag', { log: true }));
  await tests.discover();
  const controller = fake.testControllers[fake.testControllers.length - 1];
  const [good, bad] = tests.allFiles().map((f) => f.item as unknown as fake.FakeTestItem).sort((a, b) => a.id.length - b.id.length);
  return { dir, tests, controller, good, bad, done: () => (tests.dispose(), fs.rmSync(dir, { recursive: true, force: true })) };
}

const children = (item: fake.FakeTestItem) => [...item.children].map(([, c]) => c);

test('discovery: a file item per looplag.json, a child per budget (its name, what it measures, its entry); a file that does not load shows why', async () => {
  const w = await setUp(async () => undefined);
  try {
    assert.equal(w.controller.items.size, 2);
    assert.deepEqual(children(w.good).map((c) => [c.label, c.description]), [['quick', 'work.py::quick · inline'], ['spin', 'work.py::spin · inline, thread']]);
    // The fake Range keeps (start line, start column) as (start, end): each entry's first line, CRLF counted once.
    assert.deepEqual(children(w.good).map((c) => [c.range?.start, c.range?.end]), [[3, 4], [4, 4]]);
    assert.equal(w.good.error, undefined);
    assert.equal(w.bad.children.size, 0);
    assert.match(w.bad.error ?? '', /^looplag\.json: budgets\[0\]\.concurrency: must be a whole number from 1 to /);
  } finally {
    w.done();
  }
});

test('Restricted Mode: every requested budget is errored with why, and nothing runs (the slot is not even asked for)', async () => {
  let asked = 0;
  const w = await setUp(async () => void asked++);
  try {
    s.stub(fake.workspace, { isTrusted: false });
    await w.controller.runHandler!({}, { onCancellationRequested: () => ({ dispose() {} }) });
    const run = w.controller.runs[0];
    assert.equal(asked, 0);
    assert.ok(run.ended);
    const errored = run.calls.filter((c) => c[0] === 'errored');
    // The good file's two budgets and the bad file (it lists no loadable budget).
    assert.deepEqual(errored.map((c) => c[1]).sort(), [...children(w.good).map((c) => c.id), w.bad.id].sort());
    for (const c of errored) assert.equal(c[2], TRUST_MESSAGE);
    assert.equal(run.calls.filter((c) => c[0] === 'started').length, 0);
  } finally {
    w.done();
  }
});

test('another measurement holds the slot: the budgets asked for (less the excluded) are errored with why, nothing started, no prompt awaited', async () => {
  const labels: string[] = [];
  const w = await setUp(async (label) => void labels.push(label), 'quick (Measure Function)');
  try {
    const [quick, spin] = children(w.good);
    await w.controller.runHandler!({ include: [w.good], exclude: [quick] }, { onCancellationRequested: () => ({ dispose() {} }) });
    const run = w.controller.runs[0];
    assert.deepEqual(labels, [], 'prepare (which prompts) is not called');
    assert.deepEqual(run.calls, [['enqueued', spin.id], ['errored', spin.id, busyMessage('quick (Measure Function)')]]);
    assert.match(busyMessage('quick'), /^Loop Lag is already running quick: runs go one at a time/);
    assert.ok(run.ended);
  } finally {
    w.done();
  }
});

test('user code starting before a run (prepare refuses): the budgets are errored, nothing started', async () => {
  const labels: string[] = [];
  const w = await setUp(async (label) => void labels.push(label));
  try {
    await w.controller.runHandler!({ include: [w.good] }, { onCancellationRequested: () => ({ dispose() {} }) });
    const run = w.controller.runs[0];
    assert.deepEqual(labels, ['the budgets of looplag.json']);
    assert.deepEqual(run.calls.filter((c) => c[0] === 'errored').map((c) => c[2]), [busyMessage('another measurement'), busyMessage('another measurement')]);
    assert.equal(run.calls.filter((c) => c[0] === 'started').length, 0);
  } finally {
    w.done();
  }
});
