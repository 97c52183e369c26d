/**
 * looplag.serve/1 from synthetic service-mode inputs: the figures (lag, probe, blockers,
 * blockers by handler), the headline and verdict for each case, the exit codes, the text
 * table, and the schema (built documents and the fixtures in test/fixtures/serve/report/).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildServeReport } from '../../src/serve/buildServeReport';
import { clipToLoad } from '../../src/serve/clip';
import { serveExitCode } from '../../src/serve/exitCode';
import { overlapMs, spanUnion } from '../../src/stats/handlerBlockers';
import { arrivalWaitQuantile } from '../../src/stats/arrivalWait';
import { lagStats } from '../../src/stats/lagStats';
import { EXIT } from '../../src/report/exitCode';
import { ServeReport } from '../../src/shared/protocol/serveReport';
import { ValidationError } from '../../src/shared/validate';
import { FIXTURES } from '../support/helpers';
import {
  AS_WRITTEN, EVERY_SECOND, healthyVariant, inputs, latency, PING, processWindow, stallingVariant, target, TWO_WORKERS, variant,
} from '../support/serveInputs';

/** Built, then through JSON and the schema, as a reader would get it. */
function build(...args: Parameters<typeof inputs>): ServeReport {
  return ServeReport.parse(JSON.parse(JSON.stringify(buildServeReport(inputs(...args)))));
}

test('a stalling server: the loop lag, the probe passed through, the blockers and the route in flight credited', () => {
  const r = build([stallingVariant()]);
  const v = r.variants[0];
  const p = v.loop.processes[0];
  assert.equal(p.lag.stallCount, 10);
  assert.equal(p.lag.stalledMs, 3000);
  assert.equal(p.lag.maxMs, 300);
  assert.equal(p.lag.stalledFrac, 0.3);
  assert.equal(p.offsetMs, 0, "the server's t0 less the load's");
  assert.deepEqual(v.loop.merged, { p99Ms: 300, maxMs: 300, stallCount: 10, stalledMs: 3000, worstPid: 4242, arrivalWaitP99Ms: 290 });
  assert.deepEqual(v.probe!.latency, latency(2, 290, 300, 100), 'the generator\'s probe figures are kept as measured');
  // 10 stalls of 300 ms in 10 s: 1% of arrivals wait over 290 ms, as the probe did.
  assert.deepEqual(v.probeVsLoop, { probeP99Ms: 290, loopLagP99Ms: 300, arrivalWaitP99Ms: 290, ratio: 1 });
  assert.equal(v.blockers[0].file, 'app/reports.py');
  assert.equal(v.blockers[0].line, 42);
  assert.equal(v.blockers[0].share, 1);
  const sales = v.byHandler.find((h) => h.route === '/reports/sales')!;
  assert.deepEqual([sales.stalls, sales.stalledMs, sales.soleStalls, sales.soleStalledMs], [10, 3000, 10, 3000]);
  assert.equal(sales.topBlocker?.line, 42);
  assert.equal(v.byHandler[0].route, '/reports/sales', 'the most stalled handler first');
  const health = v.byHandler.find((h) => h.route === '/health')!;
  assert.deepEqual([health.stalls, health.stalledMs, health.topBlocker], [0, 0, null], 'a request between stalls is not charged');
  assert.ok(!v.byHandler.some((h) => h.route === PING), "the probe is in flight in every stall: it is no handler");
  assert.equal(v.verdict, 'over-budget');
  assert.equal(r.verdict, 'over-budget');
  assert.equal(r.headline, 'At 20 req/s on GET /reports/sales, a trivial request waited p99 290.0 ms (budget 100 ms).');
  assert.equal(r.status, 'complete');
  assert.ok(v.quality.trustworthy);
});

test('the lag timeline is decimated for charts and still holds every stall', () => {
  const w = processWindow(1, EVERY_SECOND, { heartbeatMs: 1 });
  const r = build([variant(AS_WRITTEN, [w], { targets: [target('GET /reports/sales')], probe: null })]);
  const p = r.variants[0].loop.processes[0];
  assert.ok(w.samples.length > 6000, `${w.samples.length} heartbeats`);
  assert.ok(p.lag.samples.length <= 1000, `${p.lag.samples.length} chart points`);
  assert.equal(p.lag.sampleCount, w.samples.length, 'the statistics are over every sample');
  assert.equal(p.lag.samples.filter((s) => s[1] === 300).length, 10);
});

