/**
 * The JS/TS targets users try first (issue 10, point 8), on a real `node` through the
 * real CLI: default exports, CommonJS exports, re-exports, `$` and non-ASCII names,
 * `await` in the arguments, tsconfig `paths` and extensionless imports (ESM and CommonJS
 * TypeScript, inline and in pool members, which load the module on their own), and
 * what a worker's result becomes on the way back.
 *
 * Each fixture function prints `ran NAME VALUE`: the captured output proves which
 * function ran with which argument, not only that something ran.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { FIXTURES, measureMode, runCli } from '../support/helpers';

const T = 'test/fixtures/node/targets';

/** Measures `target` in `mode` with `--args 4` (or `args`); every call must succeed and print `ran …`. */
async function ran(target: string, mode: string, expected: string, args = '4') {
  const m = await measureMode(target, mode, ['--concurrency', '2', '--args', args]);
  const lines = m.run.output.stdout.split('\n').filter(Boolean);
  // One unmeasured warm-up call per process/worker comes first (Node keeps its output; a
  // pool member builds its warm-up arguments itself, so they may differ), then the two calls.
  const warmups = m.run.warmupMs?.length ?? 0;
  assert.equal(lines.length, 2 + warmups, `${target} in ${mode} printed ${JSON.stringify(m.run.output.stdout)}`);
  assert.deepEqual(lines.slice(warmups), [expected, expected], `${target} in ${mode} printed ${JSON.stringify(m.run.output.stdout)}`);
  return m;
}

describe('default exports: FILE::default', () => {
  test('a named `export default function f`, as `default` and as `f`', async () => {
    const m = await ran(`${T}/esm/defaults.js::default`, 'inline', 'ran namedDefault 8');
    assert.equal(m.report.target.line, 2);
    await ran(`${T}/esm/defaults.js::namedDefault`, 'inline', 'ran namedDefault 8');
  });
  test('an anonymous `export default function (n)`, inline and in a worker', async () => {
    const m = await ran(`${T}/esm/anonymous.js::default`, 'inline', 'ran anonymous 12');
    assert.equal(m.report.target.line, 1);
    await ran(`${T}/esm/anonymous.js::default`, 'worker', 'ran anonymous 12');
  });
  test('an async arrow `export default async (n) => …` (reported async), in a child process too', async () => {
    const m = await ran(`${T}/esm/arrow.js::default`, 'inline', 'ran arrow 16');
    assert.equal(m.report.target.isAsync, true);
    await ran(`${T}/esm/arrow.js::default`, 'process', 'ran arrow 16');
  });
  test('CommonJS `module.exports = function …` is the default, as `import x from` sees it', async () => {
    await ran(`${T}/cjs/module_fn.cjs::default`, 'inline', 'ran module.exports 20');
  });
  test('a static method of an anonymous `export default class`: `default.build`', async () => {
    const m = await ran(`${T}/esm/klass.js::default.build`, 'inline', 'ran default.build 48');
    assert.equal(m.report.target.line, 2);
  });
  test('TypeScript compiled to CommonJS: `export default` (exports.default)', async () => {
    await ran(`${T}/ts-cjs/src/main.ts::default`, 'inline', 'ran default 44');
  });
});

describe('CommonJS exports: FILE::fn', () => {
  test('`module.exports = { fn }` and `{ inline: function … }`', async () => {
    await ran(`${T}/cjs/exports_obj.cjs::fn`, 'inline', 'ran fn 24');
    const m = await ran(`${T}/cjs/exports_obj.cjs::inline`, 'inline', 'ran inline 28');
    assert.equal(m.report.target.line, 8);
  });
  test('`exports.fn = …` and `module.exports.arrow = …`, inline and in a worker', async () => {
    await ran(`${T}/cjs/exports_dot.cjs::fn`, 'inline', 'ran fn 32');
    await ran(`${T}/cjs/exports_dot.cjs::arrow`, 'inline', 'ran arrow 36');
    await ran(`${T}/cjs/exports_dot.cjs::fn`, 'worker', 'ran fn 32');
  });
  test('`exports.fetch = …` is the module\'s fetch, not the global one', async () => {
    await ran(`${T}/cjs/exports_dot.cjs::fetch`, 'inline', 'ran fetch 40');
  });
});

describe('re-exports: the function is measured where it is defined', () => {
  const impl = path.join(FIXTURES, 'node', 'targets', 'esm', 'impl.js');
  test('`export { work } from`, reported at impl.js:1', async () => {
    const m = await ran(`${T}/esm/index.js::work`, 'inline', 'ran work 104');
    assert.deepEqual(m.report.target.definedIn, { file: impl, line: 1 });
    assert.equal(m.report.target.line, 1);
    const text = await runCli(['run', `${T}/esm/index.js::work`, '--modes', 'inline', '--concurrency', '1', '--args', '4']);
    assert.match(text.stdout, /index\.js, defined in .*impl\.js:1/);
  });
  test('`export { other as renamed } from` (impl.js:6) and `export * from` (star.js), also in a worker', async () => {
    const m = await ran(`${T}/esm/index.js::renamed`, 'inline', 'ran other 204');
    assert.deepEqual(m.report.target.definedIn, { file: impl, line: 6 });
    const s = await ran(`${T}/esm/index.js::starred`, 'inline', 'ran starred 304');
    assert.equal(s.report.target.definedIn?.file, path.join(FIXTURES, 'node', 'targets', 'esm', 'star.js'));
    await ran(`${T}/esm/index.js::renamed`, 'worker', 'ran other 204');
  });
});

