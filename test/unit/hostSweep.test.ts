/**
 * The extension side of the worker sweep and the new settings, against the fake `vscode`:
 * what is read from the settings, what the sweep command refuses before anything runs,
 * one measurement at a time, and what the report panel is sent.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';
import * as vscode from 'vscode';
import { Commands } from '../../src/host/commands';
import { freeThreadedSetting, readSettings, sweepModes, sweepWorkerCounts } from '../../src/host/config';
import { LENS_TITLE_MAX, resultHint, shorten } from '../../src/host/lensText';
import { RunController, RunRequest } from '../../src/host/runController';
import { startingSweep } from '../../src/host/reportView';
import { HistoryStore } from '../../src/report/historyStore';
import { compactHeadline } from '../../src/report/verdict';
import { Report, Sweep } from '../../src/shared/protocol';
import { ToWebview } from '../../src/shared/webviewProtocol';
import { cancelledMessage } from '../../src/report/cancelText';
import * as fake from '../support/fakeVscode';
import { FIXTURES } from '../support/helpers';

const { stub, restore } = fake.stubs();
afterEach(() => {
  restore();
  fake.settings.clear();
});

/** Messages the user was shown, and their answers (by message text, default: dismissed). */
function recordMessages(answers: Record<string, string> = {}) {
  const shown: { level: string; text: string; actions: string[] }[] = [];
  const show = (level: string) => async (text: string, ...actions: unknown[]) => {
    shown.push({ level, text, actions: actions.filter((a): a is string => typeof a === 'string') });
    return Object.entries(answers).find(([match]) => text.includes(match))?.[1];
  };
  stub(fake.window, { showWarningMessage: show('warning'), showErrorMessage: show('error'), showInformationMessage: show('info') });
  const executed: unknown[][] = [];
  stub(fake.commands, { executeCommand: async (...a: unknown[]) => void executed.push(a) });
  return { shown, executed };
}

function editorOn(file: string, languageId = 'python', extra: Record<string, unknown> = {}) {
  const doc = { uri: fake.Uri.file(file), languageId, isUntitled: false, isDirty: false, save: async () => assert.fail('nothing is saved'), ...extra };
  const pos = { line: 4, character: 0 };
  return { document: doc, selection: { start: pos, end: pos, active: pos, isEmpty: true } };
}

/** Commands over a RunController stand-in that records what would have run. */
function commandsWithFakeRuns() {
  const ran: string[] = [];
  const runs = {
    sidecarDirs: { python: '/nowhere', node: '/nowhere' },
    run: async () => void ran.push('run'),
    sweep: async () => void ran.push('sweep'),
    showSweep: () => void ran.push('showSweep'),
  };
  const context = { extension: { id: 'looplag.looplag' }, workspaceState: { get: () => undefined, update: async () => undefined } };
  const log = { info() {}, warn() {}, error() {} };
  const commands = new Commands(context as never, runs as never, log as never, { clear() {} }, { select: async () => undefined });
  return { commands, ran };
}

test('settings: looplag.python.freeThreadedPath is auto, off or a path (Python only); plannedMode only a mode of the file\'s language', () => {
  assert.equal(freeThreadedSetting(undefined), 'auto');
  assert.equal(freeThreadedSetting(''), 'auto');
  assert.equal(freeThreadedSetting(' Auto '), 'auto');
  assert.equal(freeThreadedSetting('off'), null);
  assert.equal(freeThreadedSetting('OFF'), null);
  assert.equal(freeThreadedSetting(' /opt/python3.13t/bin/python3.13t '), '/opt/python3.13t/bin/python3.13t');
  assert.equal(freeThreadedSetting(42), 'auto');

  assert.equal(readSettings(undefined, 'python').freeThreaded, 'auto');
  fake.settings.set('looplag.python.freeThreadedPath', 'off');
  assert.equal(readSettings(undefined, 'python').freeThreaded, null);
  fake.settings.set('looplag.python.freeThreadedPath', '/usr/bin/python3.14t');
  assert.equal(readSettings(undefined, 'python').freeThreaded, '/usr/bin/python3.14t');
  assert.equal(readSettings(undefined, 'typescript').freeThreaded, null, 'no free-threaded comparison on Node');

  assert.equal(readSettings(undefined, 'python').report.plannedMode, null, 'default auto: inferred by the advice');
  const planned = (mode: string, language: 'python' | 'typescript') => {
    fake.settings.set('looplag.plannedMode', mode);
    return readSettings(undefined, language).report.plannedMode;
  };
  assert.equal(planned('auto', 'python'), null);
  assert.equal(planned('process', 'python'), 'process');
  assert.equal(planned('interpreter', 'python'), 'interpreter');
  assert.equal(planned('worker', 'python'), null, 'a Node mode for a Python file');
  assert.equal(planned('worker', 'typescript'), 'worker');
  assert.equal(planned('thread', 'typescript'), null, 'a Python mode for a TypeScript file');
  assert.equal(planned('inline', 'typescript'), 'inline');
  assert.equal(planned('bogus', 'python'), null);
});

