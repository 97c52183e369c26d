/**
 * "Measure this call" and the hints' Measure action, the pure parts: the call at the cursor
 * and its arguments as the prompt's text (src/fixes/callArgs.ts, callSite.ts), the function
 * around a hint, and where a callee is defined across files (resolveCallee.ts) on a real
 * Python package and TS/CommonJS modules (test/fixtures/fixes/project).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { PYTHON_BLOCKING } from '../../src/fixes/blockingApis';
import { callSiteAt, definitionAt, enclosingFunction } from '../../src/fixes/callSite';
import { RULE_DOCS } from '../../src/fixes/hintRules';
import { resolveCallee, type ReadFile } from '../../src/fixes/resolveCallee';
import { FIXES } from '../support/fixes';

const PROJECT = path.join(FIXES, 'project');
const readDisk: ReadFile = async (file) => (fs.existsSync(file) && fs.statSync(file).isFile() ? fs.readFileSync(file, 'utf8') : undefined);

/** The call site at the first occurrence of `marker` in `text` (the cursor just after it). */
const at = (text: string, marker: string, lang: 'python' | 'javascript' | 'typescript' = 'python') => {
  const i = text.indexOf(marker);
  assert.ok(i >= 0, `'${marker}' in the text`);
  return callSiteAt(text, lang, i + marker.length);
};

test('arguments: literals copied as written on one line, keyword arguments kept, non-literals a selected placeholder', () => {
  const src = [
    'async def handler(req):',
    '    render(2000, "x")',
    '    render(n=5, text=\'a\' * 3, opts={"k": [1, 2.5, -3, None, True]}, t=(1,), s={1, 2}, big=10**6)',
    '    render(',
    '        2000,  # the count',
    '        [',
    '            1,',
    '            2,',
    '        ],',
    '    )',
    '    render(len(req.body), req.n, f"{req}", b"raw", *req.args, **req.kw)',
    '    render(*[1, 2], **{"a": 1})',
    '    render(fmt(2000), 3)',
    '    render()',
  ].join('\n');
  assert.deepEqual(at(src, '    render(2')?.args, { text: '2000, "x"', literal: true });
  assert.equal(at(src, 'render(n')?.args.text, 'n=5, text=\'a\' * 3, opts={"k": [1, 2.5, -3, None, True]}, t=(1,), s={1, 2}, big=10**6');
  assert.deepEqual(at(src, 'render(\n')?.args, { text: '2000, [1, 2,]', literal: true }, 'a multi-line call on one line, its comment dropped (a trailing comma kept: in a tuple it matters)');
  const mixed = callSiteAt(src, 'python', src.indexOf('render(len') + 1)!.args;
  assert.equal(mixed.text, '‹len(req.body)›, ‹req.n›, ‹f"{req}"›, b"raw", *‹req.args›, **‹req.kw›');
  assert.equal(mixed.literal, false);
  assert.deepEqual(mixed.placeholder, [0, '‹len(req.body)›'.length], 'the first placeholder is selected');
  assert.equal(at(src, 'render(*')?.args.text, '*[1, 2], **{"a": 1}');
  // The cursor inside a nested call is on that call; on the outer callee, the outer call.
  assert.equal(at(src, 'render(fmt(2')?.callee, 'fmt');
  assert.equal(callSiteAt(src, 'python', src.indexOf('render(fmt') + 2)?.callee, 'render');
  assert.deepEqual(callSiteAt(src, 'python', src.indexOf('render(fmt') + 1)!.args, { text: '‹fmt(2000)›, 3', placeholder: [0, 11], literal: false });
  assert.deepEqual(at(src, 'render()')?.args, { text: '', literal: true });
});

