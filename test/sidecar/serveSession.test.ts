/**
 * Service mode's session (src/serve/session.ts) against a fake server harness
 * (test/fixtures/serve/fake_harness/serve.js): a real Node process that speaks the
 * harness framing around a real http server, so the lifecycle is tested without the real
 * harnesses: ok, a crash under load, a start timeout, a stop ignored, an import error,
 * cancel and the session's timeout, with no process of the run left.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runServe, ServeOptions } from '../../src/serve/session';
import type { ServeSettings, VariantInputs } from '../../src/serve/inputs';
import type { LoadOptions, LoadPlan, LoadResult, TargetResult } from '../../src/serve/load/types';
import { FIXTURES, waitFor } from '../support/helpers';

const HARNESS_DIR = path.join(FIXTURES, 'serve', 'fake_harness');

const SETTINGS: ServeSettings = {
  ratePerS: 20, durationS: 1, warmupS: 0.3, probeRatePerS: 20,
  endpoints: [{ name: 'GET /', method: 'GET', path: '/' }],
  budgetMs: null, heartbeatMs: 1, stallMs: 50, attribution: true,
};

/**
 * A stand-in for the load generator (src/serve/load, built in parallel): real HTTP
 * requests at the plan's rates (fetch, open loop on timers), the window opened after the
 * warm-up; an abort rejects it, as a generator cut short may.
 */
function testLoad(plan: LoadPlan, options: LoadOptions = {}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const streams = [...plan.targets, ...(plan.probe ? [{ name: 'probe', method: 'GET', path: plan.probe.path }] : [])];
    const results: TargetResult[] = streams.map((s) => ({
      name: s.name, method: s.method, path: s.path, sent: 0, completed: 0, failed: 0, statusCodes: {}, errors: {}, latency: null, throughputPerS: 0, timeline: [],
    }));
    let measuring = false;
    let t0 = 0;
    const inFlight = new Set<Promise<void>>();
    const fire = (r: TargetResult) => {
      const counted = measuring;
      if (counted) r.sent++;
      const p = fetch(plan.origin + r.path, { method: r.method }).then(async (res) => {
        await res.text();
        if (counted) {
          r.completed++;
          r.statusCodes[res.status] = (r.statusCodes[res.status] ?? 0) + 1;
        }
      }, (e: { cause?: { code?: string } }) => {
        if (counted) {
          r.failed++;
          const code = e.cause?.code ?? 'error';
          r.errors[code] = (r.errors[code] ?? 0) + 1;
        }
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };
    const timers = results.map((r, i) => setInterval(() => fire(r), 1000 / (i < plan.targets.length ? plan.ratePerS : plan.probe!.ratePerS)));
    const stop = () => {
      for (const t of timers) clearInterval(t);
      clearTimeout(warm);
      clearTimeout(end);
    };
    let end: NodeJS.Timeout | undefined;
    const warm = setTimeout(() => {
      measuring = true;
      t0 = Date.now();
      options.onMeasureStart?.(t0);
      options.onProgress?.({ phase: 'measuring', elapsedMs: plan.warmupMs, sent: 0, completed: 0 });
      if (options.signal?.aborted) return; // aborted from the callback just now
      end = setTimeout(() => {
        stop();
        void Promise.all(inFlight).then(() => resolve({
          t0EpochMs: t0, durationMs: plan.durationMs,
          targets: results.slice(0, plan.targets.length), probe: plan.probe ? results[results.length - 1] : null,
          generator: { sendLagP99Ms: 0, sendLagMaxMs: 0, cpuMs: 0, notes: [] },
        }));
      }, plan.durationMs);
    }, plan.warmupMs);
    options.signal?.addEventListener('abort', () => {
      stop();
      reject(new Error('aborted'));
    }, { once: true });
  });
}

function options(behaviours: string[], extra: Partial<ServeOptions> = {}): ServeOptions {
  return {
    app: { type: 'node', script: path.join(HARNESS_DIR, 'app.js'), args: behaviours },
    settings: SETTINGS, workspaceRoot: null, nodeSidecarDir: HARNESS_DIR, node: process.execPath,
    runLoad: testLoad, cancelGraceMs: 500, stopGraceMs: 1000, ...extra,
  };
}