test('settings: looplag.sweep.workers is parsed like the CLI\'s --workers; a bad entry says which and why', () => {
  assert.deepEqual(sweepWorkerCounts({ sweepWorkers: ['1', '2', '4', 'cores', 'cores+4', '32', '40'] }, 8), { counts: [1, 2, 4, 8, 12, 32, 40] });
  assert.deepEqual(sweepWorkerCounts({ sweepWorkers: ['4', ' Cores ', '1', '4', 'cores-6'] }, 8), { counts: [1, 2, 4, 8] }, 'sorted, duplicates dropped');
  assert.deepEqual(sweepWorkerCounts({ sweepWorkers: ['1', 'cores'] }, 2), { counts: [1, 2] });
  const error = (items: string[]) => {
    const r = sweepWorkerCounts({ sweepWorkers: items }, 8);
    assert.ok('error' in r, `${JSON.stringify(items)} is refused`);
    return r.error;
  };
  assert.match(error(['1', 'two']), /bad worker count "two": use whole numbers, "cores" or "cores\+N"/);
  assert.match(error(['0']), /"0" must be from 1 to 1024/);
  assert.match(error(['2000']), /"2000" must be from 1 to 1024/);
  assert.match(error(['cores-8']), /"cores-8" must be from 1 to 1024 \(got 0\)/);
  assert.match(error([]), /at least one worker count/);
  assert.match(error(['', ' ']), /at least one worker count/);

  fake.settings.set('looplag.sweep.workers', ['1', 'cores+1']);
  assert.deepEqual(readSettings(undefined).sweepWorkers, ['1', 'cores+1']);
  fake.settings.set('looplag.sweep.workers', [1, 2]);
  assert.deepEqual(readSettings(undefined).sweepWorkers, ['1', '2'], 'numbers written without quotes work too');

  // looplag.sweep.budgetSeconds: the windows' time budget, default 60 s, kept to the schema's range.
  assert.equal(readSettings(undefined).sweepBudgetS, 60);
  fake.settings.set('looplag.sweep.budgetSeconds', 5);
  assert.equal(readSettings(undefined).sweepBudgetS, 5);
  fake.settings.set('looplag.sweep.budgetSeconds', 0);
  assert.equal(readSettings(undefined).sweepBudgetS, 0.1);
  fake.settings.set('looplag.sweep.budgetSeconds', 'lots');
  assert.equal(readSettings(undefined).sweepBudgetS, 60);
});

test('a sweep measures the language\'s pool modes, kept to those in the modes setting when any are left', () => {
  assert.deepEqual(sweepModes('python', ['inline', 'thread', 'process', 'interpreter']), ['thread', 'process']);
  assert.deepEqual(sweepModes('python', ['process', 'inline']), ['process']);
  assert.deepEqual(sweepModes('python', ['inline']), ['thread', 'process'], 'no pool mode asked: both');
  assert.deepEqual(sweepModes('python', ['interpreter']), ['thread', 'process']);
  assert.deepEqual(sweepModes('typescript', ['inline', 'worker', 'process']), ['worker', 'process']);
  assert.deepEqual(sweepModes('javascript', ['worker']), ['worker']);
});