test('variants side by side: the headline is the verdict as written, then each other variant\'s p99', () => {
  const r = build([stallingVariant(), healthyVariant()]);
  assert.equal(r.headline, 'At 20 req/s on GET /reports/sales, a trivial request waited p99 290.0 ms (budget 100 ms); with 2 uvicorn workers: p99 12.0 ms.');
  assert.deepEqual(r.variants.map((v) => [v.label, v.verdict]), [['as written', 'over-budget'], ['2 uvicorn workers', 'within-budget']]);
  assert.equal(r.variants[1].headline, 'At 20 req/s on GET /reports/sales with 2 uvicorn workers, a trivial request waited p99 12.0 ms (budget 100 ms).');
  assert.equal(r.variants[1].loop.processes.length, 2);
});

test('two processes: the worst one\'s lag, the stalls summed, the blockers merged', () => {
  const r = build([variant(TWO_WORKERS, [processWindow(7001, EVERY_SECOND.slice(0, 4)), processWindow(7002, [])], {
    targets: [target('GET /reports/sales')], probe: { ...target(`GET ${PING}`, { sent: 100, lat: latency(2, 150, 300, 100) }), name: 'probe' },
  })]);
  const v = r.variants[0];
  assert.equal(v.loop.merged!.worstPid, 7001);
  assert.equal(v.loop.merged!.stallCount, 4);
  assert.equal(v.loop.merged!.stalledMs, 1200);
  assert.equal(v.cpu!.userMs, 6000);
  assert.equal(v.cpu!.parallelism, 0.64);
  assert.equal(v.blockers.length, 1);
  assert.equal(v.blockers[0].stalledMs, 1200);
  assert.equal(v.blockers[0].share, 1);
  assert.equal(v.byHandler[0].stalls, 4);
});

test('a failing endpoint is called out before any latency, and exits 4', () => {
  const failing = variant(AS_WRITTEN, [processWindow(1, [])], {
    targets: [target('GET /x', { statusCodes: { 200: 163, 500: 37 } })],
    probe: { ...target(`GET ${PING}`, { sent: 100, lat: latency(2, 3, 4, 100) }), name: 'probe' },
  });
  const r = build([failing], { settings: { ...inputs([]).settings, endpoints: [{ name: 'GET /x', method: 'GET', path: '/x', body: null }] } });
  const v = r.variants[0];
  assert.equal(v.endpoints[0].errorResponses, 37);
  assert.equal(v.verdict, 'failed-requests');
  assert.equal(r.headline, 'GET /x failed 37 of 200 requests (500: 37): the latency of the rest is not its real cost.');
  assert.equal(v.quality.failedFrac, 0.123);
  assert.ok(!v.quality.trustworthy, 'a tenth of the requests failed: the load measured is not the load sent');
  assert.equal(v.endpoints[0].failedAtMs.length, 37);
  assert.deepEqual(serveExitCode(r, null), { code: EXIT.callsFailed, stderr: ['looplag: as written: GET /x failed 37 of 200 requests (500: 37)'] });
  assert.equal(serveExitCode(r, 1).code, EXIT.callsFailed, 'failed requests come before the budget');
});

test('connection errors fail requests; timeouts are a stalled server: over budget', () => {
  const reset = build([variant(AS_WRITTEN, [processWindow(1, [])], { targets: [target('GET /a', { errors: { ECONNRESET: 2 } })], probe: null })]);
  assert.equal(reset.variants[0].verdict, 'failed-requests');
  assert.match(reset.headline, /GET \/a failed 2 of 200 requests \(ECONNRESET: 2\)/);
  const slow = build([variant(AS_WRITTEN, [processWindow(1, [])], { targets: [target('GET /a', { errors: { timeout: 3 } })], probe: { ...target(`GET ${PING}`, { sent: 100, lat: latency(1, 2, 3, 100) }), name: 'probe' } })]);
  assert.equal(slow.variants[0].verdict, 'over-budget');
  assert.match(slow.headline, /; 3 of 200 requests to GET \/a timed out\.$/);
  assert.equal(serveExitCode(slow, 100).code, EXIT.budget);
  assert.deepEqual(serveExitCode(slow, 100).stderr, ['looplag: budget 100 ms exceeded: as written (3 timed out)']);
});

