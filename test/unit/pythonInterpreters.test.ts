/**
 * Choosing the Python interpreter (issue 16): what Select Python Interpreter finds on a
 * fake file tree (workspace venvs, PATH, pyenv, system Pythons, each real file once), the
 * version probe's parsing and cache (the real probe: test/sidecar/pythonVersion.test.ts), the status bar's words, the precedence of
 * `looplag.python.path` over the Python extension, and the settings' order.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { foundLabel, NextPython, statusText, statusTooltip } from '../../src/host/interpreterLabel';
import { onPythonExtensionEnvironment, resolveInterpreter } from '../../src/host/interpreter';
import { discoverPythons, placeOf, PythonPlaces, whichOnPath } from '../../src/host/pythonDiscovery';
import { parseVersionOutput, PythonVersions, unsupportedReason, VersionAnswer } from '../../src/host/pythonVersion';
import * as fake from '../support/fakeVscode';
import { REPO, tmpDir } from '../support/helpers';

const root = tmpDir('looplag-pythons-');
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** An executable file (what an interpreter looks like to the discovery). */
function exe(rel: string): string {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });
  return file;
}

function link(rel: string, target: string): string {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.symlinkSync(target, file);
  return file;
}

/**
 * A machine: a workspace with `.venv` and a `pyvenv.cfg` venv under another name (plus a
 * folder that is no venv), pyenv with two versions, /usr/bin with python3 → python3.11 and
 * a free-threaded python3.13t, /usr/local/bin with its own python3.12, and PATH listing
 * pyenv's shims first, then /usr/bin twice (as /bin and /usr/bin).
 */
function machine(): PythonPlaces {
  const ws = path.join(root, 'ws');
  exe('ws/.venv/bin/python');
  fs.writeFileSync(path.join(ws, '.venv', 'pyvenv.cfg'), 'home = /usr/bin\n');
  exe('ws/py312env/bin/python');
  fs.writeFileSync(path.join(ws, 'py312env', 'pyvenv.cfg'), 'home = /usr/bin\n');
  exe('ws/src/bin/python'); // no pyvenv.cfg, not a venv name: not listed
  exe('pyenv/versions/3.11.7/bin/python');
  exe('pyenv/versions/3.12.1/bin/python');
  exe('pyenv/shims/python3');
  exe('usr/bin/python3.11');
  link('usr/bin/python3', 'python3.11');
  exe('usr/bin/python3.13t');
  exe('usr/bin/python3-config'); // not an interpreter
  fs.writeFileSync(path.join(root, 'usr/bin/python3.10'), 'not executable\n', { mode: 0o644 });
  exe('usr/local/bin/python3.12');
  link('bin', path.join(root, 'usr', 'bin'));
  return {
    workspaceFolders: [ws],
    pathEnv: [path.join(root, 'pyenv/shims'), path.join(root, 'bin'), path.join(root, 'usr/bin')].join(path.delimiter),
    pyenvRoot: path.join(root, 'pyenv'),
    systemDirs: [path.join(root, 'usr/bin'), path.join(root, 'usr/local/bin')],
    windows: false,
  };
}

test('discovery: venvs, PATH, pyenv and system Pythons in that order, each real file once', async () => {
  const places = machine();
  const found = await discoverPythons(places);
  const rel = (p: string) => path.relative(root, p);
  assert.deepEqual(found.map((f) => [f.kind, f.name, rel(f.path)]), [
    ['venv', '.venv', 'ws/.venv/bin/python'],
    ['venv', 'py312env', 'ws/py312env/bin/python'],
    ['path', 'python3', 'pyenv/shims/python3'],
    ['pyenv', '3.12.1', 'pyenv/versions/3.12.1/bin/python'],
    ['pyenv', '3.11.7', 'pyenv/versions/3.11.7/bin/python'],
    // python3 and python3.11 are one file: listed once, by the name a user types; /bin/python3 is the same file again.
    ['system', 'python3', 'usr/bin/python3'],
    ['system', 'python3.13t', 'usr/bin/python3.13t'],
    ['system', 'python3.12', 'usr/local/bin/python3.12'],
  ]);
  assert.deepEqual(found.filter((f) => f.freeThreadedName).map((f) => f.name), ['python3.13t']);
  // A venv links to its base interpreter yet stays its own entry (its packages differ).
  fs.rmSync(path.join(root, 'ws/.venv/bin/python'));
  fs.symlinkSync(path.join(root, 'usr/bin/python3.11'), path.join(root, 'ws/.venv/bin/python'));
  const again = await discoverPythons(places);
  assert.ok(again.some((f) => f.kind === 'venv' && f.name === '.venv'));
  assert.ok(again.some((f) => f.kind === 'system' && f.name === 'python3'));
});

