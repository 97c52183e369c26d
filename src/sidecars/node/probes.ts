/**
 * Probes that run during every measured window. Times are `process.hrtime` in ms:
 * CLOCK_MONOTONIC, shared by worker threads and child processes on the machine. Timers
 * and clocks are the sidecar's own references (clock.ts): user code may patch the globals.
 */
import { randomFill } from 'node:crypto';
import * as fs from 'node:fs';
import { EventLoopUtilization, IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { clearTimeout, cpuUsage, loopUtilization, nowMs, setTimeout } from './clock';
import { EditorCpu } from './editorCpu';

export { nowMs };

/**
 * A timer that wakes every `intervalMs` and records `[wake time, lag]`, the lag being
 * the gap since the previous wake-up minus the interval: a stall is one sample as long
 * as the stall, never a lost sample. libuv schedules timers on its cached millisecond
 * clock, so a wake-up can come early (lag < 0, clamped to 0) or a little late; the
 * gap itself is measured on hrtime. `stop()` waits for one more wake-up so a stall
 * that ends with the last task is still counted.
 */
export class Heartbeat {
  readonly samples: [number, number][] = [];
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopAt: number | null = null;
  private onStopped: (() => void) | null = null;

  constructor(private readonly intervalMs: number) {}

  start(): void {
    this.last = nowMs();
    this.timer = setTimeout(this.tick, this.intervalMs);
  }

  private readonly tick = (): void => {
    const now = nowMs();
    const lag = now - this.last - this.intervalMs;
    this.samples.push([now, lag > 0 ? lag : 0]);
    this.last = now;
    if (this.stopAt !== null && now >= this.stopAt) {
      this.onStopped?.();
      return;
    }
    this.timer = setTimeout(this.tick, this.intervalMs);
  };

  stop(): Promise<void> {
    this.stopAt = nowMs();
    return new Promise((resolve) => {
      this.onStopped = resolve;
    });
  }

  /**
   * Stop at once. At a cut (a timeout, a cancel, the call timeout) the loop may just
   * have come out of a stall its next tick has not recorded yet: `at` records that open
   * gap as the last sample, so the stall the cut fell in is not lost.
   */
  cancel(at?: number): void {
    clearTimeout(this.timer);
    if (at === undefined) return;
    const lag = at - this.last - this.intervalMs;
    if (lag > 0) this.samples.push([at, lag]);
  }
}

/**
 * Node's own event-loop delay histogram, a cross-check on the heartbeat. It is enabled
 * once, when the sidecar starts: enabled right before a stall, its first timer has not
 * been armed yet and the stall goes unrecorded.
 */
export class LoopDelayMonitor {
  private readonly histogram: IntervalHistogram;
  private readonly resolutionMs: number;

  constructor(resolutionMs: number) {
    this.resolutionMs = Math.max(1, Math.round(resolutionMs));
    this.histogram = monitorEventLoopDelay({ resolution: this.resolutionMs });
    this.histogram.enable();
  }

  /**
   * Start a fresh histogram and wait until it records again: after a reset Node's timer
   * needs one more tick before it measures gaps, and a stall in between would be missed.
   */
  async reset(): Promise<void> {
    this.histogram.reset();
    const h = this.histogram as unknown as { count?: number };
    for (let i = 0; i < 50 && !(Number(h.count ?? 1) > 0); i++) {
      await new Promise((r) => setTimeout(r, this.resolutionMs));
    }
    // Not reset again (that forgets the last tick): the one or two ~1 ms gaps recorded
    // while waiting are noise next to the window's.
  }

  /** Node records the whole gap between its ticks, so values include `resolutionMs`. */
  read(): { minMs: number; maxMs: number; meanMs: number; p50Ms: number; p99Ms: number; count: number; resolutionMs: number } | null {
    const h = this.histogram;
    const count = Number((h as unknown as { count?: number }).count ?? 0);
    if (!Number.isFinite(h.max) || h.max <= 0) return null;
    const ms = (ns: number) => Math.round((ns / 1e6) * 1000) / 1000;
    return { minMs: ms(h.min), maxMs: ms(h.max), meanMs: ms(h.mean), p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), count, resolutionMs: this.resolutionMs };
  }
}