test('a variant that never started says so; with nothing measured the document failed and exits 1', () => {
  const never = variant(AS_WRITTEN, [], null, {
    status: 'failed', ready: null, error: { kind: 'import-error', message: "No module named 'app'", detail: 'Traceback…' },
  });
  const r = build([never]);
  assert.equal(r.variants[0].verdict, 'not-measured');
  assert.equal(r.headline, "As written, the server did not start: No module named 'app'.");
  assert.equal(r.status, 'failed');
  assert.deepEqual(serveExitCode(r, 100), { code: EXIT.notMeasured, stderr: ["looplag: nothing measured: as written (No module named 'app')"] });
  const mixed = build([stallingVariant(), { ...never, variant: TWO_WORKERS }]);
  assert.equal(mixed.status, 'partial');
  assert.match(mixed.headline, /\(budget 100 ms\); with 2 uvicorn workers: did not start \(No module named 'app'\)\.$/);
  assert.equal(serveExitCode(mixed, null).code, EXIT.ok, 'one variant measured: the report says the rest');
});

test('exit codes: budget only when given, cancel and timeout first', () => {
  const r = build([stallingVariant(), healthyVariant()]);
  assert.deepEqual(serveExitCode(r, null), { code: EXIT.ok, stderr: [] });
  assert.deepEqual(serveExitCode(r, 100), { code: EXIT.budget, stderr: ['looplag: budget 100 ms exceeded: as written (probe p99 290.0 ms, loop lag p99 300.0 ms)'] });
  assert.equal(serveExitCode(r, 500).code, EXIT.ok);
  const cancelled = build([stallingVariant()], { error: { kind: 'cancelled', message: 'cancelled', detail: null } });
  assert.equal(cancelled.status, 'partial');
  assert.equal(serveExitCode(cancelled, 100).code, EXIT.interrupted);
  const timedOut = build([stallingVariant()], { error: { kind: 'timeout', message: 'the session took over 60 s', detail: null } });
  assert.equal(serveExitCode(timedOut, null).code, EXIT.timeout);
});

test("a probe within the budget while one server loop is over it: over budget, and the headline says which", () => {
  const oneStalls = variant(TWO_WORKERS, [processWindow(6001, EVERY_SECOND), processWindow(6002, [])], {
    targets: [target('GET /reports/sales')], probe: { ...target(`GET ${PING}`, { sent: 100, lat: latency(1, 12, 300, 100) }), name: 'probe' },
  });
  const r = build([stallingVariant(), oneStalls]);
  assert.equal(r.variants[1].verdict, 'over-budget');
  assert.equal(r.variants[1].headline, 'At 20 req/s on GET /reports/sales with 2 uvicorn workers, a trivial request waited p99 12.0 ms, but one server loop lagged p99 300.0 ms (budget 100 ms).');
  assert.match(r.headline, /; with 2 uvicorn workers: p99 12\.0 ms, one server loop lagged p99 300\.0 ms\.$/);
  assert.deepEqual(serveExitCode(r, 100).stderr, ['looplag: budget 100 ms exceeded: as written (probe p99 290.0 ms, loop lag p99 300.0 ms), 2 uvicorn workers (loop lag p99 300.0 ms)']);
});

test('no budget given: the verdict uses the default, the document says which', () => {
  const r = build([stallingVariant()], { settings: { ...inputs([]).settings, budgetMs: null } });
  assert.equal(r.settings.budgetMs, null);
  assert.equal(r.settings.verdictBudgetMs, 100);
  assert.equal(r.variants[0].verdict, 'over-budget');
});

test('a body is kept as its size only; the build is deterministic', () => {
  const secret = '{"password":"hunter2-ü"}';
  const i = inputs([stallingVariant()], { settings: { ...inputs([]).settings, endpoints: [{ name: 'POST /auth/hash', method: 'POST', path: '/auth/hash', body: secret }] } });
  const r = buildServeReport(i);
  assert.equal(r.settings.endpoints[0].bodyBytes, 25);
  assert.ok(!JSON.stringify(r).includes('hunter2'));
  assert.deepEqual(buildServeReport(i), r);
});