test('arguments, JS/TS: literals, arrays and object literals of literals; shorthand properties, spreads of variables and templates with ${} are placeholders', () => {
  const src = [
    'app.get("/p", async (req, res) => {',
    '  render(2000, "x", `t`, [1, -2, null], { n: 5, "k": true }, 10n);',
    '  render({ n }, ...items, `a${b}`, ...[1, 2], undefined);',
    '  render(',
    '    2000,',
    '    "y",',
    '  );',
    '});',
  ].join('\n');
  assert.deepEqual(at(src, '  render(2', 'javascript')?.args, { text: '2000, "x", `t`, [1, -2, null], { n: 5, "k": true }, 10n', literal: true });
  assert.equal(at(src, 'render({ n }', 'javascript')?.args.text, '‹{ n }›, ...‹items›, ‹`a${b}`›, ...[1, 2], undefined');
  assert.deepEqual(at(src, 'render(\n', 'typescript')?.args, { text: '2000, "y"', literal: true });
});

test('on the loop: calls in an async def (or async function, route handler); not in a plain def, a def nested in an async def, or the module level', () => {
  const py = [
    'import time',
    'render(1)',
    'def plain():',
    '    render(2)',
    'async def handler():',
    '    render(3)',
    '    def inner():',
    '        render(4)',
    '    time.sleep(0.2)',
  ].join('\n');
  assert.deepEqual(['render(1', 'render(2', 'render(3', 'render(4', 'time.sleep('].map((m) => at(py, m)?.onLoop), [false, false, true, false, true]);
  const js = [
    'render(1);',
    'function plain() { render(2); }',
    'async function handler() { render(3); const f = () => render(4); }',
    'app.post("/x", (req, res) => { render(5); });',
  ].join('\n');
  assert.deepEqual(['render(1', 'render(2', 'render(3', 'render(4', 'render(5'].map((m) => at(js, m, 'javascript')?.onLoop), [false, false, true, false, true]);
});

test('the function around a hint: module level or static is measured by name; nested, instance methods and inline handlers say why not', () => {
  const py = [
    'import time',
    'async def handler():',
    '    time.sleep(0.2)',
    'class Api:',
    '    @staticmethod',
    '    async def fetch():',
    '        time.sleep(1)',
    '    async def get(self):',
    '        time.sleep(2)',
    'def outer():',
    '    async def inner():',
    '        time.sleep(3)',
  ].join('\n');
  const around = (m: string, text = py, lang: 'python' | 'javascript' = 'python') => enclosingFunction(text, lang, text.indexOf(m));
  assert.deepEqual(around('time.sleep(0.2)'), { qualname: 'handler', name: 'handler', line: 1 });
  assert.deepEqual(around('time.sleep(1)'), { qualname: 'Api.fetch', name: 'fetch', line: 5 });
  assert.match((around('time.sleep(2)') as { notMeasurable: string }).notMeasurable, /`Api.get` is an instance method/);
  assert.match((around('time.sleep(3)') as { notMeasurable: string }).notMeasurable, /`inner` is nested inside `outer`/);
  const js = [
    'const fs = require("fs");',
    'async function load(p) { return fs.readFileSync(p); }',
    'const handler = async (req, res) => { fs.readFileSync("a"); };',
    'app.get("/x", async (req, res) => { fs.readFileSync("b"); });',
    'class Store { static async read() { fs.readFileSync("c"); } async get() { fs.readFileSync("d"); } }',
  ].join('\n');
  assert.deepEqual(around('fs.readFileSync(p', js, 'javascript'), { qualname: 'load', name: 'load', line: 1 });
  assert.deepEqual(around('fs.readFileSync("a', js, 'javascript'), { qualname: 'handler', name: 'handler', line: 2 });
  assert.match((around('fs.readFileSync("b', js, 'javascript') as { notMeasurable: string }).notMeasurable, /Measure Endpoint/);
  assert.deepEqual(around('fs.readFileSync("c', js, 'javascript'), { qualname: 'Store.read', name: 'read', line: 4 });
  assert.match((around('fs.readFileSync("d', js, 'javascript') as { notMeasurable: string }).notMeasurable, /`Store.get` is an instance method/);
});

