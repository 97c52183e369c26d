/** The Node sidecar's CPU meter (real CPU time): a window's span is start()..stop(), not the probes' setup around it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CpuMeter } from '../../src/sidecars/node/probes';

/** Burns `ms` of this process's CPU (not of wall time: a busy machine would give less). */
function burn(ms: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const u = process.cpuUsage(start);
    if ((u.user + u.system) / 1000 >= ms) return;
  }
}

test('CPU burnt before start() or after stop() is not the window\'s', () => {
  const meter = new CpuMeter();
  burn(200);
  meter.start();
  burn(100);
  meter.stop();
  burn(200);
  const { userMs, systemMs } = meter.finish(0, 1);
  assert.ok(userMs + systemMs >= 90, `${userMs + systemMs} ms`);
  assert.ok(userMs + systemMs < 200, `${userMs + systemMs} ms: only the 100 ms between start and stop`);
});
