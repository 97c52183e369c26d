import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { CODELENS_SELECTOR } from '../../src/host/codeLens';
import { readSettings } from '../../src/host/config';
import { COMMANDS } from '../../src/host/ids';
import { candidatesFor, describeRuntime, editorRuntime, offerInterpreterFix, resolveRuntime } from '../../src/host/interpreter';
import { languageOfDocument, MEASURED_LANGUAGE_IDS } from '../../src/engine/languageTools';
import { progressText } from '../../src/host/lensText';
import type { OutlineFunction } from '../../src/engine/languageTools';
import { pickTarget, requiredParams, signatureText } from '../../src/host/targetPicker';
import { DEFAULT_SWEEP_WORKERS } from '../../src/engine/runSweep';
import { NODE_MODES, PYTHON_MODES } from '../../src/shared/protocol';
import { HistoryStore } from '../../src/report/historyStore';
import { compactHeadline } from '../../src/report/verdict';
import { Report } from '../../src/shared/protocol';
import * as fake from '../support/fakeVscode';
import { FIXTURES, REPO } from '../support/helpers';

const fn = (qualname: string, kind: OutlineFunction['kind'], line: number, endLine: number, params: [string, boolean][] = [], extra: Partial<OutlineFunction> = {}): OutlineFunction => ({
  qualname, kind, line, defLine: line, endLine, isAsync: false, isGenerator: false,
  params: params.map(([name, required]) => ({ name, required })), ...extra,
});

const OUTLINE = [
  fn('handler', 'function', 3, 10, [['n', true], ['scale', false]]),
  fn('handler.<locals>.inner', 'nested', 5, 6),
  fn('Jobs.run', 'method', 13, 14),
  fn('Jobs.build', 'staticmethod', 16, 18, [], { line: 15, defLine: 16 }),
  fn('stream', 'function', 20, 22, [], { isGenerator: true }),
];

test('the cursor picks the innermost function around it; nested, instance methods and generators are refused with what to do', () => {
  assert.deepEqual(pickTarget(OUTLINE, { startLine: 4, endLine: 4, empty: true, cursorLine: 4 }), { kind: 'function', fn: OUTLINE[0] });
  const nested = pickTarget(OUTLINE, { startLine: 5, endLine: 5, empty: true, cursorLine: 5 });
  assert.equal(nested.kind, 'refused');
  assert.match((nested as { message: string }).message, /nested inside `handler`.*measure `handler` \(line 3\)/);
  const method = pickTarget(OUTLINE, { startLine: 14, endLine: 14, empty: true, cursorLine: 14 });
  assert.match((method as { message: string }).message, /instance method.*create a `Jobs`.*@staticmethod/);
  assert.equal(pickTarget(OUTLINE, { startLine: 17, endLine: 17, empty: true, cursorLine: 17 }).kind, 'function');
  assert.match((pickTarget(OUTLINE, { startLine: 21, endLine: 21, empty: true, cursorLine: 21 }) as { message: string }).message, /generator/);
  assert.match((pickTarget(OUTLINE, { startLine: 1, endLine: 1, empty: true, cursorLine: 1 }) as { message: string }).message, /Put the cursor inside a function/);
});