test('the CodeLens hint: the report\'s one-sentence headline, cut to fit with the whole of it in the tooltip; else the compact phrase', () => {
  const report = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8')));
  const short = 'Safe in a thread pool: with 10 concurrent calls the loop stayed responsive (lag p99 1.2 ms, max 3.4 ms, budget 100 ms).';
  assert.deepEqual(resultHint({ ...report, headline: short }), { title: short, tooltip: short });
  const long = 'Not safe in a thread pool: with 10 concurrent calls the loop stalled up to 1.43 s (budget 100 ms). ' +
    'In a process pool it is: p99 840 µs, max 2.1 ms, 1.85× inline throughput.';
  const hint = resultHint({ ...report, headline: long });
  assert.equal(hint.tooltip, long);
  assert.equal(hint.title, 'Not safe in a thread pool: with 10 concurrent calls the loop stalled up to 1.43 s (budget 100 ms). …', 'the verdict, whole');
  assert.ok(hint.title.length <= LENS_TITLE_MAX);
  // One long sentence: cut after a clause, the parenthesis closed again.
  const safe = 'Safe in a thread pool: with 10 concurrent calls the loop stayed responsive (lag p99 4.08 ms, max 9.22 ms, budget 100.0 ms) (busy machine: rerun to confirm).';
  assert.equal(shorten(safe), 'Safe in a thread pool: with 10 concurrent calls the loop stayed responsive (lag p99 4.08 ms, max 9.22 ms…)');
  // No clause to cut after: at a word, never mid-number.
  const sentence = `Not measured in a thread pool: ${'the interpreter said something long and unhelpful '.repeat(4)}`;
  const cut = shorten(sentence);
  assert.ok(cut.length <= LENS_TITLE_MAX, `${cut.length} chars`);
  assert.match(cut, /\w…$/);
  assert.ok(sentence.startsWith(cut.slice(0, -1)));
  assert.ok(shorten('x'.repeat(300)).length <= LENS_TITLE_MAX);
  // "1.5 s" and "e.g." are not sentence ends.
  assert.equal(shorten('a'.repeat(50) + ' 1.5 s. ' + 'b'.repeat(100), 60).endsWith('…'), true);
  // Older reports have no headline: the per-mode phrase, as before.
  const { headline: _, ...old } = report;
  assert.deepEqual(resultHint(old as Report), { title: shorten(compactHeadline(report)), tooltip: compactHeadline(report) });
});

test('Sweep Worker Counts refuses before anything runs: untrusted, no editor, another language, a bad looplag.sweep.workers', async () => {
  const { commands, ran } = commandsWithFakeRuns();
  const { shown, executed } = recordMessages({ 'looplag.sweep.workers': 'Open Settings' });

  stub(fake.workspace, { isTrusted: false });
  await commands.sweepFromEditor();
  assert.match(shown.at(-1)!.text, /only runs in a trusted workspace/);
  fake.workspace.isTrusted = true;

  stub(fake.window, { activeTextEditor: undefined });
  await commands.sweepFromEditor();
  assert.match(shown.at(-1)!.text, /open a Python, JavaScript or TypeScript file/);
  stub(fake.window, { activeTextEditor: editorOn('/w/notes.json', 'json') });
  await commands.sweepFromEditor();
  assert.match(shown.at(-1)!.text, /open a Python, JavaScript or TypeScript file/);

  // A bad entry: said with the setting to fix, before the save prompt or any outline.
  stub(fake.window, { activeTextEditor: editorOn('/w/app.py', 'python', { isDirty: true }) });
  fake.settings.set('looplag.sweep.workers', ['1', 'two', '4']);
  await commands.sweepFromEditor();
  await new Promise((resolve) => setImmediate(resolve)); // the Open Settings answer
  const refusal = shown.at(-1)!;
  assert.equal(refusal.level, 'error');
  assert.equal(refusal.text, 'Loop Lag: looplag.sweep.workers: bad worker count "two": use whole numbers, "cores" or "cores+N". Nothing was run.');
  assert.deepEqual(refusal.actions, ['Open Settings']);
  assert.deepEqual(executed.at(-1), ['workbench.action.openSettings', 'looplag.sweep.workers']);
  fake.settings.set('looplag.sweep.workers', ['cores+2000']);
  await commands.sweepFromEditor();
  assert.match(shown.at(-1)!.text, /looplag\.sweep\.workers: worker count "cores\+2000" must be from 1 to 1024/);

  // A good list goes on to the steps Measure Function takes (here: save the file first).
  fake.settings.set('looplag.sweep.workers', ['1', '2']);
  stub(fake.window, { activeTextEditor: editorOn('/w/Untitled-1', 'python', { isUntitled: true }) });
  await commands.sweepFromEditor();
  assert.match(shown.at(-1)!.text, /save the file first/);
  assert.equal(shown.length, 6);
  assert.deepEqual(ran, [], 'nothing ran');
});

