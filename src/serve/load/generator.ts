/**
 * The open-loop generator itself, run in a process of its own (child.ts): sends each
 * stream on its schedule through an undici Pool, times every request from its intended
 * start to the end of its response body, fails those unanswered `timeoutMs` after their
 * intended start, and summarises.
 *
 * The scheduler sleeps on timers only (1 ms resolution), never spinning on setImmediate
 * through sub-ms gaps: at 2000 req/s spinning took 2.0–2.5× the CPU (the loop polling
 * with a zero timeout), a core the server on the same machine needs. Requests due
 * between two wakes go out together, up to ~1 ms late; when the loop was later still,
 * every overdue request goes at once. Each counts from its intended time, and the
 * lateness is recorded as the generator's send lag.
 */
import { performance } from 'node:perf_hooks';
import { Dispatcher, Pool } from 'undici';
import { newHistogram, recordMs, StreamRecorder } from './recorder';
import { firstIndexAtOrAfter, intendedAt, StreamSpec, streamsOf } from './schedule';
import type { LoadPlan, LoadProgress, LoadResult } from './types';

export const PROGRESS_EVERY_MS = 250;
/** undici's own timeouts are counted from the send: a late send must not pass for a timeout. */
const UNDICI_TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

export interface GeneratorEvents {
  /** The measured part began at `t0EpochMs` (the wall clock, ms since the epoch, as LoadResult's). */
  measuring(t0EpochMs: number): void;
  progress(p: LoadProgress): void;
}

/** Why a request failed, as the result counts it: `timeout`, else the most specific code its error has. */
export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown }; name?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : null;
  if (code && UNDICI_TIMEOUTS.has(code)) return 'timeout';
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  if (code) return code;
  return typeof e?.name === 'string' ? e.name : 'Error';
}

/** One request in flight: undici's handler, and what the timeout sweep needs. */
class InFlightRequest implements Dispatcher.DispatchHandlers {
  private abortFn: ((err?: Error) => void) | null = null;
  private statusCode = 0;
  settled = false;

  constructor(
    private readonly run: Run,
    readonly stream: number,
    /** Index in the stream's recorder; -1 for a warm-up request (not counted). */
    readonly index: number,
    /** Intended start, ms from the run's start. */
    readonly intendedMs: number,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    // A request that timed out while queued in the pool is not sent late.
    if (this.settled) abort(new Error('timed out before it was sent'));
    else this.abortFn = abort;
  }

  onHeaders(statusCode: number): boolean {
    this.statusCode = statusCode;
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.run.settle(this, this.statusCode, null);
  }

  onError(err: Error): void {
    this.run.settle(this, 0, errorCode(err));
  }

  /** Timed out: counted as failed now, and cut off on the wire when it already is on one. */
  timeOut(): void {
    this.run.settle(this, 0, 'timeout');
    this.abortFn?.(new Error('timeout'));
  }
}

/** One run of a plan: the state the scheduler, the handlers and the sweep share. */
class Run {
  private readonly streams: StreamSpec[];
  private readonly recorders: StreamRecorder[];
  /** Per stream: the next request's index (from the run's start) and the measured part's first and end index. */
  private readonly next: number[];
  private readonly firstMeasured: number[];
  private readonly endMeasured: number[];
  private readonly pool: Pool;
  private readonly inFlight = new Set<InFlightRequest>();
  private readonly sendLag = newHistogram(10_000_000);
  private sendLagMaxMs = 0;
  private readonly startMs = performance.now();
  private readonly t0Ms: number;
  private readonly endMs: number;
  private t0EpochMs = 0;
  private measuringSent = false;
  private cpuAtT0: NodeJS.CpuUsage | null = null;
  private sentAll = 0;
  private completedAll = 0;
  private timer: NodeJS.Timeout | null = null;
  /** When the parent cut the run (ms from the run's start); null: not cut. */
  private cutAtMs: number | null = null;
  private cutInFlight = 0;
  private finish: (() => void) | null = null;
  private readonly finished: Promise<void>;

