/**
 * Synthetic service-mode inputs for the unit tests (no processes): a server whose loop
 * stalls 300 ms every second while a GET /reports/sales request is in flight, a healthy
 * one, an endpoint answering 500s, a variant that never started, two processes.
 */
import type { RawAttribution } from '../../src/shared/protocol/attribution';
import type { ServerProcessWindow } from '../../src/shared/protocol/serve';
import type { LatencyStats } from '../../src/shared/protocol/serveReport';
import type { ServeInputs, ServeVariant, VariantInputs } from '../../src/serve/inputs';
import type { TargetResult } from '../../src/serve/load/types';

export const PING = '/__looplag/ping-abc123';
export const WALL_MS = 10_000;
export const STALL_MS = 300;
export const NO_OUTPUT = { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 };

export function latency(p50Ms: number, p99Ms: number, maxMs: number, count = 200): LatencyStats {
  return { count, p50Ms, p90Ms: p99Ms, p99Ms, p999Ms: maxMs, maxMs, meanMs: p50Ms };
}

/** A stream's result: `sent` requests at `ratePerS`, `statusCodes` as given, the latencies flat at p50 but for the stalled ones. */
export function target(name: string, opts: { sent?: number; lat?: LatencyStats | null; statusCodes?: Record<string, number>; errors?: Record<string, number> } = {}): TargetResult {
  const [method, path] = name.split(' ');
  const sent = opts.sent ?? 200;
  const statusCodes = opts.statusCodes ?? { 200: sent };
  const errors = opts.errors ?? {};
  const failed = Object.values(errors).reduce((a, n) => a + n, 0);
  const completed = sent - failed;
  const codes = Object.entries(statusCodes).flatMap(([code, n]) => Array<number>(n).fill(Number(code)));
  const lat = opts.lat === undefined ? latency(3, 9, 12, completed) : opts.lat;
  const timeline: TargetResult['timeline'] = Array.from({ length: sent }, (_, i) => {
    const t = (i * WALL_MS) / sent;
    return i < completed ? [t, i % 20 === 0 && lat ? lat.maxMs : (lat?.p50Ms ?? 0), codes[i] ?? 200] : [t, null, 0];
  });
  return { name, method, path, sent, completed, failed, statusCodes, errors, latency: lat, throughputPerS: completed / (WALL_MS / 1000), timeline };
}

/**
 * One server process's window: heartbeats every `heartbeatMs`, a `STALL_MS` stall starting
 * at each of `stallsAt` (ms), a sales request in flight during each, a health request
 * between them, the probe's requests waiting through the stalls; a stack sampled near
 * each stall's end on `app/reports.py:42`.
 */
export function processWindow(pid: number, stallsAt: number[], opts: { heartbeatMs?: number; routes?: [string, string, number[][]][] } = {}): ServerProcessWindow {
  const hb = opts.heartbeatMs ?? 10;
  const samples: number[][] = [];
  let t = hb;
  const starts = [...stallsAt];
  while (t <= WALL_MS) {
    const s = starts[0];
    if (s !== undefined && t > s) {
      samples.push([s + STALL_MS, STALL_MS]);
      t = s + STALL_MS + hb;
      starts.shift();
      continue;
    }
    samples.push([t, 0.2]);
    t += hb;
  }
  const attribution: RawAttribution = {
    method: 'current-frames', intervalMs: 20,
    frames: [
      { file: 'app/reports.py', line: 42, function: 'build_sales', kind: 'user', source: 'rows = sorted(big)' },
      { file: 'asyncio/events.py', line: 80, function: '_run', kind: 'stdlib' },
    ],
    stacks: [[0, 1]],
    samples: stallsAt.map((s, i) => ({ tMs: s + STALL_MS - 1, dump: i, thread: 'loop' as const, stack: 0 })),
  };
  const routes = opts.routes ?? [
    ['GET', '/reports/sales', stallsAt.map((s) => [s, s + STALL_MS])],
    ['GET', '/health', stallsAt.map((s) => [s + 500, s + 502])],
    ['GET', PING, stallsAt.map((s) => [s + 100, s + STALL_MS + 1])],
  ];
  return {
    pid, t0EpochMs: 1_700_000_000_000, wallMs: WALL_MS, samples,
    cpu: { userMs: 3000, systemMs: 200 },
    requests: routes.map(([method, route, spans]) => ({ method, route, spans, dropped: 0 })),
    attribution, threadTokens: 40,
  };
}

export const EVERY_SECOND = Array.from({ length: 10 }, (_, i) => i * 1000 + 100);

export function variant(v: ServeVariant, server: ServerProcessWindow[], load: { targets: TargetResult[]; probe: TargetResult | null } | null, extra: Partial<VariantInputs> = {}): VariantInputs {
  return {
    variant: v, status: 'ok', error: null,
    ready: { port: 8123, pids: server.map((w) => w.pid), routes: [{ methods: ['GET'], path: '/reports/sales', handler: 'build_sales', file: 'app/reports.py', line: 40, isAsync: true }], server: 'uvicorn 0.17.6', startupMs: 420 },
    load: load && {
      t0EpochMs: 1_700_000_000_000, durationMs: WALL_MS, targets: load.targets, probe: load.probe,
      generator: { sendLagP99Ms: 0.4, sendLagMaxMs: 1.2, cpuMs: 800, notes: [] },
    },
    server, output: NO_OUTPUT, ...extra,
  };
}

export const AS_WRITTEN: ServeVariant = { name: 'as-written', processes: 1, threadTokens: null };
export const TWO_WORKERS: ServeVariant = { name: 'processes', processes: 2, threadTokens: null };

/** The stalling app as written: the probe waits through the stalls (p99 290 ms). */
export function stallingVariant(): VariantInputs {
  return variant(AS_WRITTEN, [processWindow(4242, EVERY_SECOND)], {
    targets: [target('GET /reports/sales', { lat: latency(305, 320, 330) })],
    probe: { ...target(`GET ${PING}`, { sent: 100, lat: latency(2, 290, 300, 100) }), name: 'probe' },
  });
}

/** Two healthy processes: the probe's p99 12 ms. */
export function healthyVariant(): VariantInputs {
  return variant(TWO_WORKERS, [processWindow(5001, []), processWindow(5002, [])], {
    targets: [target('GET /reports/sales', { lat: latency(8, 15, 20) })],
    probe: { ...target(`GET ${PING}`, { sent: 100, lat: latency(1, 12, 14, 100) }), name: 'probe' },
  });
}

export function inputs(variants: VariantInputs[], extra: Partial<ServeInputs> = {}): ServeInputs {
  return {
    app: { type: 'asgi', target: 'app.main:app', appDir: '/work/app', lifespan: 'auto' },
    runtime: { name: 'python', version: '3.11.2', executable: '/usr/bin/python3', implementation: 'CPython', gilEnabled: true, cpuCount: 2, platform: 'linux', switchIntervalS: 0.005 },
    settings: {
      ratePerS: 20, durationS: 10, warmupS: 2, probeRatePerS: 10,
      endpoints: [{ name: 'GET /reports/sales', method: 'GET', path: '/reports/sales', body: null }],
      budgetMs: 100, heartbeatMs: 10, stallMs: 50, attribution: true,
    },
    variants, error: null, createdAt: '2026-11-30T10:00:00.000Z', workspaceRoot: '/work/app',
    ...extra,
  };
}
