/**
 * The pure parts of reaching the JS/TS targets users try first: target names, the
 * capture statement, the outline of default/CommonJS exports and re-exports, TypeScript
 * resolution of a tsconfig project, and how a worker's result is described.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseTargetArg, UsageError } from '../../src/engine/options';
import { pickTarget } from '../../src/host/targetPicker';
import { argumentsLossNote, notCloneableReason, prototypeLossNote } from '../../src/sidecars/node/cloneCheck';
import { hasBindingName, instrument } from '../../src/sidecars/node/instrument';
import { locate, outline } from '../../src/sidecars/node/outline';
import { TsResolver } from '../../src/sidecars/node/tsResolve';
import { FIXTURES } from '../support/helpers';

const BASE = __dirname;
const TARGETS = path.join(FIXTURES, 'node', 'targets');

test('target names: $, non-ASCII letters and `default` are names; digits first and punctuation are not', () => {
  for (const q of ['$fetch', 'func_ü', 'Klass.$m', 'default', 'données', '_private', 'Ünïcode.méthode']) {
    assert.deepEqual(parseTargetArg(`app.mjs::${q}`), { file: 'app.mjs', qualname: q, lines: null });
  }
  assert.deepEqual(parseTargetArg('C:\\src\\a::b.ts::f'), { file: 'C:\\src\\a::b.ts', qualname: 'f', lines: null });
  for (const bad of ['app.js::1abc', 'app.js::a-b', 'app.js::a..b', 'app.js::a.', 'app.js::', 'app.js::a b']) {
    assert.throws(() => parseTargetArg(bad), UsageError, bad);
  }
});

test('capture: a name no binding can have gets no getter; the argument factory is async', () => {
  assert.equal(hasBindingName('default'), false);
  assert.equal(hasBindingName('$fetch'), true);
  const d = instrument('export default function () {}', { qualname: 'default', lines: null, args: 'await x()' }).code;
  assert.doesNotMatch(d, /target:/);
  assert.match(d, /args: async \(\) => \[\nawait x\(\)\n\]/);
  const u = instrument('function func_ü() {}', { qualname: 'func_ü', lines: null, args: '' }).code;
  assert.match(u, /target: \(\) => \[undefined, func_ü\]/);
  assert.throws(() => instrument('', { qualname: 'a; process.exit()', lines: null, args: '' }), /bad qualname/);
});

test('outline: default exports, CommonJS exports and their aliases', () => {
  const esm = outline(BASE, 'x.js', [
    'export default async function named(a) {}', // 1
    'function helper(b) {}', // 2
    'export { helper as aliased };', // 3
  ].join('\n'));
  assert.ok(esm.ok);
  const namedFn = esm.functions.find((f) => f.qualname === 'named')!;
  assert.deepEqual(namedFn.aliases, ['default']);
  assert.equal(namedFn.isAsync, true);
  assert.deepEqual(esm.functions.find((f) => f.qualname === 'helper')!.aliases, ['aliased']);

  for (const [src, line] of [['export default function (a) {}', 1], ['\nexport default async (a) => a;', 2], ['export default (function () {});', 1]] as const) {
    const r = outline(BASE, 'x.js', src);
    assert.ok(r.ok);
    assert.deepEqual(r.functions.map((f) => [f.qualname, f.line]), [['default', line]], src);
  }

  const classes = outline(BASE, 'x.js', 'export default class { static a() {} }\nexport class K { static b() {} }');
  assert.ok(classes.ok);
  assert.deepEqual(classes.functions.map((f) => [f.qualname, f.kind]), [['default.a', 'staticmethod'], ['K.b', 'staticmethod']]);
  const named = outline(BASE, 'x.js', 'export default class K { static b() {} }');
  assert.ok(named.ok);
  assert.deepEqual(named.functions[0].aliases, ['default.b']);

  const cjs = outline(BASE, 'x.cjs', [
    'function fn(a) {}', // 1
    'module.exports = {', // 2
    '  fn,', // 3
    '  inline: function (b) {},', // 4
    '  method(c) {},', // 5
    '  alias: fn,', // 6
    '};', // 7
    'exports.dot = (d) => d;', // 8
    'module.exports.deep = async function () {};', // 9
  ].join('\n'));
  assert.ok(cjs.ok);
  const by = Object.fromEntries(cjs.functions.map((f) => [f.qualname, f]));
  assert.deepEqual(Object.keys(by).sort(), ['deep', 'dot', 'fn', 'inline', 'method']);
  assert.equal(by.fn.exported, true);
  assert.deepEqual(by.fn.aliases, ['alias']);
  assert.equal(by.inline.line, 4);
  assert.equal(by.dot.line, 8);
  assert.equal(by.deep.isAsync, true);
  const whole = outline(BASE, 'y.cjs', 'module.exports = function (n) {};');
  assert.ok(whole.ok);
  assert.deepEqual(whole.functions.map((f) => f.qualname), ['default']);
});

test('outline lists re-exports; locate follows them to the defining file', () => {
  const files: Record<string, string> = {
    '/p/index.js': "export { work } from './impl.js';\nexport { other as renamed } from './impl.js';\nexport * from './star.js';\nexport * from './loop.js';",
    '/p/impl.js': 'export function work() {}\n\nexport function other() {}',
    '/p/star.js': 'export const starred = () => 1;',
    '/p/loop.js': "export * from './index.js';",
  };
  const shape = outline(BASE, '/p/index.js', files['/p/index.js']);
  assert.ok(shape.ok);
  assert.deepEqual(shape.reexports?.[1], { name: 'other', as: 'renamed', from: './impl.js' });
  const resolve = (spec: string, from: string) => path.posix.join(path.posix.dirname(from), spec);
  const read = (f: string) => files[f];
  assert.deepEqual(locate(BASE, '/p/index.js', 'work', resolve, read)?.file, '/p/impl.js');
  const renamed = locate(BASE, '/p/index.js', 'renamed', resolve, read);
  assert.equal(renamed?.fn.qualname, 'other');
  assert.equal(renamed?.fn.line, 3);
  assert.equal(locate(BASE, '/p/index.js', 'starred', resolve, read)?.file, '/p/star.js');
  // A cycle of `export *` ends, and `export *` never passes a default on.
  assert.equal(locate(BASE, '/p/index.js', 'missing', resolve, read), null);
  assert.equal(locate(BASE, '/p/index.js', 'default', resolve, read), null);
});

test('TypeScript resolution: paths through an extended tsconfig, extensionless files, folder index; packages stay Node\'s', () => {
  const r = new TsResolver(BASE);
  const esmMain = path.join(TARGETS, 'ts-esm', 'src', 'main.ts');
  assert.equal(r.resolve('@/lib/math', esmMain), path.join(TARGETS, 'ts-esm', 'src', 'lib', 'math.ts'));
  assert.equal(r.resolve('./util', esmMain), path.join(TARGETS, 'ts-esm', 'src', 'util.ts'));
  assert.equal(r.resolve('./util.js', esmMain), path.join(TARGETS, 'ts-esm', 'src', 'util.ts'));
  assert.equal(r.resolve('./lib/dir', esmMain), path.join(TARGETS, 'ts-esm', 'src', 'lib', 'dir', 'index.ts'));
  assert.equal(r.resolve('./nowhere', esmMain), null);
  assert.equal(r.resolve('typescript', esmMain), null, 'a package (node_modules) is left to Node');
  // ts-cjs extends the same base but sets its own baseUrl: `@/` is its own src/.
  const cjsMain = path.join(TARGETS, 'ts-cjs', 'src', 'main.ts');
  assert.equal(r.resolve('@/lib/math', cjsMain), path.join(TARGETS, 'ts-cjs', 'src', 'lib', 'math.ts'));
});

test('results: a class instance is noted, plain data is not; what cannot be cloned is named', () => {
  class Point {
    constructor(readonly x: number) {}
  }
  assert.match(prototypeLossNote(new Point(1), 'worker thread')!, /^the worker thread returned a `Point` instance, which arrives here as a plain object/);
  assert.match(prototypeLossNote({ items: [1, new Point(2)] }, 'child process')!, /a `Point` instance \(at `result\.items\[1\]`\)/);
  for (const plain of [1, 'x', null, [1, { a: new Date() }], new Map([[1, new Set([2])]]), new Uint8Array(3), Buffer.from('x'), new RangeError('e'), Object.create(null)]) {
    assert.equal(prototypeLossNote(plain, 'worker thread'), null, Object.prototype.toString.call(plain));
  }
  assert.match(argumentsLossNote([1, { p: new Point(1) }], 'child process')!, /^`arguments\[1\]\.p` is a `Point` instance, which each child process receives as a plain object/);
  assert.equal(argumentsLossNote([1, 'a', [new Date()]], 'worker thread'), null);
  function foo() {}
  assert.equal(notCloneableReason({ a: { b: foo } }, 'result'), '`result.a.b` is a function `foo`, which cannot be copied to another thread or process');
  assert.match(notCloneableReason([1, () => 1], 'arguments'), /^`arguments\[1\]` is an anonymous function/);
  assert.match(notCloneableReason(Promise.resolve(1), 'result'), /^`result` is a Promise \(await it inside the function\)/);
  assert.match(notCloneableReason({ k: Point }, 'result'), /`result\.k` is a class `Point`/);
  const sock = new net.Socket();
  try {
    assert.match(notCloneableReason(sock, 'result'), /^`result` is a `Socket` instance whose `\.\S+` is /);
  } finally {
    sock.destroy();
  }
});

test('the extension\'s picker and CodeLens see the same targets: default, CommonJS exports, $ and non-ASCII names', () => {
  const src = [
    'export default function (n) {', // 1
    '  return n;', // 2
    '}', // 3
    'export function $fetch() {}', // 4
    'export const func_ü = () => 1;', // 5
    'exports.dot = function () {', // 6
    '  return 1;', // 7
    '};', // 8
  ].join('\n');
  const r = outline(BASE, 'x.js', src);
  assert.ok(r.ok);
  const at = (line: number) => pickTarget(r.functions, { startLine: line, endLine: line, empty: true, cursorLine: line }, 'javascript');
  const names = (p: ReturnType<typeof at>) => (p.kind === 'function' ? p.fn.qualname : p.kind);
  assert.deepEqual([2, 4, 5, 7].map((l) => names(at(l))), ['default', '$fetch', 'func_ü', 'dot']);
  // Each lens's name is one the CLI and the sidecar accept.
  for (const f of r.functions) assert.equal(parseTargetArg(`x.js::${f.qualname}`).qualname, f.qualname);
});
