/**
 * Service mode, Node: the real server harness (dist/sidecars/node/serve.js) running real
 * servers (test/fixtures/serve/node), driven through the protocol's framing. It listens
 * on 127.0.0.1 and the plan's port whatever the script asked, answers the probe itself,
 * records the app's requests per route, measures the server's own loop (a handler that
 * blocks it stalls the heartbeat, and the profiler names the blocking line; one that
 * awaits does not), lists an Express app's routes, and leaves nothing running. Scripts
 * it cannot serve: nodeServeErrors.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { ServerProcessWindow } from '../../src/shared/protocol/serve';
import { tmpDir, waitFor } from '../support/helpers';
import { measure, NODE_SERVE_DIR as DIR, nodeServeRunner, request, stop } from '../support/serveHarness';

/** A stall, as the tests count them: a heartbeat gap at least this long (the blocking handler spins 100 ms). */
const STALL_MS = 80;

const { serve } = nodeServeRunner();

function lineOf(file: string, marker: string): number {
  const i = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(marker));
  assert.ok(i >= 0, `${marker} not in ${file}`);
  return i + 1;
}

function maxLag(w: ServerProcessWindow): number {
  return Math.max(0, ...w.samples.map(([, lag]) => lag));
}

/** Samples inside stalls of ≥ STALL_MS, counted by their innermost user frame (`file:line`). */
function blockingLines(w: ServerProcessWindow): Map<string, number> {
  const a = w.attribution;
  assert.ok(a, 'attribution');
  assert.equal(a.error, undefined, a.error);
  const stalls = w.samples.filter(([, lag]) => lag >= STALL_MS).map(([t, lag]) => [t - lag - 1, t]);
  const byLine = new Map<string, number>();
  for (const s of a.samples) {
    if (!stalls.some(([t0, t1]) => s.tMs >= t0 && s.tMs <= t1)) continue;
    const frame = a.stacks[s.stack].map((i) => a.frames[i]).find((f) => f.kind === 'user');
    const key = frame ? `${frame.file}:${frame.line}` : '(none)';
    byLine.set(key, (byLine.get(key) ?? 0) + 1);
  }
  return byLine;
}

function top(byLine: Map<string, number>): string {
  return [...byLine.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '(no samples)';
}

/** This machine's IPv4 addresses that are not loopback. */
function externalAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flat().filter((a) => a && a.family === 'IPv4' && !a.internal).map((a) => a!.address);
}

/** Linux: the local addresses of the sockets listening on `port` (IPv4 and IPv6), from /proc/net. */
function listeningOn(port: number): string[] {
  const out: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const [, local, , state] = row.trim().split(/\s+/);
      if (state !== '0A' || !local) continue; // 0A: LISTEN
      const [addr, hexPort] = local.split(':');
      if (parseInt(hexPort, 16) !== port) continue;
      // IPv4 as a little-endian hex word; IPv6 shown as is.
      out.push(addr.length === 8 ? addr.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join('.') : addr);
    }
  }
  return out;
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 2000 });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