  constructor(private readonly plan: LoadPlan, private readonly events: GeneratorEvents) {
    this.streams = streamsOf(plan);
    this.t0Ms = plan.warmupMs;
    this.endMs = plan.warmupMs + plan.durationMs;
    this.next = this.streams.map(() => 0);
    this.firstMeasured = this.streams.map((s) => firstIndexAtOrAfter(s, this.t0Ms));
    this.endMeasured = this.streams.map((s) => firstIndexAtOrAfter(s, this.endMs));
    this.recorders = this.streams.map((_, k) => new StreamRecorder(this.endMeasured[k] - this.firstMeasured[k], plan.timeoutMs));
    this.pool = new Pool(plan.origin, {
      connections: plan.maxConnections,
      pipelining: 1,
      connectTimeout: plan.timeoutMs,
      headersTimeout: plan.timeoutMs,
      bodyTimeout: plan.timeoutMs,
    });
    this.finished = new Promise((resolve) => (this.finish = resolve));
  }

  private now(): number {
    return performance.now() - this.startMs;
  }

  /** Null only when cut before the measured part began (the warm-up is not counted). */
  async run(cut?: AbortSignal): Promise<LoadResult | null> {
    if (cut?.aborted) return null;
    const onCut = () => this.cut();
    cut?.addEventListener('abort', onCut, { once: true });
    const sweepMs = Math.min(100, Math.max(5, this.plan.timeoutMs / 20));
    const sweep = setInterval(() => this.sweepTimeouts(), sweepMs);
    const progress = setInterval(() => this.events.progress(this.progress()), PROGRESS_EVERY_MS);
    try {
      this.tick();
      await this.finished;
    } finally {
      clearInterval(sweep);
      clearInterval(progress);
      cut?.removeEventListener('abort', onCut);
      this.stopTimer();
      // What is still open is warm-up traffic or a timed-out request: cut, not awaited.
      await this.pool.destroy().catch(() => undefined);
    }
    if (this.cutAtMs !== null && !this.measuringSent) return null;
    return this.result();
  }

  /**
   * The parent's cut (cancel, its deadline, the server gone): nothing more is sent, and the
   * measured requests still in flight count as failed with error `cut` (so `sent = completed
   * + failed` holds); they are left out of the latency, and the verdict does not count them
   * as failures (src/serve/verdict.ts).
   */
  private cut(): void {
    if (this.cutAtMs !== null) return;
    this.cutAtMs = this.now();
    this.stopTimer();
    for (const request of [...this.inFlight]) {
      if (request.index < 0) continue;
      this.cutInFlight++;
      this.settle(request, 0, 'cut');
    }
    this.finish?.();
  }

  private progress(): LoadProgress {
    const now = this.now();
    const phase = now < this.t0Ms ? 'warmup' : this.next.every((n, k) => n >= this.endMeasured[k]) ? 'draining' : 'measuring';
    return { phase, elapsedMs: now, sent: this.sentAll, completed: this.completedAll };
  }

  private stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Sends everything due (overdue included), then sleeps until the next send. */
  private tick = (): void => {
    this.timer = null;
    let now = this.now();
    if (!this.measuringSent && now >= this.t0Ms) this.startMeasuring(now);
    let nextDue = Infinity;
    for (let k = 0; k < this.streams.length; k++) {
      const stream = this.streams[k];
      const end = this.endMeasured[k];
      while (this.next[k] < end) {
        const at = intendedAt(stream, this.next[k]);
        if (at > now) {
          nextDue = Math.min(nextDue, at);
          break;
        }
        this.send(k, this.next[k]++, at, now);
        now = this.now();
      }
    }
    if (!this.measuringSent) nextDue = Math.min(nextDue, this.t0Ms);
    if (nextDue === Infinity) {
      this.maybeFinish();
      return;
    }
    const gap = nextDue - this.now();
    this.timer = setTimeout(this.tick, Math.max(1, Math.round(gap)));
  };

