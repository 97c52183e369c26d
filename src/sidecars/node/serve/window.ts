/**
 * The measured window of a server process: the Node sidecar's heartbeat in the server's
 * own loop, the process's CPU time, V8's CPU profiler as in inline windows, and the app's
 * requests. `measure` is read on this loop, so a stall in progress when it comes delays
 * it: everything is therefore recorded from `ready` and cut, when `measure` comes, at the
 * host's t0 (when the load's measured part began), so that stall is in the window from
 * t0. Until then only the last KEEP_BEFORE_MS of it are kept (the warm-up may run
 * minutes). Times sent are ms on the heartbeat's clock since t0. The profiler is started
 * before the server says it is ready (`prepare`), so before the load starts: starting it
 * blocks the loop for 40–240 ms, which started at `measure` landed in the first measured
 * requests' latency (a probe of 25 ms where 2 ms was usual).
 */
import type { AttributionPlan } from '../../../shared/protocol';
import type { ServerProcessWindow } from '../../../shared/protocol/serve';
import { WindowAttribution } from '../attribution';
import { clearInterval, cpuUsage, setImmediate, setInterval } from '../clock';
import { Heartbeat, nowMs } from '../probes';
import type { RequestLog } from './requests';

// The wall clock the load generator and the Python harness read (Date.now, time.time), taken
// when the bundle loads, before user code could replace it; `performance.timeOrigin` +
// `now()` drifts from it after a clock step.
const wallNow = Date.now;
/**
 * How far back the window may start from when `measure` is read: the longest stall in
 * progress it can still count from the host's t0, and what is kept of the warm-up until
 * then (heartbeat samples, request spans, CPU readings: at 1 ms beats and 10 000 req/s,
 * about 10 000 samples and 100 000 spans). A longer stall is counted from this far back.
 */
export const KEEP_BEFORE_MS = 10_000;
/** CPU time is read this often until the window starts: t0's is interpolated between two readings. */
const CPU_READING_MS = 50;
/** What is older than KEEP_BEFORE_MS is forgotten every this many readings (1 s): each pass walks every span kept. */
const TRIM_EVERY_READINGS = 20;

export interface WindowPlan {
  heartbeatMs: number;
  attribution: AttributionPlan;
  /** Frames under it are the user's (shown relative to it). */
  workspaceRoot: string | null;
  /** The harness's own folder: its frames are left out. */
  toolDir: string;
}

/** `[nowMs, user + system µs]`: the process's CPU time at a moment. */
type CpuReading = [number, { user: number; system: number }];

export class ServeWindow {
  private readonly cpuReadings: CpuReading[] = [];
  private readonly timer: NodeJS.Timeout;
  private t0: number | null = null;
  private t0EpochMs = 0;
  private cpu0: { user: number; system: number } | null = null;
  private readonly notes: string[] = [];

  private constructor(
    private readonly plan: WindowPlan,
    private readonly log: RequestLog,
    private readonly attribution: WindowAttribution | null,
    private readonly heartbeat: Heartbeat,
    private readonly recordedFrom: number,
  ) {
    this.readCpu();
    // Until t0: a CPU reading, and now and then what is older than KEEP_BEFORE_MS forgotten.
    let readings = 0;
    this.timer = setInterval(() => {
      this.readCpu();
      if (++readings % TRIM_EVERY_READINGS) return;
      const before = nowMs() - KEEP_BEFORE_MS;
      dropBefore(this.heartbeat.samples, before);
      // The last reading before it stays: t0's CPU is interpolated from it.
      dropBefore(this.cpuReadings, before, true);
      this.log.trim(before);
    }, CPU_READING_MS);
    this.timer.unref();
  }

  /** Before `ready`: the profiler started (its samples before t0 are not the window's). */
  static async prepare(plan: WindowPlan): Promise<WindowAttribution | null> {
    // 'inline': the profiler samples this thread, where the app's handlers run.
    return WindowAttribution.begin(plan.attribution, 'inline');
  }

  /** At `ready`: the heartbeat, the request log and CPU readings start recording (the profiler already running). */
  static record(plan: WindowPlan, log: RequestLog, attribution: WindowAttribution | null): ServeWindow {
    const heartbeat = new Heartbeat(plan.heartbeatMs);
    heartbeat.start();
    log.begin();
    return new ServeWindow(plan, log, attribution, heartbeat, nowMs());
  }

