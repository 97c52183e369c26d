/**
 * Service mode, Node, N server processes (`--workers N`): the harness becomes a
 * node:cluster primary and each worker is the harness again, measuring its own loop. The
 * workers share one port on 127.0.0.1 (Node's round-robin: the primary hands out the
 * connections), each sends its window, a worker that dies ends the run with its fate,
 * nothing outlives the run, and scripts that cannot run that way get a clear error.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { describe, test, type TestContext } from 'node:test';
import type { ServeSidecarMessage } from '../../src/shared/protocol/serve';
import { assertNoProcessLeft, tmpDir, waitFor } from '../support/helpers';
import { measure, NODE_SERVE_DIR as DIR, nodePlan, nodeServeRunner, request, ServeHarness } from '../support/serveHarness';

const { harness, serve } = nodeServeRunner();

/** Linux: the local addresses of the sockets listening on `port`, from /proc/net. */
function listeningOn(port: number): string[] {
  const out: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(table)) continue;
    for (const row of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = row.trim().split(/\s+/);
      if (state !== '0A' || !local) continue;
      const [addr, hexPort] = local.split(':');
      if (parseInt(hexPort, 16) !== port) continue;
      out.push(addr.length === 8 ? addr.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join('.') : addr);
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The run's `error`, once the harness has exited. */
async function errorOf(h: ServeHarness): Promise<Extract<ServeSidecarMessage, { type: 'error' }>['error']> {
  await h.exited;
  assert.deepEqual(h.problems, []);
  const errors = h.messages.filter((m) => m.type === 'error');
  assert.equal(errors.length, 1, JSON.stringify(h.messages));
  return errors[0].type === 'error' ? errors[0].error : assert.fail();
}

describe('Node server harness: N server processes (node:cluster)', () => {
  test('two processes share the port on 127.0.0.1, both answer, each sends its window', async () => {
    const { h, plan, ready } = await serve('pid.mjs', { processes: 2 });
    assert.equal(ready.pids.length, 2);
    assert.ok(!ready.pids.includes(h.child.pid!), 'the workers are not the primary');
    for (const pid of ready.pids) assert.ok(alive(pid), `worker ${pid} alive`);
    assert.equal(ready.server, 'node:http');
    if (fs.existsSync('/proc/net/tcp')) assert.deepEqual(listeningOn(ready.port), ['127.0.0.1']);
    await measure(h, ready.port, plan);
    // A connection each (agent: false): the primary hands them to the workers in turn.
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => request(ready.port, `/hello?i=${i}`)));
    const byPid = new Map<number, number>();
    for (const a of answers) byPid.set(Number(a.body), (byPid.get(Number(a.body)) ?? 0) + 1);
    assert.deepEqual([...byPid.keys()].sort(), [...ready.pids].sort(), `answered by ${JSON.stringify([...byPid])}`);
    h.send({ type: 'stop' });
    const { processes } = await h.next('window');
    await h.next('done');
    assert.equal((await h.exited).code, 0);
    assert.deepEqual(h.problems, []);
    assert.deepEqual(processes.map((w) => w.pid), ready.pids);
    for (const w of processes) {
      assert.ok(w.samples.length > 0, `${w.pid}: heartbeat`);
      assert.ok(w.attribution && !w.attribution.error, `${w.pid}: ${w.attribution?.error}`);
      const hello = w.requests.find((r) => r.route === '/hello');
      assert.equal(hello?.spans.length, byPid.get(w.pid), `${w.pid}: its requests, as it answered them`);
    }
    await assertNoProcessLeft(h.runTag);
  });

  test('an Express app in two processes: its routes and server from the workers, requests by route template in both windows', async (t: TestContext) => {
    try {
      createRequire(path.join(DIR, 'express.cjs')).resolve('express');
    } catch {
      t.skip('express is not installed (npm ci installs it: a devDependency)');
      return;
    }
    const { h, plan, ready } = await serve('express.cjs', { processes: 2 });
    assert.match(ready.server, /^express 4\.\d+\.\d+$/);
    assert.deepEqual(ready.routes.map((r) => `${r.methods.join(',')} ${r.path} ${r.handler}`), ['GET /users/:id getUser', 'POST /api/items createItem']);
    await measure(h, ready.port, plan);
    await Promise.all(Array.from({ length: 6 }, (_, i) => request(ready.port, `/users/${i}`)));
    h.send({ type: 'stop' });
    const { processes } = await h.next('window');
    assert.equal((await h.exited).code, 0);
    const counts = processes.map((w) => w.requests.find((r) => r.route === '/users/:id')?.spans.length ?? 0);
    assert.equal(counts.reduce((a, b) => a + b, 0), 6, JSON.stringify(counts));
    assert.ok(counts.every((n) => n > 0), `both workers served: ${JSON.stringify(counts)}`);
    await assertNoProcessLeft(h.runTag);
  });

  test('a worker whose loop is blocked stalls its own window from the host\'s t0, not the other\'s', async () => {
    const marker = path.join(tmpDir(), 'spinning');
    const script = path.join(DIR, 'pid.mjs');
    // Round-robin by the primary (Node's default on Linux), whatever the environment says.
    const { h, ready } = await serve('pid.mjs', { processes: 2, app: { type: 'node', script, args: ['400'] } }, { LOOPLAG_TEST_MARKER: marker, NODE_CLUSTER_SCHED_POLICY: 'rr' });
    const blocked = request(ready.port, '/block');
    await waitFor(() => fs.readdirSync(path.dirname(marker)).length > 0, 'a worker to block its loop');
    // `measure` comes while one worker spins: it reads it late, and starts its window where the host said.
    const sentAt = Date.now();
    h.send({ type: 'measure', t0EpochMs: sentAt });
    const blocker = Number(fs.readdirSync(path.dirname(marker))[0].split('.').pop());
    const other = ready.pids.find((p) => p !== blocker)!;
    // While one loop spins, a new connection goes to the other worker (the blocked one has not taken its last).
    const during = await request(ready.port, '/hello');
    assert.equal(Number(during.body), other);
    assert.equal(Number((await blocked).body), blocker);
    h.send({ type: 'stop' });
    const { processes } = await h.next('window');
    const maxLag = (pid: number) => Math.max(0, ...processes.find((w) => w.pid === pid)!.samples.map(([, lag]) => lag));
    for (const w of processes) assert.ok(Math.abs(w.t0EpochMs - sentAt) < 50, `${w.pid}: its window starts ${w.t0EpochMs - sentAt} ms from the host's t0`);
    assert.ok(maxLag(blocker) >= 300, `the blocked worker's max lag ${maxLag(blocker)} ms`);
    assert.ok(maxLag(other) < maxLag(blocker) / 2, `the other's max lag ${maxLag(other)} ms, the blocked one's ${maxLag(blocker)} ms`);
    await h.exited;
    await assertNoProcessLeft(h.runTag);
  });

  test('a worker that dies ends the run with its fate, and the other worker with it', async () => {
    const { h, plan, ready } = await serve('pid.mjs', { processes: 2 });
    await measure(h, ready.port, plan);
    const [victim, survivor] = ready.pids;
    process.kill(victim, 'SIGKILL');
    const error = await errorOf(h);
    assert.equal(error.kind, 'crashed');
    assert.match(error.message, new RegExp(`^server process 1 of 2 \\(pid ${victim}\\) was killed by SIGKILL.* while serving$`));
    assert.equal((await h.exited).code, 1);
    assert.ok(h.messages.some((m) => m.type === 'done'));
    // Killed as the run ends; gone once the kernel has delivered it (the primary exits at once, not waiting for it).
    await waitFor(() => !alive(survivor), 'the other worker to end with the run', 3000);
    await assertNoProcessLeft(h.runTag);
  });

  test('nothing is left when the host closes stdin', async () => {
    const { h } = await serve('pid.mjs', { processes: 2 });
    h.child.stdin!.end();
    assert.notEqual((await h.exited).code, null);
    await assertNoProcessLeft(h.runTag);
  });

  test('nothing is left when the host is killed while a worker\'s handler blocks its loop', async () => {
    const parent = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const marker = path.join(tmpDir(), 'spinning');
    const script = path.join(DIR, 'pid.mjs');
    const { h, ready } = await serve('pid.mjs', { processes: 2, app: { type: 'node', script, args: ['30000'] } }, { LOOPLAG_TEST_MARKER: marker }, parent.pid);
    h.send({ type: 'measure' });
    // A 30 s spin: that worker's loop cannot see its stdin close; only the watch threads can act.
    void request(ready.port, '/block').catch(() => undefined);
    await waitFor(() => fs.readdirSync(path.dirname(marker)).length > 0, 'a worker to block its loop');
    parent.kill('SIGKILL');
    await assertNoProcessLeft(h.runTag);
    // A process being killed has no readable environment before it is gone: its pid is polled too.
    const pids = [h.child.pid!, ...ready.pids];
    await waitFor(() => !pids.some(alive), `the harness and its workers to end (alive: ${pids.filter(alive)})`, 3000);
  });
});

