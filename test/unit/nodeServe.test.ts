/**
 * The Node server harness's pure parts: listen()'s argument forms, request paths, Express
 * mount paths, the per-route request log (its cap and its window), and load-error stacks
 * without the harness's frames. The harness itself runs real servers in
 * test/sidecar/nodeServe.test.ts.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type * as http from 'node:http';
import { describe, test } from 'node:test';
import { normalizeListenArgs, pathOf } from '../../src/sidecars/node/serve/listen';
import { withoutToolFrames } from '../../src/sidecars/node/serve/loadScript';
import { MAX_SPANS, RequestLog, routeOf } from '../../src/sidecars/node/serve/requests';
import { mountPathOf } from '../../src/sidecars/node/serve/routes';
import { cpuAt } from '../../src/sidecars/node/serve/window';
import { nowMs } from '../../src/sidecars/node/clock';

/** A moment strictly after every nowMs() read so far. */
function tick(): number {
  const t = nowMs();
  for (;;) if (nowMs() > t) return nowMs();
}

describe('normalizeListenArgs', () => {
  const cb = () => undefined;
  test('every TCP form becomes one options object, the callback kept', () => {
    assert.deepEqual(normalizeListenArgs([]), { options: {}, callback: undefined });
    assert.deepEqual(normalizeListenArgs([cb]), { options: {}, callback: cb });
    assert.deepEqual(normalizeListenArgs([3000]), { options: { port: 3000 }, callback: undefined });
    assert.deepEqual(normalizeListenArgs(['3000', cb]), { options: { port: 3000 }, callback: cb });
    assert.deepEqual(normalizeListenArgs([3000, '0.0.0.0', cb]), { options: { port: 3000, host: '0.0.0.0' }, callback: cb });
    assert.deepEqual(normalizeListenArgs([3000, '::', 511, cb]), { options: { port: 3000, host: '::', backlog: 511 }, callback: cb });
    assert.deepEqual(normalizeListenArgs([3000, 64]), { options: { port: 3000, backlog: 64 }, callback: undefined });
    assert.deepEqual(normalizeListenArgs([{ port: 80, host: '0.0.0.0', ipv6Only: true }, cb]), { options: { port: 80, host: '0.0.0.0', ipv6Only: true }, callback: cb });
  });

  test('a socket path, a handle or an fd is left as asked', () => {
    assert.equal(normalizeListenArgs(['/tmp/app.sock']), null);
    assert.equal(normalizeListenArgs([{ path: '/tmp/app.sock' }]), null);
    assert.equal(normalizeListenArgs([{ fd: 3 }]), null);
    assert.equal(normalizeListenArgs([{ handle: {} }]), null);
    assert.equal(normalizeListenArgs([{ _handle: {} }]), null);
  });
});

test('pathOf drops the query and the fragment', () => {
  assert.equal(pathOf('/a/b?x=1'), '/a/b');
  assert.equal(pathOf('/a#top'), '/a');
  assert.equal(pathOf('/'), '/');
  assert.equal(pathOf(undefined), '/');
});

test('mountPathOf reads the paths Express 4 compiles for app.use(path, router)', () => {
  assert.equal(mountPathOf(/^\/api\/?(?=\/|$)/i), '/api');
  assert.equal(mountPathOf(/^\/api\/v1\/?(?=\/|$)/i), '/api/v1');
  assert.equal(mountPathOf(/^\/?(?=\/|$)/i), '');
  // A parameter or pattern in the mount path: not read (its routes are left out).
  assert.equal(mountPathOf(/^\/(?:([^/]+?))\/?(?=\/|$)/i), null);
  assert.equal(mountPathOf(undefined), null);
});

