/**
 * `looplag serve server.mjs --workers 2` end to end: the built CLI runs the node:http
 * fixture as written and in 2 node:cluster workers, with a handler that blocks its loop
 * ~100 ms. With two loops a trivial request (the probe) meets a stall less often: the
 * blocked worker has not taken its last connection, so the primary hands new ones to the
 * other, and the generator's pool sends on a free connection. The probe's p99 is not the
 * figure to compare: one stall met by 1% of the probes keeps it where it was (as for
 * Python's `--workers 2`, serveEndToEnd.test.ts); the share of probes that waited is.
 * A comparison that fails is measured again, then skipped with the machine's load as the
 * reason when other processes were busy (never passed silently).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test, TestContext } from 'node:test';
import { BUSY_MACHINE_FRAC } from '../../src/report/quality';
import { ServeReport, ServeVariantReport } from '../../src/shared/protocol/serveReport';
import { assertNoProcessLeft, FIXTURES, newTag, runCli, withBackgroundLoadAsync } from '../support/helpers';

const NODE_DIR = path.join(FIXTURES, 'serve', 'node');
/** 4 req/s of a 100 ms spin: the loop as written is stalled ~40% of the time. */
const ARGS = ['serve', path.join(NODE_DIR, 'server.mjs'), '--workspace', NODE_DIR, '--endpoint', 'GET /block',
  '--rate', '4', '--duration', '4', '--warmup', '1', '--probe-rate', '50', '--workers', '2', '--json'];
/** A probe that waited this long met a stall (the handler spins 100 ms; the probe alone answers in a few ms). */
const DELAYED_MS = 40;
/** With 2 workers, at most this share of the probes as written may wait a stall out (measured 0.28–0.52: see the README). */
const WORKERS_DELAYED_RATIO = 0.75;

const delayedShare = (v: ServeVariantReport): number => {
  const tl = v.probe?.timeline ?? [];
  assert.ok(tl.length > 0 && tl.length < 1000, `${v.label}: the probe's timeline holds every request (${tl.length})`);
  return tl.filter(([, ms]) => ms >= DELAYED_MS).length / tl.length;
};
const pct = (x: number): string => `${Math.round(x * 100)}%`;

test('--workers 2 on a Node server whose handler blocks its loop: fewer probes wait a stall than as written', async (t: TestContext) => {
  const seen: string[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    const tag = newTag();
    const { value: cli, backgroundCpuFrac: load } = await withBackgroundLoadAsync(() => runCli(ARGS, { env: { LOOPLAG_TEST_TAG: tag } }));
    await assertNoProcessLeft(tag);
    assert.ok(cli.code === 0 || cli.code === 3, `exit ${cli.code}: ${cli.stderr}`);
    const doc = ServeReport.parse(JSON.parse(cli.stdout));
    for (const v of doc.variants) assert.equal(v.status, 'ok', `${v.label}: ${JSON.stringify(v.error)}`);
    assert.deepEqual(doc.variants.map((v) => [v.name, v.processes, v.label, v.loop.processes.length]),
      [['as-written', 1, 'as written', 1], ['processes', 2, '2 Node cluster workers', 2]]);
    const [asWritten, workers] = doc.variants;
    assert.equal(new Set(workers.server?.pids).size, 2, JSON.stringify(workers.server));
    assert.match(doc.headline, /^At 4 req\/s on GET \/block, a trivial request waited p99 [\d.]+ ms \(budget 100 ms\); with 2 Node cluster workers: p99 [\d.]+ ms/);
    // Each worker measured its own loop, and the blocking line is named in the variant.
    assert.equal(workers.blockers[0]?.file, 'server.mjs', JSON.stringify(workers.blockers.slice(0, 3)));
    const [a, w] = [asWritten, workers].map(delayedShare);
    const p99 = (v: ServeVariantReport) => v.probe?.latency?.p99Ms;
    const found = a < 0.1 ? [`${pct(a)} of probes waited ≥ ${DELAYED_MS} ms as written: too few to compare`]
      : w > WORKERS_DELAYED_RATIO * a ? [`${pct(w)} of probes waited ≥ ${DELAYED_MS} ms with 2 workers, ${pct(a)} as written`] : [];
    const figures = `probes delayed ${pct(a)} → ${pct(w)}, probe p99 ${p99(asWritten)} → ${p99(workers)} ms`;
    t.diagnostic(`attempt ${attempt + 1}: ${figures}`);
    if (!found.length) return;
    const others = load === null ? 'not measured' : `${Math.round(load * 100)}%`;
    seen.push(`attempt ${attempt + 1} (others' CPU ${others}): ${found.join('; ')} (${figures})`);
    if (attempt === 1 && (load === null || load >= BUSY_MACHINE_FRAC)) {
      t.skip(`the machine was busy (other processes' share of the CPU: ${others}, at most ${BUSY_MACHINE_FRAC * 100}% trusted): ${seen.join(' / ')}`);
      return;
    }
  }
  assert.fail(seen.join('\n'));
});

test('a script that forks node:cluster workers itself: as written is refused, --workers 2 still measures its worker path', async () => {
  const tag = newTag();
  const cli = await runCli(['serve', path.join(NODE_DIR, 'clustered.mjs'), '--workspace', NODE_DIR, '--endpoint', 'GET /',
    '--rate', '5', '--duration', '1', '--warmup', '0', '--workers', '2', '--json'], { env: { LOOPLAG_TEST_TAG: tag } });
  await assertNoProcessLeft(tag);
  const doc = ServeReport.parse(JSON.parse(cli.stdout));
  assert.deepEqual(doc.variants.map((v) => [v.name, v.status, v.error?.kind ?? null]),
    [['as-written', 'failed', 'unsupported-mode'], ['processes', 'ok', null]], cli.stderr);
  assert.match(doc.variants[0].error!.message, /starts node:cluster workers itself/);
  const [workers] = doc.variants.slice(1);
  assert.ok((workers.endpoints[0]?.completed ?? 0) > 0, JSON.stringify(workers.endpoints[0]));
  assert.equal(doc.error, null, 'one variant refused is not the session\'s error');
});
