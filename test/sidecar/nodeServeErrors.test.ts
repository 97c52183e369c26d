/**
 * Service mode, Node: scripts the server harness cannot serve fail with a specific error
 * before anything is measured (a throw or a syntax error while loading, no server, an
 * exit, a port in use), and an exception while serving is the run's
 * crash unless the script handles it itself.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { ServePlan } from '../../src/shared/protocol/serve';
import { waitFor } from '../support/helpers';
import { NODE_SERVE_DIR as DIR, nodePlan, nodeServeRunner, request, stop } from '../support/serveHarness';

const { harness, serve } = nodeServeRunner();

describe('Node server harness: scripts it cannot serve fail clearly, before anything is measured', () => {
  /** Starts `script` and returns the error it sends, after checking the harness ended. */
  async function failure(script: string, over: Partial<ServePlan> = {}) {
    const h = harness();
    await h.next('hello');
    h.start(nodePlan(path.join(DIR, script), over));
    const exit = await h.exited;
    assert.deepEqual(h.problems, []);
    assert.ok(!h.messages.some((m) => m.type === 'ready'), 'no ready');
    const errors = h.messages.filter((m) => m.type === 'error');
    assert.equal(errors.length, 1, JSON.stringify(h.messages));
    return { error: errors[0].type === 'error' ? errors[0].error : assert.fail(), exit, h };
  }

  test('a script that throws while loading: import-error with its stack, the harness\'s frames left out', async () => {
    const { error } = await failure('throws.mjs');
    assert.equal(error.kind, 'import-error');
    assert.match(error.message, /throws\.mjs threw Error: DATABASE_URL is not set/);
    assert.match(error.detail ?? '', /at configure \(.*throws\.mjs:3/);
    assert.doesNotMatch(error.detail ?? '', /serve\.js/);
  });

  test('a syntax error: syntax-error at its line', async () => {
    const { error } = await failure('syntax.ts');
    assert.equal(error.kind, 'syntax-error');
    assert.equal(error.line, 5);
    assert.equal(error.file, path.join(DIR, 'syntax.ts'));
  });

  test('a script that never listens: unsupported-target after the start timeout', async () => {
    const { error } = await failure('never.mjs', { startTimeoutS: 1 });
    assert.equal(error.kind, 'unsupported-target');
    assert.equal(error.message, 'never.mjs did not start an http server within 1 s: service mode measures a script that calls server.listen()');
  });

  test('a script that exits while starting: crashed, with its exit code', async () => {
    const { error, exit, h } = await failure('exits.mjs');
    assert.equal(error.kind, 'crashed');
    assert.match(error.message, /exited with code 3 before its server listened/);
    assert.equal(exit.code, 3);
    assert.match(h.stderr, /config missing/);
  });

  test('a port in use: crashed, naming the port', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const { error } = await failure('server.mjs', { port });
      assert.equal(error.kind, 'crashed');
      assert.match(error.message, new RegExp(`could not listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      blocker.close();
    }
  });

  test('an exception nothing catches while serving: crashed; one the script handles itself: it keeps serving', async () => {
    const script = path.join(DIR, 'throwing.mjs');
    const crashing = await serve('throwing.mjs');
    await request(crashing.ready.port, '/boom');
    const exit = await crashing.h.exited;
    const error = crashing.h.messages.find((m) => m.type === 'error');
    assert.ok(error?.type === 'error');
    assert.equal(error.error.kind, 'crashed');
    assert.equal(error.error.message, 'the server threw Error while serving, which nothing caught: lost the connection pool');
    assert.match(error.error.detail ?? '', /throwing\.mjs:8/);
    assert.equal(exit.code, 1);

    const handled = await serve('throwing.mjs', { app: { type: 'node', script, args: ['handle'] } });
    await request(handled.ready.port, '/boom');
    await waitFor(() => handled.h.stderr.includes('handled: lost the connection pool'), 'the script\'s handler');
    assert.equal((await request(handled.ready.port, handled.plan.pingPath)).body, 'ok');
    handled.h.send({ type: 'measure' });
    const { exit: handledExit } = await stop(handled.h);
    assert.equal(handledExit.code, 0);
  });
});
