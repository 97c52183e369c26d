/**
 * The load generator (src/serve/load/) against a real Node http server in a process of
 * its own (test/fixtures/node/load/server.cjs): open-loop latency shows a stalled loop
 * that a closed-loop sender hides; the counts add up; status codes, dropped connections
 * and timeouts are counted, not thrown; abort ends the generator's process.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { after, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { CUT_GRACE_MS, LoadAbortError, loadgenScriptPath, LoadPlan, LoadProgress, LoadResult, runLoad, TargetResult } from '../../src/serve/load';
import { generate } from '../../src/serve/load/generator';
import { ChildMessage } from '../../src/serve/load/messages';
import { assertNoProcessLeft, newTag, processesWithTag, scratchFolders, waitFor } from '../support/helpers';
import { LoadServer, startLoadServer } from '../support/loadServer';

const scratch = scratchFolders();
const servers: LoadServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function server(args: string[] = []): Promise<LoadServer> {
  const s = await startLoadServer(args);
  servers.push(s);
  return s;
}

function plan(origin: string, over: Partial<LoadPlan>): LoadPlan {
  return {
    origin, targets: [{ name: 'GET /fast', method: 'GET', path: '/fast' }], ratePerS: 100, probe: null,
    warmupMs: 200, durationMs: 1000, timeoutMs: 2000, maxConnections: 16, ...over,
  };
}

function assertCountsAddUp(t: TargetResult, expectedSent: number): void {
  assert.equal(t.sent, t.completed + t.failed, `${t.name}: sent = completed + failed`);
  assert.ok(Math.abs(t.sent - expectedSent) <= 1, `${t.name}: sent ${t.sent}, expected ${expectedSent} ± 1`);
  assert.equal(Object.values(t.statusCodes).reduce((a, b) => a + b, 0), t.completed, `${t.name}: status codes cover the completed`);
  assert.equal(Object.values(t.errors).reduce((a, b) => a + b, 0), t.failed, `${t.name}: errors cover the failed`);
  assert.equal(t.timeline.length, t.sent);
}

/** A closed-loop sender: one connection, each request sent when the one before has answered. Latencies in ms. */
async function closedLoop(origin: string, path: string, durationMs: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  const end = performance.now() + durationMs;
  try {
    while (performance.now() < end) {
      const start = performance.now();
      await new Promise<void>((resolve, reject) => {
        http.get(`${origin}${path}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        }).on('error', reject);
      });
      latencies.push(performance.now() - start);
    }
  } finally {
    agent.destroy();
  }
  return latencies;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

describe('load generator', () => {
  test('open loop: requests arriving while the server blocks its loop wait for it; a closed loop hides the stall', async (t) => {
    // 200 ms of busy loop every second: ~20% of arrivals land in a stall, the first
    // quarter of them (5% of all) wait 150 ms or more.
    const s = await server(['--block', '200:1000']);
    const R = 200;
    const D = 2000;
    const run = () => runLoad(plan(s.origin, { ratePerS: R, durationMs: D, warmupMs: 300, probe: { path: '/fast', ratePerS: 50 } }));
    const slowCount = (r: LoadResult) => r.targets[0].timeline.filter(([, latency]) => latency !== null && latency >= 100).length;
    // The upper bounds need the machine: a server descheduled mid-stall stalls longer,
    // and one starved of CPU answers everything late. Re-measure once when they miss.
    const quiet = (r: LoadResult) => r.targets[0].latency!.maxMs < 400 && slowCount(r) <= 0.4 * r.targets[0].sent;
    let result: LoadResult = await run();
    if (!quiet(result)) result = await run();
    const target = result.targets[0];
    assertCountsAddUp(target, (R * D) / 1000);
    assertCountsAddUp(result.probe!, (50 * D) / 1000);
    assert.equal(target.failed, 0, JSON.stringify(target.errors));
    assert.ok(target.latency!.p99Ms >= 150, `open-loop p99 ${target.latency!.p99Ms} ms includes the 200 ms stalls`);
    assert.ok(result.probe!.latency!.p99Ms >= 150, `the probe sees the stalls too: p99 ${result.probe!.latency!.p99Ms} ms`);
    assert.ok(slowCount(result) >= 0.05 * target.sent, `${slowCount(result)} of ${target.sent} requests took ≥ 100 ms`);
    assert.ok(result.generator.cpuMs > 0);
    assert.ok(Math.abs(result.t0EpochMs - Date.now()) < 60_000);

    const closed = await closedLoop(s.origin, '/fast', 1500);
    const closedP99 = percentile(closed, 99);
    assert.ok(closedP99 < target.latency!.p99Ms / 2, `closed-loop p99 ${closedP99.toFixed(1)} ms over ${closed.length} requests hides what open loop shows (${target.latency!.p99Ms} ms)`);

    // Only the arrivals during a stall wait for it: a stall (200 ms) and its backlog, not more.
    const why = `max ${target.latency!.maxMs.toFixed(0)} ms (< 400 expected), ${slowCount(result)} of ${target.sent} requests ≥ 100 ms (≤ 40% expected)`;
    const load = os.loadavg()[0];
    if (!quiet(result) && load > os.cpus().length) {
      t.skip(`${why}, twice: the machine is busy (load average ${load.toFixed(1)} on ${os.cpus().length} cores, generator send lag max ${result.generator.sendLagMaxMs.toFixed(0)} ms)`);
      return;
    }
    assert.ok(quiet(result), why);
  });

  test("when the generator's own loop is late it sends the overdue requests at once, timed from their intended start", async () => {
    // The generator in this process, so the test can stall its loop: 300 ms of busy wait
    // half a second in. The requests due meanwhile go out when it ends.
    const s = await server();
    let block: { from: number; to: number } | null = null;
    const stall = setTimeout(() => {
      const from = Date.now();
      while (Date.now() < from + 300);
      block = { from, to: Date.now() };
    }, 500);
    const result = await generate(plan(s.origin, { ratePerS: 100, warmupMs: 0, durationMs: 1500 }), { measuring: () => undefined, progress: () => undefined });
    clearTimeout(stall);
    assert.ok(block, 'the stall ran');
    const { from, to } = block as { from: number; to: number };
    const target = result.targets[0];
    assertCountsAddUp(target, 150);
    assert.ok(result.generator.sendLagMaxMs >= 250, `send lag max ${result.generator.sendLagMaxMs} ms`);
    // Every request intended inside the stall waited for its end, and its latency says so.
    const inside = target.timeline.filter(([t]) => result.t0EpochMs + t > from + 5 && result.t0EpochMs + t < to - 5);
    assert.ok(inside.length >= 20, `${inside.length} requests intended during the 300 ms stall`);
    for (const [t, latency] of inside) {
      const wait = to - (result.t0EpochMs + t);
      assert.ok(latency !== null && latency >= wait - 3, `intended at ${t.toFixed(1)} ms, sent after the stall ${wait.toFixed(1)} ms later: latency ${latency}`);
    }
  });

  test('status codes, dropped connections and JSON bodies are counted, not thrown', async () => {
    const s = await server();
    const result = await runLoad(plan(s.origin, {
      ratePerS: 40,
      targets: [
        { name: 'GET /status/500', method: 'GET', path: '/status/500' },
        { name: 'GET /close', method: 'GET', path: '/close' },
        { name: 'POST /echo json', method: 'POST', path: '/echo', body: '{"a": [1, 2]}' },
        { name: 'POST /echo text', method: 'POST', path: '/echo', body: 'not json' },
        { name: 'POST /echo typed', method: 'POST', path: '/echo', body: '{"a": 1}', headers: { 'Content-Type': 'text/plain' } },
      ],
    }));
    for (const t of result.targets) assertCountsAddUp(t, 40);
    const [status500, close, json, text, typed] = result.targets;
    assert.deepEqual(status500.statusCodes, { 500: status500.sent });
    assert.equal(close.completed, 0);
    assert.equal(close.failed, close.sent);
    assert.equal(close.latency, null);
    assert.ok(close.timeline.every(([, latency, status]) => latency === null && status === 0));
    assert.deepEqual(Object.keys(close.errors).length > 0, true, JSON.stringify(close.errors));
    assert.deepEqual(json.statusCodes, { 201: json.sent }, 'a JSON body goes with content-type: application/json');
    assert.deepEqual(text.statusCodes, { 202: text.sent }, 'a body that is not JSON gets no content-type');
    assert.deepEqual(typed.statusCodes, { 202: typed.sent }, "the headers' own content-type is kept");
  });

  test('a request unanswered timeoutMs after its intended start fails as timeout; those in flight at the end are awaited', async () => {
    const s = await server();
    const t0 = performance.now();
    const result = await runLoad(plan(s.origin, {
      ratePerS: 20, warmupMs: 0, durationMs: 1000, timeoutMs: 1000,
      targets: [{ name: 'GET /hang', method: 'GET', path: '/hang' }, { name: 'GET /slow/200', method: 'GET', path: '/slow/200' }],
    }));
    const wallMs = performance.now() - t0;
    const [hang, slow] = result.targets;
    assertCountsAddUp(hang, 20);
    assertCountsAddUp(slow, 20);
    assert.deepEqual(hang.errors, { timeout: hang.sent });
    // The last slow request, intended near the end of the measured second, was waited for.
    assert.equal(slow.completed, slow.sent, JSON.stringify(slow.errors));
    assert.ok(slow.latency!.p50Ms >= 200, JSON.stringify(slow.latency));
    assert.ok(slow.timeline[slow.sent - 1][0] >= 900);
    assert.ok(wallMs < 1000 + 1000 + 3000, `the run ended ${wallMs.toFixed(0)} ms after it began: the timeouts do not wait longer`);
  });

  test('requests queued behind busy connections time out from their intended start too', async () => {
    // One connection, held by a request that never ends: the rest wait in the generator's
    // queue, where the HTTP client's own timeouts (counted from the send) never start.
    const s = await server();
    const t0 = performance.now();
    const result = await runLoad(plan(s.origin, {
      ratePerS: 20, warmupMs: 0, durationMs: 1000, timeoutMs: 300, maxConnections: 1,
      targets: [{ name: 'GET /hang', method: 'GET', path: '/hang' }],
    }));
    const wallMs = performance.now() - t0;
    assertCountsAddUp(result.targets[0], 20);
    assert.deepEqual(result.targets[0].errors, { timeout: 20 });
    assert.ok(wallMs < 1000 + 300 + 3000, `the run ended ${wallMs.toFixed(0)} ms after it began (one at a time, 20 × 300 ms)`);
  });

  test('abort ends the generator process and rejects', async () => {
    const s = await server();
    const tag = newTag();
    const controller = new AbortController();
    let measuring = false;
    const progress: string[] = [];
    const running = runLoad(plan(s.origin, { ratePerS: 50, warmupMs: 100, durationMs: 60_000 }), {
      env: { ...process.env, LOOPLAG_TEST_TAG: tag },
      signal: controller.signal,
      onMeasureStart: () => (measuring = true),
      onProgress: (p) => progress.push(p.phase),
    });
    const settled = running.then(() => 'resolved', (e: unknown) => e);
    await waitFor(() => measuring && progress.includes('measuring'), 'the measured part to start');
    const pids = processesWithTag(tag);
    assert.equal(pids.length, 1, 'one generator process');
    controller.abort();
    const outcome = await settled;
    assert.ok(outcome instanceof LoadAbortError, String(outcome));
    assert.equal((outcome as Error).name, 'AbortError');
    assert.throws(() => process.kill(pids[0], 0), /ESRCH/, 'the generator is gone when the promise rejects');
    await assertNoProcessLeft(tag);
  });

  test('abort in the measured part: rejects with the figures up to the cut (counts add up, in-flight requests failed as `cut`, a note), the process gone', async () => {
    const s = await server();
    const tag = newTag();
    const controller = new AbortController();
    let measuringAt = 0;
    let last: LoadProgress | null = null;
    // /hang never answers: its requests are all in flight at the cut. 64 connections hold them without queueing /fast.
    const running = runLoad(plan(s.origin, {
      ratePerS: 20, warmupMs: 100, durationMs: 60_000, timeoutMs: 30_000, maxConnections: 64,
      targets: [{ name: 'GET /fast', method: 'GET', path: '/fast' }, { name: 'GET /hang', method: 'GET', path: '/hang' }],
      probe: { path: '/fast', ratePerS: 10 },
    }), {
      env: { ...process.env, LOOPLAG_TEST_TAG: tag },
      signal: controller.signal,
      onMeasureStart: () => (measuringAt = performance.now()),
      onProgress: (p) => (last = p),
    });
    const settled = running.then(() => 'resolved', (e: unknown) => e);
    // About a second of the measured part: ~20 requests per stream.
    await waitFor(() => measuringAt > 0 && last !== null && last.phase === 'measuring' && last.elapsedMs > 1100, 'a second of the measured part');
    const pids = processesWithTag(tag);
    const abortAt = performance.now();
    controller.abort();
    const outcome = await settled;
    const tookMs = performance.now() - abortAt;
    assert.ok(outcome instanceof LoadAbortError, String(outcome));
    assert.equal((outcome as Error).name, 'AbortError');
    assert.throws(() => process.kill(pids[0], 0), /ESRCH/, 'the generator is gone when the promise rejects');
    await assertNoProcessLeft(tag);
    // It answered the cut: it was not killed after the grace.
    assert.ok(tookMs < CUT_GRACE_MS, `the figures came ${tookMs.toFixed(0)} ms after the abort`);
    const partial = (outcome as LoadAbortError).partial;
    assert.ok(partial, 'the figures up to the cut');
    const ranMs = abortAt - measuringAt;
    assert.ok(partial.durationMs > 0 && partial.durationMs <= ranMs + 200, `durationMs ${partial.durationMs} for ${ranMs.toFixed(0)} ms of measured part run`);
    const [fast, hang] = partial.targets;
    for (const t of [fast, hang, partial.probe!]) {
      assertCountsAddUp(t, t.sent);
      assert.ok(t.sent >= 10, `${t.name}: ${t.sent} sent before the cut`);
      assert.ok(t.sent <= Math.ceil(((t === partial.probe ? 10 : 20) * partial.durationMs) / 1000) + 1, `${t.name}: ${t.sent} sent, none after the cut`);
      assert.ok(Math.abs(t.throughputPerS - t.completed / (partial.durationMs / 1000)) < 1e-9, `${t.name}: throughput over the measured time run`);
    }
    assert.ok(fast.completed >= fast.sent - 2 && fast.latency, `GET /fast: ${fast.completed} of ${fast.sent} answered, with latency`);
    assert.deepEqual([hang.completed, hang.errors], [0, { cut: hang.sent }], 'every /hang request was in flight at the cut');
    assert.equal(hang.latency, null);
    assert.ok(partial.generator.notes.some((n) => /cut .* into its 60\.0 s measured part/.test(n) && n.includes(`${hang.sent + (fast.errors.cut ?? 0) + (partial.probe!.errors.cut ?? 0)} still waiting`)), partial.generator.notes.join(' | '));
  });

  test('abort in the warm-up: rejects with no figures (nothing measured), the process gone', async () => {
    const s = await server();
    const tag = newTag();
    const controller = new AbortController();
    let measuring = false;
    let last: LoadProgress | null = null;
    const running = runLoad(plan(s.origin, { ratePerS: 50, warmupMs: 60_000, durationMs: 1000 }), {
      env: { ...process.env, LOOPLAG_TEST_TAG: tag },
      signal: controller.signal,
      onMeasureStart: () => (measuring = true),
      onProgress: (p) => (last = p),
    });
    const settled = running.then(() => 'resolved', (e: unknown) => e);
    await waitFor(() => last !== null && last.sent > 10, 'warm-up requests');
    const abortAt = performance.now();
    controller.abort();
    const outcome = await settled;
    assert.ok(outcome instanceof LoadAbortError, String(outcome));
    assert.equal(measuring, false);
    assert.equal((outcome as LoadAbortError).partial, null);
    assert.ok(performance.now() - abortAt < CUT_GRACE_MS, 'the generator answered the cut');
    await assertNoProcessLeft(tag);
  });

  test('the generator ends with its parent, even one killed with SIGKILL', async () => {
    const s = await server();
    const tag = newTag();
    // A parent that starts the generator as runLoad does and then dies without a word.
    const parentSource = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, [process.argv[1]], {
        stdio: ['pipe', 'inherit', 'inherit'], detached: true,
        env: { ...process.env, LOOPLAG_PARENT_PID: String(process.pid) },
      });
      child.stdin.write(process.argv[2] + '\\n');
      setInterval(() => undefined, 1000);
    `;
    const parent = spawn(process.execPath, ['-e', parentSource, loadgenScriptPath(), JSON.stringify(plan(s.origin, { durationMs: 60_000 }))], {
      env: { ...process.env, LOOPLAG_TEST_TAG: tag },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    parent.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    await waitFor(() => out.includes('"measuring"'), 'the generator to start measuring');
    assert.equal(processesWithTag(tag).length, 2, 'the parent and its generator');
    parent.kill('SIGKILL');
    await assertNoProcessLeft(tag);
  });

  test('the bundle runs with no node_modules in reach (undici and the histogram are inside it)', async () => {
    const s = await server();
    const dir = scratch.dir();
    const script = path.join(dir, 'loadgen.js');
    fs.copyFileSync(loadgenScriptPath(), script);
    const child = spawn(process.execPath, [script], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.stdin.write(JSON.stringify(plan(s.origin, { warmupMs: 0, durationMs: 300 })) + '\n');
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 0, err);
    const messages = out.trim().split('\n').map((line) => ChildMessage.parse(JSON.parse(line)));
    const last = messages[messages.length - 1];
    assert.equal(last.type, 'result');
    assert.equal(last.type === 'result' && last.result.targets[0].completed, 30);
  });

  test('a plan aimed off this machine, or that sends nothing, is refused before anything starts', async () => {
    await assert.rejects(runLoad(plan('http://example.com:80', {})), /origin must be http:\/\/127\.0\.0\.1/);
    await assert.rejects(runLoad(plan('http://127.0.0.1:1', { targets: [], probe: null })), /nothing to send/);
  });
});