test('JS/TS targets: refusals say what to do in JavaScript (static, [...gen()], for await), not Python', () => {
  const js = [
    fn('Cart.total', 'method', 3, 5),
    fn('Cart.make', 'staticmethod', 7, 9),
    fn('ids', 'function', 11, 13, [], { isGenerator: true }),
    fn('lines', 'function', 15, 17, [], { isGenerator: true, isAsync: true }),
    fn('outer', 'function', 19, 25),
    fn('outer.<locals>.inner', 'nested', 20, 22),
  ];
  const at = (line: number) => pickTarget(js, { startLine: line, endLine: line, empty: true, cursorLine: line }, 'typescript');
  const message = (line: number) => (at(line) as { message: string }).message;
  assert.match(message(4), /`Cart.total` is an instance method.*create a `Cart` and call it.*or make it static\.$/);
  assert.doesNotMatch(message(4), /@staticmethod|@classmethod/);
  assert.deepEqual(at(8), { kind: 'function', fn: js[1] });
  assert.match(message(12), /`ids` is a generator.*e\.g\. `\[\.\.\.ids\(\.\.\.\)\]`/);
  assert.doesNotMatch(message(12), /list\(/);
  assert.match(message(16), /`for await \(const x of lines\(\.\.\.\)\) \{\}`/);
  assert.match(message(21), /nested inside `outer`.*measure `outer` \(line 19\).*top level of the module/);
  // The same outline in Python words, by default.
  assert.match((pickTarget(js, { startLine: 4, endLine: 4, empty: true, cursorLine: 4 }) as { message: string }).message, /@staticmethod or @classmethod/);
  assert.match((pickTarget(js, { startLine: 12, endLine: 12, empty: true, cursorLine: 12 }, 'python') as { message: string }).message, /list\(ids\(\.\.\.\)\)/);
});

test('languages: Python, JavaScript and TypeScript documents on disk get the commands and CodeLens; JSX and others do not', () => {
  assert.equal(languageOfDocument('python'), 'python');
  assert.equal(languageOfDocument('javascript'), 'javascript');
  assert.equal(languageOfDocument('typescript'), 'typescript');
  for (const id of ['javascriptreact', 'typescriptreact', 'json', 'plaintext', 'toString', '__proto__']) assert.equal(languageOfDocument(id), undefined, id);
  assert.deepEqual(CODELENS_SELECTOR, [
    { language: 'python', scheme: 'file' }, { language: 'javascript', scheme: 'file' }, { language: 'typescript', scheme: 'file' },
  ]);
});

test('a selection: a whole function (decorators included or not) is that function; other lines are a snippet', () => {
  assert.equal(pickTarget(OUTLINE, { startLine: 3, endLine: 10, empty: false, cursorLine: 10 }).kind, 'function');
  assert.equal(pickTarget(OUTLINE, { startLine: 15, endLine: 18, empty: false, cursorLine: 18 }).kind, 'function');
  assert.equal(pickTarget(OUTLINE, { startLine: 16, endLine: 18, empty: false, cursorLine: 18 }).kind, 'function');
  assert.deepEqual(pickTarget(OUTLINE, { startLine: 7, endLine: 9, empty: false, cursorLine: 9 }), { kind: 'snippet', start: 7, end: 9 });
  assert.deepEqual(requiredParams(OUTLINE[0]), ['n']);
  assert.equal(signatureText(OUTLINE[0]), 'handler(n, scale=…)');
});

test('settings: defaults, per-resource values, ranges clamped, bad modes dropped', () => {
  fake.settings.clear();
  const d = readSettings(undefined);
  assert.deepEqual(d.report, {
    concurrency: 10, workers: null, switchIntervalS: null, heartbeatMs: 1, stallMs: 50, gilProbe: true,
    gilProbeInWindow: false, warmup: true, attribution: true,
    modes: ['inline', 'thread', 'process', 'interpreter'], timeoutS: 120, callTimeoutS: 24, lagBudgetMs: 100, plannedMode: null,
  });
  assert.equal(d.freeThreaded, 'auto');
  assert.deepEqual(d.sweepWorkers, ['1', '2', '4', 'cores', 'cores+4', '32', '40']);
  assert.equal(d.lagBudgetMs, 100);
  assert.equal(d.saveBeforeRun, 'ask');
  fake.settings.set('looplag.concurrency', 3);
  fake.settings.set('looplag.workers', 4);
  fake.settings.set('looplag.python.switchInterval', 0.02);
  fake.settings.set('looplag.python.modes', ['thread', 'bogus', 'thread']);
  fake.settings.set('looplag.heartbeatMs', 0);
  fake.settings.set('looplag.saveBeforeRun', 'always');
  fake.settings.set('looplag.callTimeoutSeconds', 7);
  const s = readSettings(undefined);
  assert.equal(s.report.callTimeoutS, 7);
  assert.equal(s.report.concurrency, 3);
  assert.equal(s.report.workers, 4);
  assert.equal(s.report.switchIntervalS, 0.02);
  assert.deepEqual(s.report.modes, ['thread']);
  assert.equal(s.report.heartbeatMs, 1);
  assert.equal(s.saveBeforeRun, 'always');
  fake.settings.clear();
});

test('settings for JS/TS: looplag.node.modes (Python\'s mode names dropped), looplag.node.path; the shared settings apply', () => {
  fake.settings.clear();
  const d = readSettings(undefined, 'typescript');
  assert.deepEqual(d.report.modes, [...NODE_MODES]);
  assert.deepEqual(d.report.modes, ['inline', 'worker', 'process']);
  assert.equal(d.nodePath, '');
  fake.settings.set('looplag.python.modes', ['thread']);
  fake.settings.set('looplag.concurrency', 4);
  fake.settings.set('looplag.node.path', '  /opt/node/bin/node ');
  const n = readSettings(undefined, 'javascript');
  assert.deepEqual(n.report.modes, ['inline', 'worker', 'process'], 'python.modes is Python\'s only');
  assert.equal(n.report.concurrency, 4);
  assert.equal(n.nodePath, '/opt/node/bin/node');
  assert.deepEqual(readSettings(undefined, 'python').report.modes, ['thread']);
  fake.settings.set('looplag.node.modes', ['process', 'thread', 'interpreter', 'worker', 'process']);
  assert.deepEqual(readSettings(undefined, 'typescript').report.modes, ['process', 'worker']);
  fake.settings.set('looplag.node.modes', ['thread']);
  assert.deepEqual(readSettings(undefined, 'typescript').report.modes, ['inline', 'worker', 'process'], 'nothing valid left: every mode');
  fake.settings.clear();
});

test('progress text: the mode and calls done; Python\'s one-call GIL diagnostic reads as part of thread mode', () => {
  assert.equal(progressText({ mode: 'worker', phase: 'running', done: 2, total: 5 }), 'worker 2/5');
  assert.equal(progressText({ mode: 'process', phase: 'warming', done: 0, total: 5 }), 'process: starting the pool');
  assert.equal(progressText({ mode: 'diagnostic', phase: 'running', done: 0, total: 5 }), 'thread: GIL diagnostic, one call alone');
});

test('the Node runtime: looplag.node.path, else node on PATH, else the editor\'s own runtime (ELECTRON_RUN_AS_NODE)', async () => {
  fake.settings.clear();
  const uri = fake.Uri.file('/w/app.ts') as never;
  const log = { warn() {}, info() {}, error() {} } as never;
  const onPath = await resolveRuntime(uri, 'typescript', readSettings(uri, 'typescript'), log);
  assert.deepEqual(onPath, { path: undefined, source: 'PATH', fallback: editorRuntime() });
  assert.deepEqual(editorRuntime(), { command: process.execPath, env: { ELECTRON_RUN_AS_NODE: '1' }, label: 'the editor\'s own runtime' });
  // The same candidates for the outline, the argument check and the run (the engine's list).
  assert.deepEqual(candidatesFor('typescript', onPath), [
    { command: 'node', explicit: false },
    { command: process.execPath, env: { ELECTRON_RUN_AS_NODE: '1' }, explicit: false, label: 'the editor\'s own runtime' },
  ]);
  assert.equal(describeRuntime('typescript', onPath), `node on PATH, else the editor's own runtime (${process.execPath})`);

  fake.settings.set('looplag.node.path', '/opt/node/bin/node');
  const set = await resolveRuntime(uri, 'javascript', readSettings(uri, 'javascript'), log);
  assert.deepEqual(set, { path: '/opt/node/bin/node', source: 'looplag.node.path' });
  assert.deepEqual(candidatesFor('javascript', set), [{ command: '/opt/node/bin/node', explicit: true }], 'a set path is used alone');
  assert.equal(describeRuntime('javascript', set), '/opt/node/bin/node (looplag.node.path)');

  // Python is unchanged: the setting, else python3/python.
  const py = await resolveRuntime(fake.Uri.file('/w/app.py') as never, 'python', readSettings(undefined, 'python'), log);
  assert.deepEqual(py, { path: undefined, source: 'PATH' });
  assert.equal(candidatesFor('python', py)[0].command, process.platform === 'win32' ? 'python' : 'python3');
  fake.settings.clear();
});

test('"no runtime" errors open the language\'s own path setting', async () => {
  const original = { showErrorMessage: (fake.window as Record<string, unknown>).showErrorMessage, executeCommand: fake.commands.executeCommand };
  const shown: unknown[][] = [];
  const executed: unknown[][] = [];
  Object.assign(fake.window, { showErrorMessage: async (...a: unknown[]) => (shown.push(a), 'Open Settings') });
  fake.commands.executeCommand = (async (...a: unknown[]) => void executed.push(a)) as typeof fake.commands.executeCommand;
  try {
    await offerInterpreterFix('no Node', 'typescript');
    await offerInterpreterFix('no Python');
    // Python: Loop Lag's own picker, with or without the Python extension; Node has none.
    assert.deepEqual(shown, [['no Node', 'Open Settings'], ['no Python', 'Select Interpreter', 'Open Settings']]);
    assert.deepEqual(executed, [['workbench.action.openSettings', 'looplag.node.path'], ['workbench.action.openSettings', 'looplag.python.path']]);
  } finally {
    Object.assign(fake.window, { showErrorMessage: original.showErrorMessage });
    fake.commands.executeCommand = original.executeCommand;
  }
});

test('the manifest declares every command, setting and safety capability the code relies on', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  const declared = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual(declared, Object.values(COMMANDS).sort());
  const props = Object.keys(pkg.contributes.configuration.properties);
  for (const key of ['concurrency', 'workers', 'python.modes', 'python.switchInterval', 'python.path', 'python.freeThreadedPath', 'node.modes', 'node.path', 'heartbeatMs', 'stallThresholdMs',
    'lagBudgetMs', 'plannedMode', 'timeoutSeconds', 'callTimeoutSeconds', 'gilProbe', 'gilProbeInWindow', 'warmup', 'attribution', 'codeLens.enabled', 'saveBeforeRun', 'sweep.workers']) {
    assert.ok(props.includes(`looplag.${key}`), key);
    assert.ok(pkg.contributes.configuration.properties[`looplag.${key}`].markdownDescription, `${key} is described`);
  }
  assert.deepEqual(pkg.extensionKind, ['workspace']);
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.deepEqual(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations, ['looplag.python.path', 'looplag.node.path', 'looplag.python.freeThreadedPath']);
  const settingsDecl = pkg.contributes.configuration.properties;
  assert.deepEqual(settingsDecl['looplag.node.modes'].items.enum, [...NODE_MODES]);
  assert.deepEqual(settingsDecl['looplag.node.modes'].default, [...NODE_MODES]);
  assert.equal(settingsDecl['looplag.node.modes'].items.enumDescriptions.length, NODE_MODES.length);
  // Resource scope: listed in every tab of a remote window's settings editor (machine-overridable
  // ones are left out of its User tab); restrictedConfigurations above keeps a workspace's value
  // ignored in Restricted Mode, whatever the scope.
  assert.equal(settingsDecl['looplag.node.path'].scope, 'resource');
  assert.equal(settingsDecl['looplag.python.path'].scope, 'resource');
  assert.equal(settingsDecl['looplag.python.freeThreadedPath'].scope, 'resource');
  assert.equal(settingsDecl['looplag.python.freeThreadedPath'].default, 'auto');
  assert.deepEqual(settingsDecl['looplag.plannedMode'].enum, ['auto', ...new Set([...PYTHON_MODES, ...NODE_MODES])]);
  assert.equal(settingsDecl['looplag.plannedMode'].enumDescriptions.length, settingsDecl['looplag.plannedMode'].enum.length);
  assert.deepEqual(settingsDecl['looplag.sweep.workers'].default, DEFAULT_SWEEP_WORKERS);
  // The settings editor's check accepts what the sweep parses, and flags what it refuses.
  const pattern = new RegExp(settingsDecl['looplag.sweep.workers'].items.pattern);
  for (const ok of DEFAULT_SWEEP_WORKERS) assert.ok(pattern.test(ok), ok);
  for (const bad of ['two', '4x', 'cores*2', '']) assert.ok(!pattern.test(bad), bad);
  // Every language the host measures activates the extension and shows the command.
  for (const id of MEASURED_LANGUAGE_IDS) {
    assert.ok(pkg.activationEvents.includes(`onLanguage:${id}`), id);
    for (const command of [COMMANDS.measure, COMMANDS.sweep]) {
      const when: string = pkg.contributes.menus.commandPalette.find((m: { command: string }) => m.command === command).when;
      assert.ok(when.split('||').map((c) => c.trim()).includes(`editorLangId == ${id}`), `commandPalette ${command}: ${when}`);
    }
    // The editor's context menu: the "Loop Lag" submenu, shown for the language, holds them.
    const sub = pkg.contributes.menus['editor/context'].find((m: { submenu?: string }) => m.submenu === 'looplag.editorContext');
    assert.ok(sub.when.split('||').map((c: string) => c.trim()).includes(`editorLangId == ${id}`), `editor/context: ${sub.when}`);
    const inSub = pkg.contributes.menus['looplag.editorContext'].map((m: { command: string }) => m.command);
    for (const command of [COMMANDS.measure, COMMANDS.sweep, COMMANDS.measureEndpoint]) assert.ok(inSub.includes(command), command);
  }
  assert.equal(pkg.capabilities.virtualWorkspaces.supported, false);
  assert.equal(pkg.main, './dist/extension.js');
});

