/**
 * The hints' diagnostics in the host (src/host/hints.ts) against the vscode stand-in: what
 * a Python and a JS document get (Information, the rule as the code, linked), what they do
 * not (code off the loop), once per version, bounded, gone on close and with the setting off.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import * as vscode from 'vscode';
import { BlockingHints, MAX_HINT_LINES } from '../../src/host/hints';
import * as fake from '../support/fakeVscode';
import { waitFor } from '../support/helpers';

const log = { info: (t: string) => void fake.logLines.push(`[info] ${t}`), debug() {}, warn() {} } as unknown as vscode.LogOutputChannel;

function doc(name: string, languageId: string, text: string, version = 1) {
  const uri = fake.Uri.file(`/ws/${name}`);
  return { uri, languageId, version, isClosed: false, lineCount: text.split('\n').length, getText: () => text };
}

const PY = [
  'import time',
  'time.sleep(1)', //                 module level: runs once, at import
  'def plain():',
  '    time.sleep(1)', //             a plain def: maybe in a thread
  'async def handler():',
  '    time.sleep(0.2)', //           on the loop
  '    def inner():',
  '        time.sleep(3)', //         nested def inside the async def
].join('\n');

let hints: BlockingHints | undefined;
afterEach(() => {
  hints?.dispose();
  hints = undefined;
  fake.settings.clear();
  (fake.workspace as unknown as { textDocuments: unknown[] }).textDocuments = [];
});

const shown = (uri: { toString(): string }) => (fake.diagnostics.get(uri.toString()) ?? []).map((d) => {
  const code = d.code as { value: string; target: { toString(): string } };
  // The stand-in's Range keeps its first two arguments: (startLine, startCharacter, …).
  return { line: d.range.start as number, message: d.message, severity: d.severity, source: d.source, rule: code.value, doc: code.target.toString() };
});

test('an open Python document: an Information hint on the blocking call in the async def only, its ruff rule linked', async () => {
  const py = doc('app.py', 'python', PY);
  (fake.workspace as unknown as { textDocuments: unknown[] }).textDocuments = [py];
  hints = new BlockingHints(log);
  // The open documents are scanned one per turn of the loop, not in the constructor.
  assert.equal(shown(py.uri).length, 0);
  await waitFor(() => shown(py.uri).length > 0, 'the hint');
  assert.deepEqual(shown(py.uri), [{
    line: 5, message: '`time.sleep` may block the loop — Measure', severity: fake.DiagnosticSeverity.Information, source: 'Loop Lag',
    rule: 'ASYNC251', doc: 'https://docs.astral.sh/ruff/rules/blocking-sleep-in-async-function/',
  }]);
});

test('a JS document opened later: readFileSync in an Express handler, n/no-sync; closing it removes the hint', () => {
  hints = new BlockingHints(log);
  const js = doc('server.js', 'javascript', [
    "const fs = require('fs');",
    "const cfg = fs.readFileSync('cfg.json');",
    "app.get('/x', (req, res) => { res.send(fs.readFileSync('page.html')); });",
  ].join('\n'));
  fake.hintEvents.opened.fire(js);
  assert.deepEqual(shown(js.uri).map((h) => [h.line, h.rule, h.message]), [[2, 'n/no-sync', '`fs.readFileSync` may block the loop — Measure']]);
  fake.hintEvents.closed.fire(js);
  assert.equal(fake.diagnostics.has(js.uri.toString()), false);
});

test('looplag.hints.enabled off: no hints, and those shown go at once', async () => {
  const py = doc('app.py', 'python', PY);
  (fake.workspace as unknown as { textDocuments: unknown[] }).textDocuments = [py];
  hints = new BlockingHints(log);
  await waitFor(() => shown(py.uri).length === 1, 'the hint');
  fake.settings.set('looplag.hints.enabled', false);
  fake.editorEvents.configurationChanged.fire({ affectsConfiguration: (s: string) => s === 'looplag.hints.enabled' || s === 'looplag' });
  assert.equal(fake.diagnostics.has(py.uri.toString()), false);
  fake.settings.delete('looplag.hints.enabled');
  fake.editorEvents.configurationChanged.fire({ affectsConfiguration: (s: string) => s === 'looplag.hints.enabled' });
  await waitFor(() => shown(py.uri).length === 1, 'the hint back when turned on');
});

test('a file over the size limit is not scanned, and the log says so; other languages and schemes are left alone', () => {
  hints = new BlockingHints(log);
  const big = { ...doc('big.py', 'python', PY), lineCount: MAX_HINT_LINES + 1 };
  fake.hintEvents.opened.fire(big);
  assert.equal(fake.diagnostics.get(big.uri.toString()), undefined);
  assert.ok(fake.logLines.some((l) => l.includes('big.py not scanned')), fake.logLines.join('\n'));
  const md = doc('notes.md', 'markdown', PY);
  fake.hintEvents.opened.fire(md);
  const git = { ...doc('app.py', 'python', PY), uri: new fake.Uri('git', '/ws/app.py') };
  fake.hintEvents.opened.fire(git);
  assert.equal(fake.diagnostics.has(md.uri.toString()) || fake.diagnostics.has(git.uri.toString()), false);
});
