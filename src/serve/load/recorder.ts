/**
 * What one stream of requests recorded, and its TargetResult: counts, status codes,
 * errors, the HDR latency histogram and the per-request timeline. Pure (no clock, no
 * I/O): the generator hands it times it read itself.
 */
import Int32Histogram from 'hdr-histogram-js/dist/Int32Histogram';
import type { LatencyStats } from '../../shared/protocol/serveReport';
import type { TargetResult } from './types';

/** At most this many timeline entries per target; beyond, evenly thinned (the contract's cap). */
export const TIMELINE_CAP = 20_000;

/** HDR precision: 3 significant digits (a 0.1% bucket width), values in microseconds. */
const SIGNIFICANT_DIGITS = 3;
const US_PER_MS = 1000;

/** A microsecond histogram that grows past its first range instead of throwing. */
export function newHistogram(highestUs: number): Int32Histogram {
  const h = new Int32Histogram(1, Math.max(2, Math.ceil(highestUs)), SIGNIFICANT_DIGITS);
  h.autoResize = true;
  return h;
}

/** Records a duration in ms into a microsecond histogram (below 1 µs counts as 1 µs). */
export function recordMs(h: Int32Histogram, valueMs: number): void {
  h.recordValue(Math.max(1, Math.round(valueMs * US_PER_MS)));
}

/** p50…p99.9 from the histogram; the exact max and mean, kept beside it (HDR rounds them to a bucket). */
export function latencyStats(h: Int32Histogram, exactMaxMs: number, sumMs: number): LatencyStats | null {
  const count = h.totalCount;
  if (count === 0) return null;
  const at = (p: number) => h.getValueAtPercentile(p) / US_PER_MS;
  return {
    count,
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    p999Ms: at(99.9),
    maxMs: exactMaxMs,
    meanMs: sumMs / count,
  };
}

/** Indices of `n` items thinned evenly to at most `cap` (first and spread, in order). */
export function thinnedIndices(n: number, cap: number): number[] {
  if (n <= cap) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: cap }, (_, j) => Math.floor((j * n) / cap));
}

/**
 * One stream's measured requests, indexed by their sequence number within the measured
 * part (0 = the first intended at or after t0). Failed requests keep NaN latency.
 */
export class StreamRecorder {
  readonly intendedMs: Float64Array;
  readonly latencyMs: Float64Array;
  readonly status: Uint16Array;
  /** 0: in flight, 1: completed, 2: failed. */
  private readonly state: Uint8Array;
  sent = 0;
  completed = 0;
  failed = 0;
  readonly statusCodes: Record<string, number> = {};
  readonly errors: Record<string, number> = {};
  private readonly histogram: Int32Histogram;
  private maxMs = 0;
  private sumMs = 0;

  /** `capacity`: the most requests the measured part can hold (rate × duration, rounded up, plus one). */
  constructor(capacity: number, timeoutMs: number) {
    this.intendedMs = new Float64Array(capacity);
    this.latencyMs = new Float64Array(capacity).fill(NaN);
    this.status = new Uint16Array(capacity);
    this.state = new Uint8Array(capacity);
    this.histogram = newHistogram(timeoutMs * US_PER_MS * 2);
  }

  /** A request intended `intendedMs` after t0 was handed to the connection pool; returns its index. */
  sendAt(intendedMs: number): number {
    const i = this.sent++;
    this.intendedMs[i] = intendedMs;
    return i;
  }

  /** Its response ended: latency from the intended start. Ignored once the request is settled (a timeout came first). */
  complete(i: number, statusCode: number, latencyMs: number): void {
    if (this.state[i] !== 0) return;
    this.state[i] = 1;
    this.completed++;
    this.latencyMs[i] = latencyMs;
    this.status[i] = statusCode;
    this.statusCodes[statusCode] = (this.statusCodes[statusCode] ?? 0) + 1;
    recordMs(this.histogram, latencyMs);
    this.sumMs += latencyMs;
    if (latencyMs > this.maxMs) this.maxMs = latencyMs;
  }

  /** No answer: `code` is `timeout` or the error's code. Ignored once settled. */
  fail(i: number, code: string): void {
    if (this.state[i] !== 0) return;
    this.state[i] = 2;
    this.failed++;
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  settled(i: number): boolean {
    return this.state[i] !== 0;
  }

  get inFlight(): number {
    return this.sent - this.completed - this.failed;
  }

  /** The stream's result; `notes` gets a line when the timeline was thinned. */
  result(target: { name: string; method: string; path: string }, durationMs: number, notes: string[]): TargetResult {
    const picked = thinnedIndices(this.sent, TIMELINE_CAP);
    if (picked.length < this.sent) {
      notes.push(`${target.name}: the timeline keeps ${picked.length} of ${this.sent} requests, evenly spaced (counts and latency cover all).`);
    }
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    const timeline = picked.map((i): [number, number | null, number] => {
      const latency = this.latencyMs[i];
      return [round3(this.intendedMs[i]), Number.isNaN(latency) ? null : round3(latency), this.status[i]];
    });
    return {
      name: target.name,
      method: target.method,
      path: target.path,
      sent: this.sent,
      completed: this.completed,
      failed: this.failed,
      statusCodes: { ...this.statusCodes },
      errors: { ...this.errors },
      latency: latencyStats(this.histogram, this.maxMs, this.sumMs),
      throughputPerS: durationMs > 0 ? this.completed / (durationMs / 1000) : 0,
      timeline,
    };
  }
}