describe('Node server harness: a plain http server', () => {
  test('listens on 127.0.0.1 and the plan\'s port, answers the probe itself, records the app\'s requests per route', async () => {
    const { h, plan, ready } = await serve('server.mjs');
    assert.equal(ready.server, 'node:http');
    assert.deepEqual(ready.pids, [h.child.pid]);
    assert.deepEqual(ready.routes, []);
    // The script asked for 0.0.0.0:38571; the plan asked for a free port.
    assert.notEqual(ready.port, 38571);
    assert.ok(ready.startupMs > 0 && ready.startupMs < 20_000, String(ready.startupMs));
    for (const address of externalAddresses()) {
      assert.equal(await connects(address, ready.port), false, `reachable on ${address}`);
    }
    assert.equal(await connects('127.0.0.1', ready.port), true);
    if (fs.existsSync('/proc/net/tcp')) assert.deepEqual(listeningOn(ready.port), ['127.0.0.1']);
    // Before the window: answered, not recorded.
    assert.equal((await request(ready.port, '/hello')).body, 'hello');
    await measure(h, ready.port, plan);
    for (let i = 0; i < 5; i++) assert.equal((await request(ready.port, '/hello?i=' + i)).body, 'hello');
    assert.equal((await request(ready.port, plan.pingPath + '?x=1')).body, 'ok');
    assert.equal((await request(ready.port, '/missing')).status, 404);
    const { window, exit } = await stop(h);
    assert.equal(exit.code, 0, h.stderr);
    assert.equal(window.pid, h.child.pid);
    const routes = Object.fromEntries(window.requests.map((r) => [`${r.method} ${r.route}`, r]));
    assert.deepEqual(Object.keys(routes).sort(), ['GET /hello', 'GET /missing']);
    assert.equal(routes['GET /hello'].spans.length, 5);
    assert.equal(routes['GET /hello'].dropped, 0);
    for (const [start, end] of routes['GET /hello'].spans) assert.ok(start >= 0 && end >= start && end <= window.wallMs + 1, `${start}–${end} in ${window.wallMs}`);
    assert.ok(Math.abs(window.t0EpochMs - Date.now()) < 60_000);
    assert.ok(window.samples.length > 0);
  });

  test('concurrent requests to the blocking handler stall the loop, and the profiler names its line', async () => {
    const { h, plan, ready } = await serve('server.mjs');
    await measure(h, ready.port, plan);
    const answers = await Promise.all(Array.from({ length: 4 }, () => request(ready.port, '/block')));
    assert.ok(answers.every((a) => a.body === 'blocked'));
    const { window } = await stop(h);
    assert.ok(maxLag(window) >= STALL_MS, `max lag ${maxLag(window)} ms`);
    const block = window.requests.find((r) => r.route === '/block');
    assert.equal(block?.spans.length, 4);
    for (const [start, end] of block!.spans) assert.ok(end - start >= 95, `a /block span of ${end - start} ms`);
    const byLine = blockingLines(window);
    // V8 may inline spin() into the handler once both are hot: its samples are then the call's line.
    const mjs = path.join(DIR, 'server.mjs');
    const lines = [lineOf(mjs, 'BLOCKING LINE'), lineOf(mjs, 'spin(Number(')].map((l) => `server.mjs:${l}`);
    assert.ok(lines.includes(top(byLine) ?? ''), `top ${top(byLine)}, expected one of ${lines}: ${JSON.stringify([...byLine])}`);
  });

  test('a stall in progress when measure arrives is in the window from the host\'s t0: lag, CPU and requests cut there', async () => {
    // `measure` is read on the server's loop: a 600 ms spin delays it. The harness has recorded
    // since `ready` and starts the window where the host's load did, with the spin on record.
    const marker = path.join(tmpDir(), 'spinning');
    const script = path.join(DIR, 'server.mjs');
    const { h, ready } = await serve('server.mjs', { app: { type: 'node', script, args: ['600'] } }, { LOOPLAG_TEST_MARKER: marker });
    const blocked = request(ready.port, '/block');
    await waitFor(() => fs.existsSync(marker), 'the handler to block the loop');
    const sentAt = Date.now();
    h.send({ type: 'measure', t0EpochMs: sentAt });
    assert.equal((await blocked).body, 'blocked');
    const { window } = await stop(h);
    assert.ok(Math.abs(window.t0EpochMs - sentAt) < 50, `the window starts when the host said (${window.t0EpochMs - sentAt} ms off)`);
    assert.ok(maxLag(window) >= 300, `the spin that held up \`measure\` is in the window: max lag ${maxLag(window)} ms`);
    // Only its part from t0: no gap reaches back before the window.
    for (const [t, lag] of window.samples) assert.ok(lag <= t + 0.001, `a gap of ${lag} ms ending ${t} ms into the window`);
    // The CPU from t0 follows (the spin burns a core as it runs, ≥ 300 ms of wall clock from
    // t0; a busy machine gives it less: 145 ms at a 25% share). A window begun after the spin
    // would have next to none.
    const cpuMs = window.cpu.userMs + window.cpu.systemMs;
    assert.ok(cpuMs >= 50, `the spin's CPU from t0 is in the window: ${cpuMs} ms`);
    // The /block request started before t0: not the window's.
    assert.equal(window.requests.find((r) => r.route === '/block'), undefined, JSON.stringify(window.requests));
  });

  test('concurrent requests to the awaiting handler leave the loop running', async (t: TestContext) => {
    let lag = Infinity;
    let busy: number | null = null;
    // A loaded machine may stall any loop: measured again once, then skipped with the load.
    for (let attempt = 0; attempt < 2 && lag >= STALL_MS; attempt++) {
      const { h, plan, ready } = await serve('server.mjs');
      const before = machineBusy();
      await measure(h, ready.port, plan);
      const answers = await Promise.all(Array.from({ length: 6 }, () => request(ready.port, '/async')));
      assert.ok(answers.every((a) => a.body === 'waited'));
      const { window } = await stop(h);
      assert.equal(window.requests.find((r) => r.route === '/async')?.spans.length, 6);
      lag = maxLag(window);
      busy = busyFraction(before, machineBusy());
    }
    if (lag >= STALL_MS && busy !== null && busy > 0.5) {
      t.skip(`the machine was busy (${Math.round(busy * 100)}% of its CPU time busy): a ${lag} ms gap is not the handler's`);
      return;
    }
    assert.ok(lag < STALL_MS, `max lag ${lag} ms with the machine ${busy === null ? 'load unknown' : `${Math.round(busy * 100)}% busy`}`);
  });

  test('a TypeScript server: the blocking line is named by its .ts line', async () => {
    const { h, plan, ready } = await serve('server.ts');
    await measure(h, ready.port, plan);
    await Promise.all(Array.from({ length: 3 }, () => request(ready.port, '/block')));
    const { window } = await stop(h);
    assert.ok(maxLag(window) >= STALL_MS, `max lag ${maxLag(window)} ms`);
    const byLine = blockingLines(window);
    const ts = path.join(DIR, 'server.ts');
    const lines = [lineOf(ts, 'BLOCKING LINE'), lineOf(ts, 'spin(100)')].map((l) => `server.ts:${l}`);
    assert.ok(lines.includes(top(byLine) ?? ''), `top ${top(byLine)}, expected one of ${lines}: ${JSON.stringify([...byLine])}`);
  });
});

