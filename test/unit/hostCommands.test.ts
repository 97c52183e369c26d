/**
 * Issue 12's host reshape: commands through one typed table (checked against the
 * manifest), the panel's HTML helpers apart from the report exporter, one export module
 * for the CLI and the extension, and host modules of a readable size.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as vscode from 'vscode';
import { Commands } from '../../src/host/commands';
import { exportFileName } from '../../src/host/exportFile';
import { COMMANDS, commandLink, executeCommand, registerCommands } from '../../src/host/ids';
import { documentJson, readUiAssets, writeFileAtomic, writeFileAtomicSync } from '../../src/report/export';
import { standaloneHtml } from '../../src/report/html';
import { escapeHtml, newNonce } from '../../src/shared/html';
import { Report } from '../../src/shared/protocol';
import * as fake from '../support/fakeVscode';
import { FIXTURES, REPO } from '../support/helpers';

interface ManifestCommand { command: string; title: string; category: string }

function manifest() {
  return JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
}

/** The handler table of a Commands over a stand-in RunController that records what ran. */
function handlerTable() {
  const ran: unknown[][] = [];
  const runs = {
    sidecarDirs: { python: '/nowhere', node: '/nowhere' },
    showSweep: () => void ran.push(['showSweep']),
    showReport: async () => void ran.push(['showReport']),
    cancel: (why: string) => void ran.push(['cancel', why]),
  };
  const annotations = { clear: () => void ran.push(['clearAnnotations']) };
  const context = { extension: { id: 'looplag.looplag' }, workspaceState: { get: () => undefined, update: async () => undefined } };
  const commands = new Commands(context as never, runs as never, { info() {}, warn() {}, error() {} } as never, annotations, { select: async () => undefined });
  return { handlers: commands.handlers(), ran };
}

test('package.json contributes exactly the commands of the typed table, each titled under "Loop Lag"; menus name only those', () => {
  const pkg = manifest();
  const { handlers } = handlerTable();
  const contributed: ManifestCommand[] = pkg.contributes.commands;
  assert.deepEqual(contributed.map((c) => c.command).sort(), Object.keys(handlers).sort());
  assert.deepEqual(Object.keys(handlers).sort(), Object.values(COMMANDS).sort(), 'COMMANDS names every command of the table');
  for (const c of contributed) {
    assert.ok(c.title, `${c.command} has a title`);
    assert.equal(c.category, 'Loop Lag', c.command);
  }
  const submenus = new Map<string, string>((pkg.contributes.submenus ?? []).map((s: { id: string; label: string }) => [s.id, s.label]));
  for (const [menu, entries] of Object.entries(pkg.contributes.menus as Record<string, { command?: string; submenu?: string }[]>)) {
    for (const entry of entries) {
      if (entry.submenu) assert.ok(submenus.has(entry.submenu) && pkg.contributes.menus[entry.submenu]?.length, `${menu} names the submenu ${entry.submenu}, declared and filled`);
      else assert.ok(entry.command! in handlers, `${menu} names ${entry.command}, which has no handler`);
    }
  }
  // Menus show a command's title without its category: the editor's context menu holds our
  // entries in one "Loop Lag" submenu, so "Measure Function" reads under "Loop Lag".
  for (const entry of pkg.contributes.menus['editor/context']) assert.equal(submenus.get(entry.submenu), 'Loop Lag', JSON.stringify(entry));
  // A command whose handler takes arguments cannot be run from the palette (nothing would pass them).
  const palette: { command: string; when?: string }[] = pkg.contributes.menus.commandPalette;
  for (const [id, handler] of Object.entries(handlers)) {
    if (handler.length) assert.equal(palette.find((m) => m.command === id)?.when, 'false', `${id} takes ${handler.length} argument(s)`);
  }
  assert.equal(handlers[COMMANDS.measureFunction].length, 2, 'measureFunction: (uri, qualname)');
});

