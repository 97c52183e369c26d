/**
 * The argument prompt for a FastAPI route, against the fake `vscode` and the real Python
 * outline (`run_sidecar.py outline`, `ast` only: fastapi need not be installed): parameters
 * whose defaults are FastAPI markers are listed first, before anything runs.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { afterEach, test } from 'node:test';
import { Commands } from '../../src/host/commands';
import { outlineFile } from '../../src/engine/languageTools';
import { argsPromptText, requiredParams } from '../../src/host/targetPicker';
import * as fake from '../support/fakeVscode';
import { FIXTURES, REPO } from '../support/helpers';

const ROUTES = path.join(FIXTURES, 'python', 'verdicts', 'routes.py');
const DIRS = { python: path.join(REPO, 'dist', 'sidecars', 'python'), node: path.join(REPO, 'dist', 'sidecars', 'node') };

const { stub, restore } = fake.stubs();
afterEach(() => {
  restore();
  fake.settings.clear();
});

test('the outline flags FastAPI marker defaults, and only imported ones (pathlib.Path is not a marker)', async () => {
  const outline = await outlineFile('python', { command: 'python3' }, DIRS, ROUTES);
  assert.ok(outline.ok);
  const login = outline.functions.find((f) => f.qualname === 'login')!;
  assert.deepEqual(login.params, [
    { name: 'password', required: false, marker: 'Body' },
    { name: 'db', required: false, marker: 'Depends' },
  ]);
  assert.deepEqual(requiredParams(login), ['password', 'db'], 'markers must be given, like parameters without a default');
  const text = argsPromptText(login, 'python');
  assert.match(text.prompt, /^password \(Body\(\.\.\.\)\), db \(Depends\(\.\.\.\)\) default to FastAPI markers, not values: give them here\. /);
  assert.equal(text.placeholder, 'password=…, db=…');
  const plain = outline.functions.find((f) => f.qualname === 'login_inner')!;
  assert.ok(plain.params.every((p) => !p.marker));
  assert.doesNotMatch(argsPromptText(plain, 'python').prompt, /marker/);
  const exportTo = outline.functions.find((f) => f.qualname === 'export_to')!;
  assert.deepEqual(exportTo.params, [{ name: 'where', required: false }]);
  assert.deepEqual(requiredParams(exportTo), []);
});

test('Measure Function on a FastAPI route opens the argument prompt with the marker parameters listed; cancelling runs nothing', async () => {
  fake.settings.set('looplag.python.path', 'python3');
  const uri = fake.Uri.file(ROUTES);
  stub(fake.workspace, {
    openTextDocument: async () => ({ uri, languageId: 'python', isUntitled: false, isDirty: false }),
    asRelativePath: (u: { fsPath: string }) => path.basename(u.fsPath),
  });
  const boxes: { title?: string; prompt?: string; placeholder?: string; value?: string }[] = [];
  stub(fake.window, {
    showWarningMessage: async (text: string) => assert.fail(`unexpected warning: ${text}`),
    showErrorMessage: async (text: string) => assert.fail(`unexpected error: ${text}`),
    createInputBox: () => {
      let onHide: () => void = () => undefined;
      const box = {
        title: undefined as string | undefined, prompt: undefined as string | undefined, placeholder: undefined as string | undefined, value: '',
        ignoreFocusOut: false, busy: false, validationMessage: undefined as string | undefined,
        onDidChangeValue: () => ({ dispose() {} }),
        onDidAccept: () => ({ dispose() {} }),
        onDidHide: (fn: () => void) => ((onHide = fn), { dispose() {} }),
        show: () => {
          boxes.push({ title: box.title, prompt: box.prompt, placeholder: box.placeholder, value: box.value });
          onHide(); // the user presses Escape
        },
        hide: () => onHide(),
        dispose: () => undefined,
      };
      return box;
    },
  });
  const ran: string[] = [];
  const runs = { sidecarDirs: DIRS, run: async () => void ran.push('run'), sweep: async () => void ran.push('sweep') };
  const context = { extension: { id: 'looplag.looplag' }, workspaceState: { get: () => undefined, update: async () => undefined } };
  const commands = new Commands(context as never, runs as never, { info() {}, warn() {}, error() {} } as never, { clear() {} }, { select: async () => undefined });
  await commands.measureFunction(uri as never, 'login');
  assert.equal(boxes.length, 1, 'the prompt opened');
  assert.equal(boxes[0].title, 'Loop Lag: arguments for login(password=…, db=…)');
  assert.match(boxes[0].prompt!, /^password \(Body\(\.\.\.\)\), db \(Depends\(\.\.\.\)\) default to FastAPI markers, not values/);
  assert.equal(boxes[0].placeholder, 'password=…, db=…');
  assert.deepEqual(ran, [], 'nothing ran');
});