test('a sweep and a run go one at a time; Cancel Run cancels a sweep; the panel shows the sweep, and a run the report view again', async () => {
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-sweep-'));
  const { shown } = recordMessages({ 'Runs go one at a time': 'Cancel That Run' });
  // withProgress: the work is held until the test lets it end (nothing is spawned).
  const pending: { title: string; finish: (value: unknown) => void }[] = [];
  stub(fake.window, {
    withProgress: (options: { title: string }) => new Promise((resolve) => pending.push({ title: options.title, finish: resolve })),
  });
  const context = {
    subscriptions: [], extensionUri: vscode.Uri.file('/ext'), storageUri: vscode.Uri.file(storage),
    extension: { id: 'looplag.looplag', packageJSON: { version: '0.1.0' } },
    workspaceState: { get: () => undefined, update: async () => undefined },
  };
  const log = fake.window as unknown as { createOutputChannel(): vscode.LogOutputChannel };
  const runs = new RunController(context as never, new HistoryStore(path.join(storage, 'history')), log.createOutputChannel());
  try {
    const request: RunRequest = {
      uri: vscode.Uri.file('/w/app.py'), language: 'python', qualname: 'digest', lines: null, args: '', label: 'digest',
      settings: readSettings(undefined, 'python'), interpreter: { path: '/nowhere/python3', source: 'PATH' }, workspaceRoot: '/w',
    };
    const sweeping = runs.sweep(request, [1, 2, 4]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(pending.map((p) => p.title), ['Loop Lag: sweeping pool sizes for digest']);

    // The panel opened for the sweep: once ready it gets the sweep view (no points yet), not a report.
    const panel = fake.created.at(-1)!;
    panel.webview.received.fire({ type: 'ready' });
    const first = ToWebview.parse(panel.webview.posted.at(-1));
    assert.equal(first.type, 'sweep');
    const sweep = (first as Extract<ToWebview, { type: 'sweep' }>).sweep;
    assert.deepEqual(sweep.settings.modes, ['thread', 'process']);
    assert.deepEqual(sweep.settings.workers, [1, 2, 4]);
    assert.equal(sweep.settings.lagBudgetMs, 100);
    assert.equal(sweep.target.qualname, 'digest');
    assert.deepEqual(sweep.points, []);
    // Before any progress is shown (the engine holds a window's back), the sweep says it is starting: running, no charts.
    const starting = { mode: 'digest', phase: 'starting', done: 0, total: request.settings.report.concurrency };
    assert.deepEqual((first as Extract<ToWebview, { type: 'sweep' }>).running, starting);

    // A run meanwhile is refused, offering to cancel the sweep; the answer cancels it.
    assert.equal(await runs.run({ ...request, qualname: 'other', label: 'other' }), undefined);
    assert.equal(pending.length, 1, 'the run did not start');
    assert.equal(shown.at(-1)!.text, 'Loop Lag is already sweeping pool sizes for digest. Runs go one at a time.');
    assert.match(fake.logLines.join('\n'), /cancelling the sweep: replaced by the user/);
    // A second sweep is refused too.
    assert.equal(await runs.sweep(request, [1]), undefined);
    assert.equal(pending.length, 1);

    // The engine ends (cancelled): the final sweep is what the panel shows, running no more.
    const final: Sweep = { ...startingSweep(request, { ...request.settings.report, modes: ['thread', 'process'], lagBudgetMs: 100 }, [1, 2, 4]), status: 'failed', error: { kind: 'cancelled', message: cancelledMessage([], 'sweep'), detail: null }, headline: 'Nothing measured: cancelled.' };
    pending[0].finish(final);
    assert.equal(await sweeping, final);
    assert.match(shown.at(-1)!.text, /^Loop Lag: sweep cancelled before any pool size was measured\.$/);
    panel.webview.received.fire({ type: 'ready' });
    // Nothing measured: not kept in the history (id null).
    assert.deepEqual(ToWebview.parse(panel.webview.posted.at(-1)), { type: 'sweep', sweep: final, running: null, id: null, history: [] });

    // Cancel Run reaches a sweep in progress.
    const again = runs.sweep(request, [1]);
    await new Promise((resolve) => setImmediate(resolve));
    runs.cancel('cancelled by the user'); // what looplag.cancel does
    assert.match(fake.logLines.join('\n'), /cancelling the sweep: cancelled by the user/);
    pending[1].finish(final);
    assert.equal(await again, final);

    // A run afterwards goes back to the report view.
    const running = runs.run(request);
    await new Promise((resolve) => setImmediate(resolve));
    panel.webview.received.fire({ type: 'ready' });
    const state = ToWebview.parse(panel.webview.posted.at(-1));
    assert.equal(state.type, 'state');
    assert.equal((state as Extract<ToWebview, { type: 'state' }>).current, null);
    assert.deepEqual((state as Extract<ToWebview, { type: 'state' }>).running, starting);
    // A mode's result before any progress was shown still says the run goes on (the panel draws charts only once it ended).
    const partial = { ...final, runs: [] } as unknown as Report;
    (runs as unknown as { view: { runProgressed(r: Report): void } }).view.runProgressed(partial);
    assert.deepEqual((panel.webview.posted.at(-1) as { type: string; progress: unknown }).progress, starting);
    pending[2].finish(undefined);
    await running;
  } finally {
    runs.dispose();
    fs.rmSync(storage, { recursive: true, force: true });
  }
});

test('starting an app to list its routes goes one at a time with runs, and shutting down aborts it', async () => {
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-prepare-'));
  const { shown } = recordMessages();
  const context = {
    subscriptions: [], extensionUri: vscode.Uri.file('/ext'), storageUri: vscode.Uri.file(storage),
    extension: { id: 'looplag.looplag', packageJSON: { version: '0.1.0' } },
    workspaceState: { get: () => undefined, update: async () => undefined },
  };
  const log = fake.window as unknown as { createOutputChannel(): vscode.LogOutputChannel };
  const runs = new RunController(context as never, new HistoryStore(path.join(storage, 'history')), log.createOutputChannel());
  try {
    let aborted = false;
    let release: (v: string) => void = () => undefined;
    const listing = runs.prepare('shop:app', (signal) => new Promise<string>((resolve) => {
      release = resolve;
      signal.addEventListener('abort', () => {
        aborted = true;
        resolve('aborted');
      });
    }));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await runs.free(), false, 'busy while the app lists its routes');
    assert.equal(shown.at(-1)!.text, 'Loop Lag is already starting shop:app. Runs go one at a time.');
    assert.equal(await runs.prepare('other:app', async () => 'ran'), undefined, 'a second listing is refused');
    const request: RunRequest = {
      uri: vscode.Uri.file('/w/app.py'), language: 'python', qualname: 'digest', lines: null, args: '', label: 'digest',
      settings: readSettings(undefined, 'python'), interpreter: { path: '/nowhere/python3', source: 'PATH' }, workspaceRoot: '/w',
    };
    assert.equal(await runs.run(request), undefined, 'a run is refused meanwhile');
    release('listed');
    assert.equal(await listing, 'listed');
    assert.equal(await runs.free(), true, 'free again once listed');

    const second = runs.prepare('shop:app', (signal) => new Promise<string>((resolve) => signal.addEventListener('abort', () => {
      aborted = true;
      resolve('aborted');
    })));
    await new Promise((resolve) => setImmediate(resolve));
    runs.dispose();
    assert.equal(await second, 'aborted');
    assert.ok(aborted, 'the extension shutting down aborts it');
  } finally {
    runs.dispose();
    fs.rmSync(storage, { recursive: true, force: true });
  }
});
