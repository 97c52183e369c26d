/**
 * Reports built from synthetic windows (no process is measured), the same on every run:
 * for the bench's host-side costs and the report UI in Chromium.
 */
import { buildReport } from '../../src/report/buildReport';
import type { Mode, RawWindow, Report, RunSettings } from '../../src/shared/protocol';

/** A seeded generator: the synthetic data is the same on every run. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** A window of `n` heartbeat samples: mostly ~0.1 ms, with a 1-in-500 stall. */
export function syntheticWindow(mode: Mode, n: number, rand: () => number): RawWindow {
  const samples: number[][] = [];
  let tMs = 0;
  for (let i = 0; i < n; i++) {
    const lag = rand() < 0.002 ? 20 + rand() * 200 : rand() * 0.2;
    tMs += 1 + lag;
    samples.push([Math.round(tMs * 1e4) / 1e4, Math.round(lag * 1e4) / 1e4]);
  }
  const tasks = Array.from({ length: 10 }, (_, id) => ({
    id, queuedMs: 0, startMs: id * 100, endMs: id * 100 + 100, worker: 'event loop', cpuMs: 100, error: null,
  }));
  return {
    mode, status: 'ok', error: null, wallMs: tMs, startupMs: null, workers: 1, tasks, samples,
    gilWaitsMs: samples.map((s) => s[1] / 2), cpu: { userMs: tMs, systemMs: 1 }, backgroundCpuFrac: 0,
    output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
  };
}

export const SYNTHETIC_SETTINGS: RunSettings = {
  modes: ['inline', 'thread', 'process'], concurrency: 10, workers: null, switchIntervalS: 0.005,
  heartbeatMs: 1, stallMs: 50, gilProbe: true, timeoutS: 120,
};

/** A finished Python report of `file`'s `noop`: 3 modes × `samples` heartbeats each. */
export function syntheticReport(file: string, samples: number, seed: number): Report {
  const rand = lcg(seed);
  return buildReport({
    target: { file, qualname: 'noop', lines: null, args: '', language: 'python' },
    settings: SYNTHETIC_SETTINGS, createdAt: new Date(), runtime: null, resolved: null, baseline: null,
    windows: SYNTHETIC_SETTINGS.modes.map((m) => syntheticWindow(m, samples, rand)), error: null, finished: true,
  });
}
