/**
 * The service-mode sweep from synthetic points (no processes): the climbing rule (rates
 * ascending, rate-major, a variant stops at its first rate not sustained, the session's end
 * stops all), looplag.serveSweep/1 (each point's figures and verdict from its
 * looplag.serve/1 document, the highest rate sustained, the headline, the schema), the exit
 * codes, the table, and the command line's --sweep-rate/--sweep-threads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServeArgs } from '../../src/cli/serveCommandLine';
import { UsageError } from '../../src/engine/options';
import { EXIT } from '../../src/report/exitCode';
import { serveSweepText } from '../../src/report/serveSweepText';
import { buildServeReport } from '../../src/serve/buildServeReport';
import type { ServeVariant, VariantInputs } from '../../src/serve/inputs';
import { climb, ClimbStep, PointOutcome, sustainedRate } from '../../src/serve/sweep/climb';
import { fellBehind } from '../../src/serve/sweep/keepUp';
import { buildServeSweep } from '../../src/serve/sweep/build';
import { serveSweepExitCode } from '../../src/serve/sweep/exitCode';
import { ServeSweepInputs, sweepVariants } from '../../src/serve/sweep/run';
import type { RunError } from '../../src/shared/protocol';
import type { ServeReport } from '../../src/shared/protocol/serveReport';
import { ServeSweep } from '../../src/shared/protocol/serveSweep';
import { AS_WRITTEN, EVERY_SECOND, inputs, latency, PING, processWindow, target, variant } from '../support/serveInputs';

type Kind = 'within' | 'over' | 'failed' | 'crashed' | 'no-start' | 'cancelled' | 'killed' | 'no-module';

const NO_MODULE: RunError = { kind: 'target-not-found', message: "no module 'app' in /work (the app's folder, first on sys.path)", detail: null };
const CANCELLED: RunError = { kind: 'cancelled', message: 'cancelled with the app as written under load', detail: null };
const probe = (p99: number) => ({ ...target(`GET ${PING}`, { sent: 100, lat: latency(1, p99, p99 + 2, 100) }), name: 'probe' });

/** One point's variant inputs: healthy (probe p99 12 ms), stalling (290 ms), 500s, a crash under load, a server that never started, a cancel under load. */
function pointInputs(v: ServeVariant, kind: Kind): VariantInputs {
  const sales = (opts: Parameters<typeof target>[1] = {}) => target('GET /reports/sales', opts);
  switch (kind) {
    case 'within': return variant(v, [processWindow(1, [])], { targets: [sales({ lat: latency(8, 15, 20) })], probe: probe(12) });
    case 'over': return variant(v, [processWindow(1, EVERY_SECOND)], { targets: [sales({ lat: latency(305, 320, 330) })], probe: probe(290) });
    case 'failed': return variant(v, [processWindow(1, [])], { targets: [sales({ statusCodes: { 200: 150, 503: 50 } })], probe: probe(12) });
    case 'crashed': return variant(v, [], null, { status: 'failed', error: { kind: 'crashed', message: 'the Python server, under load, exited with code 3', detail: null } });
    case 'no-start': return variant(v, [], null, { status: 'failed', ready: null, error: { kind: 'unsupported-mode', message: 'AnyIO is not installed', detail: null } });
    // Its own limit, not the sweep's: a server too far behind to answer the stop was killed.
    case 'killed': return variant(v, [], { targets: [sales()], probe: probe(12) }, { status: 'failed', error: { kind: 'timeout', message: 'the server sent no window within 10 s of being told to stop', detail: null } });
    case 'no-module': return variant(v, [], null, { status: 'failed', ready: null, error: NO_MODULE });
    case 'cancelled': return variant(v, [processWindow(1, [])], { targets: [sales()], probe: probe(12) }, { status: 'failed', error: CANCELLED });
  }
}