/** Event-loop utilization between two points: the share of time the loop was not idle. */
export class LoopUtilization {
  private readonly start: EventLoopUtilization = loopUtilization();

  finish(): number {
    return loopUtilization(loopUtilization(), this.start).utilization;
  }
}

/** /proc/stat counts in USER_HZ clock ticks, 100 per second on every Linux platform. */
const CLOCK_TICKS_PER_S = 100;

function machineBusyS(): number | null {
  try {
    const first = fs.readFileSync('/proc/stat', 'latin1').split('\n', 1)[0].trim().split(/\s+/);
    if (first[0] !== 'cpu') return null;
    const v = first.slice(1).map(Number);
    // user nice system idle iowait irq softirq steal [guest guest_nice, already in user/nice]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

/**
 * Before each window: slices of 50 ms (10 clock ticks on 2 cores), quiet under 15% (one tick
 * of noise passes, a redraw's two or more do not), waiting about 0.5 s at most.
 */
const QUIET_SLICE_MS = 50;
const QUIET_FRAC = 0.15;
const QUIET_MAX_MS = 500;

/**
 * This process's CPU time (all its threads) over a window, and the machine's load from
 * others (not the editor's processes when `editorPid` names their root: editorCpu.ts).
 * Finding the editor's processes walks /proc (a few ms), so it happens at construction,
 * outside the probes; `start` and `stop` take only cheap readings (this process's CPU,
 * /proc/stat, the editor's known processes) at the window's first and last instant, and
 * the load is judged over that span. Without a `start`, construction opens it.
 */
export class CpuMeter {
  private readonly editor: EditorCpu;
  private from!: Reading;
  private to: Reading | null = null;

  constructor(editorPid: number | null = null) {
    this.editor = new EditorCpu(editorPid);
    this.start();
  }

  /** The window opens: its span starts now. */
  start(): void {
    this.from = this.read();
  }

  /** The window closed: its span ends now (the first call only). */
  stop(): void {
    this.to ??= this.read();
  }

  /** The span's CPU (ms) and background share; `childrenCpuMs`: what pool children used meanwhile. */
  finish(childrenCpuMs: number, cpuCount: number): { userMs: number; systemMs: number; background: number | null } {
    this.stop();
    const [from, to] = [this.from, this.to!];
    const userMs = (to.usage.user - from.usage.user) / 1000;
    const systemMs = (to.usage.system - from.usage.system) / 1000;
    const spanS = (to.atMs - from.atMs) / 1000;
    // Under ~20 ticks of machine capacity the figure is mostly rounding: unknown, not load.
    const enough = spanS * Math.max(1, cpuCount) * CLOCK_TICKS_PER_S >= 20;
    const others = CpuMeter.othersS(from, to, childrenCpuMs / 1000);
    const background = others !== null && spanS > 0 && enough ? Math.min(1, Math.max(0, others / (spanS * Math.max(1, cpuCount)))) : null;
    return { userMs, systemMs, background };
  }

  /**
   * Waits, up to `maxMs`, for a slice in which other processes used under QUIET_FRAC of the
   * machine: a window starts after a burst (the editor redrawing the last mode's result),
   * not in it. A machine busy throughout is measured as it is, after `maxMs`; `stop` (a cancel)
   * ends the wait between slices. Returns the ms waited.
   */
  async quietStart(cpuCount: number, stop: () => boolean, sliceMs = QUIET_SLICE_MS, maxMs = QUIET_MAX_MS): Promise<number> {
    const first = nowMs();
    while (!stop()) {
      const a = this.read();
      if (a.machine === null) break;
      await new Promise((resolve) => setTimeout(resolve, sliceMs));
      const b = this.read();
      const others = CpuMeter.othersS(a, b);
      if (others === null) break;
      // One clock tick of noise passes on any machine (on one core 15% is under a tick).
      const quiet = others <= Math.max(QUIET_FRAC * ((b.atMs - a.atMs) / 1000) * Math.max(1, cpuCount), 1 / CLOCK_TICKS_PER_S);
      if (quiet || b.atMs - first >= maxMs) break;
    }
    return nowMs() - first;
  }

  /**
   * Other processes' CPU seconds between two readings: the machine's busy time less this
   * process's, its pool children's and the editor's; null where /proc/stat cannot tell.
   */
  private static othersS(a: Reading, b: Reading, childrenS = 0): number | null {
    if (a.machine === null || b.machine === null) return null;
    const ownS = (b.usage.user - a.usage.user + b.usage.system - a.usage.system) / 1e6;
    return b.machine - a.machine - ownS - childrenS - EditorCpu.usedS(a.editor, b.editor);
  }

  private read(): Reading {
    return { atMs: nowMs(), usage: cpuUsage(), machine: machineBusyS(), editor: this.editor.read() };
  }
}

interface Reading {
  atMs: number;
  usage: NodeJS.CpuUsage;
  machine: number | null;
  editor: Map<number, number>;
}

/** CPU ms of the calling thread where Node can tell (23.9+), else of the whole process. */
export function threadCpuMs(): { ms: number; perThread: boolean } {
  const p = process as unknown as { threadCpuUsage?: () => NodeJS.CpuUsage };
  if (typeof p.threadCpuUsage === 'function') {
    const u = p.threadCpuUsage();
    return { ms: (u.user + u.system) / 1000, perThread: true };
  }
  const u = process.cpuUsage();
  return { ms: (u.user + u.system) / 1000, perThread: false };
}

/** One 1-byte `crypto.randomFill`: a libuv threadpool job whose own work is a few µs. */
function threadpoolRoundTrip(buf: Uint8Array): Promise<number> {
  const t = nowMs();
  return new Promise((resolve) => randomFill(buf, () => resolve(nowMs() - t)));
}

/**
 * How long a tiny job waits for libuv's threadpool (UV_THREADPOOL_SIZE threads, 4 by
 * default, shared by fs, dns.lookup, crypto, zlib and native addons' async work), seen
 * from the loop: every `intervalMs` one async `crypto.randomFill` of 1 byte (Node runs
 * it as a CryptoJob on the threadpool, where fs calls may go through io_uring instead),
 * whether or not the previous one answered, so the samples are spread over the window's
 * time like the heartbeat's and a saturated pool yields many long waits, not one. Each
 * sample is submit → callback on the main thread: a blocked loop lengthens it too, which
 * is why the rule compares it with the lag.
 */
export class ThreadpoolProbe {
  readonly samplesMs: number[] = [];
  private readonly inFlight = new Set<number>();
  private readonly buf = new Uint8Array(1);
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly intervalMs: number) {}

  /**
   * The round trip with nothing else queued: the median of a few in a row. Null when
   * the pool does not answer within `capMs` (the previous mode left it stuck, e.g. on a
   * read that never ends): the window must not wait for it.
   */
  static async idleMs(capMs = 1000): Promise<number | null> {
    const buf = new Uint8Array(1);
    const xs: number[] = [];
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<null>((r) => {
      timer = setTimeout(() => r(null), capMs);
    });
    try {
      for (let i = 0; i < 5; i++) {
        const ms = await Promise.race([threadpoolRoundTrip(buf), gaveUp]);
        if (ms === null) return null;
        xs.push(ms);
      }
    } finally {
      clearTimeout(timer);
    }
    xs.sort((a, b) => a - b);
    return xs[2];
  }

  start(): void {
    this.tick();
  }

  private readonly tick = (): void => {
    const t = nowMs();
    this.inFlight.add(t);
    void threadpoolRoundTrip(this.buf).then((ms) => {
      if (this.stopped) return;
      this.inFlight.delete(t);
      this.samplesMs.push(ms);
    });
    this.timer = setTimeout(this.tick, this.intervalMs);
  };

  /**
   * The samples so far. Probes still waiting count with their wait so far: a threadpool
   * busy until the window's end would otherwise leave its longest waits out.
   */
  stop(): number[] {
    this.stopped = true;
    clearTimeout(this.timer);
    const now = nowMs();
    for (const t of this.inFlight) this.samplesMs.push(now - t);
    return this.samplesMs;
  }
}