describe('names with $ and non-ASCII letters', () => {
  test('`$fetch`, `func_ü`, `Klass.$m`', async () => {
    await ran(`${T}/esm/names.js::$fetch`, 'inline', 'ran $fetch 5');
    await ran(`${T}/esm/names.js::func_ü`, 'inline', 'ran func_ü 6');
    await ran(`${T}/esm/names.js::Klass.$m`, 'inline', 'ran Klass.$m 7');
    await ran(`${T}/esm/names.js::func_ü`, 'process', 'ran func_ü 6');
  });
});

describe('await in --args', () => {
  test('`await loadFixture()` is evaluated in the module\'s scope, for inline and pool calls', async () => {
    await ran(`${T}/esm/names.js::plusOne`, 'inline', 'ran plusOne 42', 'await loadFixture()');
    await ran(`${T}/esm/names.js::plusOne`, 'worker', 'ran plusOne 42', 'await loadFixture()');
    await ran(`${T}/cjs/exports_obj.cjs::fn`, 'inline', 'ran fn 12', 'await Promise.resolve(2)');
  });
});

describe('TypeScript imports as tsx and bundlers resolve them', () => {
  // compute(4) = triple(4) / 2 + OFFSET: `@/lib/math` (paths, baseUrl from an extended
  // tsconfig), `./util` (extensionless) and `./lib/dir` (the folder's index.ts).
  test('ESM TypeScript: inline, worker and process', async () => {
    for (const mode of ['inline', 'worker', 'process']) await ran(`${T}/ts-esm/src/main.ts::compute`, mode, 'ran compute 1006');
  });
  test('CommonJS TypeScript: inline, worker and process (its own baseUrl overrides the extended one)', async () => {
    for (const mode of ['inline', 'worker', 'process']) await ran(`${T}/ts-cjs/src/main.ts::compute`, mode, 'ran compute 2006');
  });
});

describe('what a worker\'s result becomes', () => {
  test('a class instance arrives as a plain object: said in runs[].notes and the CLI text', async () => {
    const target = `${T}/esm/results.js::makePoint`;
    for (const mode of ['worker', 'process']) {
      const m = await measureMode(target, mode, ['--concurrency', '2', '--args', '1']);
      assert.equal(m.run.notes?.length, 1, JSON.stringify(m.run.notes));
      assert.match(m.run.notes![0], /returned a `Point` instance, which arrives here as a plain object/);
    }
    const inline = await measureMode(target, 'inline', ['--concurrency', '2', '--args', '1']);
    assert.equal(inline.run.notes, undefined, 'inline returns the instance itself');
    const plain = await measureMode(`${T}/esm/results.js::plainPoint`, 'worker', ['--concurrency', '2', '--args', '1']);
    assert.equal(plain.run.notes, undefined, 'a plain object with a Date and a Set arrives as it was');
    const text = await runCli(['run', target, '--modes', 'worker', '--concurrency', '1', '--args', '1']);
    assert.match(text.stdout, /^worker: the worker thread returned a `Point` instance/m);
  });
  test('a class instance as argument: the worker receives a plain object, and the run says so', async () => {
    const target = `${T}/esm/results.js::hasNorm`;
    const inline = await ran(target, 'inline', 'ran hasNorm function', 'new Point(3, 4)');
    assert.equal(inline.run.notes, undefined);
    const worker = await ran(target, 'worker', 'ran hasNorm undefined', 'new Point(3, 4)');
    assert.deepEqual(worker.run.notes, [
      '`arguments[0]` is a `Point` instance, which each worker thread receives as a plain object: structured clone copies own data, not the prototype or its methods',
    ]);
  });
  test('a value that cannot be cloned is named by type and place, not by V8\'s source text', async () => {
    const fn = await runCli(['run', `${T}/esm/results.js::withCallback`, '--modes', 'worker', '--concurrency', '1', '--args', '1', '--json']);
    const w = fn.report!.runs[0];
    assert.equal(w.error?.kind, 'not-transferable');
    assert.match(w.error!.message, /`result\.onDone` is a function `notify`/);
    const sock = await runCli(['run', `${T}/esm/results.js::makeSocket`, '--modes', 'process', '--concurrency', '1', '--json']);
    const p = sock.report!.runs[0];
    assert.equal(p.error?.kind, 'not-transferable');
    assert.match(p.error!.message, /`result` is a `Socket` instance whose `\._events\.\w+` is a function/);
    assert.doesNotMatch(p.error!.message, /native code/);
    assert.equal(p.tasks[0].error?.type, 'DataCloneError');
  });
  test('arguments that cannot be cloned are named the same way', async () => {
    const r = await runCli(['run', `${T}/esm/names.js::plusOne`, '--modes', 'worker', '--concurrency', '1', '--args', 'Math.max', '--json']);
    const w = r.report!.runs[0];
    assert.equal(w.error?.kind, 'not-transferable');
    assert.match(w.error!.message, /`arguments\[0\]` is a function `max`/);
  });
});