/** The sweep over `rates` where `plan[variant index][rate]` says how each point comes out (a point not in it must not run). */
async function sweep(variants: ServeVariant[], rates: number[], plan: Record<number, Kind>[], budgetMs: number | null = 100): Promise<{ doc: ServeSweep; order: string[] }> {
  const order: string[] = [];
  let error: RunError | null = null;
  const steps = await climb(variants, rates, async (v, rate): Promise<PointOutcome<ServeReport>> => {
    const i = variants.indexOf(v);
    order.push(`${i}@${rate}`);
    const kind = plan[i][rate];
    assert.ok(kind, `variant ${i} at ${rate} req/s must not run`);
    // A cancel ends the sweep, and so does an app no variant can import (session.ts's SESSION_ENDING).
    const ended = kind === 'cancelled' ? CANCELLED : kind === 'no-module' ? NO_MODULE : null;
    error ??= ended;
    const base = inputs([]).settings;
    const report = buildServeReport(inputs([pointInputs(v, kind)], { settings: { ...base, ratePerS: rate, budgetMs }, error: ended }));
    return { point: report, verdict: report.variants[0].verdict, ended };
  });
  const base = inputs([]);
  const sweepInputs: ServeSweepInputs = {
    app: base.app, runtime: base.runtime, settings: { ...base.settings, budgetMs }, ratesPerS: rates, processes: null, threadTokens: [],
    variants, steps, error, timeoutS: 600, createdAt: base.createdAt, workspaceRoot: base.workspaceRoot,
  };
  // Through JSON and the schema, as a reader gets it.
  return { doc: ServeSweep.parse(JSON.parse(JSON.stringify(buildServeSweep(sweepInputs)))), order };
}

const WORKERS: ServeVariant = { name: 'processes', processes: 2, threadTokens: null };
const ONE_TOKEN: ServeVariant = { name: 'threads', processes: 1, threadTokens: 1 };

test('climbing: rate by rate ascending, each variant until its first rate not sustained; the higher rates not run, with the reason', async () => {
  const { doc, order } = await sweep([AS_WRITTEN, WORKERS, ONE_TOKEN], [5, 10, 20, 40], [
    { 5: 'within', 10: 'over' },
    { 5: 'within', 10: 'within', 20: 'within', 40: 'within' },
    { 5: 'within', 10: 'within', 20: 'failed' },
  ]);
  assert.deepEqual(order, ['0@5', '1@5', '2@5', '0@10', '1@10', '2@10', '1@20', '2@20', '1@40']);
  const [asWritten, workers, token] = doc.variants;
  assert.deepEqual(doc.variants.map((v) => [v.label, v.sustainedRatePerS, v.sustainedAll]), [['as written', 5, false], ['2 uvicorn workers', 40, true], ['1 thread token', 10, false]]);
  assert.deepEqual(asWritten.points.map((p) => [p.ratePerS, p.status, p.verdict, p.reason]), [
    [5, 'measured', 'within-budget', null], [10, 'measured', 'over-budget', null],
    [20, 'not-run', 'not-measured', 'over budget at 10 req/s'], [40, 'not-run', 'not-measured', 'over budget at 10 req/s'],
  ]);
  assert.deepEqual(asWritten.stop, { ratePerS: 10, verdict: 'over-budget', reason: 'over budget at 10 req/s: probe p99 290.0 ms, loop lag p99 300.0 ms' });
  assert.equal(workers.stop, null);
  assert.deepEqual(token.stop, { ratePerS: 20, verdict: 'failed-requests', reason: 'requests failed at 20 req/s: 50 of 200 requests' });
  assert.equal(token.points[3].reason, 'requests failed at 20 req/s');
  assert.equal(doc.headline, 'As written sustains 5 req/s on GET /reports/sales within 100 ms (over budget at 10 req/s: probe p99 290.0 ms, loop lag p99 300.0 ms); ' +
    'with 2 uvicorn workers: 40 req/s, the highest rate tried; with 1 thread token: 10 req/s (requests failed at 20 req/s: 50 of 200 requests).');
  assert.equal(doc.status, 'complete', 'rates not run by the climbing rule are the sweep working, not a partial one');
  assert.equal(doc.schema, 'looplag.serveSweep/1');
});

test('each point summarises its looplag.serve/1 figures: the probe, the loop, the endpoints, failures, completed/s, the top blocker', async () => {
  const { doc } = await sweep([AS_WRITTEN], [5, 10], [{ 5: 'within', 10: 'over' }]);
  const [ok, over] = doc.variants[0].points;
  assert.deepEqual(ok.probe, { p50Ms: 1, p99Ms: 12 });
  assert.deepEqual(over.probe, { p50Ms: 1, p99Ms: 290 });
  assert.deepEqual(over.loop, { lagP99Ms: 300, lagMaxMs: 300, arrivalWaitP99Ms: 290, stallCount: 10 });
  assert.deepEqual(over.endpoints, [{ name: 'GET /reports/sales', sent: 200, completed: 200, failures: 0, timedOut: 0, p99Ms: 320, throughputPerS: 20 }]);
  assert.deepEqual([over.failures, over.completedPerS, over.startupMs], [0, 20, 420]);
  assert.deepEqual(over.overBudget, ['probe p99 290.0 ms', 'loop lag p99 300.0 ms']);
  assert.deepEqual([over.topBlocker?.file, over.topBlocker?.line], ['app/reports.py', 42]);
  assert.deepEqual(ok.overBudget, []);
  assert.match(over.headline, /^At 10 req\/s on GET \/reports\/sales, a trivial request waited p99 290\.0 ms \(budget 100 ms\)\.$/);
});

