/**
 * Advice that fits the code, on real runs (issue 10, point 7 and point 3's checks): a
 * real functools.lru_cache and a real memoized JS function are told apart from the work;
 * figures beyond the cores are marked; an ES module gets an ES-module fix that runs; a
 * result-heavy worker call is blamed on the result; a Node process pool is judged per
 * call, its start-up said apart.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Report } from '../../src/shared/protocol';
import { FIXTURES, runCli, tmpDir } from '../support/helpers';

const PY = path.join(FIXTURES, 'python', 'advicefit');
const JS = path.join(FIXTURES, 'node', 'advicefit');

async function measure(target: string, options: string[]): Promise<Report> {
  const cli = await runCli(['run', target, '--free-threaded', 'off', '--timeout', '90', ...options, '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  for (const r of cli.report!.runs) assert.equal(r.status, 'ok', `${r.mode}: ${JSON.stringify(r.error)}`);
  return cli.report!;
}

const ids = (r: Report, mode?: string) => r.advice.filter((a) => mode === undefined || a.mode === mode).map((a) => a.id);

/** Every figure beyond the cores is marked, and the headline never states it. */
function checkBeyondCores(report: Report): void {
  const cores = report.runtime!.cpuCount;
  for (const r of report.runs) {
    if (r.speedup !== null && r.speedup > cores * 1.1) {
      assert.ok(r.suspect?.some((s) => s.field === 'speedup'), `${r.mode}: speedup ${r.speedup} on ${cores} cores not marked`);
      assert.ok(!report.headline?.includes(`${r.speedup.toFixed(2)}×`), report.headline);
      assert.ok(report.advice.some((a) => a.id === 'implausible-speedup' && a.mode === r.mode));
    }
  }
}

test('a real lru_cache function: the calls measured are cache hits, said instead of "healthy"', async () => {
  const report = await measure(`${PY}/cached.py::cached_report`, ['--args', '300000', '--modes', 'inline,thread,process']);
  const inline = report.runs.find((r) => r.mode === 'inline')!;
  // Without warm-up, the first inline call is the miss; with it, the warm-up call is.
  assert.ok(ids(report, 'inline').includes('cached-calls'), ids(report).join(', '));
  // The planned mode (thread, for a sync def) measured hits only: no "healthy" for it.
  assert.ok(ids(report, 'thread').includes('cached-calls'), ids(report).join(', '));
  assert.ok(!ids(report).includes('healthy'), ids(report).join(', '));
  checkBeyondCores(report);
  if (!inline.warmupMs?.length) {
    // The miss inside the inline window makes every pool look many times faster than inline.
    assert.ok(report.runs.some((r) => r.suspect?.some((s) => s.field === 'speedup' && /first call took/.test(s.reason))),
      JSON.stringify(report.runs.map((r) => [r.mode, r.speedup, r.suspect])));
  }
});

test('a real memoized JS function: each worker\'s first call misses, the rest are hits', async () => {
  const report = await measure(`${JS}/memo.cjs::memoReport`, ['--args', '30000000', '--modes', 'inline,worker']);
  assert.ok(ids(report, 'inline').includes('cached-calls'), ids(report).join(', '));
  assert.ok(ids(report, 'worker').includes('cached-calls'), ids(report).join(', '));
  assert.ok(!ids(report).includes('healthy'));
  checkBeyondCores(report);
});

