/**
 * The error card's messages in the host (issue 16): `selectInterpreter` runs Loop Lag's
 * Select Python Interpreter; `openLocation` opens the place of the error that stopped the
 * run and the user's innermost line of a call that raised, and still refuses any other
 * line (a tool frame of the same traceback, a line the report does not name). Also the
 * traceback helpers the panel uses.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import * as vscode from 'vscode';
import { ReportView } from '../../src/host/reportView';
import { HistoryStore } from '../../src/report/historyStore';
import { Report } from '../../src/shared/protocol';
import { userFrameLocation, withoutToolFrames } from '../../src/stats/callErrors';
import * as fake from '../support/fakeVscode';
import { FIXTURES } from '../support/helpers';

let tmp: string;
let ws: string;
const stubs = fake.stubs();

before(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-errorcard-')));
  ws = path.join(tmp, 'shop');
  fs.mkdirSync(ws);
  for (const name of ['missing_module.py', 'raising.py']) fs.copyFileSync(path.join(FIXTURES, 'python', 'errorcard', name), path.join(ws, name));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => stubs.restore());

/** A report the CLI wrote, its /home/dev/shop paths moved to this test's workspace. */
function load(name: string): Report {
  const text = fs.readFileSync(path.join(FIXTURES, 'reports', name), 'utf8').replaceAll('/home/dev/shop', ws);
  const r = Report.parse(JSON.parse(text));
  return { ...r, target: { ...r.target, file: path.join(ws, r.target.file) } };
}

/** The fake editor, the workspace folder being `ws`. */
function editorStubs() {
  return fake.fakeEditor(stubs, ws, 'shop', { commands: true });
}

async function panelWith(current: Report) {
  const storage = fs.mkdtempSync(path.join(tmp, 'history-'));
  const log = (fake.window as unknown as { createOutputChannel(): vscode.LogOutputChannel }).createOutputChannel();
  const view = new ReportView(vscode.Uri.file('/ext'), new HistoryStore(storage), log, {
    active: () => undefined, lagBudgetMs: () => 100, rerun: async () => undefined, cancel: () => undefined,
  });
  await view.runFinished(current, 'run', 'h');
  view.panel.show(true);
  const panel = fake.created.at(-1)!;
  panel.webview.received.fire({ type: 'ready' });
  return { view, send: (m: unknown) => panel.webview.received.fire(m) };
}

test('selectInterpreter runs Loop Lag: Select Python Interpreter', async () => {
  const ed = editorStubs();
  const { view, send } = await panelWith(load('import-error-python.json'));
  try {
    const done = ed.next();
    send({ type: 'selectInterpreter' });
    await done;
    assert.deepEqual(ed.executed, [['looplag.selectPythonInterpreter']]);
  } finally {
    view.dispose();
  }
});

test('the error\'s place opens; a line the report does not name is refused', async () => {
  const ed = editorStubs();
  const { view, send } = await panelWith(load('import-error-python.json'));
  try {
    let done = ed.next();
    send({ type: 'openLocation', file: path.join(ws, 'missing_module.py'), line: 2 });
    await done;
    assert.deepEqual(ed.opened, [{ file: path.join(ws, 'missing_module.py'), line: 2 }]);
    done = ed.next();
    send({ type: 'openLocation', file: path.join(ws, 'missing_module.py'), line: 3 });
    await done;
    assert.match(ed.warnings.at(-1)!, /names no such line/);
    assert.equal(ed.opened.length, 1);
  } finally {
    view.dispose();
  }
});

test('a raising call\'s innermost user line opens; an outer user frame or a tool frame of its traceback does not', async () => {
  const ed = editorStubs();
  const { view, send } = await panelWith(load('raising-calls-python.json'));
  try {
    let done = ed.next();
    send({ type: 'openLocation', file: path.join(ws, 'raising.py'), line: 9 });
    await done;
    assert.deepEqual(ed.opened, [{ file: path.join(ws, 'raising.py'), line: 9 }]);
    for (const [file, line] of [[path.join(ws, 'raising.py'), 5], ['/home/dev/.vscode/extensions/looplag/dist/sidecars/python/looplag_sidecar/calls.py', 54]] as const) {
      done = ed.next();
      send({ type: 'openLocation', file, line });
      await done;
      assert.match(ed.warnings.at(-1)!, /names no such line/, `${file}:${line}`);
    }
    assert.equal(ed.opened.length, 1);
  } finally {
    view.dispose();
  }
});

test('tool frames out of a traceback: the sidecar, concurrent.futures, asyncio, the import system, node:internal; the user\'s and the stdlib it called stay', () => {
  const py = [
    'Traceback (most recent call last):',
    '  File "/usr/lib/python3.11/concurrent/futures/thread.py", line 58, in run',
    '    result = self.fn(*self.args, **self.kwargs)',
    '             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
    '  File "/ext/dist/sidecars/python/looplag_sidecar/calls.py", line 54, in run_call',
    '    return fn(*args, **kwargs)',
    '  File "/usr/lib/python3.11/asyncio/events.py", line 80, in _run',
    '    self._context.run(self._callback, *self._args)',
    '  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed',
    '  File "/home/dev/shop/app.py", line 7, in handler',
    '    return json.loads(body)',
    '  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads',
    '    return _default_decoder.decode(s)',
    'json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)',
  ].join('\n');
  const out = withoutToolFrames(py);
  assert.equal(out.hidden, 4);
  assert.equal(out.text, [
    'Traceback (most recent call last):',
    '  File "/home/dev/shop/app.py", line 7, in handler',
    '    return json.loads(body)',
    '  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads',
    '    return _default_decoder.decode(s)',
    'json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)',
  ].join('\n'));
  assert.deepEqual(userFrameLocation(py), { file: '/home/dev/shop/app.py', line: 7 });
  const js = [
    'Error: bad 3',
    '    at check (file:///home/dev/shop/app.mjs:9:9)',
    '    at parse (file:///home/dev/shop/app.mjs:5:10)',
    '    at callTarget (/ext/dist/sidecars/node/worker.js:120:20)',
    '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
  ].join('\n');
  const jsOut = withoutToolFrames(js);
  assert.equal(jsOut.hidden, 2);
  assert.equal(jsOut.text, js.split('\n').slice(0, 3).join('\n'));
  assert.deepEqual(userFrameLocation(js), { file: '/home/dev/shop/app.mjs', line: 9 });
  assert.deepEqual(withoutToolFrames('ValueError: no traceback'), { text: 'ValueError: no traceback', hidden: 0 });
});
