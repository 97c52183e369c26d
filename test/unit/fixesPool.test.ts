/**
 * The Node worker pool fix (src/fixes/editsNodePool.ts) on real files: the pool module beside
 * the function's module in its format (ESM .mjs, CommonJS .cjs, .js under "type": "module",
 * TypeScript), the call rewritten and the pool imported once, and where it is not offered.
 * test/sidecar/fixesPool.test.ts runs the results.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { workerPoolModule } from '../../src/advice/snippets/node';
import { nodeWorkerPool, type PoolFixResult, type PoolTarget } from '../../src/fixes/editsNodePool';
import { applyEdits } from '../../src/fixes/text';
import { jsFileFormat, tsWorkerProblem } from '../../src/host/nodeProject';
import { FIXES, rangeOf } from '../support/fixes';
import { tmpDir } from '../support/helpers';

const POOL = path.join(FIXES, 'pool');
const read = (rel: string) => fs.readFileSync(path.join(POOL, rel), 'utf8');
const target = (rel: string, extra: Partial<PoolTarget> = {}): PoolTarget => ({ file: path.join(POOL, rel), qualname: 'render', moduleText: read(rel), ...extra });

function offered(r: PoolFixResult): Extract<PoolFixResult, { edits: unknown }> {
  assert.ok('edits' in r, `offered (${'notOffered' in r ? r.notOffered : ''})`);
  return r;
}

/** Every render() call of `server` fixed in turn (each fix finds its call in the text so far). */
function fixAll(server: string, render: string, calls: string[], format?: 'esm' | 'cjs', extra: Partial<PoolTarget> = {}) {
  let text = read(server);
  let pool = '';
  for (const call of calls) {
    const r = offered(nodeWorkerPool(text, rangeOf(text, call), path.join(POOL, server), target(render, extra), format));
    text = applyEdits(text, r.edits);
    pool = workerPoolModule(r.pool.module);
    assert.equal(r.pool.file, path.join(POOL, path.dirname(render), `render.worker-pool${path.extname(render)}`));
  }
  return { text, pool };
}

const CALLS = ['render(n)', 'render(\n    n,\n    2,\n  )', 'render(n, 3)'];

