/**
 * `looplag serve --sweep-rate` end to end: the built CLI against the real FastAPI sweep
 * app (test/fixtures/serve/python/sweep_app.py) under Debian's uvicorn. The threads
 * variant's limit comes from a def endpoint sleeping 0.5 s in AnyIO's threads: with one
 * token two requests a second are served and the rest queue past the load generator's
 * 10 s timeout, whatever the machine's load (the sleep takes no CPU), while the app as
 * written (40 tokens) serves every rate. Then --timeout bounding the whole sweep and
 * Ctrl+C between points, each keeping what was measured with nothing left running.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ServeSweep } from '../../src/shared/protocol/serveSweep';
import { assertNoProcessLeft, FIXTURES, newTag, interruptUnderLoad, runCli, scratchFolders } from '../support/helpers';

const scratch = scratchFolders();
const PY_APP = path.join(FIXTURES, 'serve', 'python');
const DEBIAN_PYTHON = '/usr/bin/python3';
/** Short points: each is a server start, 0.5 s of warm-up and 2 s measured. */
const POINT = ['--duration', '2', '--warmup', '0.5'];

const noUvicorn = (() => {
  const r = spawnSync(DEBIAN_PYTHON, ['-c', 'import uvicorn, fastapi, anyio'], { encoding: 'utf8' });
  return r.status === 0 ? false : `${DEBIAN_PYTHON} cannot import uvicorn, fastapi and anyio (apt install python3-uvicorn python3-fastapi): ${(r.stderr || String(r.error)).trim().split('\n').pop()}`;
})();

function sweepArgs(endpoint: string, extra: string[]): string[] {
  return ['serve', 'sweep_app:app', '--python', DEBIAN_PYTHON, '--workspace', PY_APP, '--endpoint', `GET ${endpoint}`, ...POINT, ...extra];
}

function readDoc(file: string): ServeSweep {
  return ServeSweep.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
}

test('usage errors exit 2 with one line before anything starts: --sweep-threads on a Node server, without --sweep-rate, beside --rate', async () => {
  const node = path.join(FIXTURES, 'serve', 'node', 'server.mjs');
  const cases: [string[], RegExp][] = [
    [['serve', node, '--endpoint', 'GET /', '--sweep-rate', '1,2', '--sweep-threads', '1'], /^looplag serve: --sweep-threads sets the AnyIO thread limiter of a Python ASGI app; a Node server has none\n/],
    [['serve', 'main:app', '--endpoint', 'GET /', '--sweep-threads', '1,4'], /^looplag serve: --sweep-threads runs with a rate sweep: add --sweep-rate LIST/],
    [['serve', 'main:app', '--endpoint', 'GET /', '--sweep-rate', '5,10', '--rate', '5'], /^looplag serve: --rate and --sweep-rate cannot be combined/],
  ];
  for (const [argv, pattern] of cases) {
    const r = await runCli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.split('\n').length, 3, r.stderr);
    assert.equal(r.stdout, '');
  }
});

