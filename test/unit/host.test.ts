import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { readSettings } from '../../src/host/config';
import { COMMANDS } from '../../src/host/ids';
import type { OutlineFunction } from '../../src/host/pythonTools';
import { pickTarget, requiredParams, signatureText } from '../../src/host/targetPicker';
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
    modes: ['inline', 'thread', 'process', 'interpreter'], timeoutS: 120, lagBudgetMs: 100,
  });
  assert.equal(d.lagBudgetMs, 100);
  assert.equal(d.saveBeforeRun, 'ask');
  fake.settings.set('looplag.concurrency', 3);
  fake.settings.set('looplag.workers', 4);
  fake.settings.set('looplag.python.switchInterval', 0.02);
  fake.settings.set('looplag.python.modes', ['thread', 'bogus', 'thread']);
  fake.settings.set('looplag.heartbeatMs', 0);
  fake.settings.set('looplag.saveBeforeRun', 'always');
  const s = readSettings(undefined);
  assert.equal(s.report.concurrency, 3);
  assert.equal(s.report.workers, 4);
  assert.equal(s.report.switchIntervalS, 0.02);
  assert.deepEqual(s.report.modes, ['thread']);
  assert.equal(s.report.heartbeatMs, 1);
  assert.equal(s.saveBeforeRun, 'always');
  fake.settings.clear();
});

test('the manifest declares every command, setting and safety capability the code relies on', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  const declared = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual(declared, Object.values(COMMANDS).sort());
  const props = Object.keys(pkg.contributes.configuration.properties);
  for (const key of ['concurrency', 'workers', 'python.modes', 'python.switchInterval', 'python.path', 'heartbeatMs', 'stallThresholdMs',
    'lagBudgetMs', 'timeoutSeconds', 'gilProbe', 'codeLens.enabled', 'saveBeforeRun']) {
    assert.ok(props.includes(`looplag.${key}`), key);
    assert.ok(pkg.contributes.configuration.properties[`looplag.${key}`].markdownDescription, `${key} is described`);
  }
  assert.deepEqual(pkg.extensionKind, ['workspace']);
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.deepEqual(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations, ['looplag.python.path']);
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