test('a variant whose server does not start stops climbing with the message; the others go on', async () => {
  const { doc, order } = await sweep([AS_WRITTEN, ONE_TOKEN], [5, 10], [{ 5: 'within', 10: 'within' }, { 5: 'no-start' }]);
  assert.deepEqual(order, ['0@5', '1@5', '0@10']);
  const token = doc.variants[1];
  assert.equal(token.sustainedRatePerS, null);
  assert.deepEqual([token.points[0].status, token.points[0].error?.kind, token.points[0].startupMs], ['failed', 'unsupported-mode', null]);
  assert.equal(token.stop?.reason, 'not measured at 5 req/s: AnyIO is not installed');
  assert.match(doc.headline, /; with 1 thread token: not measured \(AnyIO is not installed\)\.$/);
  assert.match(serveSweepText(doc), /^1 thread token — not measured$/m);
  assert.equal(doc.status, 'partial');
  assert.equal(serveSweepExitCode(doc, 100).code, EXIT.ok, 'as looplag serve: a variant that did not start while another was measured is exit 0');
});

test('an app that cannot be imported ends the sweep at its first point: not measured, said once; exit 1', async () => {
  const { doc, order } = await sweep([AS_WRITTEN, ONE_TOKEN], [5, 10], [{ 5: 'no-module' }, {}]);
  assert.deepEqual(order, ['0@5']);
  assert.equal(doc.headline, "Not measured: no module 'app' in /work (the app's folder, first on sys.path).");
  assert.deepEqual(doc.variants[1].points.map((p) => p.reason), ['the sweep ended before it ran (target-not-found)', 'the sweep ended before it ran (target-not-found)']);
  assert.deepEqual([doc.status, doc.variants[0].stop], ['failed', null]);
  assert.match(serveSweepText(doc), /^1 thread token — not run$/m);
  assert.deepEqual(serveSweepExitCode(doc, null), { code: EXIT.notMeasured, stderr: ["looplag: error [target-not-found]: no module 'app' in /work (the app's folder, first on sys.path)"] });
});

test('a cancel stops every variant: the points measured before it are kept, the rest not run as cancelled; exit 130', async () => {
  const { doc, order } = await sweep([AS_WRITTEN, WORKERS], [5, 10, 20], [{ 5: 'within', 10: 'cancelled' }, { 5: 'within' }]);
  assert.deepEqual(order, ['0@5', '1@5', '0@10']);
  const [asWritten, workers] = doc.variants;
  assert.deepEqual(asWritten.points.map((p) => p.status), ['measured', 'failed', 'not-run']);
  assert.equal(asWritten.points[1].error?.kind, 'cancelled');
  assert.ok(asWritten.points[1].probe, 'the cut point keeps its figures so far');
  assert.equal(asWritten.stop, null, 'the sweep stopped, not the variant');
  assert.deepEqual(workers.points.map((p) => p.reason), [null, 'cancelled before it ran', 'cancelled before it ran']);
  assert.equal(asWritten.sustainedRatePerS, 5);
  assert.equal(doc.status, 'partial');
  assert.equal(doc.error?.kind, 'cancelled');
  assert.match(doc.headline, /^As written sustains 5 req\/s so far on GET \/reports\/sales within 100 ms \(cancelled\); with 2 uvicorn workers: 5 req\/s so far \(cancelled\)\.$/);
  assert.equal(serveSweepExitCode(doc, 100).code, EXIT.interrupted);
});