describe('RequestLog', () => {
  const fakeExchange = (method = 'GET', url = '/x') => {
    const req = Object.assign(new EventEmitter(), { method, url }) as unknown as http.IncomingMessage;
    const res = new EventEmitter() as unknown as http.ServerResponse;
    return { req, res };
  };

  test('records only inside the window, by route template when Express names one, capped per route', () => {
    const log = new RequestLog();
    const before = fakeExchange();
    log.track(before.req, before.res, '/x');
    log.begin();
    // Recorded from `ready`, but started before the window's t0: not the window's, ended or not.
    const early = fakeExchange('GET', '/early');
    log.track(early.req, early.res, '/early');
    const warm = fakeExchange('GET', '/warm');
    log.track(warm.req, warm.res, '/warm');
    (warm.res as unknown as EventEmitter).emit('finish');
    log.cut(tick());
    (early.res as unknown as EventEmitter).emit('finish');
    const n = MAX_SPANS + 3;
    for (let i = 0; i < n; i++) {
      const { req, res } = fakeExchange('GET', `/users/${i}`);
      log.track(req, res, `/users/${i}`);
      Object.assign(req, { route: { path: '/:id' }, baseUrl: '/users' });
      res.emit('finish');
      res.emit('close'); // counted once
    }
    const open = fakeExchange('POST', '/slow');
    log.track(open.req, open.res, '/slow');
    (before.res as unknown as EventEmitter).emit('finish');
    assert.equal(log.end(), 1);
    // Ended after the window: not recorded.
    (open.res as unknown as EventEmitter).emit('finish');
    const requests = log.take();
    assert.equal(requests.length, 1);
    assert.equal(requests[0].route, '/users/:id');
    assert.equal(requests[0].method, 'GET');
    assert.equal(requests[0].spans.length, MAX_SPANS);
    assert.equal(requests[0].dropped, 3);
    for (const [start, end] of requests[0].spans) assert.ok(start >= 0 && end >= start, `${start}–${end} on the window's clock`);
  });

  test('before the window: spans older than the trim are forgotten; the cut keeps those from t0, capped from there', () => {
    const log = new RequestLog();
    log.begin();
    const ends: (() => void)[] = [];
    for (let i = 0; i < MAX_SPANS + 5; i++) {
      const { req, res } = fakeExchange('GET', '/a');
      log.track(req, res, '/a');
      ends.push(() => (res as unknown as EventEmitter).emit('finish'));
    }
    // All started before the trim point: ended after it, still forgotten (they started before).
    const trimAt = tick();
    for (const end of ends.splice(0)) end();
    log.trim(trimAt);
    const later = Array.from({ length: MAX_SPANS + 5 }, () => fakeExchange('GET', '/a'));
    for (const { req, res } of later) {
      log.track(req, res, '/a');
      (res as unknown as EventEmitter).emit('finish');
    }
    log.cut(trimAt);
    log.end();
    const [a] = log.take();
    assert.deepEqual([a.spans.length, a.dropped], [MAX_SPANS, 5]);
  });

  test('cpuAt: the CPU time at t0, linear between the readings around it (a stall between two readings)', () => {
    const readings: [number, { user: number; system: number }][] = [[100, { user: 1000, system: 10 }], [700, { user: 601_000, system: 610 }]];
    assert.deepEqual(cpuAt(readings, 400), { user: 301_000, system: 310 });
    assert.deepEqual(cpuAt(readings, 50), { user: 1000, system: 10 });
    assert.deepEqual(cpuAt(readings, 900), { user: 601_000, system: 610 });
  });

  test('routeOf: the raw path without a matched route', () => {
    const { req } = fakeExchange();
    assert.equal(routeOf(req, '/raw'), '/raw');
    Object.assign(req, { route: { path: '/items' } });
    assert.equal(routeOf(req, '/items'), '/items');
  });
});

test('withoutToolFrames cuts the stack at the harness\'s first frame and the loader frames above it', () => {
  const stack = [
    'Error: DATABASE_URL is not set',
    '    at configure (file:///app/server.mjs:3:9)',
    '    at file:///app/server.mjs:5:1',
    '    at ModuleJob.run (node:internal/modules/esm/module_job:325:25)',
    '    at async ModuleLoader.import (node:internal/modules/esm/loader:606:24)',
    '    at async loadScript (/ext/dist/sidecars/node/serve.js:1586:10)',
  ].join('\n');
  assert.equal(withoutToolFrames(stack, '/ext/dist/sidecars/node'), stack.split('\n').slice(0, 3).join('\n'));
  assert.equal(withoutToolFrames(null, '/x'), null);
});
