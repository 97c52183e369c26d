import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { instrument, originOf } from '../../src/sidecars/node/instrument';
import { checkArgs, outline } from '../../src/sidecars/node/outline';
import { moduleFormat } from '../../src/sidecars/node/transpile';
import { FIXTURES } from '../support/helpers';

// Tests run from out/test/unit: the compiler comes from node_modules (the build ships its own copy).
const BASE = __dirname;

test('instrumenting appends one statement and keeps every original line', () => {
  const source = 'function f(a) {\n  return a;\n} // trailing comment';
  const { code, layout } = instrument(source, { qualname: 'f', lines: null, args: '1,\n2' });
  const lines = code.split('\n');
  assert.deepEqual(lines.slice(0, 3), source.split('\n'));
  assert.equal(layout.sourceLines, 3);
  assert.equal(lines[layout.argsFirst - 1], '1,');
  assert.equal(lines[layout.argsLast - 1], '2');
  // The trailing `//` comment cannot swallow the statement: it starts on a new line.
  assert.match(lines[3], /^;globalThis\[Symbol\.for\("looplag\.capture"\)\]/);
  assert.doesNotThrow(() => new Function(code.replace(/^\s*function f[\s\S]*?\} \/\/ trailing comment/, '')));
});

test('a Class.method target binds the class as receiver; a qualname cannot inject code', () => {
  const { code } = instrument('class A { static m() {} }', { qualname: 'A.m', lines: null, args: '' });
  assert.match(code, /target: \(\) => \[A, A\.m\]/);
  assert.throws(() => instrument('', { qualname: 'a; process.exit()', lines: null, args: '' }), /bad qualname/);
});

test('error lines map back: source, arguments, snippet', () => {
  const source = ['const a = 1;', 'const b = a + 1;', 'console.log(b);'].join('\n');
  const { layout } = instrument(source, { qualname: null, lines: { start: 2, end: 3 }, args: 'x' });
  assert.deepEqual(originOf(2, layout, 2), { where: 'source', line: 2 });
  assert.deepEqual(originOf(layout.argsFirst, layout, 2), { where: 'args' });
  assert.deepEqual(originOf(layout.snippetFirst! + 1, layout, 2), { where: 'snippet', line: 3 });
});

test('a snippet with await becomes an async function, one without stays sync', () => {
  const a = instrument('await x;', { qualname: null, lines: { start: 1, end: 1 }, args: '' }).code;
  const b = instrument('x();', { qualname: null, lines: { start: 1, end: 1 }, args: '' }).code;
  assert.match(a, /snippet: async function/);
  assert.match(b, /snippet: function/);
});

test('outline: top-level, non-exported, arrow, static and instance methods, nested, generators', () => {
  const src = [
    '/** doc */',
    'export async function handler(req: Req, opts?: O) {',
    '  function inner() {}',
    '}',
    'function* gen() {}',
    'const arrow = (ms: number, k = 2) => ms;',
    'class Geo {',
    '  @dec',
    '  static area(ms: number): number { return ms; }',
    '  perimeter() { return 1; }',
    '}',
  ].join('\n');
  const r = outline(BASE, 'x.ts', src);
  assert.ok(r.ok);
  const by = Object.fromEntries(r.functions.map((f) => [f.qualname, f]));
  assert.equal(by.handler.kind, 'function');
  assert.equal(by.handler.exported, true);
  assert.equal(by.handler.isAsync, true);
  assert.equal(by.handler.line, 2, 'the JSDoc comment is not part of the function');
  assert.deepEqual(by.handler.params, [{ name: 'req', required: true }, { name: 'opts', required: false }]);
  assert.equal(by['handler.<locals>.inner'].kind, 'nested');
  assert.equal(by.gen.isGenerator, true);
  assert.deepEqual(by.arrow.params.map((p) => p.required), [true, false]);
  assert.equal(by['Geo.area'].kind, 'staticmethod');
  assert.equal(by['Geo.area'].line, 8, 'decorators belong to the method');
  assert.equal(by['Geo.area'].defLine, 9);
  assert.equal(by['Geo.perimeter'].kind, 'method');
});

test('outline reports a syntax error with its line; JS files parse as JS', () => {
  const bad = outline(BASE, 'x.js', 'function f() {\n  return 1 +;\n}\n');
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.error.line, 2);
  const ok = outline(BASE, 'x.js', 'module.exports = {};\nfunction f(a, b = 1, ...rest) {}\n');
  assert.ok(ok.ok && ok.functions[0].params.map((p) => p.name).join() === 'a,b,...rest');
});

test('check-args accepts what fits in call parentheses and refuses the rest', () => {
  for (const ok of ['', '1', '1, "a", {b: [2]}', '...xs', 'await x', 'new Map(), () => 1']) assert.equal(checkArgs(BASE, ok, false), null, ok);
  for (const bad of ['1,,2', '1)', 'x) + f(y', '{', '1; 2']) assert.notEqual(checkArgs(BASE, bad, false), null, bad);
  assert.equal(checkArgs(BASE, 'x as number', true), null);
});

test('module format follows the extension, then the nearest package.json', () => {
  const node = path.join(FIXTURES, 'node');
  assert.equal(moduleFormat(path.join(node, 'cjs', 'workloads.cjs')), 'commonjs');
  assert.equal(moduleFormat(path.join(node, 'esm', 'handlers.js')), 'esm');
  assert.equal(moduleFormat(path.join(node, 'tsesm', 'main.mts')), 'esm');
  assert.equal(moduleFormat(path.join(node, 'ts', 'shapes.ts')), 'commonjs');
});