/** Alive and not a zombie (Linux /proc; elsewhere: signal 0). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every pid the harness named (itself, a child in its group, one in a session of its own) has ended. */
async function assertTreeGone(v: VariantInputs): Promise<void> {
  const pids = v.ready?.pids ?? [];
  assert.equal(pids.length, 3, `the harness named its pids: ${JSON.stringify(v.ready)}`);
  // SIGKILL is delivered asynchronously: a short poll, not a sleep.
  await waitFor(() => pids.every((p) => !alive(p)), `pids ${pids.join(', ')} to end`, 3000).catch(() => {
    assert.fail(`left running: ${pids.filter(alive).join(', ')}`);
  });
}

function planOf(v: VariantInputs): { processes: number; threadTokens: number | null; pingPath: string; attribution: boolean; measureAtMs: number } {
  const note = v.server[0]?.notes?.find((n) => n.startsWith('plan '));
  assert.ok(note, `the fake's window carries its plan: ${JSON.stringify(v.server)}`);
  return JSON.parse(note.slice(5));
}

test('each variant runs in its own harness: start, load with the probe, measure after the warm-up, stop, window, output', async () => {
  const progress: string[] = [];
  const inputs = await runServe(options(['ok'], { processes: 2, onProgress: (p) => progress.push(`${p.variant}:${p.phase}`) }));
  assert.equal(inputs.error, null, JSON.stringify(inputs.error));
  assert.equal(inputs.runtime?.implementation, 'fake harness');
  assert.deepEqual(inputs.variants.map((v) => [v.variant.name, v.variant.processes, v.status]), [['as-written', 1, 'ok'], ['processes', 2, 'ok']]);
  const pings = new Set<string>();
  for (const v of inputs.variants) {
    assert.ok(v.ready && v.ready.port > 0 && v.ready.routes.length === 1);
    assert.ok(v.load, 'the load result is kept');
    assert.equal(v.server.length, 1, 'the window is kept');
    const plan = planOf(v);
    assert.equal(plan.processes, v.variant.processes);
    assert.equal(plan.attribution, true);
    assert.match(plan.pingPath, /^\/__looplag\/ping-[0-9a-f]{16}$/);
    pings.add(plan.pingPath);
    // The window opened when the warm-up ended, not at ready.
    assert.ok(plan.measureAtMs >= v.ready.startupMs + SETTINGS.warmupS * 1000 * 0.9, `measure at ${plan.measureAtMs} ms, ready at ${v.ready.startupMs} ms`);
    // The probe hit the harness's ping path, and the endpoint the app.
    const served = new Map(v.server[0].requests.map((r) => [`${r.method} ${r.route}`, r.dropped]));
    assert.ok((served.get('GET PING') ?? 0) > 5, `probe requests served: ${JSON.stringify([...served])}`);
    assert.ok((served.get('GET /') ?? 0) > 5);
    assert.ok(v.load.probe && v.load.probe.completed > 5);
    assert.match(v.output.stdout, /harness stdout line/);
    assert.match(v.output.stderr, /harness stderr line/);
    await assertTreeGone(v);
  }
  assert.equal(pings.size, 2, 'a fresh ping path per harness');
  for (const phase of ['as written:starting', 'as written:stopping', '2 processes:starting', '2 processes:stopping']) assert.ok(progress.includes(phase), `${phase} in ${progress.join(' ')}`);
});

test('a server that crashes under load: its variant failed `crashed`, the next variant still runs', async () => {
  const inputs = await runServe(options(['crash-under-load', 'ok'], { processes: 2 }));
  assert.equal(inputs.error, null);
  const [first, second] = inputs.variants;
  assert.equal(first.status, 'failed');
  assert.equal(first.error?.kind, 'crashed');
  assert.match(first.error!.message, /^the Node server, under load, exited with code 3/);
  assert.match(first.output.stdout, /harness stdout line/, 'what the crashed server printed is kept');
  assert.equal(second.status, 'ok');
  await assertTreeGone(first);
  await assertTreeGone(second);
});