test('ESM .mjs: the pool module imports render from ./render.mjs, runs itself in its workers; the calls become `await renderPool.run(…)`, one import', () => {
  const { text, pool } = fixAll('esm/server.mjs', 'esm/render.mjs', CALLS);
  assert.equal(text, read('esm/server.mjs')
    .replace("import { render, fails } from './render.mjs';\n", "import { render, fails } from './render.mjs';\nimport * as renderPool from './render.worker-pool.mjs';\n")
    .replace('render(n);', 'await renderPool.run(n);')
    .replace('render(\n    n,', 'await renderPool.run(\n    n,')
    .replace('JSON.stringify(render(n, 3))', 'JSON.stringify(await renderPool.run(n, 3))'));
  assert.match(pool, /^\/\/ A pool of worker threads running render\(\)/);
  assert.match(pool, /^import \{ Worker, parentPort, workerData \} from 'node:worker_threads';$/m);
  assert.match(pool, /^import \{ render as target \} from '\.\/render\.mjs';$/m, 'under an alias: no clash with the pool\'s own names');
  assert.match(pool, /new Worker\(new URL\(import\.meta\.url\), \{ workerData: \{ looplagPool: true \} \}\)/);
  assert.match(pool, /const inPoolWorker = workerData\?\.looplagPool === true;/, 'its own workers, not any worker thread');
  assert.doesNotMatch(pool, /isMainThread/);
  assert.match(pool, /^const size = os\.availableParallelism\(\);$/m);
  assert.match(pool, /worker\.on\('error', /);
  assert.match(pool, /worker\.on\('exit', /);
  assert.match(pool, /if \(reply\.ok\) job\.resolve\(reply\.result\);/, 'an error is marked: a thrown undefined is not a result');
  assert.match(pool, /^export function run\(\.\.\.args\) \{$/m);
  assert.match(pool, /worker\.unref\(\);/);
  assert.doesNotMatch(pool, /handler/, 'a module: no example handler');
});

test('CommonJS .cjs: require() in the caller and the pool, __filename for the workers, module.exports = { run }', () => {
  const { text, pool } = fixAll('cjs/server.cjs', 'cjs/render.cjs', CALLS);
  assert.match(text, /^const \{ render, fails \} = require\('\.\/render\.cjs'\);\nconst renderPool = require\('\.\/render\.worker-pool\.cjs'\);$/m);
  assert.equal(text.match(/await renderPool\.run\(/g)?.length, 3);
  assert.match(pool, /^const \{ render: target \} = require\('\.\/render\.cjs'\);$/m);
  assert.match(pool, /new Worker\(__filename, \{ workerData: \{ looplagPool: true \} \}\)/);
  assert.match(pool, /^module\.exports = \{ run \};$/m);
});

test('.js with package.json "type": "module": ESM on both sides, the pool a .js', () => {
  const { text, pool } = fixAll('typejs/server.js', 'typejs/render.js', CALLS, 'esm', { moduleFormat: 'esm' });
  assert.match(text, /^import \* as renderPool from '\.\/render\.worker-pool\.js';$/m);
  assert.match(pool, /^import \{ render as target \} from '\.\/render\.js';$/m);
  assert.match(pool, /import\.meta\.url/);
  // The same file read as CommonJS (no "type") gets require: the format is the caller's to pass.
  const cjs = fixAll('typejs/server.js', 'typejs/render.js', ['render(n)'], 'cjs', { moduleFormat: 'cjs' });
  assert.match(cjs.pool, /new Worker\(__filename, /);
});

test('TypeScript: the route handler becomes async, the pool a typed .ts importing ./render.js; a nested call in an argument is awaited in place', () => {
  const { text, pool } = fixAll('ts/server.ts', 'ts/render.ts', ['render(1000)', 'render(n)'], undefined, { tsNotLoadable: null });
  assert.match(text, /^import \* as renderPool from '\.\/render\.worker-pool\.js';$/m);
  assert.match(text, /app\.get\('\/page', async \(req, res\) => \{\n {2}res\.send\(String\(\(await renderPool\.run\(1000\)\)\.total\)\);/);
  assert.match(text, /return \(await renderPool\.run\(n\)\)\.total;/);
  assert.match(pool, /^export function run\(\.\.\.args: Parameters<typeof target>\): Promise<Awaited<ReturnType<typeof target>>> \{$/m);
  assert.match(pool, /^import \{ render as target \} from '\.\/render\.js';$/m);
});

test('TypeScript in a CommonJS project: the pool names itself by __filename (no import.meta: TS1343), the caller still imports it with import', () => {
  const { text, pool } = fixAll('ts/server.ts', 'ts/render.ts', ['render(n)'], 'cjs', { tsNotLoadable: null, moduleFormat: 'cjs' });
  assert.match(text, /^import \* as renderPool from '\.\/render\.worker-pool\.js';$/m);
  assert.match(pool, /new Worker\(__filename, /);
  assert.doesNotMatch(pool, /import\.meta/);
  assert.match(pool, /^import \{ render as target \} from '\.\/render\.js';$/m);
  assert.match(pool, /^export function run\(/m);
});

test('not offered: outside async code, a function or `this` in the arguments, the function in the caller\'s file or not exported, .ts without a loader', () => {
  const text = read('ts/server.ts');
  const reason = (call: string, extra: Partial<PoolTarget> = {}, file = 'ts/server.ts') => {
    const r = nodeWorkerPool(text, rangeOf(text, call), path.join(POOL, file), target('ts/render.ts', { tsNotLoadable: null, ...extra }));
    return 'notOffered' in r ? r.notOffered : 'offered';
  };
  assert.equal(reason('render(n)'), 'offered');
  assert.match(reason('render(n, () => 1)'), /structured clone/);
  const last = text.lastIndexOf('render(n)');
  const sync = nodeWorkerPool(text, rangeOf(text.slice(0, last + 9), 'render(n)', 1), path.join(POOL, 'ts/server.ts'), target('ts/render.ts', { tsNotLoadable: null }));
  assert.match('notOffered' in sync ? sync.notOffered : '', /not in an async function/);
  assert.match(reason('render(n)', { file: path.join(POOL, 'ts/server.ts') }), /defined in the calling file/);
  assert.match(reason('render(n)', { moduleText: 'function render() {}' }), /not exported/);
  assert.match(reason('render(n)', { tsNotLoadable: 'no tsx' }), /^no tsx$/);
  const thisArg = 'import { render } from "./render.js";\nclass A { async f() { return render(this); } }\n';
  const r = nodeWorkerPool(thisArg, rangeOf(thisArg, 'render(this)'), path.join(POOL, 'ts/a.ts'), target('ts/render.ts', { tsNotLoadable: null }));
  assert.match('notOffered' in r ? r.notOffered : '', /this/);
});

test('a file with no imports: the pool\'s require after \'use strict\'; a CommonJS caller of an ES module function is not offered; CRLF kept', () => {
  const text = "'use strict';\r\nasync function f(n) {\r\n  return render(n);\r\n}\r\n";
  const r = offered(nodeWorkerPool(text, rangeOf(text, 'render(n)'), path.join(POOL, 'cjs', 'other.js'), target('cjs/render.cjs'), 'cjs'));
  assert.equal(applyEdits(text, r.edits), "'use strict';\r\nconst renderPool = require('./render.worker-pool.cjs');\r\nasync function f(n) {\r\n  return await renderPool.run(n);\r\n}\r\n");
  const esm = nodeWorkerPool(text, rangeOf(text, 'render(n)'), path.join(POOL, 'esm', 'other.cjs'), target('esm/render.mjs'));
  assert.match('notOffered' in esm ? esm.notOffered : '', /CommonJS .* ESM/);
});

test('the project as the host reads it: package.json "type" for a .js file, and a TypeScript loader or compiler for a .ts pool', async () => {
  const dir = tmpDir('looplag-pool-project-');
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module", "dependencies": { "express": "4" } }');
  assert.equal(await jsFileFormat(path.join(dir, 'src', 'render.js')), 'esm');
  assert.equal(await jsFileFormat(path.join(dir, 'src', 'render.mjs')), undefined, 'the extension says');
  assert.equal(await jsFileFormat(path.join(dir, 'src', 'render.ts')), 'esm', '.ts follows "type" too');
  assert.match((await tsWorkerProblem(path.join(dir, 'src', 'render.ts'))) ?? '', /lists tsx, typescript/);
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "devDependencies": { "ts-node": "10" } }');
  assert.match((await tsWorkerProblem(path.join(dir, 'src', 'render.ts'))) ?? '', /ts-node's CLI hooks the main thread only/, 'ts-node does not load workers');
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "devDependencies": { "tsx": "4" } }');
  assert.equal(await jsFileFormat(path.join(dir, 'src', 'render.js')), 'cjs');
  assert.equal(await jsFileFormat(path.join(dir, 'src', 'render.ts')), 'cjs', 'a CommonJS TypeScript project: no import.meta');
  assert.equal(await tsWorkerProblem(path.join(dir, 'src', 'render.ts')), null);
  // An explicit tsconfig `module` of CommonJS or ES modules says first (comments allowed).
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{\n  // ES modules out\n  "compilerOptions": { "module": "ESNext", }\n}\n');
  assert.equal(await jsFileFormat(path.join(dir, 'src', 'render.ts')), 'esm');
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }');
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{ "compilerOptions": { "module": "commonjs" } }');
  assert.equal(await jsFileFormat(path.join(dir, 'src', 'render.ts')), 'cjs');
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{ "compilerOptions": { "module": "NodeNext" } }');
  assert.equal(await jsFileFormat(path.join(dir, 'src', 'render.ts')), 'esm', 'nodenext: package.json "type"');
});