test('exit codes: a higher rate over the budget is the finding (0); missing the lowest rate is 3 with --budget-ms, failed requests there 4, a crash 5', async () => {
  const ceiling = (await sweep([AS_WRITTEN], [5, 10], [{ 5: 'within', 10: 'over' }])).doc;
  assert.deepEqual(serveSweepExitCode(ceiling, 100), { code: EXIT.ok, stderr: [] });
  const none = (await sweep([AS_WRITTEN, WORKERS], [5, 10], [{ 5: 'over' }, { 5: 'within', 10: 'within' }])).doc;
  assert.deepEqual(serveSweepExitCode(none, 100), { code: EXIT.budget, stderr: ['looplag: budget 100 ms exceeded: as written at 5 req/s, the lowest rate (probe p99 290.0 ms, loop lag p99 300.0 ms)'] });
  assert.equal(serveSweepExitCode(none, null).code, EXIT.ok, 'without --budget-ms there is no gate');
  const failing = (await sweep([AS_WRITTEN], [5, 10], [{ 5: 'failed' }])).doc;
  assert.deepEqual(serveSweepExitCode(failing, 100), { code: EXIT.callsFailed, stderr: ['looplag: as written: 50 requests failed at 5 req/s, the lowest rate (GET /reports/sales)'] });
  const failingHigher = (await sweep([AS_WRITTEN], [5, 10], [{ 5: 'within', 10: 'failed' }])).doc;
  assert.equal(serveSweepExitCode(failingHigher, 100).code, EXIT.ok, 'failures at a higher rate are where it stopped');
  const crashed = (await sweep([AS_WRITTEN], [5, 10], [{ 5: 'within', 10: 'crashed' }])).doc;
  assert.deepEqual(serveSweepExitCode(crashed, 100), { code: EXIT.callsUnfinished, stderr: ['looplag: a server failed under load: as written at 10 req/s (the Python server, under load, exited with code 3)'] });
  const killed = (await sweep([AS_WRITTEN, WORKERS], [5, 10, 20], [{ 5: 'within', 10: 'killed' }, { 5: 'within', 10: 'within', 20: 'within' }])).doc;
  assert.equal(killed.error, null, "a point's own timeout does not end the sweep");
  assert.deepEqual(killed.variants[0].stop, { ratePerS: 10, verdict: 'not-measured', reason: 'not measured at 10 req/s: the server sent no window within 10 s of being told to stop' });
  assert.equal(killed.variants[1].sustainedRatePerS, 20);
  assert.equal(serveSweepExitCode(killed, 100).code, EXIT.callsUnfinished);
  const never = (await sweep([AS_WRITTEN], [5, 10], [{ 5: 'no-start' }])).doc;
  assert.equal(never.status, 'failed');
  assert.deepEqual(serveSweepExitCode(never, 100), { code: EXIT.notMeasured, stderr: ['looplag: nothing measured: as written at 5 req/s (AnyIO is not installed)'] });
});