  private startMeasuring(now: number): void {
    this.measuringSent = true;
    this.cpuAtT0 = process.cpuUsage();
    this.t0EpochMs = Date.now() - (now - this.t0Ms);
    this.events.measuring(this.t0EpochMs);
  }

  private send(k: number, seq: number, intendedMs: number, now: number): void {
    const stream = this.streams[k];
    const measured = seq >= this.firstMeasured[k];
    const index = measured ? this.recorders[k].sendAt(intendedMs - this.t0Ms) : -1;
    if (measured) {
      const lag = now - intendedMs;
      recordMs(this.sendLag, lag);
      if (lag > this.sendLagMaxMs) this.sendLagMaxMs = lag;
    }
    const request = new InFlightRequest(this, k, index, intendedMs);
    this.inFlight.add(request);
    this.sentAll++;
    try {
      this.pool.dispatch({ path: stream.path, method: stream.method as Dispatcher.HttpMethod, headers: stream.headers, body: stream.body }, request);
    } catch (e) {
      this.settle(request, 0, errorCode(e));
    }
  }

  /** A request's end: answered (`code` null) or failed. Only its first end counts. */
  settle(request: InFlightRequest, statusCode: number, code: string | null): void {
    if (request.settled) return;
    request.settled = true;
    this.inFlight.delete(request);
    if (code === null) this.completedAll++;
    if (request.index >= 0) {
      const recorder = this.recorders[request.stream];
      if (code === null) recorder.complete(request.index, statusCode, this.now() - request.intendedMs);
      else recorder.fail(request.index, code);
    }
    if (this.timer === null) this.maybeFinish();
  }

  private sweepTimeouts(): void {
    const deadline = this.now() - this.plan.timeoutMs;
    for (const request of this.inFlight) if (request.intendedMs <= deadline) request.timeOut();
  }

  /** Done once everything is sent and every measured request has answered or timed out. */
  private maybeFinish(): void {
    if (this.timer !== null || !this.next.every((n, k) => n >= this.endMeasured[k])) return;
    if (this.recorders.every((r) => r.inFlight === 0)) this.finish?.();
  }

  private result(): LoadResult {
    const notes: string[] = [];
    const cpu = this.cpuAtT0 ? process.cpuUsage(this.cpuAtT0) : { user: 0, system: 0 };
    // Cut: the measured part actually run (a cut while draining the last answers keeps the whole part).
    const durationMs = this.cutAtMs === null ? this.plan.durationMs : Math.min(this.plan.durationMs, Math.max(0, this.cutAtMs - this.t0Ms));
    if (this.cutAtMs !== null) {
      const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      notes.push(`the run was cut ${s(durationMs)} into its ${s(this.plan.durationMs)} measured part: the figures cover the requests sent before the cut` +
        (this.cutInFlight ? `; ${this.cutInFlight} still waiting for an answer at the cut count as failed (\`cut\`), not in the latency.` : '.'));
    }
    const results = this.streams.map((s, k) => this.recorders[k].result(s, durationMs, notes));
    const lagP99 = this.sendLag.totalCount ? this.sendLag.getValueAtPercentile(99) / 1000 : 0;
    return {
      t0EpochMs: this.t0EpochMs,
      durationMs,
      targets: results.filter((_, k) => !this.streams[k].probe),
      probe: results.find((_, k) => this.streams[k].probe) ?? null,
      generator: { sendLagP99Ms: lagP99, sendLagMaxMs: this.sendLagMaxMs, cpuMs: (cpu.user + cpu.system) / 1000, notes },
    };
  }
}

/**
 * Runs a (checked) plan to its end: warm-up, the measured part, the drain. `cut` aborting
 * ends it at once with the measured part so far; null when cut in the warm-up.
 */
export function generate(plan: LoadPlan, events: GeneratorEvents): Promise<LoadResult>;
export function generate(plan: LoadPlan, events: GeneratorEvents, cut: AbortSignal): Promise<LoadResult | null>;
export function generate(plan: LoadPlan, events: GeneratorEvents, cut?: AbortSignal): Promise<LoadResult | null> {
  return new Run(plan, events).run(cut);
}
