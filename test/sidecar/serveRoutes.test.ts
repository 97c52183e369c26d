/**
 * Measure Endpoint's route list (src/serve/routes.ts): the real server harnesses started
 * until they listen, their `ready` routes read, and stopped, with no process left: a
 * FastAPI app under Debian's Python (uvicorn, fastapi), an Express app under Node, and a
 * Python without uvicorn (the error names the interpreter).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { listRoutes } from '../../src/serve/routes';
import { FIXTURES, newTag, processesWithTag, waitFor } from '../support/helpers';

const PY_DIR = path.join(FIXTURES, 'serve', 'python');
const NODE_DIR = path.join(FIXTURES, 'serve', 'node');
const DEBIAN_PYTHON = '/usr/bin/python3';

function uvicornMissing(): string | false {
  if (!fs.existsSync(DEBIAN_PYTHON)) return `${DEBIAN_PYTHON} not found`;
  return false;
}

/** Each test's processes carry their own tag: after listRoutes resolves, none may be left. */
async function tagged<T>(work: () => Promise<T>): Promise<T> {
  const tag = newTag();
  const before = process.env.LOOPLAG_TEST_TAG;
  process.env.LOOPLAG_TEST_TAG = tag;
  try {
    const r = await work();
    assert.deepEqual(processesWithTag(tag), [], 'no process of the listing left once it resolved');
    return r;
  } finally {
    if (before === undefined) delete process.env.LOOPLAG_TEST_TAG;
    else process.env.LOOPLAG_TEST_TAG = before;
    await waitFor(() => processesWithTag(tag).length === 0, 'tagged processes to end', 3000).catch(() => undefined);
  }
}

test('a FastAPI app: its routes with methods, path templates, handler, file:line and async-ness, and the server stopped', { skip: uvicornMissing() }, async () => {
  const r = await tagged(() => listRoutes({ app: { type: 'asgi', target: 'app:app', appDir: PY_DIR, lifespan: 'auto' }, workspaceRoot: PY_DIR, python: DEBIAN_PYTHON }));
  assert.ok(r.ok, !r.ok ? r.error.message : '');
  const item = r.routes.find((x) => x.path === '/items/{item_id}');
  assert.ok(item, `GET /items/{item_id} among ${r.routes.map((x) => x.path).join(', ')}`);
  assert.deepEqual(item.methods, ['GET']);
  assert.equal(item.handler, 'item');
  assert.equal(item.file, 'app.py');
  const source = fs.readFileSync(path.join(PY_DIR, 'app.py'), 'utf8').split('\n');
  assert.match(source[item.line! - 1], /async def item|@app\.get\("\/items/, 'the handler\'s line');
  assert.equal(item.isAsync, true);
  assert.equal(r.routes.find((x) => x.path === '/gil/hold')?.isAsync, false);
  assert.match(r.server, /uvicorn/);
});

test('an Express app: the routes its router stack holds, the mounted router\'s with its prefix', async (t) => {
  try {
    createRequire(path.join(NODE_DIR, 'express.cjs')).resolve('express');
  } catch {
    t.skip('express is not installed (npm ci installs it: a devDependency)');
    return;
  }
  const r = await tagged(() => listRoutes({ app: { type: 'node', script: path.join(NODE_DIR, 'express.cjs'), args: [] }, workspaceRoot: NODE_DIR, node: process.execPath }));
  assert.ok(r.ok, !r.ok ? r.error.message : '');
  assert.deepEqual(r.routes.map((x) => `${x.methods.join(',')} ${x.path}`).sort(), ['GET /users/:id', 'POST /api/items']);
});

test('a Python without uvicorn: an import-error naming the interpreter, nothing left running', async (t) => {
  // pyenv's python3 on PATH has no uvicorn here; where it has one, there is nothing to test.
  const probe = (await import('node:child_process')).spawnSync('python3', ['-c', 'import uvicorn'], { encoding: 'utf8' });
  if (probe.error || probe.status === 0) {
    t.skip('python3 on PATH has uvicorn (or there is none)');
    return;
  }
  const r = await tagged(() => listRoutes({ app: { type: 'asgi', target: 'app:app', appDir: PY_DIR, lifespan: 'auto' }, workspaceRoot: PY_DIR, python: 'python3' }));
  assert.ok(!r.ok);
  assert.equal(r.error.kind, 'import-error');
  assert.match(r.error.message, /^uvicorn is not installed for \S+python3/);
});

test('cancelled while the app starts: the listing ends as cancelled, its processes killed', { skip: uvicornMissing() }, async () => {
  const abort = new AbortController();
  const started = Date.now();
  const r = await tagged(() => {
    const p = listRoutes({ app: { type: 'asgi', target: 'app:app', appDir: PY_DIR, lifespan: 'auto' }, workspaceRoot: PY_DIR, python: DEBIAN_PYTHON, signal: abort.signal, onSpawn: () => setImmediate(() => abort.abort()) });
    return p;
  });
  assert.ok(!r.ok);
  assert.equal(r.error.kind, 'cancelled');
  assert.ok(Date.now() - started < 5000, `ended ${Date.now() - started} ms after the cancel`);
});
