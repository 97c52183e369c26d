/**
 * The quick fixes' results still parse and run, and compute what the original computed: each
 * golden (the builders' output, checked against them in test/unit/fixesEdits.test.ts) is parsed
 * by Python, `node --check` or the TypeScript checker, and the Python and CommonJS ones are run
 * side by side with their originals on real interpreters.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { test } from 'node:test';
import type * as TSNS from 'typescript';
import { cook, FIXES, fixture, RECIPES } from '../support/fixes';
import { REPO, tmpDir } from '../support/helpers';

const ts = createRequire(path.join(REPO, 'package.json'))('typescript') as typeof TSNS;
/** Debian's interpreter has FastAPI (scripts/test.sh installs python3-fastapi); the pyenv one on PATH may not. */
const FASTAPI_PYTHON = '/usr/bin/python3';

/** A recipe's result written under its original's name (so `import fastapi_app` finds it). */
function writeCooked(golden: string): string {
  const recipe = RECIPES.find((r) => r.golden === golden);
  assert.ok(recipe);
  const dir = tmpDir('looplag-fixes-');
  fs.writeFileSync(path.join(dir, recipe.fixture), cook(recipe));
  return path.join(dir, recipe.fixture);
}

/** Calls each async (or, once fixed, plain) function with its arguments and prints the results as JSON. */
const RUN_PY = `
import asyncio, importlib, inspect, json, sys
sys.path.insert(0, sys.argv[1])
mod = importlib.import_module(sys.argv[2])
calls = json.loads(sys.argv[3])
async def main():
    out = []
    for name, args in calls:
        value = getattr(mod, name)(*args)
        out.append(await value if inspect.isawaitable(value) else value)
    return out
print(json.dumps(asyncio.run(main())))
`;

function runPython(python: string, file: string, calls: [string, unknown[]][]): unknown {
  const r = spawnSync(python, ['-c', RUN_PY, path.dirname(file), path.basename(file, '.py'), JSON.stringify(calls)], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('every Python golden parses (ast.parse on the real interpreter)', () => {
  for (const recipe of RECIPES.filter((r) => r.fixture.endsWith('.py'))) {
    const file = writeCooked(recipe.golden);
    const r = spawnSync('python3', ['-c', 'import ast,sys; ast.parse(open(sys.argv[1]).read())', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${recipe.golden}: ${r.stderr}`);
  }
});

test('the FastAPI endpoints, rewritten with to_thread, a process pool and a plain def, return what the originals returned', (t) => {
  if (spawnSync(FASTAPI_PYTHON, ['-c', 'import fastapi']).status !== 0) return t.skip(`${FASTAPI_PYTHON} has no fastapi (scripts/test.sh installs python3-fastapi)`);
  const calls: [string, unknown[]][] = [['get_digest', ['abc']], ['get_checksum', ['abc']], ['pause', [0.01]], ['nested', ['abc']]];
  const dir = tmpDir('looplag-fixes-');
  fs.copyFileSync(path.join(FIXES, 'fastapi_app.py'), path.join(dir, 'fastapi_app.py'));
  const original = runPython(FASTAPI_PYTHON, path.join(dir, 'fastapi_app.py'), calls);
  assert.equal((original as unknown[]).length, 4);
  assert.deepEqual(runPython(FASTAPI_PYTHON, writeCooked('fastapi_app.py'), calls), original);
  assert.deepEqual(runPython(FASTAPI_PYTHON, writeCooked('fastapi_app_def.py'), calls), original);
});

test('the plain asyncio module (aliased imports, a process pool with a keyword argument) computes the same result', () => {
  const dir = tmpDir('looplag-fixes-');
  fs.copyFileSync(path.join(FIXES, 'workers.py'), path.join(dir, 'workers.py'));
  const original = runPython('python3', path.join(dir, 'workers.py'), [['main', [2000]]]);
  assert.deepEqual(runPython('python3', writeCooked('workers.py'), [['main', [2000]]]), original);
  // And as a script (its __main__ guard; the pool's processes end with it), main()'s default argument.
  const out = execFileSync('python3', [writeCooked('workers.py')], { encoding: 'utf8', timeout: 60_000 });
  assert.deepEqual([Number(out.trim())], runPython('python3', path.join(dir, 'workers.py'), [['main', []]]));
});

test('every JS golden passes node --check; the CommonJS one returns what the original returned', async () => {
  for (const recipe of RECIPES.filter((r) => /\.m?js$/.test(r.fixture))) {
    const file = writeCooked(recipe.golden);
    const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${recipe.golden}: ${r.stderr}`);
  }
  const dir = tmpDir('looplag-fixes-');
  const json = path.join(dir, 'data.json');
  fs.writeFileSync(json, '{"a": [1, 2]}');
  const original = path.join(dir, 'worker_cjs.js');
  fs.writeFileSync(original, fixture('worker_cjs.js'));
  const load = (file: string) => createRequire(file)(file) as { loadJson(f: string): Promise<unknown>; derive(p: string): Promise<string>; roundTrip(t: string): Promise<string> };
  const results = async (file: string) => {
    const m = load(file);
    return [await m.loadJson(json), await m.derive('pw'), await m.roundTrip('hello')];
  };
  const before = await results(original);
  assert.deepEqual(before[0], { a: [1, 2] });
  assert.deepEqual(await results(writeCooked('worker_cjs.js')), before);
});

test('the TypeScript golden type-checks with the project\'s TypeScript (strict, @types/node)', () => {
  const file = writeCooked('store.ts');
  const options: TSNS.CompilerOptions = {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10,
    types: ['node'], typeRoots: [path.join(REPO, 'node_modules', '@types')], skipLibCheck: true,
  };
  const diagnostics = (f: string) => ts.getPreEmitDiagnostics(ts.createProgram([f], options)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(diagnostics(file), []);
  // Not vacuous: the checker reads the file (a wrong type in it is reported).
  fs.writeFileSync(file, `${fs.readFileSync(file, 'utf8')}\nexport const wrong: number = 'x';\n`);
  assert.equal(diagnostics(file).length, 1);
});
