/**
 * Verdicts in the framework's words (issue 16): with report target.framework set and the
 * planned mode the one the framework runs the function in, the headline and the next
 * step speak FastAPI/Express; the verdict, the order of the checks and every other
 * report's sentence stay as they were. Real reports from test/fixtures/reports, with the
 * framework field a sidecar would have added.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { headline, plannedModeOf } from '../../src/advice/advise';
import { FRAMEWORK_NAMES } from '../../src/shared/frameworks';
import { nextStep } from '../../src/report/nextStep';
import { Framework, Report } from '../../src/shared/protocol';
import { FIXTURES } from '../support/helpers';

function fixture(name: string, framework?: Framework, isAsync = false): Report {
  const r = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', `${name}.json`), 'utf8')));
  r.target.isAsync = isAsync;
  if (framework) r.target.framework = framework;
  return r;
}

const DEF_ENDPOINT: Framework = { name: 'fastapi', route: 'POST /score', runsIn: 'threadpool', threadpoolSize: 40 };
const ASYNC_ENDPOINT: Framework = { name: 'fastapi', route: 'GET /login', runsIn: 'loop' };

/** cpu-bound-python as an Express run: inline stalled 2.2 s, a worker pool (the process run renamed) kept the loop responsive. */
function expressReport(): Report {
  const r = fixture('cpu-bound-python', { name: 'express', route: 'GET /render', runsIn: 'loop' });
  r.target.language = 'javascript';
  r.runtime = { ...r.runtime!, name: 'node', implementation: 'Node.js', version: 'v20.19.0' };
  r.runs = r.runs.filter((m) => m.mode !== 'thread').map((m) => (m.mode === 'process' ? { ...m, mode: 'worker' } : m));
  r.settings.modes = ['inline', 'worker'];
  r.advice = [];
  return r;
}

test('a FastAPI `def` endpoint within budget: "Safe as written", its threadpool and size, requests not calls', () => {
  const r = fixture('numpy-matmul-threads', { name: 'fastapi', route: 'GET /matmul', runsIn: 'threadpool', threadpoolSize: 40 });
  assert.equal(headline(r), 'Safe as written (GET /matmul): FastAPI runs `def` endpoints in its threadpool (40 threads); with 6 concurrent requests ' +
    'the loop stayed responsive (lag p99 29.0 ms, max 29.5 ms, budget 100.0 ms) (busy machine: rerun to confirm).');
  // Safe as written: FastAPI makes the call, so no "how to write it" (asyncio.to_thread) follows, as it does for a plain function.
  assert.equal(nextStep(r), null);
  assert.equal(nextStep(fixture('numpy-matmul-threads'))?.kind, 'how');
});

test('a FastAPI `def` endpoint over budget: "Not safe as written", every other request blocked, the alternative as before', () => {
  const h = headline(fixture('cpu-bound-python', DEF_ENDPOINT));
  assert.equal(h, 'Not safe as written: FastAPI runs this `def` endpoint (POST /score) in its threadpool (40 threads), yet at 4 concurrent requests ' +
    'it blocks every other request for up to 1.09 s (budget 100.0 ms) (busy machine: rerun to confirm). In a process pool it is: p99 7.24 ms, max 15.7 ms, 1.72× inline throughput.');
});

