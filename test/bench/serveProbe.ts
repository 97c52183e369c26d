/**
 * The relation issue 14 asks to measure: for the FastAPI test app's `async def` doing CPU
 * work (test/fixtures/serve/python/app.py) under `looplag serve`, the probe's p99 beside
 * the wait the heartbeat predicts for a request arriving at random (`arrivalWaitP99Ms`)
 * and the loop's lag p99, which counts each stall once. Needs Debian's uvicorn.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ServeReport } from '../../src/shared/protocol/serveReport';
import { ms, ratio, REPO, Table } from './format';

const PYTHON_WITH_UVICORN = '/usr/bin/python3';

export function serveProbe(t: Table): void {
  t.section('looplag serve: the probe and the heartbeat (FastAPI async CPU endpoint, 4 req/s for 5 s, probe 20 req/s)');
  const has = spawnSync(PYTHON_WITH_UVICORN, ['-c', 'import uvicorn, fastapi'], { encoding: 'utf8' });
  if (has.status !== 0) {
    t.row('probe p99 / predicted wait p99 / lag p99', '–', `${PYTHON_WITH_UVICORN} cannot import uvicorn and fastapi`);
    return;
  }
  const cli = spawnSync(process.execPath, [path.join(REPO, 'bin', 'looplag.js'), 'serve', 'app:app', '--python', PYTHON_WITH_UVICORN,
    '--workspace', path.join(REPO, 'test', 'fixtures', 'serve', 'python'), '--endpoint', 'GET /cpu/async',
    '--rate', '4', '--duration', '5', '--warmup', '1', '--probe-rate', '20', '--json'], { encoding: 'utf8', timeout: 60_000 });
  const v = cli.status === 0 ? ServeReport.parse(JSON.parse(cli.stdout)).variants[0] : null;
  const p = v?.probeVsLoop;
  if (!p) {
    t.row('probe p99 / predicted wait p99 / lag p99', '–', `looplag serve exited ${cli.status}: ${cli.stderr.trim().split('\n')[0] ?? ''}`);
    return;
  }
  t.row('probe p99 / predicted wait p99 / lag p99', `${ms(p.probeP99Ms, 1)} / ${ms(p.arrivalWaitP99Ms, 1)} / ${ms(p.loopLagP99Ms, 1)}`,
    `probe ÷ predicted ${ratio(p.ratio)} (near 1: the stalls are what requests wait for); ÷ lag p99 ${ratio(p.probeP99Ms / p.loopLagP99Ms)}`);
}