  get opened(): boolean {
    return this.t0 !== null;
  }

  /**
   * `measure`: the window starts at `hostT0EpochMs`, the host's wall clock when the load's
   * measured part began (same machine, same clock), never before recording began nor more
   * than KEEP_BEFORE_MS back; without it, now.
   */
  open(hostT0EpochMs?: number): void {
    if (this.t0 !== null) return;
    clearInterval(this.timer);
    const now = nowMs();
    const wall = wallNow();
    const late = hostT0EpochMs === undefined ? 0 : Math.max(0, wall - hostT0EpochMs);
    const earliest = Math.max(this.recordedFrom, now - KEEP_BEFORE_MS);
    const t0 = Math.max(earliest, now - late);
    if (now - late < earliest) {
      this.notes.push(`\`measure\` was read ${Math.round(late)} ms after the load's measured part began (the loop was blocked): the window starts ${Math.round(now - t0)} ms before it was read, as far back as was recorded`);
    }
    this.t0 = t0;
    this.t0EpochMs = wall - (now - t0);
    this.readCpu();
    this.cpu0 = cpuAt(this.cpuReadings, t0);
    this.cpuReadings.length = 0;
    this.log.cut(t0);
  }

  /** Closes it; what the server's loop saw from t0. */
  async close(): Promise<ServerProcessWindow> {
    this.open(); // a stop before measure: the window is from now
    const t0 = this.t0!;
    const tEnd = nowMs();
    const open = this.log.end();
    await this.heartbeat.stop();
    // The heartbeat's last tick resolves in the timers phase; the check phase comes after.
    await new Promise((r) => setImmediate(r));
    const wallMs = tEnd - t0;
    const u = cpuUsage();
    // After the CPU reading: reading the profile is the tool's work, not the window's.
    // A gap that began before t0 (the stall that held `measure` up) keeps its part from t0.
    const samples = this.heartbeat.samples.filter(([t]) => t >= t0).map(([t, lag]) => [r4(t - t0), r4(Math.min(lag, t - t0))]);
    const lastBeat = samples.length ? samples[samples.length - 1][0] + t0 : tEnd;
    const attribution = this.attribution && await this.attribution.end(t0, Math.max(tEnd, lastBeat) - t0, this.plan.workspaceRoot, this.plan.toolDir);
    const notes = [...this.notes, ...(open ? [`${open} request${open === 1 ? '' : 's'} still open when the window closed ${open === 1 ? 'is' : 'are'} not in \`requests\``] : [])];
    return {
      pid: process.pid,
      t0EpochMs: r4(this.t0EpochMs),
      wallMs: r4(wallMs),
      samples,
      cpu: { userMs: r3((u.user - this.cpu0!.user) / 1000), systemMs: r3((u.system - this.cpu0!.system) / 1000) },
      requests: this.log.take(),
      attribution,
      ...(notes.length ? { notes } : {}),
    };
  }

  /** The run ended without a window to send: stop recording. */
  abandon(): void {
    clearInterval(this.timer);
    this.heartbeat.cancel();
    this.log.end();
    this.attribution?.abandon();
  }

  private readCpu(): void {
    const u = cpuUsage();
    this.cpuReadings.push([nowMs(), { user: u.user, system: u.system }]);
  }
}

/**
 * The CPU time at `t`, linear between the readings around it (a stall spent between two
 * readings is spread evenly: a spinning handler burns CPU at a steady rate).
 */
export function cpuAt(readings: readonly CpuReading[], t: number): { user: number; system: number } {
  const i = readings.findIndex(([at]) => at > t);
  if (i < 0) return readings[readings.length - 1][1];
  if (i === 0) return readings[0][1];
  const [ta, a] = readings[i - 1];
  const [tb, b] = readings[i];
  const f = tb > ta ? (t - ta) / (tb - ta) : 1;
  return { user: a.user + (b.user - a.user) * f, system: a.system + (b.system - a.system) * f };
}

/** Removes the entries stamped before `t` (by their first element, in order), or all but the last of them. */
function dropBefore(xs: [number, unknown][], t: number, keepLast = false): void {
  let n = 0;
  while (n < xs.length && xs[n][0] < t) n++;
  if (keepLast) n--;
  if (n > 0) xs.splice(0, n);
}

function r4(x: number): number {
  return Math.round(x * 10000) / 10000;
}

function r3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
