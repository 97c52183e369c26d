/**
 * The measured window of a server process, from `measure` to `stop`: the Node sidecar's
 * heartbeat and CPU meter in the server's own loop, V8's CPU profiler as in inline
 * windows, and the app's requests. Times are ms on the heartbeat's clock since t0. The
 * profiler is started before the server says it is ready (`prepare`), so before the load
 * starts: starting it blocks the loop for 40–240 ms, which started at `measure` landed in
 * the first measured requests' latency (a probe of 25 ms where 2 ms was usual).
 */
import type { AttributionPlan } from '../../../shared/protocol';
import type { ServerProcessWindow } from '../../../shared/protocol/serve';
import { WindowAttribution } from '../attribution';
import { setImmediate } from '../clock';
import { CpuMeter, Heartbeat, nowMs } from '../probes';
import { cpuCount } from '../runtimeInfo';
import type { RequestLog } from './requests';

// The wall clock the load generator and the Python harness read (Date.now, time.time), taken
// when the bundle loads, before user code could replace it; `performance.timeOrigin` +
// `now()` drifts from it after a clock step.
const wallNow = Date.now;

export interface WindowPlan {
  heartbeatMs: number;
  attribution: AttributionPlan;
  /** Frames under it are the user's (shown relative to it). */
  workspaceRoot: string | null;
  /** The harness's own folder: its frames are left out. */
  toolDir: string;
}

export class ServeWindow {
  private constructor(
    private readonly plan: WindowPlan,
    private readonly log: RequestLog,
    private readonly attribution: WindowAttribution | null,
    private readonly heartbeat: Heartbeat,
    private readonly cpu: CpuMeter,
    readonly t0: number,
    private readonly t0EpochMs: number,
  ) {}

  /** Before `ready`: the profiler started (the samples before t0 are not the window's). */
  static async prepare(plan: WindowPlan): Promise<WindowAttribution | null> {
    // 'inline': the profiler samples this thread, where the app's handlers run.
    return WindowAttribution.begin(plan.attribution, 'inline');
  }

  /** Opens the window: t0, the heartbeat and the request log (the profiler already running). */
  static open(plan: WindowPlan, log: RequestLog, attribution: WindowAttribution | null): ServeWindow {
    const heartbeat = new Heartbeat(plan.heartbeatMs);
    const cpu = new CpuMeter();
    heartbeat.start();
    const t0 = nowMs();
    const t0EpochMs = wallNow();
    log.begin(t0);
    return new ServeWindow(plan, log, attribution, heartbeat, cpu, t0, t0EpochMs);
  }

  /** Closes it; what the server's loop saw. */
  async close(): Promise<ServerProcessWindow> {
    const tEnd = nowMs();
    const open = this.log.end();
    await this.heartbeat.stop();
    // The heartbeat's last tick resolves in the timers phase; the check phase comes after.
    await new Promise((r) => setImmediate(r));
    const wallMs = tEnd - this.t0;
    const usage = this.cpu.finish(wallMs, 0, cpuCount());
    // After the CPU meter: reading the profile is the tool's work, not the window's.
    const samples = this.heartbeat.samples.filter(([t]) => t >= this.t0);
    const lastBeat = samples.length ? samples[samples.length - 1][0] : tEnd;
    const attribution = this.attribution && await this.attribution.end(this.t0, Math.max(tEnd, lastBeat) - this.t0, this.plan.workspaceRoot, this.plan.toolDir);
    const notes = open ? [`${open} request${open === 1 ? '' : 's'} still open when the window closed ${open === 1 ? 'is' : 'are'} not in \`requests\``] : [];
    return {
      pid: process.pid,
      t0EpochMs: r4(this.t0EpochMs),
      wallMs: r4(wallMs),
      samples: samples.map(([t, lag]) => [r4(t - this.t0), r4(lag)]),
      cpu: { userMs: r3(usage.userMs), systemMs: r3(usage.systemMs) },
      requests: this.log.take(),
      attribution,
      ...(notes.length ? { notes } : {}),
    };
  }

  /** The run ended without a window to send: stop sampling. */
  abandon(): void {
    this.heartbeat.cancel();
    this.log.end();
    this.attribution?.abandon();
  }
}

function r4(x: number): number {
  return Math.round(x * 10000) / 10000;
}

function r3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