test('history: newest first, capped, atomic files, survives a corrupt index', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-history-'));
  try {
    const report = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8')));
    const store = new HistoryStore(dir, 3);
    const ids: string[] = [];
    // Concurrent adds must not lose entries (writes are chained).
    const entries = await Promise.all([1, 2, 3, 4, 5].map((i) => store.add({ ...report, createdAt: new Date(Date.UTC(2026, 0, i)).toISOString() }, `run ${i}`, 'h')));
    ids.push(...entries.map((e) => e.id));
    const list = await store.list();
    assert.deepEqual(list.map((e) => e.label), ['run 5', 'run 4', 'run 3']);
    assert.equal(fs.readdirSync(path.join(dir, 'reports')).length, 3, 'dropped reports are deleted');
    assert.ok(!fs.readdirSync(dir).some((f) => f.endsWith('.tmp')));
    assert.equal((await store.get(list[0].id))?.createdAt, '2026-01-05T00:00:00.000Z');
    assert.equal(await store.get(ids[0]), null);
    fs.writeFileSync(path.join(dir, 'index.json'), '{"truncated');
    assert.deepEqual(await new HistoryStore(dir).list(), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the editor headline: stall, starved, stalls, p99; skipped modes left out', () => {
  const report = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8')));
  const text = compactHeadline(report);
  assert.ok(!text.includes('interpreter'));
  assert.match(text, /^inline: [\d.]+ (ms|s) stall · thread: /);
  assert.match(text, /process: [\d.]+ ms p99$/);
});