test('PATH lookup takes the engine\'s order of names; a venv and pyenv are named by their place', async () => {
  // The tree of the test above.
  const pathEnv = [path.join(root, 'pyenv/shims'), path.join(root, 'usr/bin')].join(path.delimiter);
  assert.equal(await whichOnPath(['python3', 'python'], pathEnv, false), path.join(root, 'pyenv/shims/python3'));
  assert.equal(await whichOnPath(['python'], pathEnv, false), undefined);
  assert.deepEqual(await placeOf(path.join(root, 'ws/py312env/bin/python'), path.join(root, 'pyenv')), { kind: 'venv', name: 'py312env' });
  assert.deepEqual(await placeOf(path.join(root, 'pyenv/shims/python3'), path.join(root, 'pyenv')), { kind: 'pyenv' });
  assert.equal(await placeOf(path.join(root, 'usr/bin/python3'), path.join(root, 'pyenv')), null);
});

test('the version probe\'s answer is parsed, an old Python refused, and each file asked once per modification', async () => {
  assert.deepEqual(parseVersionOutput('3.13.0\n1\n3.13.0 experimental free-threading build (main, Oct 8 2024)\n'),
    { version: '3.13.0', major: 3, minor: 13, freeThreaded: true, full: '3.13.0 experimental free-threading build (main, Oct 8 2024)' });
  assert.equal(parseVersionOutput('hello\n'), null, 'a program that is no Python');
  assert.match(unsupportedReason(parseVersionOutput('3.8.18\n0\n3.8.18\n')!)!, /too old: Loop Lag needs Python 3\.9 or newer/);
  assert.equal(unsupportedReason(parseVersionOutput('3.9.0\n0\n3.9.0\n')!), null);

  const file = exe('cache/python3');
  let asked = 0;
  const answers: VersionAnswer[] = [{ ok: false, reason: 'no answer within 4 s' }, ok('3.11.2'), ok('3.12.0')];
  const versions = new PythonVersions(async () => answers[asked++]);
  assert.deepEqual(await versions.get(file), answers[0]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(await versions.get(file), answers[1], 'a timeout is not remembered');
  assert.deepEqual(await versions.get(file), answers[1], 'an answer is');
  assert.equal(asked, 2);
  fs.writeFileSync(file, '#!/bin/sh\n# rebuilt\n');
  assert.deepEqual(await versions.get(file), answers[2], 'a changed file is asked again');
  assert.deepEqual(await versions.get(path.join(root, 'cache/none')), { ok: false, reason: 'not found' });
});

function ok(version: string, freeThreaded = false): VersionAnswer {
  const [major, minor] = version.split('.').map(Number);
  return { ok: true, version: { version, major, minor, freeThreaded, full: `${version} (main)` } };
}

test('the status bar: the version and where it lives; the tooltip: the path, where the choice came from, the click', () => {
  const next = (over: Partial<NextPython>): NextPython => ({
    file: '/usr/bin/python3', command: '/usr/bin/python3', source: 'looplag.python.path', settingScope: 'workspace folder settings', place: null, answer: ok('3.11.2'), ...over,
  });
  assert.equal(statusText(next({})), 'Python 3.11.2');
  assert.equal(statusText(next({ place: { kind: 'pyenv' }, answer: ok('3.11.7') })), 'Python 3.11.7 (pyenv)');
  assert.equal(statusText(next({ place: { kind: 'venv', name: '.venv' }, answer: ok('3.12.1') })), '.venv (3.12.1)');
  assert.equal(statusText(next({ answer: ok('3.13.0', true) })), 'Python 3.13.0t');
  assert.equal(statusText(next({ answer: { ok: false, reason: 'not found' } })), '$(warning) Python: python3');
  assert.equal(statusText(next({ answer: ok('3.8.18') })), '$(warning) Python: python3');
  assert.equal(statusText(next({ file: undefined, source: 'PATH', command: 'python3/python' })), '$(warning) Python: not found');
  assert.equal(statusText(next({ answer: null })), 'Python', 'Restricted Mode: nothing is run to ask');

  assert.equal(statusTooltip(next({})), [
    'Loop Lag runs this Python file with /usr/bin/python3', 'Python 3.11.2 (main)',
    'Chosen: set by looplag.python.path (workspace folder settings)', '', 'Click to select another interpreter',
  ].join('\n'));
  assert.match(statusTooltip(next({ source: 'python extension', settingScope: undefined })), /Chosen: the Python extension's interpreter for this file \(looplag\.python\.path is empty\)/);
  assert.match(statusTooltip(next({ source: 'PATH', command: 'python3/python', file: '/root/.pyenv/shims/python3' })), /with \/root\/\.pyenv\/shims\/python3\n.*\nChosen: the first of python3\/python \(looplag\.python\.path is empty\)/);
  assert.match(statusTooltip(next({ answer: ok('3.8.18') })), /⚠ Python 3\.8\.18 is too old/);

  assert.equal(foundLabel({ path: '/usr/bin/python3', freeThreadedName: false }, undefined), '$(loading~spin) python3');
  assert.equal(foundLabel({ path: '/usr/bin/python3.13t', freeThreadedName: true }, ok('3.13.0', true)), 'Python 3.13.0t (free-threaded)');
  assert.equal(foundLabel({ path: '/p/bin/python', freeThreadedName: false }, ok('3.8.18')), '$(warning) Python 3.8.18 (needs 3.9+)');
});

test('precedence: a set looplag.python.path wins even with the Python extension installed', async () => {
  const asked: string[] = [];
  const original = fake.extensions.getExtension;
  fake.extensions.getExtension = ((id: string) => (asked.push(id), {})) as never;
  const log = { warn() {}, info() {}, error() {} } as never;
  try {
    const chosen = await resolveInterpreter(fake.Uri.file('/w/app.py') as never, '/usr/bin/python3', log);
    assert.deepEqual(chosen, { path: '/usr/bin/python3', source: 'looplag.python.path' });
    assert.deepEqual(asked, [], 'the Python extension is not even asked');
  } finally {
    fake.extensions.getExtension = original;
  }
  assert.deepEqual(await resolveInterpreter(fake.Uri.file('/w/app.py') as never, '', log), { path: undefined, source: 'PATH' });
});

test('the Python extension\'s own picks are followed (the status bar refreshes on them); without the extension nothing is subscribed', async () => {
  const listeners = new Set<() => void>();
  const pythonExtension = {
    isActive: true,
    exports: { environments: { onDidChangeActiveEnvironmentPath: (cb: () => void) => (listeners.add(cb), { dispose: () => listeners.delete(cb) }) } },
  };
  const original = fake.extensions.getExtension;
  const log = { warn() {}, info() {}, error() {} } as never;
  let changes = 0;
  try {
    fake.extensions.getExtension = (() => undefined) as never;
    assert.equal(await onPythonExtensionEnvironment(() => changes++, log), undefined);
    fake.extensions.getExtension = ((id: string) => (id === 'ms-python.python' ? pythonExtension : undefined)) as never;
    const subscription = await onPythonExtensionEnvironment(() => changes++, log);
    assert.equal(listeners.size, 1);
    for (const cb of listeners) cb();
    assert.equal(changes, 1);
    subscription!.dispose();
    assert.equal(listeners.size, 0, 'disposed with the status bar');
  } finally {
    fake.extensions.getExtension = original;
  }
});

test('settings order: the interpreter and the budget first, then concurrency and modes; every setting has one', () => {
  const props: Record<string, { order?: number }> = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).contributes.configuration.properties;
  for (const [key, p] of Object.entries(props)) assert.equal(typeof p.order, 'number', `${key} has an order`);
  const byOrder = Object.keys(props).sort((a, b) => props[a].order! - props[b].order!);
  assert.deepEqual(byOrder.slice(0, 5), ['looplag.python.path', 'looplag.node.path', 'looplag.lagBudgetMs', 'looplag.concurrency', 'looplag.workers']);
  assert.equal(new Set(Object.values(props).map((p) => p.order)).size, byOrder.length, 'no two share an order');
});