test('an ES module target gets an ES-module fix, and it runs beside the target', async () => {
  const report = await measure(`${JS}/esm/report.js::buildReport`, ['--args', '20000000', '--modes', 'inline', '--concurrency', '3']);
  assert.equal(report.target.moduleFormat, 'esm');
  const fix = report.advice.find((a) => a.id === 'inline-blocks-loop')?.fix;
  assert.ok(fix, ids(report).join(', '));
  assert.doesNotMatch(fix, /\brequire\(/);
  // Under an alias, so a function named like the pool's own names (run, queue…) never clashes.
  assert.match(fix, /^import \{ buildReport as target \} from '\.\/report\.js';/m);
  assert.match(fix, /new Worker\(new URL\(import\.meta\.url\), \{ workerData: \{ looplagPool: true \} \}\)/);
  const dir = tmpDir('looplag-esm-fix-');
  for (const f of ['package.json', 'report.js']) fs.copyFileSync(path.join(JS, 'esm', f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'offload.js'), fix);
  // A driver file, not `-e`: workers inherit the process's flags (`--input-type` would break them).
  fs.writeFileSync(path.join(dir, 'drive.js'), "import { handler } from './offload.js';\nimport { buildReport } from './report.js';\nconsole.log(JSON.stringify([await handler(), buildReport(20000000)]));\n");
  const r = spawnSync(process.execPath, ['drive.js'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const [got, expected] = JSON.parse(r.stdout) as number[];
  assert.equal(got, expected);
});

test('a worker call returning MBs of plain objects: the result is what costs, and the fix does not suggest ArrayBuffers', async () => {
  const report = await measure(`${JS}/esm/report.js::bigRows`, ['--args', '40000', '--modes', 'worker', '--concurrency', '4']);
  const w = report.runs.find((r) => r.mode === 'worker')!;
  assert.equal(w.transfer?.argsKind, 'primitive');
  assert.equal(w.transfer?.resultKind, 'plain-objects');
  assert.ok(w.transfer!.resultMs! > 2 * w.transfer!.argsMs!, JSON.stringify(w.transfer));
  const a = report.advice.find((x) => x.id === 'transfer-overhead');
  assert.ok(a, `transfer ${JSON.stringify(w.transfer)}; advice ${ids(report).join(', ')}`);
  assert.match(a.title, /results back/);
  assert.doesNotMatch(a.fix!, /transfer list \(postMessage|buffersOf/);
  assert.match(a.fix!, /Return only what the caller needs/);
});

test('a Python process pool returning MBs: the result is named as the cost, not "the parent pickles arguments"', async () => {
  const report = await measure(`${PY}/big_result.py::rows`, ['--args', '150000', '--modes', 'inline,process', '--concurrency', '6']);
  const p = report.runs.find((r) => r.mode === 'process')!;
  assert.ok(p.transfer && p.transfer.resultBytesMean! > 1 << 20, JSON.stringify(p.transfer));
  assert.ok(p.tasks.every((t) => t.transfer && t.transfer.resultReadMs !== null));
  const a = report.advice.find((x) => x.id === 'process-overhead');
  assert.ok(a, `${ids(report).join(', ')}; ${JSON.stringify(p.transfer)}, max lag ${p.lag.maxMs}`);
  assert.match(a.detail, /sending the result back is what costs: the result \([\d.]+ MB\)/);
  assert.doesNotMatch(a.detail, /pickles (the )?arguments/);
});

test('a Node process pool is judged per call: start-up is info, not process-overhead', async (t) => {
  // ~10 ms calls: the pool's per-call cost is small next to them, its start-up is not next to the short window.
  // Others' load slows the pool's calls more than inline's (a busy CI run did: p50 51 ms), so
  // the per-call judgement is measured again while the report distrusts its windows.
  const opts = ['--args', '5000000', '--modes', 'inline,process'];
  let report = await measure(`${JS}/esm/report.js::buildReport`, opts);
  for (let attempt = 1; attempt < 3 && !report.quality.trustworthy; attempt++) report = await measure(`${JS}/esm/report.js::buildReport`, opts);
  if (!report.quality.trustworthy) {
    t.skip(`other processes loaded the machine in 3 measurements (last: ${report.quality.notes.join(' ')})`);
    return;
  }
  const p = report.runs.find((r) => r.mode === 'process')!;
  assert.ok(!ids(report).includes('process-overhead'), `${ids(report).join(', ')}; start-up ${p.startupMs} ms, wall ${p.wallMs} ms, p50 ${p.taskStats.runP50Ms} ms`);
  const s = report.advice.find((a) => a.id === 'pool-startup');
  if (s) assert.equal(s.severity, 'info');
});
