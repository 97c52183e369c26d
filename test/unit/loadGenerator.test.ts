/** The load generator's pure parts: the open-loop schedule, the recorder's counts and stats, the plan's checks, error codes. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorCode } from '../../src/serve/load/generator';
import { ChildMessage, planProblem } from '../../src/serve/load/messages';
import { StreamRecorder, thinnedIndices, TIMELINE_CAP } from '../../src/serve/load/recorder';
import { countIn, firstIndexAtOrAfter, intendedAt, streamsOf, withContentType } from '../../src/serve/load/schedule';
import type { LoadPlan } from '../../src/serve/load/types';

const PLAN: LoadPlan = {
  origin: 'http://127.0.0.1:8000',
  targets: [
    { name: 'GET /a', method: 'get', path: '/a' },
    { name: 'POST /b', method: 'POST', path: '/b', body: '{"x": 1}' },
  ],
  ratePerS: 100,
  probe: { path: '/health', ratePerS: 10 },
  warmupMs: 500,
  durationMs: 2000,
  timeoutMs: 1000,
  maxConnections: 8,
};

describe('open-loop schedule', () => {
  test('the targets, then the probe; phases staggered by a fraction of each stream\'s interval', () => {
    const streams = streamsOf(PLAN);
    assert.deepEqual(streams.map((s) => [s.name, s.method, s.probe]), [['GET /a', 'GET', false], ['POST /b', 'POST', false], ['GET /health', 'GET', true]]);
    assert.deepEqual(streams.map((s) => s.intervalMs), [10, 10, 100]);
    streams.map((s) => s.offsetMs).forEach((offset, k) => assert.ok(Math.abs(offset - [0, 10 / 3, 200 / 3][k]) < 1e-9, String(offset)));
    // No two sends of the two targets coincide.
    const a = Array.from({ length: 50 }, (_, i) => intendedAt(streams[0], i));
    const b = new Set(Array.from({ length: 50 }, (_, i) => intendedAt(streams[1], i)));
    assert.ok(a.every((t) => !b.has(t)));
  });

  test('request i is intended at offset + i / rate, whatever happened before', () => {
    const [s] = streamsOf(PLAN);
    assert.equal(intendedAt(s, 0), 0);
    assert.equal(intendedAt(s, 250), 2500);
  });

  test('the measured part holds rate × duration requests of each stream', () => {
    for (const s of streamsOf(PLAN)) {
      assert.equal(countIn(s, PLAN.warmupMs, PLAN.warmupMs + PLAN.durationMs), (s.probe ? 10 : 100) * 2);
      const first = firstIndexAtOrAfter(s, PLAN.warmupMs);
      assert.ok(intendedAt(s, first) >= PLAN.warmupMs && (first === 0 || intendedAt(s, first - 1) < PLAN.warmupMs));
    }
    // An awkward rate: floating point does not move the boundary.
    const [odd] = streamsOf({ ...PLAN, ratePerS: 3, probe: null, targets: [PLAN.targets[0]] });
    assert.equal(countIn(odd, 1000, 4000), 9);
  });

  test('a JSON body gets content-type: application/json unless the headers set one', () => {
    assert.deepEqual(withContentType({}, '{"a": 1}'), { 'content-type': 'application/json' });
    assert.deepEqual(withContentType({}, '[1, 2]'), { 'content-type': 'application/json' });
    assert.deepEqual(withContentType({}, 'a=1'), {});
    assert.deepEqual(withContentType({}, null), {});
    assert.deepEqual(withContentType({ 'Content-Type': 'text/plain' }, '{}'), { 'Content-Type': 'text/plain' });
  });
});

describe('stream recorder', () => {
  test('counts, status codes, errors and latency over the completed only', () => {
    const r = new StreamRecorder(10, 1000);
    for (let i = 0; i < 10; i++) r.sendAt(i * 10);
    for (let i = 0; i < 8; i++) r.complete(i, i < 6 ? 200 : 500, i + 1);
    r.fail(8, 'timeout');
    r.fail(9, 'ECONNRESET');
    r.complete(8, 200, 5); // a late answer to a request that already timed out
    const out = r.result({ name: 'GET /a', method: 'GET', path: '/a' }, 2000, []);
    assert.equal(out.sent, 10);
    assert.equal(out.completed, 8);
    assert.equal(out.failed, 2);
    assert.deepEqual(out.statusCodes, { 200: 6, 500: 2 });
    assert.deepEqual(out.errors, { timeout: 1, ECONNRESET: 1 });
    assert.equal(out.throughputPerS, 4);
    assert.equal(out.latency!.count, 8);
    assert.equal(out.latency!.maxMs, 8);
    assert.equal(out.latency!.meanMs, 4.5);
    assert.ok(Math.abs(out.latency!.p50Ms - 4) < 0.01, String(out.latency!.p50Ms));
    assert.deepEqual(out.timeline[8], [80, null, 0]);
    assert.deepEqual(out.timeline[7], [70, 8, 500]);
  });

  test('microsecond resolution; a value past the first range still records', () => {
    const r = new StreamRecorder(3, 10);
    [0.123, 0.124, 50_000].forEach((ms, i) => {
      r.sendAt(i);
      r.complete(i, 200, ms);
    });
    const l = r.result({ name: 'x', method: 'GET', path: '/' }, 1000, []).latency!;
    assert.ok(Math.abs(l.p50Ms - 0.124) < 0.001, String(l.p50Ms));
    assert.equal(l.maxMs, 50_000);
  });

  test('none completed: no latency', () => {
    const r = new StreamRecorder(1, 10);
    r.fail(r.sendAt(0), 'timeout');
    assert.equal(r.result({ name: 'x', method: 'GET', path: '/' }, 1000, []).latency, null);
  });

  test('the timeline is thinned evenly past the cap, with a note', () => {
    assert.deepEqual(thinnedIndices(5, 10), [0, 1, 2, 3, 4]);
    assert.deepEqual(thinnedIndices(10, 4), [0, 2, 5, 7]);
    const n = TIMELINE_CAP * 2 + 1;
    const r = new StreamRecorder(n, 1000);
    for (let i = 0; i < n; i++) r.complete(r.sendAt(i), 200, 1);
    const notes: string[] = [];
    const out = r.result({ name: 'GET /a', method: 'GET', path: '/a' }, 1000, notes);
    assert.equal(out.timeline.length, TIMELINE_CAP);
    assert.equal(out.sent, n);
    assert.match(notes[0], /GET \/a: the timeline keeps 20000 of 40001 requests/);
  });
});

describe('plan checks and messages', () => {
  test('a good plan passes; each bad field is named', () => {
    assert.equal(planProblem(PLAN), null);
    assert.equal(planProblem({ ...PLAN, origin: 'http://localhost:3000' }), null);
    const bad: [Partial<LoadPlan>, RegExp][] = [
      [{ origin: 'http://10.0.0.1:80' }, /this machine/],
      [{ origin: 'https://127.0.0.1:443' }, /origin must be/],
      [{ origin: 'http://127.0.0.1:80/prefix' }, /origin must be/],
      [{ origin: 'nope' }, /not a URL/],
      [{ ratePerS: 0 }, /ratePerS must be above 0/],
      [{ probe: { path: '/h', ratePerS: Infinity } }, /probe.ratePerS/],
      [{ probe: { path: 'h', ratePerS: 1 } }, /probe path must start/],
      [{ targets: [{ name: 'x', method: 'GET', path: 'a' }] }, /path must start with \//],
      [{ targets: [{ name: 'x', method: 'GET /', path: '/a' }] }, /not an HTTP method/],
      [{ targets: [{ name: 'x', method: 'GET', path: '/a b' }] }, /percent-encode/],
      [{ targets: [{ name: 'x', method: 'GET', path: '/é' }] }, /percent-encode/],
      [{ targets: [{ name: 'x', method: 'GET', path: '/', headers: { 'a b': '1' } }] }, /not a token/],
      [{ targets: [{ name: 'x', method: 'GET', path: '/', headers: { a: '1\r\nx: 2' } }] }, /line break/],
      [{ durationMs: 0 }, /durationMs/],
      [{ timeoutMs: -1 }, /timeoutMs/],
      [{ warmupMs: NaN }, /warmupMs/],
      [{ maxConnections: 0 }, /maxConnections/],
      [{ ratePerS: 10_000, durationMs: 3_600_000 }, /36000000 requests in one stream: at most 5000000/],
      [{ targets: [], probe: null }, /nothing to send/],
    ];
    for (const [over, why] of bad) assert.match(planProblem({ ...PLAN, ...over }) ?? 'passed', why, JSON.stringify(over));
  });

  test("the child's messages are parsed, not cast", () => {
    assert.deepEqual(ChildMessage.parse({ type: 'measuring' }), { type: 'measuring' });
    assert.deepEqual(ChildMessage.parse({ type: 'measuring', t0EpochMs: 1764500000123.5 }), { type: 'measuring', t0EpochMs: 1764500000123.5 });
    assert.throws(() => ChildMessage.parse({ type: 'progress', phase: 'later', elapsedMs: 1, sent: 1, completed: 1 }), /phase/);
    const result = {
      t0EpochMs: 1, durationMs: 1000, probe: null,
      generator: { sendLagP99Ms: 0.1, sendLagMaxMs: 0.2, cpuMs: 3, notes: [] },
      targets: [{ name: 'a', method: 'GET', path: '/', sent: 1, completed: 1, failed: 0, statusCodes: { 200: 1 }, errors: {}, latency: null, throughputPerS: 1, timeline: [[0, 1.5, 200]] }],
    };
    assert.equal(ChildMessage.parse({ type: 'result', result }).type, 'result');
    assert.throws(() => ChildMessage.parse({ type: 'result', result: { ...result, targets: [{ ...result.targets[0], statusCodes: { 200: 'one' } }] } }), /statusCodes/);
    assert.throws(() => ChildMessage.parse({ type: 'result', result: { ...result, targets: [{ ...result.targets[0], timeline: [[0, 'x', 200]] }] } }), /timeline/);
  });

  test('error codes: the client\'s own timeouts are timeouts; a cause\'s code is more specific', () => {
    assert.equal(errorCode({ code: 'UND_ERR_HEADERS_TIMEOUT' }), 'timeout');
    assert.equal(errorCode({ code: 'UND_ERR_BODY_TIMEOUT' }), 'timeout');
    assert.equal(errorCode({ code: 'UND_ERR_SOCKET', cause: { code: 'ECONNRESET' } }), 'ECONNRESET');
    assert.equal(errorCode({ code: 'ECONNREFUSED' }), 'ECONNREFUSED');
    assert.equal(errorCode(new TypeError('x')), 'TypeError');
  });
});
