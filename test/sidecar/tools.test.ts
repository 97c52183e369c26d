/**
 * The one-shot tools (`outline FILE`, `check-args -`) speak the protocol: what the real
 * Python and Node sidecars print parses as a ToolMessage, and the host refuses any other
 * answer (a sidecar from another version, a broken build) instead of trusting a cast.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { checkCallArgs, Language, outlineFile, runTool, SidecarDirs, ToolRuntime } from '../../src/engine/languageTools';
import { defaultNodeSidecarDir, defaultPythonSidecarDir } from '../../src/engine/runtimes';
import { FIXTURES, REPO, scratchFolders } from '../support/helpers';

const DIRS: SidecarDirs = { python: defaultPythonSidecarDir(), node: defaultNodeSidecarDir() };
const scratch = scratchFolders();

/** Each language's runtime, entry script and a file with a syntax error on line 2. */
const SIDES: { language: Language; runtime: ToolRuntime; script: string; file: string; broken: string }[] = [
  { language: 'python', runtime: { command: 'python3' }, script: path.join(DIRS.python, 'run_sidecar.py'), file: path.join(FIXTURES, 'python', 'verdicts', 'routes.py'), broken: 'x = 1\ndef f(:\n    pass\n' },
  { language: 'typescript', runtime: { command: process.execPath }, script: path.join(DIRS.node, 'sidecar.js'), file: path.join(REPO, 'examples', 'node', 'handler.ts'), broken: 'const a = 1;\nconst b = 1 +;\nconst c = 2;\n' },
];

describe('the real sidecars\' tools answer with protocol messages', () => {
  for (const side of SIDES) {
    test(`${side.language}: outline, check-args, a syntax error, an unknown command`, async () => {
      assert.ok(fs.existsSync(side.file), side.file);
      const outline = await runTool(side.runtime, side.script, ['outline', side.file]);
      assert.equal(outline.type, 'outline');
      assert.ok(outline.type === 'outline' && outline.functions.length > 0 && outline.functions.every((f) => f.line <= f.endLine));

      assert.deepEqual(await runTool(side.runtime, side.script, ['check-args', '-'], '1, 2'), { type: 'args-check', problem: null });
      const bad = await runTool(side.runtime, side.script, ['check-args', '-'], '1,, 2');
      assert.ok(bad.type === 'args-check' && bad.problem, JSON.stringify(bad));

      const broken = path.join(scratch.dir(), side.language === 'python' ? 'broken.py' : 'broken.ts');
      fs.writeFileSync(broken, side.broken);
      const syntax = await runTool(side.runtime, side.script, ['outline', broken]);
      assert.ok(syntax.type === 'error' && syntax.error.kind === 'syntax-error' && syntax.error.line === 2, JSON.stringify(syntax));
      // Through the host's API: the same outcome as before the tools spoke the protocol.
      const r = await outlineFile(side.language, side.runtime, DIRS, broken);
      assert.ok(!r.ok && r.error.line === 2 && /line 2/.test(r.error.message), JSON.stringify(r));

      const unknown = await runTool(side.runtime, side.script, ['outlines', side.file]);
      assert.ok(unknown.type === 'error' && unknown.error.kind === 'protocol-error', JSON.stringify(unknown));
    });
  }
});

describe('the host refuses tool output off the protocol', () => {
  /** Sidecar dirs whose entry scripts print `line` last, as a sidecar of another version might. */
  function answering(line: string): SidecarDirs {
    const dir = scratch.dir();
    fs.writeFileSync(path.join(dir, 'run_sidecar.py'), `import sys\nsys.stdout.write(${JSON.stringify(line)} + "\\n")\n`);
    fs.writeFileSync(path.join(dir, 'sidecar.js'), `process.stdout.write(${JSON.stringify(line)} + '\\n');\n`);
    return { python: dir, node: dir };
  }
  const RUNTIMES: [Language, ToolRuntime][] = [['python', { command: 'python3' }], ['javascript', { command: process.execPath }]];

  test('an outline whose function lacks its kind is an error naming the field, not a list of functions', async () => {
    const dirs = answering(JSON.stringify({ type: 'outline', functions: [{ qualname: 'f', line: 1, defLine: 1, endLine: 1, isAsync: false, isGenerator: false, params: [] }] }));
    for (const [language, runtime] of RUNTIMES) {
      await assert.rejects(outlineFile(language, runtime, dirs, 'x'), /unexpected output from .*functions\[0\]\.kind: expected/, language);
    }
  });

  test('untagged JSON (the tools\' answer before they spoke the protocol) is refused', async () => {
    const dirs = answering(JSON.stringify({ ok: true, functions: [] }));
    for (const [language, runtime] of RUNTIMES) {
      await assert.rejects(outlineFile(language, runtime, dirs, 'x'), /unexpected output from .*type: expected/, language);
    }
  });

  test('check-args: an error message (e.g. an interpreter too old) is the tool failing, not a verdict on the text', async () => {
    const tooOld = { type: 'error', error: { kind: 'interpreter-not-found', message: 'Python 3.8.10 is too old: Loop Lag needs Python 3.9 or newer', detail: null } };
    const dirs = answering(JSON.stringify(tooOld));
    for (const [language, runtime] of RUNTIMES) {
      await assert.rejects(checkCallArgs(language, runtime, dirs, '1, 2'), /Python 3\.8\.10 is too old/, language);
      // The outline reports it as its error, as it always did (the editor shows its message).
      const r = await outlineFile(language, runtime, dirs, 'x');
      assert.ok(!r.ok && r.error.kind === 'interpreter-not-found', language);
    }
  });

  test('a real Python older than 3.9: the outline says so, the argument check fails with it', async (t) => {
    const old = tooOldPython();
    if (!old) return t.skip('no Python older than 3.9 on this machine (python3.8, python3.7, pyenv 3.5-3.8)');
    const r = await outlineFile('python', { command: old }, DIRS, path.join(FIXTURES, 'python', 'verdicts', 'routes.py'));
    assert.ok(!r.ok && r.error.kind === 'interpreter-not-found' && /too old: Loop Lag needs Python 3\.9 or newer/.test(r.error.message), JSON.stringify(r));
    await assert.rejects(checkCallArgs('python', { command: old }, DIRS, '1, 2'), /too old: Loop Lag needs Python 3\.9 or newer/);
  });

  test('an answer of the wrong kind is refused (an outline for check-args)', async () => {
    const dirs = answering(JSON.stringify({ type: 'outline', functions: [] }));
    await assert.rejects(checkCallArgs('python', { command: 'python3' }, dirs, '1'), /an? outline message for check-args/);
  });
});

/** A Python the sidecar refuses (older than 3.9), or undefined when none is installed. */
function tooOldPython(): string | undefined {
  const pyenv = path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv'), 'versions');
  const fromPyenv = fs.existsSync(pyenv)
    ? fs.readdirSync(pyenv).filter((v) => /^3\.[5-8]\./.test(v)).map((v) => path.join(pyenv, v, 'bin', 'python3'))
    : [];
  for (const candidate of ['python3.8', 'python3.7', ...fromPyenv]) {
    try {
      const version = execFileSync(candidate, ['-c', 'import sys; print(sys.version_info[1])'], { encoding: 'utf8', timeout: 10_000 });
      if (Number(version) < 9) return candidate;
    } catch {
      // not installed
    }
  }
  return undefined;
}