describe('looplag serve --sweep-rate, Python (FastAPI under uvicorn)', { skip: noUvicorn }, () => {
  test('a def endpoint sleeping in AnyIO\'s threads: as written sustains every rate, 1 thread token stops climbing where its requests queue past the timeout; the table opens with it; exit 0', async () => {
    const out = path.join(scratch.dir(), 'sweep.json');
    // A budget of 1 s: only the queue (requests timing out) decides, not how busy the machine is.
    const cli = await runCli(sweepArgs('/sleep/long', ['--sweep-rate', '16,1,32', '--sweep-threads', '1', '--budget-ms', '1000', '--out', out]));
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stderr, '');
    const doc = readDoc(out);
    assert.deepEqual(doc.settings.ratesPerS, [1, 16, 32], 'climbed in ascending order');
    const [asWritten, token] = doc.variants;
    assert.deepEqual(doc.variants.map((v) => [v.name, v.label, v.threadTokens]), [['as-written', 'as written', null], ['threads', '1 thread token', 1]]);
    assert.deepEqual(asWritten.points.map((p) => [p.ratePerS, p.status, p.verdict]), [[1, 'measured', 'within-budget'], [16, 'measured', 'within-budget'], [32, 'measured', 'within-budget']], JSON.stringify(asWritten.points.map((p) => p.headline)));
    assert.deepEqual([asWritten.sustainedRatePerS, asWritten.sustainedAll, asWritten.stop], [32, true, null]);
    assert.deepEqual(token.points.map((p) => [p.ratePerS, p.status, p.verdict]), [[1, 'measured', 'within-budget'], [16, 'measured', 'over-budget'], [32, 'not-run', 'not-measured']]);
    assert.equal(token.sustainedRatePerS, 1);
    const queued = token.points[1].endpoints[0];
    assert.ok(queued.timedOut > 0 && queued.completed < queued.sent, `1 token at 16 req/s: ${queued.timedOut} of ${queued.sent} timed out`);
    assert.equal(asWritten.points[1].endpoints[0].timedOut, 0);
    assert.match(token.stop?.reason ?? '', /^over budget at 16 req\/s: .*\d+ timed out$/);
    assert.equal(token.points[2].reason, 'over budget at 16 req/s');
    assert.equal(doc.status, 'complete');
    // The verdict first: the line after the title and the settings.
    const lines = cli.stdout.split('\n');
    assert.match(lines[0], /^Loop Lag serve sweep · sweep_app:app · CPython /);
    assert.match(lines[2], /^→ As written sustains 32 req\/s on GET \/sleep\/long within 1\.00 s, the highest rate tried; with 1 thread token: 1 req\/s \(over budget at 16 req\/s: [^)]*timed out\)\.$/);
    assert.ok(lines.includes('  32 req/s not run: over budget at 16 req/s'), cli.stdout);
  });

  test('--timeout bounds the whole sweep, not each point: exit 124, the points measured before it kept, nothing left running', async () => {
    const tag = newTag();
    const started = Date.now();
    // Each point takes 3 s at least (start, 2.5 s of load, stop): the deadline comes in the second or the third of five.
    // A budget of 1 s: a busy machine must not stop the climb before the deadline does.
    const cli = await runCli(sweepArgs('/count', ['--sweep-rate', '1,2,3,4,5', '--timeout', '8', '--budget-ms', '1000', '--json']), { env: { LOOPLAG_TEST_TAG: tag } });
    const elapsedMs = Date.now() - started;
    await assertNoProcessLeft(tag);
    assert.equal(cli.code, 124, cli.stderr);
    assert.ok(elapsedMs < 14_000, `ended ${elapsedMs} ms after it started, with --timeout 8`);
    assert.match(cli.stderr, /^looplag: error \[timeout\]: gave up after 8 s \(--timeout\)/);
    // --json: the document alone on stdout.
    const doc = ServeSweep.parse(JSON.parse(cli.stdout));
    assert.equal(doc.error?.kind, 'timeout');
    assert.equal(doc.status, 'partial');
    const points = doc.variants[0].points;
    const cut = points.findIndex((p) => p.status !== 'measured');
    // Where the deadline falls depends on each point's start-up (~2.6 s a point here): after the first, before the last.
    assert.ok(cut >= 1 && cut < points.length, `the first point measured, the deadline in a later one: ${points.map((p) => p.status).join(', ')}`);
    for (const p of points.slice(0, cut)) assert.equal(p.verdict, 'within-budget', p.headline);
    assert.deepEqual([points[cut].status, points[cut].error?.kind], ['failed', 'timeout']);
    for (const p of points.slice(cut + 1)) assert.deepEqual([p.status, p.reason], ['not-run', '--timeout reached before it ran']);
  });

  test('Ctrl+C in the second point: exit 130, the first point kept, the cut point\'s figures so far, the rest not run, nothing left running', async () => {
    const dir = scratch.dir();
    const out = path.join(dir, 'cancelled.json');
    // The first point (2 req/s for 2.5 s) sends 5 or 6 requests: the 10th is in the second (4 req/s), 1 s into its measured part.
    // A budget of 1 s: a busy machine must not stop the climb at the first point (a probe p99 of 100 ms there did).
    await interruptUnderLoad(sweepArgs('/count', ['--sweep-rate', '2,4,8', '--budget-ms', '1000', '--out', out]), dir, 10, '/count requests in the second point', 40_000);
    const doc = readDoc(out);
    assert.equal(doc.error?.kind, 'cancelled');
    const [first, cut, rest] = doc.variants[0].points;
    assert.deepEqual([first.ratePerS, first.status, first.verdict], [2, 'measured', 'within-budget'], first.headline);
    assert.deepEqual([cut.ratePerS, cut.status, cut.error?.kind], [4, 'failed', 'cancelled']);
    assert.ok(cut.endpoints[0].completed > 0, `the cut point keeps the requests answered before the cut (${cut.endpoints[0].completed})`);
    assert.deepEqual([rest.status, rest.reason], ['not-run', 'cancelled before it ran']);
    assert.deepEqual([doc.variants[0].sustainedRatePerS, doc.variants[0].stop], [2, null], 'the sweep was stopped, not the variant');
  });
});