test('the typed table registers every handler; executeCommand and command links pass the arguments its handler takes', async () => {
  const { handlers, ran } = handlerTable();
  const disposables = registerCommands(handlers);
  const original = fake.commands.executeCommand;
  // The fake runs what was registered, as VS Code does.
  fake.commands.executeCommand = (async (id: string, ...args: unknown[]) => fake.registered.commands.get(id)!(...args)) as never;
  try {
    assert.deepEqual([...fake.registered.commands.keys()], Object.keys(handlers), 'registered in table order');
    await executeCommand(COMMANDS.cancel);
    await executeCommand(COMMANDS.showReport);
    await executeCommand(COMMANDS.clearAnnotations);
    assert.deepEqual(ran, [['cancel', 'cancelled by the user'], ['showReport'], ['clearAnnotations']]);
  } finally {
    fake.commands.executeCommand = original;
    for (const d of disposables) d.dispose();
  }
  assert.equal(fake.registered.commands.size, 0);

  const uri = vscode.Uri.file('/w/app.py');
  assert.deepEqual(commandLink(COMMANDS.measureFunction, '▶ Measure loop lag', [uri, 'digest'], 'tip'),
    { title: '▶ Measure loop lag', command: 'looplag.measureFunction', arguments: [uri, 'digest'], tooltip: 'tip' });
  assert.deepEqual(commandLink(COMMANDS.showReport, 'hint', []), { title: 'hint', command: 'looplag.showReport' }, 'no empty arguments list');
});

test('panel/ and the HTML helpers it uses stand apart from the report exporter; no host module over 400 lines', () => {
  const src = path.join(REPO, 'src');
  for (const file of fs.readdirSync(path.join(src, 'panel'))) {
    const text = fs.readFileSync(path.join(src, 'panel', file), 'utf8');
    assert.doesNotMatch(text, /from '\.\.\/report\//, `panel/${file} imports report/`);
  }
  // shared/html.ts runs in Node and in a browser alike: no node: or vscode import.
  assert.doesNotMatch(fs.readFileSync(path.join(src, 'shared', 'html.ts'), 'utf8'), /^import /m);
  assert.doesNotMatch(fs.readFileSync(path.join(src, 'report', 'export.ts'), 'utf8'), /from 'vscode'/);
  for (const file of fs.readdirSync(path.join(src, 'host'))) {
    const lines = fs.readFileSync(path.join(src, 'host', file), 'utf8').split('\n').length;
    assert.ok(lines <= 400, `host/${file}: ${lines} lines`);
  }
  // The CLI and the host write through report/export.ts: neither keeps its own copy.
  for (const file of ['cli.ts', 'host/reportView.ts', 'host/exportFile.ts', 'report/historyStore.ts']) {
    const text = fs.readFileSync(path.join(src, file), 'utf8');
    assert.doesNotMatch(text, /renameSync?\(|rename\(|standalone\.css/, `${file} writes or loads assets itself`);
  }
});

test('nonces: 18 random bytes as base64, never repeated; escaping covers every HTML-special character', () => {
  const nonces = new Set(Array.from({ length: 200 }, () => newNonce()));
  assert.equal(nonces.size, 200);
  for (const n of nonces) {
    assert.match(n, /^[A-Za-z0-9+/]{24}$/);
    assert.equal(Buffer.from(n, 'base64').length, 18);
  }
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  const report = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8')));
  const html = standaloneHtml(report, { js: 'x', css: 'y' });
  const nonce = /<script nonce="([^"]+)">/.exec(html)![1];
  assert.match(nonce, /^[A-Za-z0-9+/]{24}$/);
});

test('export: the JSON text, the UI assets, and atomic writes that leave no temp file behind, sync or not', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-export-'));
  try {
    const report = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8')));
    assert.equal(documentJson(report), JSON.stringify(report, null, 2) + '\n');
    writeFileAtomicSync(path.join(dir, 'a.json'), 'one');
    await writeFileAtomic(path.join(dir, 'sub', 'b.json'), 'two');
    assert.equal(fs.readFileSync(path.join(dir, 'a.json'), 'utf8'), 'one');
    assert.equal(fs.readFileSync(path.join(dir, 'sub', 'b.json'), 'utf8'), 'two', 'the folder is created');
    // A folder where the file should go: the rename fails, and the temp file goes.
    fs.mkdirSync(path.join(dir, 'taken'));
    assert.throws(() => writeFileAtomicSync(path.join(dir, 'taken'), 'x'));
    await assert.rejects(writeFileAtomic(path.join(dir, 'taken'), 'x'));
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);

    fs.writeFileSync(path.join(dir, 'main.js'), 'js');
    fs.writeFileSync(path.join(dir, 'standalone.css'), 'css');
    assert.deepEqual(readUiAssets(dir), { js: 'js', css: 'css' });
    assert.equal(exportFileName({ qualname: 'Cls.method' }, 'json'), 'looplag-Cls.method.json');
    assert.equal(exportFileName({ qualname: null }, 'html'), 'looplag-snippet.html');
    assert.equal(exportFileName({ qualname: 'a b/c' }, 'sweep'), 'looplag-sweep-a_b_c.json');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