test('the function a definition points at: its qualname from the def line (or the name)', () => {
  const render = fs.readFileSync(path.join(PROJECT, 'app', 'render.py'), 'utf8');
  assert.deepEqual(definitionAt(render, 'python', render.indexOf('render(n')), { qualname: 'render', name: 'render', line: 3 });
  assert.deepEqual(definitionAt(render, 'python', render.indexOf('area(')), { qualname: 'Shapes.area', name: 'area', line: 9 });
  const ts = fs.readFileSync(path.join(PROJECT, 'web', 'lib', 'format', 'index.ts'), 'utf8');
  assert.deepEqual(definitionAt(ts, 'typescript', ts.indexOf('pad')), { qualname: 'pad', name: 'pad', line: 0 });
});

test('resolver, Python: from-imports, aliases, relative imports, `import a.b` + `a.b.f`, a package re-export, a class\'s static method, the same file', async () => {
  const file = path.join(PROJECT, 'app', 'handlers.py');
  const text = fs.readFileSync(file, 'utf8');
  const renderPy = path.join(PROJECT, 'app', 'render.py');
  const resolve = async (marker: string) => {
    const call = at(text, marker);
    assert.ok(call, marker);
    const def = await resolveCallee(file, text, 'python', call.callee, readDisk, [PROJECT]);
    return def && [path.relative(PROJECT, def.file), def.qualname];
  };
  const rel = path.relative(PROJECT, renderPy);
  assert.deepEqual(await resolve('= render('), [rel, 'render']);
  assert.deepEqual(await resolve('= r2('), [rel, 'render']);
  assert.deepEqual(await resolve('= render_mod.render('), [rel, 'render']);
  assert.deepEqual(await resolve('= app.render.render('), [rel, 'render']);
  assert.deepEqual(await resolve('= ar.render('), [rel, 'render']);
  assert.deepEqual(await resolve('= Shapes.area('), [rel, 'Shapes.area']);
  assert.deepEqual(await resolve('= slow('), [path.join('app', 'util', 'core.py'), 'slow'], 'through the package\'s __init__.py');
  assert.deepEqual(await resolve('= core_slow('), [path.join('app', 'util', 'core.py'), 'slow']);
  assert.deepEqual(await resolve('= local_helper('), [path.join('app', 'handlers.py'), 'local_helper']);
  assert.equal(await resolve('= len('), undefined, 'a builtin is defined nowhere in the workspace');
  // Found without the workspace root too: from the package's parent folder.
  assert.equal((await resolveCallee(file, text, 'python', 'render', readDisk, []))?.file, renderPy);
  // The editor's unsaved text wins over the disk: a reader that only knows handlers.py finds nothing else.
  assert.equal(await resolveCallee(file, text, 'python', 'render', async (f) => (f === file ? text : undefined), [PROJECT]), undefined);
});

test('resolver, TS/JS: a `.js` specifier to its `.ts` source, a folder index, a namespace import, a default import, require of a .cjs, the same file', async () => {
  const file = path.join(PROJECT, 'web', 'server.ts');
  const text = fs.readFileSync(file, 'utf8');
  const resolve = async (marker: string) => {
    const call = at(text, marker, 'typescript');
    assert.ok(call?.onLoop, `${marker} runs on the loop`);
    const def = await resolveCallee(file, text, 'typescript', call.callee, readDisk, [PROJECT]);
    return def && [path.relative(path.join(PROJECT, 'web'), def.file), def.qualname];
  };
  assert.deepEqual(await resolve('= draw('), [path.join('lib', 'render.ts'), 'render']);
  assert.deepEqual(await resolve('= fmt.pad('), [path.join('lib', 'format', 'index.ts'), 'pad']);
  assert.deepEqual(await resolve('= area('), [path.join('lib', 'area.ts'), 'default']);
  assert.deepEqual(await resolve('= checksum('), [path.join('lib', 'legacy.cjs'), 'checksum']);
  assert.deepEqual(await resolve('await localWork('), ['server.ts', 'localWork']);
  assert.equal(await resolve('res.send('), undefined, 'a method of a parameter is defined nowhere we can tell');
});

test('every rule the hints mirror links to its documentation', () => {
  const rules = new Set([...Object.values(PYTHON_BLOCKING), 'n/no-sync']);
  for (const rule of rules) assert.match(RULE_DOCS[rule] ?? '', /^https:\/\//, rule);
});