test('the table: the headline first, a row per rate run, the rates not run with why, the line that blocked where it stopped; user strings printable', async () => {
  const { doc } = await sweep([AS_WRITTEN], [5, 10, 20], [{ 5: 'within', 10: 'over' }]);
  doc.settings.endpoints[0].name = 'GET /x\u202e\x1b[2J';
  const lines = serveSweepText(doc).split('\n');
  assert.match(lines[0], /^Loop Lag serve sweep · app\.main:app · CPython 3\.11\.2 · 2 cores$/);
  assert.match(lines[1], /^GET \/x��\[2J at 5, 10, 20 req\/s · probe 10 req\/s · 10 s measured after 2 s warm-up per point · budget 100 ms · /);
  assert.equal(lines[2], `→ ${doc.headline}`);
  assert.equal(lines[4], 'as written — sustains 5 req/s (over budget at 10 req/s: probe p99 290.0 ms, loop lag p99 300.0 ms)');
  assert.match(lines[5], /^ +req\/s +verdict +probe p50 +probe p99 +lag p99 +lag max +endpoint p99 +failed +done\/s$/);
  assert.match(lines[6], /^ +5 +within budget +1\.00 ms +12\.0 ms .* 15\.0 ms +0 +20\.0$/);
  assert.match(lines[7], /^ +10 +over budget +1\.00 ms +290\.0 ms +300\.0 ms +300\.0 ms +320\.0 ms +0 +20\.0$/);
  assert.equal(lines[8], '  20 req/s not run: over budget at 10 req/s');
  assert.equal(lines[9], '  at 10 req/s the loop was blocked most at: 100% app/reports.py:42 build_sales');
  assert.ok(!/[\u202e\x1b]/.test(serveSweepText(doc)));
});

test('sustainedRate: the highest rate within the budget, whatever came between', () => {
  const at = (ratePerS: number, verdict: 'within-budget' | 'over-budget'): ClimbStep<null> => ({ ratePerS, outcome: { point: null, verdict, ended: null } });
  assert.equal(sustainedRate([at(5, 'within-budget'), at(10, 'within-budget'), { ratePerS: 20, notRun: 'x' }]), 10);
  assert.equal(sustainedRate([at(5, 'over-budget')]), null);
});

test('the variants of a sweep: as written, --workers N, one per thread-token count in order', () => {
  assert.deepEqual(sweepVariants(2, [1, 4]).map((v) => [v.name, v.processes, v.threadTokens]), [['as-written', 1, null], ['processes', 2, null], ['threads', 1, 1], ['threads', 1, 4]]);
  assert.deepEqual(sweepVariants(null).map((v) => v.name), ['as-written']);
});

test('--sweep-rate and --sweep-threads: lists sorted ascending without repeats, each value checked as --rate and --threads are', () => {
  const cwd = process.cwd();
  const args = (...extra: string[]) => ['main:app', '--endpoint', 'GET /', ...extra];
  const c = parseServeArgs(args('--sweep-rate', '40, 5,10,5', '--sweep-threads', '40,1,4'), cwd);
  assert.ok(c !== 'help');
  assert.deepEqual(c.sweep, { ratesPerS: [5, 10, 40], threadTokens: [1, 4, 40] });
  assert.equal(c.settings.ratePerS, 5, 'the settings carry the lowest rate; each point its own');
  const one = parseServeArgs(args('--sweep-rate', '2.5', '--threads', '8'), cwd);
  assert.ok(one !== 'help');
  assert.deepEqual(one.sweep, { ratesPerS: [2.5], threadTokens: [8] }, '--threads T with a sweep: one threads variant');
  const plain = parseServeArgs(args('--rate', '3'), cwd);
  assert.ok(plain !== 'help');
  assert.equal(plain.sweep, null);
  const refused: [string[], RegExp][] = [
    [args('--sweep-threads', '1,4'), /^--sweep-threads runs with a rate sweep: add --sweep-rate LIST/],
    [args('--sweep-rate', '5,10', '--rate', '5'), /^--rate and --sweep-rate cannot be combined/],
    [args('--sweep-rate', '5', '--sweep-threads', '1', '--threads', '4'), /^--threads and --sweep-threads cannot be combined/],
    [args('--sweep-rate', '5,,10'), /^--sweep-rate "5,,10": write the values separated by commas/],
    [args('--sweep-rate', '5,0'), /^--sweep-rate must be a number from 0\.1 to 10000, got "0"$/],
    [args('--sweep-rate', '5', '--sweep-threads', '0'), /^--sweep-threads must be a whole number from 1 to 10000, got "0"$/],
    [args('--sweep-rate', Array.from({ length: 13 }, (_, i) => i + 1).join(',')), /^--sweep-rate lists 13 values: at most 12/],
    [args('--sweep-rate', '5,10000', '--duration', '600'), /^--sweep-rate 10000 for --duration 600 s is 6000000 requests per endpoint/],
  ];
  for (const [argv, pattern] of refused) assert.throws(() => parseServeArgs(argv, cwd), (e: Error) => e instanceof UsageError && pattern.test(e.message), argv.join(' '));
});

test('keeping up: an endpoint whose latency climbs through the measured part fell behind; one that varies without a trend did not', () => {
  const climbing = Array.from({ length: 40 }, (_, i) => [i * 100, 500 + i * 150] as [number, number]);
  const jittery = Array.from({ length: 40 }, (_, i) => [i * 100, i % 2 ? 900 : 20] as [number, number]);
  assert.match(fellBehind({ name: 'GET /slow', timeline: climbing }, 100)!, /^GET \/slow answered in 5.67 s at the end, 1.18 s at the start$/);
  assert.equal(fellBehind({ name: 'GET /jitter', timeline: jittery }, 100), null);
  assert.equal(fellBehind({ name: 'GET /few', timeline: climbing.slice(0, 5) }, 100), null, 'too few to read a trend');
  // Growth within the budget is not falling behind.
  assert.equal(fellBehind({ name: 'GET /x', timeline: climbing.map(([t, ms]) => [t, 10 + (ms - 500) / 100] as [number, number]) }, 100), null);
});

test('climbing stops at a rate within budget whose endpoint fell behind, and that rate is not sustained', async () => {
  const steps = await climb(['v'], [1, 2, 3], async (_v, rate): Promise<PointOutcome<number>> => (
    { point: rate, verdict: 'within-budget', ended: null, behind: rate === 2 ? ['GET /x answered in 6.5 s at the end, 510 ms at the start'] : [] }));
  assert.deepEqual(steps[0].map((s) => ('notRun' in s ? s.notRun : 'measured')), ['measured', 'measured', 'fell behind at 2 req/s']);
  assert.equal(sustainedRate(steps[0]), 1);
});