describe('Node server harness: scripts that cannot run in N processes fail clearly', () => {
  test('a script that forks cluster workers itself: unsupported-mode at its fork, not a start timeout', async () => {
    const h = harness();
    await h.next('hello');
    const startedAt = Date.now();
    h.start(nodePlan(path.join(DIR, 'clustered.mjs')));
    const error = await errorOf(h);
    assert.equal(error.kind, 'unsupported-mode');
    assert.match(error.message, /^clustered\.mjs starts node:cluster workers itself \(cluster\.fork\(\)\)/);
    assert.ok(Date.now() - startedAt < 10_000, `${Date.now() - startedAt} ms: refused at the fork, not after the 20 s start timeout`);
    await assertNoProcessLeft(h.runTag);
  });

  test('the same script in N processes: each runs its worker path, and is measured', async () => {
    const { h, plan, ready } = await serve('clustered.mjs', { processes: 2 });
    await measure(h, ready.port, plan);
    assert.match((await request(ready.port, '/')).body, /^worker \d+$/);
    h.send({ type: 'stop' });
    assert.equal((await h.next('window')).processes.length, 2);
    assert.equal((await h.exited).code, 0);
    await assertNoProcessLeft(h.runTag);
  });

  test('a port that cannot be shared (listen with exclusive: true): unsupported-mode', async () => {
    const h = harness();
    await h.next('hello');
    h.start(nodePlan(path.join(DIR, 'exclusive.mjs'), { processes: 2 }));
    const error = await errorOf(h);
    assert.equal(error.kind, 'unsupported-mode');
    assert.match(error.message, /^exclusive\.mjs's server cannot share its port between server processes \(node:cluster\): it listens with `exclusive: true`/);
    assert.ok(!h.messages.some((m) => m.type === 'ready'));
    await assertNoProcessLeft(h.runTag);
  });
});