test('a server that never listens: the variant fails at the start timeout, and the harness is killed', async () => {
  const started = Date.now();
  const inputs = await runServe(options(['never-ready'], { startTimeoutS: 0.5 }));
  const [v] = inputs.variants;
  assert.equal(v.status, 'failed');
  assert.equal(v.error?.kind, 'timeout');
  assert.match(v.error!.message, /did not start listening within 0\.5 s/);
  assert.equal(v.ready, null);
  assert.ok(Date.now() - started < 15_000);
});

test('a server that ignores stop is killed after the grace: no window, the variant failed; one that hangs after its window keeps it, with a note', async () => {
  const inputs = await runServe(options(['ignore-stop', 'hang-after-window'], { processes: 2 }));
  const [ignored, hung] = inputs.variants;
  assert.equal(ignored.status, 'failed');
  assert.equal(ignored.error?.kind, 'timeout');
  assert.match(ignored.error!.message, /sent no window within 1 s of being told to stop/);
  assert.ok(ignored.load, 'the load finished before the stop');
  await assertTreeGone(ignored);
  assert.equal(hung.status, 'ok');
  assert.equal(hung.server.length, 1);
  assert.match(hung.notes?.join(' ') ?? '', /did not end within 1 s of its window/);
  await assertTreeGone(hung);
});

test('an app that fails to import ends the session: reported once, the next variant not started', async () => {
  const spawned: string[] = [];
  const inputs = await runServe(options(['import-error'], { processes: 2, threadTokens: 8, onSpawn: (c) => spawned.push(c) }));
  assert.equal(inputs.error?.kind, 'import-error');
  assert.deepEqual(inputs.variants.map((v) => [v.variant.name, v.status, v.error?.kind ?? null]), [
    ['as-written', 'failed', 'import-error'], ['processes', 'skipped', null], ['threads', 'skipped', null],
  ]);
  assert.equal(spawned.length, 1);
});

test('cancel under load ends the load and the server at once; the rest of the session is skipped and nothing is left running', async () => {
  const controller = new AbortController();
  const started = Date.now();
  const inputs = await runServe(options(['ok'], {
    processes: 2, signal: controller.signal,
    onProgress: (p) => {
      if (p.phase === 'measuring') controller.abort();
    },
    runLoad: (plan, o) => testLoad({ ...plan, durationMs: 60_000 }, o),
  }));
  assert.ok(Date.now() - started < 10_000, 'ended within the grace, not at the load\'s end');
  assert.equal(inputs.error?.kind, 'cancelled');
  const [first, second] = inputs.variants;
  assert.equal(first.status, 'failed');
  assert.equal(first.error?.kind, 'cancelled');
  assert.equal(first.error?.message, 'cancelled with the app as written under load');
  // What it has: the server answered the stop within the grace, so its window is kept.
  assert.equal(first.server.length, 1, 'the cancelled variant keeps the window the server sent');
  assert.equal(second.status, 'skipped');
  await assertTreeGone(first);
});

test('the session\'s --timeout under load: error `timeout`, the server killed', async () => {
  const inputs = await runServe(options(['ignore-stop'], {
    timeoutS: 2, stopGraceMs: 60_000, runLoad: (plan, o) => testLoad({ ...plan, durationMs: 60_000 }, o),
  }));
  assert.equal(inputs.error?.kind, 'timeout');
  assert.match(inputs.error!.message, /^gave up after 2 s \(--timeout\) with the app as written, under load$/);
  await assertTreeGone(inputs.variants[0]);
});

test('a runtime that cannot be started: interpreter-not-found on the session', async () => {
  const inputs = await runServe(options(['ok'], { node: '/nonexistent/node' }));
  assert.equal(inputs.error?.kind, 'interpreter-not-found');
  assert.equal(inputs.variants[0].status, 'failed');
});
