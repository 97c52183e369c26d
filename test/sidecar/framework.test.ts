/**
 * The framework serving the target, found in the user's runtime by the real sidecars
 * (issue 16, "verdicts in the framework's words"): a FastAPI app from Debian's python3
 * (a `def` endpoint, an `async def` one on a router, a mounted Starlette sub-app), an
 * Express app (a route, a mounted router), and functions no route serves. The budget
 * decides each verdict beyond doubt (10 s: safe; 20 ms against a 60 ms call on the loop:
 * not), so load cannot change the wording under test.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { slowdownVsInline } from '../../src/advice/advise';
import { withinBudget } from '../../src/advice/budget';
import type { Report } from '../../src/shared/protocol';
import { FIXTURES, reportOf, runCli } from '../support/helpers';

const APP = path.join(FIXTURES, 'python', 'framework', 'app.py');
const SERVER = path.join(FIXTURES, 'node', 'framework', 'server.js');
const STRICT = path.join(FIXTURES, 'node', 'framework', 'strict.mjs');
/** Debian's python3 has fastapi, starlette and anyio; the sidecar itself stays stdlib-only. */
const DEBIAN_PYTHON = ['--python', '/usr/bin/python3'];
const FAST = ['--concurrency', '2', '--workers', '2', '--no-gil-probe', '--timeout', '60', '--json'];
const SAFE = ['--budget-ms', '10000'];
const NOT_SAFE = ['--budget-ms', '20'];

async function measure(args: string[]): Promise<Report> {
  const r = await runCli(['run', ...args, ...FAST]);
  const report = reportOf(r);
  assert.equal(report.status, 'complete', r.stderr);
  return report;
}

describe('FastAPI and Starlette (Debian python3)', () => {
  test('a `def` endpoint: FastAPI, its route, the threadpool with AnyIO\'s 40 threads; "Safe as written" in those words', async () => {
    const report = await measure([`${APP}::report`, '--args', '60', '--modes', 'thread', ...SAFE, ...DEBIAN_PYTHON]);
    assert.deepEqual(report.target.framework, { name: 'fastapi', route: 'GET /report', runsIn: 'threadpool', threadpoolSize: 40 });
    assert.match(report.headline!, /^Safe as written \(GET \/report\): FastAPI runs `def` endpoints in its threadpool \(40 threads\); with 2 concurrent requests the loop stayed responsive \(lag p99 /);
  });

  test('a `def` endpoint without --workers: thread mode runs min(40, concurrency) threads, as FastAPI\'s pool would (not the executor\'s cpu+4, at most 32)', async () => {
    const r = await runCli(['run', `${APP}::report`, '--args', '1', '--modes', 'thread', '--concurrency', '48', '--no-gil-probe', '--timeout', '60', '--json', ...SAFE, ...DEBIAN_PYTHON]);
    const report = reportOf(r);
    assert.equal(report.status, 'complete', r.stderr);
    assert.equal(report.target.framework?.threadpoolSize, 40);
    assert.equal(report.settings.workers, null, 'the user gave no --workers');
    assert.equal(report.runs.find((m) => m.mode === 'thread')?.workers, 40);
    assert.match(report.headline!, /^Safe as written \(GET \/report\): FastAPI runs `def` endpoints in its threadpool \(40 threads\); with 48 concurrent requests the loop/);
  });

  test('an `async def` endpoint on an APIRouter included under a prefix: on the loop; it "blocks every other request", `def` offered when threads kept within budget', async () => {
    const report = await measure([`${APP}::login`, '--args', '60', '--modes', 'inline,thread', ...NOT_SAFE, ...DEBIAN_PYTHON]);
    assert.deepEqual(report.target.framework, { name: 'fastapi', route: 'POST /auth/login', runsIn: 'loop' });
    assert.match(report.headline!, /^Not safe as written: this `async def` endpoint \(POST \/auth\/login\) blocks every other request for up to \d[\d.]* (ms|s) at 2 concurrent requests \(budget 20\.0 ms\)/);
    // Whether threads kept the loop within 20 ms depends on the machine's load; the words do not.
    const thread = report.runs.find((r) => r.mode === 'thread')!;
    if (thread.status === 'ok' && thread.lag.maxMs <= 20) assert.match(report.headline!, /\. Declared as `def`, FastAPI would run it in its threadpool: p99 /);
    else assert.match(report.headline!, /\. No measured mode kept the loop within budget\.$/);
  });

  test('a Starlette endpoint in a mounted sub-app: Starlette, the mount\'s path before the route\'s', async () => {
    const report = await measure([`${APP}::health`, '--args', 'None', '--modes', 'inline', ...SAFE, ...DEBIAN_PYTHON]);
    assert.deepEqual(report.target.framework, { name: 'starlette', route: 'GET /internal/health', runsIn: 'loop' });
    assert.match(report.headline!, /^Safe as written \(GET \/internal\/health\): Starlette runs this `async def` endpoint on the event loop/);
  });

  test('a function no route serves: no framework field, the headline as before', async () => {
    const report = await measure([`${APP}::helper`, '--args', '5', '--modes', 'thread', ...SAFE, ...DEBIAN_PYTHON]);
    assert.equal(report.target.framework, undefined);
    assert.match(report.headline!, /^Safe in a thread pool: with 2 concurrent calls the loop stayed responsive/);
  });
});

describe('Express', () => {
  test('a sync CPU handler on an unexported app: Express, GET /render, the loop; it "blocks every other request", worker threads offered', async () => {
    const report = await measure([`${SERVER}::render`, '--args', '{ query: { ms: 60 } }, null', '--modes', 'inline,worker', ...NOT_SAFE]);
    assert.deepEqual(report.target.framework, { name: 'express', route: 'GET /render', runsIn: 'loop' });
    assert.match(report.headline!, /^Not safe as written: this Express handler \(GET \/render\) blocks every other request for up to \d[\d.]* (ms|s) at 2 concurrent requests \(budget 20\.0 ms\)/);
    // Offered exactly when the advice's own test finds it clean: within budget, no raised calls, no throughput collapse.
    const worker = report.runs.find((r) => r.mode === 'worker')!;
    const clean = worker.status === 'ok' && withinBudget(worker, 20) && worker.taskStats.errorCount === 0 && slowdownVsInline(report, worker) === null;
    if (clean) assert.match(report.headline!, /\. In worker threads it is: p99 .*\.$/);
    else assert.match(report.headline!, /\. No measured mode kept the loop within budget\.$/);
  });

  test('a handler on a router mounted under a prefix Express keeps only as a RegExp: Express, no route', async () => {
    const report = await measure([`${SERVER}::items`, '--args', 'null, null', '--modes', 'inline', ...SAFE]);
    assert.deepEqual(report.target.framework, { name: 'express', runsIn: 'loop' });
    assert.match(report.headline!, /^Safe as written: Express runs this handler on the event loop, and with 2 concurrent requests it stayed responsive/);
  });

  test('an ES module whose template literal and comment hold `const package = make(` and other strict reserved words at column 0: loads and measures', async () => {
    const report = await measure([`${STRICT}::total`, '--args', '1000', '--modes', 'inline', ...SAFE]);
    assert.equal(report.target.moduleFormat, 'esm');
    assert.equal(report.target.framework, undefined);
    assert.equal(report.runs[0].status, 'ok');
  });

  test('a function no route serves: no framework field', async () => {
    const report = await measure([`${SERVER}::helper`, '--args', '5', '--modes', 'inline', ...SAFE]);
    assert.equal(report.target.framework, undefined);
    assert.match(report.headline!, /^Safe on the event loop \(called directly\): with 2 concurrent calls/);
  });
});