test('a late generator or many failures make the run untrustworthy, and the document says why', () => {
  const late = stallingVariant();
  late.load!.generator = { sendLagP99Ms: 25, sendLagMaxMs: 80, cpuMs: 900, notes: ['timeline thinned to 20000 requests'] };
  const r = build([late]);
  assert.ok(!r.quality.trustworthy);
  assert.match(r.quality.notes[0], /^as written: The load generator itself sent late \(p99 25\.0 ms/);
  assert.match(r.quality.notes[1], /load generator: timeline thinned/);
});

test('routes in flight together share a stall: neither gets it alone, nor a line', () => {
  const w = processWindow(1, [1000], {
    routes: [['GET', '/a', [[900, 1200]]], ['POST', '/b', [[1250, 1400]]], ['GET', '/a2', [[2000, 2001]]]],
  });
  const r = build([variant(AS_WRITTEN, [w], { targets: [target('GET /a')], probe: null })]);
  const by = new Map(r.variants[0].byHandler.map((h) => [h.route, h]));
  assert.deepEqual([by.get('/a')!.stalledMs, by.get('/a')!.soleStalls, by.get('/a')!.topBlocker], [200, 0, null]);
  assert.deepEqual([by.get('/b')!.stalledMs, by.get('/b')!.soleStalls], [50, 0]);
  assert.equal(by.get('/a2')!.stalls, 0);
});

test('the fixtures: the valid document parses, each invalid one is rejected at the field it breaks', () => {
  const dir = path.join(FIXTURES, 'serve', 'report');
  const valid = JSON.parse(fs.readFileSync(path.join(dir, 'stalling-asgi.json'), 'utf8'));
  const doc = ServeReport.parse(valid);
  assert.equal(doc.variants.length, 2);
  assert.equal(doc.variants[1].verdict, 'not-measured');
  const cases = fs.readFileSync(path.join(dir, 'invalid.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.ok(cases.length >= 10);
  for (const c of cases) {
    const broken = structuredClone(valid);
    let at = broken;
    for (const key of c.set.slice(0, -1)) at = at[key];
    at[c.set[c.set.length - 1]] = c.value;
    assert.throws(() => ServeReport.parse(broken), (e: unknown) => e instanceof ValidationError && e.path === c.error, c.why);
  }
});

test('the fixture is what buildServeReport writes today (LOOPLAG_UPDATE_FIXTURES=1 rewrites it when the document changes)', () => {
  const never = variant(TWO_WORKERS, [], null, { status: 'failed', ready: null, error: { kind: 'crashed', message: 'uvicorn exited with code 3', detail: null } });
  const built = JSON.parse(JSON.stringify(buildServeReport(inputs([stallingVariant(), never]))));
  const file = path.join(FIXTURES, 'serve', 'report', 'stalling-asgi.json');
  if (process.env.LOOPLAG_UPDATE_FIXTURES === '1') fs.writeFileSync(file, JSON.stringify(built, null, 1) + '\n');
  assert.deepEqual(built, JSON.parse(fs.readFileSync(file, 'utf8')));
});

test("the session's own notes on a variant are kept and shown", () => {
  const v = { ...stallingVariant(), notes: ['the server did not end when told and was killed'] };
  const r = build([v]);
  assert.deepEqual(r.variants[0].notes, ['the server did not end when told and was killed']);
});

test('overlapMs: two requests of a route in flight together count the stall once; spans outside it not at all', () => {
  const stall = { startMs: 100, endMs: 400 };
  assert.equal(overlapMs(spanUnion([[0, 150], [100, 250], [400, 500]]), stall), 150);
  assert.equal(overlapMs(spanUnion([[0, 100], [400, 500]]), stall), 0);
  assert.equal(overlapMs(spanUnion([[150, 200], [0, 1000]]), stall), 300);
  assert.equal(overlapMs(spanUnion([[50, 120], [130, 140], [300, 350], [390, 420], [500, 600]]), stall), 20 + 10 + 50 + 10);
  assert.deepEqual(spanUnion([[5, 9], [0, 3], [2, 4], [9, 9], [8, 12]]), [[0, 4], [5, 12]]);
});

test('a Node app: its variants are Node cluster workers; without a probe the wait the heartbeat predicts is judged', () => {
  const noProbe = variant(AS_WRITTEN, [processWindow(1, EVERY_SECOND)], { targets: [target('GET /docs/x'), target('POST /docs')], probe: null });
  const more = variant({ name: 'processes', processes: 3, threadTokens: null }, [processWindow(2, []), processWindow(3, []), processWindow(4, [])], { targets: [target('GET /docs/x'), target('POST /docs')], probe: null });
  const r = build([noProbe, more], { app: { type: 'node', script: '/work/app/server.js', args: [] } });
  assert.equal(r.variants[1].label, '3 Node cluster workers');
  assert.equal(r.headline, 'At 20 req/s each on GET /docs/x and POST /docs, a request arriving at random would have waited p99 290.0 ms for the loop (budget 100 ms); with 3 Node cluster workers: predicted wait p99 0.10 ms.');
  assert.equal(r.variants[0].probeVsLoop, null);
  assert.deepEqual(serveExitCode(r, 100).stderr, ['looplag: budget 100 ms exceeded: as written (predicted wait p99 290.0 ms, loop lag p99 300.0 ms)']);
});

test('arrival wait: a stall of L ms makes a request arriving x ms into it wait L − x; the lag p99 counts each stall once', () => {
  const wait = (lags: number[], wallMs: number, q: number) => Math.round(arrivalWaitQuantile(lags, wallMs, q) * 1e6) / 1e6;
  const lags = [...Array<number>(20).fill(100), ...Array<number>(3000).fill(0.1)];
  assert.equal(Math.round(wait(lags, 5000, 0.99) * 10) / 10, 97.5);
  assert.ok(lagStats(lags.map((l, i) => [i, l]), { heartbeatMs: 1, stallMs: 50, wallMs: 5000 }).p99Ms < 1, 'the lag p99 sees 20 samples in 3020');
  assert.equal(wait([1000], 10_000, 0.99), 900);
  assert.equal(wait([1000], 10_000, 0.5), 0, 'half the arrivals find the loop free');
  assert.equal(wait([0, 0], 1000, 0.99), 0);
  assert.equal(wait([], 1000, 0.99), 0);
  // Half of 100 ms: (40 − w) + (30 − w) = 50 with both stalls still counting.
  assert.equal(wait([40, 30], 100, 0.5), 10);
  // A fifth: (40 − w) + (30 − w) = 20; a twentieth: only the 40 ms stall reaches above 30, 40 − w = 5.
  assert.equal(wait([40, 30], 100, 0.8), 25);
  assert.equal(wait([40, 30], 100, 0.95), 35);
});

test('without a probe, a loop whose lag p99 looks healthy is still over budget when the stalls make requests wait', () => {
  const w = processWindow(1, EVERY_SECOND, { heartbeatMs: 1 });
  const r = build([variant(AS_WRITTEN, [w], { targets: [target('GET /reports/sales')], probe: null })]);
  const v = r.variants[0];
  assert.ok(v.loop.merged!.p99Ms < 1, `lag p99 ${v.loop.merged!.p99Ms}: ten 300 ms stalls are ten samples of about 7000`);
  assert.equal(v.loop.merged!.arrivalWaitP99Ms, 290);
  assert.equal(v.verdict, 'over-budget');
  assert.deepEqual(serveExitCode(r, 100).stderr, ['looplag: budget 100 ms exceeded: as written (predicted wait p99 290.0 ms)']);
});

test("the server's window is cut to the load's measured part: a stall after it, an idle tail and spans outside it do not count", () => {
  const base = inputs([stallingVariant()]);
  const v = base.variants[0];
  const load = v.load!;
  const w = v.server[0];
  // The server opened its window 20 ms after the load's measured start, and closed it 3 s after its end
  // (the load waited for a last request), with a 900 ms stall in that tail and one straddling the end.
  const end = load.durationMs - 20;
  const tail: number[][] = [[end + 100, 150], [end + 2000, 900]];
  const clipped = clipToLoad({
    ...w, t0EpochMs: load.t0EpochMs + 20, wallMs: load.durationMs + 3000, samples: [...w.samples.filter((s) => s[0] < end - 100), ...tail],
    requests: [{ method: 'GET', route: '/late', spans: [[end + 10, end + 40], [end - 30, end + 30]], dropped: 0 }],
  }, load);
  assert.equal(clipped.wallMs, end, 'from the server t0 to the load\'s end');
  assert.ok(clipped.samples.every(([wake]) => wake <= end), 'nothing after the end');
  assert.deepEqual(clipped.samples.at(-1), [end, 50], 'the stall across the end keeps its 50 ms inside');
  assert.deepEqual(clipped.requests[0].spans, [[end - 30, end]], 'a span after the end goes; one across it is cut');
  const report = buildServeReport({ ...base, variants: [{ ...v, server: [{ ...w, t0EpochMs: load.t0EpochMs + 20, wallMs: load.durationMs + 3000, samples: [...w.samples, ...tail.map(([t, l]) => [t + 3000, l])] }] }] });
  assert.ok(report.variants[0].loop.processes[0].lag.maxMs < 900, `the tail's 900 ms stall is not counted: max ${report.variants[0].loop.processes[0].lag.maxMs}`);
});

test('a server that crashed under load exits 5 (its figures stop at the crash), before failed requests and the budget', () => {
  const crashed = { ...stallingVariant(), variant: TWO_WORKERS, status: 'failed' as const,
    error: { kind: 'crashed' as const, message: 'the Python server, under load, exited with code 3', detail: null } };
  const r = build([stallingVariant(), crashed]);
  assert.deepEqual(serveExitCode(r, 100), { code: EXIT.callsUnfinished, stderr: ['looplag: a server failed under load: 2 uvicorn workers (the Python server, under load, exited with code 3)'] });
  // Alone, with the requests measured before the crash: the same (it was 1, nothing measured).
  assert.equal(serveExitCode(build([{ ...crashed, variant: AS_WRITTEN }]), null).code, EXIT.callsUnfinished);
  const cancelled = build([stallingVariant(), crashed], { error: { kind: 'cancelled', message: 'cancelled', detail: null } });
  assert.equal(serveExitCode(cancelled, 100).code, EXIT.interrupted, 'a cancel still comes first');
});

test('a variant cut short (cancelled under load) keeps its figures so far: partial, no verdict, requests in flight at the cut are not failures', () => {
  const cancelled = { kind: 'cancelled' as const, message: 'cancelled with the app as written under load', detail: null };
  const cut = variant(AS_WRITTEN, [processWindow(4242, EVERY_SECOND)], {
    targets: [target('GET /reports/sales', { sent: 40, errors: { cut: 12 }, lat: latency(305, 320, 330, 28) })],
    probe: { ...target(`GET ${PING}`, { sent: 50, errors: { cut: 1 }, lat: latency(2, 290, 300, 49) }), name: 'probe' },
  }, { status: 'failed', error: cancelled });
  const r = build([cut], { error: cancelled });
  const v = r.variants[0];
  assert.equal(r.status, 'partial', 'something was measured');
  assert.equal(v.verdict, 'not-measured', 'figures up to a cut are not a verdict');
  assert.equal(r.headline, 'As written, cut short (cancelled with the app as written under load): until then, at 20 req/s on GET /reports/sales, a trivial request waited p99 290.0 ms (budget 100 ms); no verdict.');
  assert.deepEqual([v.endpoints[0].sent, v.endpoints[0].completed, v.endpoints[0].failed], [40, 28, 12]);
  assert.equal(v.quality.failedFrac, 0, 'in flight at the cut: not unanswered');
  assert.ok(v.quality.trustworthy);
  assert.equal(serveExitCode(r, 100).code, EXIT.interrupted);
  // After another variant: its phrase says the same.
  const second = build([stallingVariant(), { ...cut, variant: TWO_WORKERS }], { error: cancelled });
  assert.match(second.headline, /; with 2 uvicorn workers: cut short \(cancelled with the app as written under load\), until then p99 290\.0 ms\.$/);
  // A cancel before any request was sent still reads as not measured.
  const early = build([variant(AS_WRITTEN, [processWindow(4242, [])], null, { status: 'failed', error: cancelled })], { error: cancelled });
  assert.equal(early.status, 'failed');
  assert.match(early.headline, /^As written, the server was not measured: cancelled/);
});
