/**
 * A heartbeat on the extension host's own event loop while a run is in progress: the
 * host must never block because of user code, and this is how we know it did not.
 */
import { performance } from 'node:perf_hooks';
import { lagStats } from '../stats/lagStats';

const INTERVAL_MS = 2;

export class HostLagMonitor {
  private samples: number[][] = [];
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private started = 0;

  start(): void {
    this.started = this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.samples.push([now - this.started, Math.max(0, now - this.last - INTERVAL_MS)]);
      this.last = now;
    }, INTERVAL_MS);
    this.timer.unref?.();
  }

  stop(): { p50Ms: number; p99Ms: number; maxMs: number; samples: number } {
    clearInterval(this.timer);
    const s = lagStats(this.samples, { heartbeatMs: INTERVAL_MS, stallMs: 50, wallMs: performance.now() - this.started });
    return { p50Ms: s.p50Ms, p99Ms: s.p99Ms, maxMs: s.maxMs, samples: s.sampleCount };
  }
}