/** /proc/stat's busy and total ticks. */
function machineBusy(): { busy: number; total: number } | null {
  try {
    const v = fs.readFileSync('/proc/stat', 'latin1').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    const busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] || 0);
    return { busy, total: busy + v[3] + v[4] };
  } catch {
    return null;
  }
}

function busyFraction(a: ReturnType<typeof machineBusy>, b: ReturnType<typeof machineBusy>): number | null {
  if (!a || !b || b.total - a.total < 20) return null;
  return (b.busy - a.busy) / (b.total - a.total);
}

/** Express is a devDependency; where it is not installed the Express case says so. */
function expressMissing(): string | null {
  try {
    createRequire(path.join(DIR, 'express.cjs')).resolve('express');
    return null;
  } catch {
    return 'express is not installed (npm ci installs it: a devDependency)';
  }
}

describe('Node server harness: an Express app', () => {
  test('its routes with their handlers\' lines, requests by route template, a script that listens only as the main module', async (t: TestContext) => {
    const missing = expressMissing();
    if (missing) {
      t.skip(missing);
      return;
    }
    const file = path.join(DIR, 'express.cjs');
    const { h, plan, ready } = await serve('express.cjs');
    assert.match(ready.server, /^express 4\.\d+\.\d+$/);
    assert.deepEqual(ready.routes, [
      { methods: ['GET'], path: '/users/:id', handler: 'getUser', file: 'express.cjs', line: lineOf(file, "app.get('/users/:id'"), isAsync: false },
      { methods: ['POST'], path: '/api/items', handler: 'createItem', file: 'express.cjs', line: lineOf(file, "api.post('/items'"), isAsync: true },
    ]);
    await measure(h, ready.port, plan);
    assert.equal((await request(ready.port, '/users/1')).body, 'user 1');
    assert.equal((await request(ready.port, '/users/2?full=1')).body, 'user 2');
    assert.equal((await request(ready.port, '/api/items', { method: 'POST' })).status, 201);
    const { window } = await stop(h);
    const counts = Object.fromEntries(window.requests.map((r) => [`${r.method} ${r.route}`, r.spans.length]));
    assert.deepEqual(counts, { 'GET /users/:id': 2, 'POST /api/items': 1 });
  });
});

describe('Node server harness: nothing is left running', () => {
  /** Whether a process with this pid is alive, polled until `gone` or 3 s. */
  async function goneSoon(pid: number): Promise<boolean> {
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      if (!alive(pid)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return !alive(pid);
  }

  test('after stop, though the script keeps an interval and a second server open', async () => {
    const { h, ready } = await serve('keeps.mjs');
    h.send({ type: 'measure' });
    await request(ready.port, '/');
    const { exit } = await stop(h);
    assert.equal(exit.code, 0);
    assert.ok(await goneSoon(h.child.pid!));
  });

  test('when the host closes stdin', async () => {
    const { h } = await serve('keeps.mjs');
    h.child.stdin!.end();
    const exit = await h.exited;
    assert.notEqual(exit.code, null);
    assert.ok(await goneSoon(h.child.pid!));
  });

  test('when its parent dies while a handler blocks the loop', async () => {
    // A parent of its own, killed outright: the harness's orphan watch must end it.
    const parent = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const marker = path.join(tmpDir(), 'spinning');
    const script = path.join(DIR, 'server.mjs');
    const { h, ready } = await serve('server.mjs', { app: { type: 'node', script, args: ['30000'] } }, { LOOPLAG_TEST_MARKER: marker }, parent.pid);
    h.send({ type: 'measure' });
    // A 30 s spin: the loop cannot see stdin close; only the watch thread can act.
    void request(ready.port, '/block').catch(() => undefined);
    await waitFor(() => fs.existsSync(marker), 'the handler to block the loop');
    parent.kill('SIGKILL');
    assert.ok(await goneSoon(h.child.pid!), 'the harness outlived its parent by 3 s');
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}