test('a thread run on another pool than FastAPI\'s (--workers, or a report from before thread mode took its size): the sentence names the threads measured', () => {
  const safe = fixture('numpy-matmul-threads', { name: 'fastapi', route: 'GET /matmul', runsIn: 'threadpool', threadpoolSize: 40 });
  safe.runs.find((m) => m.mode === 'thread')!.workers = 4;
  assert.equal(headline(safe), 'Safe as written (GET /matmul): FastAPI runs `def` endpoints in its threadpool; with 6 concurrent requests on 4 threads (FastAPI\'s pool has 40) ' +
    'the loop stayed responsive (lag p99 29.0 ms, max 29.5 ms, budget 100.0 ms) (busy machine: rerun to confirm).');
  const notSafe = fixture('cpu-bound-python', DEF_ENDPOINT);
  notSafe.runs.find((m) => m.mode === 'thread')!.workers = 1;
  assert.match(headline(notSafe), /^Not safe as written: FastAPI runs this `def` endpoint \(POST \/score\) in its threadpool, yet at 4 concurrent requests on 1 thread \(FastAPI's pool has 40\) it blocks every other request for up to 1\.09 s/);
  assert.match(nextStep(notSafe)!.advice.title, /at 4 concurrent requests on 1 thread \(FastAPI's pool has 40\)$/);
  // The pool FastAPI would use for 4 requests (min(40, 4)): nothing to add.
  assert.doesNotMatch(headline(fixture('cpu-bound-python', DEF_ENDPOINT)), / on \d+ threads?/);
});

test('an `async def` endpoint over budget: it blocks every other request; "Declared as `def`" when threads were clean, a process pool otherwise', () => {
  // numpy releases the GIL: its thread run stayed within budget, so `def` is the way out.
  const clean = headline(fixture('numpy-matmul-threads', ASYNC_ENDPOINT, true));
  assert.match(clean, /^Not safe as written: this `async def` endpoint \(GET \/login\) blocks every other request for up to 44\d\.\d ms at 6 concurrent requests \(budget 100\.0 ms\) \(busy machine: rerun to confirm\)\. Declared as `def`, FastAPI would run it in its threadpool: p99 29\.0 ms, max 29\.5 ms/);
  // Pure Python: threads stalled the loop 1.09 s, a process pool did not.
  const pure = headline(fixture('cpu-bound-python', ASYNC_ENDPOINT, true));
  assert.match(pure, /blocks every other request for up to 2\.20 s at 4 concurrent requests .* In a process pool it is: p99 7\.24 ms/);
  assert.doesNotMatch(pure, /Declared as `def`/);
});

test('an Express handler: blocks every other request, worker threads offered', () => {
  const r = expressReport();
  assert.equal(plannedModeOf(r), 'inline');
  assert.match(headline(r), /^Not safe as written: this Express handler \(GET \/render\) blocks every other request for up to 2\.20 s at 4 concurrent requests \(budget 100\.0 ms\) .*\. In worker threads it is: p99 7\.24 ms, max 15\.7 ms/);
});

test('the next step says the same in the framework\'s words; its id and code are the advice\'s', () => {
  const r = fixture('cpu-bound-python', ASYNC_ENDPOINT, true);
  const step = nextStep(r);
  assert.equal(step?.kind, 'change');
  assert.match(step!.advice.title, /^Take the blocking work out of GET \/login: on the event loop it blocks every other request for up to 2\.20 s at 4 concurrent requests$/);
  const plain = nextStep(fixture('cpu-bound-python', undefined, true));
  assert.equal(step!.advice.id, plain!.advice.id);
  assert.equal(step!.advice.fix, plain!.advice.fix);
  assert.doesNotMatch(plain!.advice.title, /request/);
});

test('the order of the checks holds: calls that raised come first, in the framework\'s place', () => {
  const h = headline(fixture('raising-calls-python', DEF_ENDPOINT));
  assert.match(h, /^Every call in FastAPI's threadpool raised ValueError: bad 3 \(raising\.py:9\): what was measured is the error path/);
  assert.doesNotMatch(h, /\bSafe\b/);
});

test('no framework, or a planned mode the framework does not use: the old sentence, word for word', () => {
  const plain = fixture('numpy-matmul-threads');
  assert.equal(headline(plain), 'Safe in a thread pool: with 6 concurrent calls the loop stayed responsive (lag p99 29.0 ms, max 29.5 ms, budget 100.0 ms) (busy machine: rerun to confirm).');
  const other = fixture('cpu-bound-python', DEF_ENDPOINT);
  other.settings.plannedMode = 'process';
  assert.equal(headline(other), headline(Object.assign(fixture('cpu-bound-python'), { settings: other.settings })));
  assert.match(headline(other), /^Safe in a process pool: with 4 concurrent calls/);
});

test('the framework decides the inferred plan: a `def` endpoint in the threadpool, an `async def` one and an Express handler on the loop', () => {
  assert.equal(plannedModeOf(fixture('cpu-bound-python', DEF_ENDPOINT)), 'thread');
  assert.equal(plannedModeOf(fixture('cpu-bound-python', ASYNC_ENDPOINT, true)), 'inline');
  // A route whose path the sidecar could not tell (an Express router mounted elsewhere): no parentheses.
  const r = expressReport();
  delete r.target.framework!.route;
  assert.match(headline(r), /^Not safe as written: this Express handler blocks every other request/);
});

test('the report validator takes any framework name (a report from a newer sidecar opens); an unknown one is worded as a plain function', () => {
  const r = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'numpy-matmul-threads.json'), 'utf8'));
  for (const name of FRAMEWORK_NAMES) {
    r.target.framework = { name, runsIn: 'loop' };
    assert.equal(Report.parse(r).target.framework?.name, name);
  }
  r.target.framework = { name: 'django', route: 'GET /index', runsIn: 'threadpool', threadpoolSize: 40 };
  const later = Report.parse(r);
  assert.equal(later.target.framework?.name, 'django');
  const plain = fixture('numpy-matmul-threads');
  assert.equal(headline(later), headline(plain));
  assert.deepEqual(nextStep(later), nextStep(plain));
  // Names that are properties of every object are not table entries either.
  later.target.framework!.name = 'constructor';
  assert.equal(headline(later), headline(plain));
  // Where it runs is still checked: a value no version knows is a bad report.
  r.target.framework = { name: 'django', runsIn: 'process' };
  assert.throws(() => Report.parse(r), /framework/);
});
