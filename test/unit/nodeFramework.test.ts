/**
 * The Node sidecar's framework detection on a real Express (node_modules), in-process:
 * which module-scope bindings the capture hands over, and the route found for a
 * handler through exports, module scope and mounted routers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequire } from 'node:module';
import { frameworkOf } from '../../src/sidecars/node/framework';
import { callBindings, instrument } from '../../src/sidecars/node/instrument';
import type { Loaded } from '../../src/sidecars/node/loader';

type Handler = () => unknown;
interface Routes {
  get(...a: Array<string | Handler>): Routes;
  post(...a: Array<string | Handler>): Routes;
  put(...a: Array<string | Handler>): Routes;
  use(...a: unknown[]): Routes;
  route(path: string): Routes;
}
/** The real Express from node_modules (a devDependency; no type package). */
const express = createRequire(__filename)('express') as (() => Routes) & { Router(): Routes };

function loaded(exports: unknown, scope: unknown[] = []): Loaded {
  return { exports, format: 'commonjs', args: async () => [], scope: scope.map((v) => () => v) };
}

test('callBindings: top-level bindings initialised by a call, typed or exported; not values, not nested lines', () => {
  const source = [
    "const express = require('express');",
    'const app = express();',
    'export const api: Router = express.Router();',
    'let server = new Koa();',
    'var ready = await start();',
    'const limit = 10;',
    '  const inner = express();',
    'function f() {}',
  ];
  assert.deepEqual(callBindings(source), ['express', 'app', 'api', 'server', 'ready']);
  const code = instrument(source.join('\n'), { qualname: 'f', lines: null, args: '' }).code;
  assert.match(code, /scope: \[\(\) => express, \(\) => app, \(\) => api, \(\) => server, \(\) => ready\],/);
  // A snippet has no function to find among routes: no getters.
  assert.doesNotMatch(instrument(source.join('\n'), { qualname: null, lines: { start: 8, end: 8 }, args: '' }).code, /scope:/);
});

test('frameworkOf: an Express route handler, found through the exports or module scope, with its method and path', () => {
  const app = express();
  const render = () => undefined;
  const other = () => undefined;
  app.post('/render', render);
  assert.deepEqual(frameworkOf(render, loaded(app)), { name: 'express', route: 'POST /render', runsIn: 'loop' });
  assert.deepEqual(frameworkOf(render, loaded({ app })), { name: 'express', route: 'POST /render', runsIn: 'loop' });
  assert.deepEqual(frameworkOf(render, loaded({ render }, [app])), { name: 'express', route: 'POST /render', runsIn: 'loop' });
  assert.equal(frameworkOf(other, loaded({ render, other }, [app])), undefined);
  assert.equal(frameworkOf(render, loaded({ render })), undefined, 'no app in reach: no field');
});

test('frameworkOf: a mounted router\'s handler (its prefix only a RegExp: no route), a middleware, a route for two methods', () => {
  const app = express();
  const api = express.Router();
  const items = () => undefined;
  const audit = () => undefined;
  const both = () => undefined;
  api.get('/items', items);
  app.use(audit);
  app.use('/api', api);
  app.route('/both').get(both).put(both);
  assert.deepEqual(frameworkOf(items, loaded({}, [app])), { name: 'express', runsIn: 'loop' });
  assert.deepEqual(frameworkOf(items, loaded({}, [api])), { name: 'express', route: 'GET /items', runsIn: 'loop' });
  assert.deepEqual(frameworkOf(audit, loaded({}, [app])), { name: 'express', runsIn: 'loop' });
  assert.deepEqual(frameworkOf(both, loaded({}, [app])), { name: 'express', route: 'GET,PUT /both', runsIn: 'loop' });
});

test('frameworkOf: getters that throw and look-alikes are not apps', () => {
  const fn = () => undefined;
  const exports = Object.defineProperty({}, 'boom', { enumerable: true, get: () => { throw new Error('no'); } });
  const lookAlike = Object.assign(() => undefined, { stack: [{ route: { path: '/x', stack: [{ handle: fn, method: 'get' }] } }] });
  assert.equal(frameworkOf(fn, { ...loaded(exports), scope: [() => { throw new ReferenceError('x'); }, () => lookAlike] }), undefined);
});

test('callBindings: names strict code reserves get no getter (`const package = make(` in an ES module\'s template literal would be a SyntaxError)', () => {
  const words = ['package', 'interface', 'let', 'static', 'implements', 'private', 'protected', 'public', 'await', 'yield', 'eval', 'arguments'];
  const source = [...words.map((w) => `const ${w} = make(1);`), 'const app = express();'];
  assert.deepEqual(callBindings(source), ['app']);
  assert.match(instrument(source.join('\n'), { qualname: 'f', lines: null, args: '' }).code, /scope: \[\(\) => app\],/);
  // A target named so is reached through the exports: no `() => [undefined, package]`.
  assert.doesNotMatch(instrument('export { f as package };', { qualname: 'package', lines: null, args: '' }).code, /target:/);
});

test('frameworkOf reads exports without running user code: an accessor is skipped, not called', () => {
  const app = express();
  const render = () => undefined;
  app.get('/render', render);
  let connects = 0;
  const exports = { app, get db() { connects++; return app; } };
  assert.deepEqual(frameworkOf(render, loaded(exports)), { name: 'express', route: 'GET /render', runsIn: 'loop' });
  assert.equal(connects, 0, 'the `db` getter ran');
});

test('frameworkOf never throws: exports and bindings that are Proxies whose every trap throws mean no field', () => {
  const fn = () => undefined;
  const boom = () => { throw new Error('trap'); };
  const traps = { get: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, has: boom, getPrototypeOf: boom };
  const hostileObject = new Proxy({}, traps);
  const hostileFunction = new Proxy(() => undefined, traps);
  assert.equal(frameworkOf(fn, loaded(hostileObject)), undefined);
  assert.equal(frameworkOf(fn, loaded(hostileFunction, [hostileObject, hostileFunction])), undefined);
  // A hostile export beside a real app: the app still answers.
  const app = express();
  app.get('/x', fn);
  assert.deepEqual(frameworkOf(fn, loaded({ hostileFunction, app })), { name: 'express', route: 'GET /x', runsIn: 'loop' });
});

test('frameworkOf: apps before routers, whatever the declaration order (a router\'s own path lacks the prefix it is mounted under)', () => {
  const api = express.Router();
  const app = express();
  const items = () => undefined;
  api.get('/items', items);
  app.use('/api', api);
  // Declared router first: `GET /items` would be wrong (the app serves /api/items); through the app the prefix is a RegExp, so no route.
  assert.deepEqual(frameworkOf(items, loaded({}, [api, app])), { name: 'express', runsIn: 'loop' });
  assert.deepEqual(frameworkOf(items, loaded({ api, app })), { name: 'express', runsIn: 'loop' });
  // A router no app in reach mounts: its own path is all there is.
  assert.deepEqual(frameworkOf(items, loaded({}, [api])), { name: 'express', route: 'GET /items', runsIn: 'loop' });
});
