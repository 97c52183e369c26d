/**
 * One measured window: the heartbeat, Node's delay histogram, ELU, CPU and threadpool
 * probes around a mode's calls, assembled into the protocol's RawWindow.
 */
import type { RawWindow, RunError } from '../../../shared/protocol';
import { WindowAttribution } from '../attribution';
import { LoadError } from '../loader';
import { clearInterval, setImmediate, setInterval, setTimeout, wallMs } from '../clock';
import { CpuMeter, Heartbeat, LoopUtilization, nowMs, ThreadpoolProbe } from '../probes';
import { editorPidFromEnv } from '../editorCpu';
import { CallTimeout, Cancelled, Context, NodeMode, PoolCrash, TaskRec } from './context';

/**
 * Gap between two threadpool probes: each is one 1-byte job, so 200 a second cost the
 * pool nothing measurable, and a wait of a few ms still shows.
 */
const THREADPOOL_PROBE_INTERVAL_MS = 5;

/** Milliseconds to four decimals (0.1 µs), as every window reports them. */
export function r4(x: number): number {
  return Math.round(x * 10000) / 10000;
}

/** Probes around one measured window; produces the protocol's RawWindow. */
export class Window {
  readonly records: TaskRec[] = [];
  childCpuMs = 0;
  childUserMs = 0;
  /** Where the loop was blocked (plan.attribution), while the window runs; null when off. */
  attribution: WindowAttribution | null = null;

  constructor(private readonly ctx: Context, readonly mode: 'baseline' | NodeMode) {}

  newRecord(id: number): TaskRec {
    const rec: TaskRec = { id, queued: nowMs(), start: null, end: null, worker: null, cpuMs: null, error: null, transfer: null };
    this.records.push(rec);
    return rec;
  }

  async measure(body: (w: Window) => Promise<void>): Promise<RawWindow> {
    const ctx = this.ctx;
    // First: starting the profiler blocks the loop, which must be before any probe starts.
    const attribution = await WindowAttribution.begin(ctx.plan.attribution, this.mode);
    this.attribution = attribution;
    try {
      return await this.measureWith(attribution, body);
    } catch (e) {
      // The profiler is ours to stop whatever failed (also before the window's own try).
      attribution?.abandon();
      throw e;
    }
  }

  private async measureWith(attribution: WindowAttribution | null, body: (w: Window) => Promise<void>): Promise<RawWindow> {
    const ctx = this.ctx;
    const heartbeat = new Heartbeat(ctx.plan.heartbeatMs);
    // Before the probes: it walks /proc for the editor's processes (see CpuMeter).
    const cpu = new CpuMeter(editorPidFromEnv());
    if (this.mode !== 'baseline') ctx.progress(this.mode, 'running', 0);
    // After "running": the host draws nothing new from here (ProgressThrottle), and what it
    // drew just before passes in the wait.
    // Not before the 0 ms baseline a per-mode sidecar runs and the host drops.
    if (this.mode !== 'baseline' || ctx.plan.baselineMs > 0) await cpu.quietStart(ctx.cpuCount, () => ctx.cancelled);
    await ctx.eld.reset();
    const threadpoolIdleMs = await ThreadpoolProbe.idleMs();
    const threadpool = new ThreadpoolProbe(THREADPOOL_PROBE_INTERVAL_MS);
    const elu = new LoopUtilization();
    // Last before t0 and first after tEnd: the machine's load is judged over the window's own span.
    cpu.start();
    heartbeat.start();
    threadpool.start();
    const t0 = nowMs();
    const t0EpochMs = wallMs();
    ctx.lastDoneAt = t0;
    let status: RawWindow['status'] = 'ok';
    let error: RunError | null = null;
    let partial = false;
    let off: () => unknown = () => undefined;
    let watchdog: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        off = ctx.onCancel(reject);
        if (ctx.cancelled) reject(new Cancelled());
        const limit = this.mode === 'baseline' ? null : ctx.callLimitMs;
        if (limit) watchdog = setInterval(() => this.checkCalls(limit, reject), Math.max(20, Math.min(250, limit / 10)));
        body(this).then(resolve, reject);
      });
    } catch (e) {
      status = 'failed';
      if (e instanceof Cancelled) {
        const kind = ctx.cancelKind;
        partial = true;
        const open = this.records.filter((r) => r.end === null && r.error === null).map((r) => r.id);
        error = kind === 'call-timeout'
          // The host's watchdog: a call blocked the loop past the limit, then let go.
          ? { kind, message: `${callsPhrase(open, ctx.functionName)} in ${this.mode} did not finish within ${ctx.plan.callTimeoutS} s (--call-timeout): the window was cut there`, detail: null }
          : { kind, message: `${kind === 'timeout' ? 'timed out' : 'cancelled'} while measuring ${this.mode}`, detail: null };
      } else if (e instanceof CallTimeout) {
        partial = true;
        error = { kind: 'call-timeout', message: e.message, detail: null };
      } else if (e instanceof PoolCrash) {
        error = { kind: 'crashed', message: e.message, detail: e.detail };
      } else if (e instanceof LoadError) {
        error = e.error;
      } else {
        // Not ours to report here, but our probes must not keep the sidecar alive.
        threadpool.stop();
        heartbeat.cancel();
        throw e;
      }
    } finally {
      off();
      clearInterval(watchdog);
    }
    const tEnd = nowMs();
    cpu.stop();
    const threadpoolProbesMs = threadpool.stop();
    const utilization = elu.finish();
    if (status === 'ok') await heartbeat.stop();
    else heartbeat.cancel(partial ? tEnd : undefined);
    // The heartbeat's last tick resolves in the middle of the timers phase; Node's delay
    // timer, due at the same time, may run after it. The check phase comes after both.
    await new Promise((r) => setImmediate(r));
    const delay = ctx.eld.read();
    const windowMs = tEnd - t0;
    const usage = cpu.finish(this.childCpuMs, ctx.cpuCount);
    // After the CPU meter: reading the profile is the tool's work, not the window's.
    // Up to the heartbeat's last wake-up, which closes the gap of a stall that ended the window.
    const lastBeat = heartbeat.samples.length ? heartbeat.samples[heartbeat.samples.length - 1][0] : tEnd;
    const raw = attribution && await attribution.end(t0, Math.max(tEnd, lastBeat) - t0, ctx.plan.target.workspaceRoot, ctx.spec.baseDir);
    const ms = (t: number | null) => (t === null ? null : r4(t - t0));
    return {
      mode: this.mode,
      status,
      error,
      wallMs: r4(windowMs),
      t0EpochMs: Math.round(t0EpochMs),
      startupMs: null,
      workers: null,
      tasks: this.records.map((r) => ({
        id: r.id, queuedMs: ms(r.queued)!, startMs: ms(r.start), endMs: ms(r.end), worker: r.worker,
        cpuMs: r.cpuMs === null ? null : Math.round(r.cpuMs * 1000) / 1000, error: r.error,
        transfer: r.transfer && {
          argsBytes: r.transfer.argsBytes, argsWriteMs: r4(r.transfer.argsWriteMs),
          argsReadMs: r.transfer.argsReadMs === null ? null : r4(r.transfer.argsReadMs),
          resultBytes: r.transfer.resultBytes,
          resultWriteMs: r.transfer.resultWriteMs === null ? null : r4(r.transfer.resultWriteMs),
          resultReadMs: r.transfer.resultReadMs === null ? null : r4(r.transfer.resultReadMs),
          ...(r.transfer.argsKind ? { argsKind: r.transfer.argsKind, resultKind: r.transfer.resultKind ?? null } : {}),
        },
        ...(r.round !== undefined ? { round: r.round } : {}),
      })),
      samples: heartbeat.samples.filter(([t]) => t >= t0).map(([t, lag]) => [r4(t - t0), r4(lag)]),
      gilWaitsMs: null,
      cpu: { userMs: Math.round((usage.userMs + this.childUserMs) * 1000) / 1000, systemMs: Math.round((usage.systemMs + this.childCpuMs - this.childUserMs) * 1000) / 1000 },
      backgroundCpuFrac: usage.background === null ? null : Math.round(usage.background * 10000) / 10000,
      elu: Math.round(utilization * 10000) / 10000,
      eventLoopDelay: delay,
      threadpool: { probesMs: threadpoolProbesMs.map(r4), idleMs: threadpoolIdleMs === null ? null : r4(threadpoolIdleMs) },
      ...(partial ? { partial: true } : {}),
      ...(raw ? { attribution: raw } : {}),
      ...(ctx.warmupCut && this.mode !== 'baseline'
        ? { notes: [`the unmeasured warm-up call did not finish within ${ctx.plan.callTimeoutS} s (--call-timeout): the window ran without waiting for it`] }
        : {}),
      output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
    };
  }

  /**
   * Rejects the window once a call has run `limitMs` without finishing. A call's start
   * is its own when known (inline), else the later of its submission and the last call
   * that finished (a pool member came free for it then, at the earliest).
   */
  private checkCalls(limitMs: number, reject: (e: Error) => void): void {
    const now = nowMs();
    const open = this.records.filter((r) => r.end === null && r.error === null);
    const over = open.some((r) => now - (r.start ?? Math.max(r.queued, this.ctx.lastDoneAt)) >= limitMs);
    if (over) {
      reject(new CallTimeout(`${callsPhrase(open.map((r) => r.id), this.ctx.functionName)} in ${this.mode} did not finish within ${limitMs / 1000} s (--call-timeout): the window was cut there`));
    }
  }
}

/** `call 3 of f` / `calls 1–10 of f` / `calls 1, 4, 7 of f` (1-based, as people count). */
export function callsPhrase(ids: number[], name: string): string {
  const n = [...ids].sort((a, b) => a - b).map((i) => i + 1);
  const which = n.length === 1 ? `call ${n[0]}`
    : n[n.length - 1] - n[0] === n.length - 1 ? `calls ${n[0]}–${n[n.length - 1]}`
      : `calls ${n.slice(0, 20).join(', ')}${n.length > 20 ? ', …' : ''}`;
  return `${which} of ${name}`;
}

/** A window that did not run (or failed before measuring): its status and why, no figures. */
export function skipped(mode: string, kind: RunError['kind'], message: string, status: 'skipped' | 'failed' = 'skipped'): RawWindow {
  return {
    mode: mode as RawWindow['mode'], status, error: { kind, message, detail: null }, wallMs: 0, startupMs: null, workers: null,
    tasks: [], samples: [], gilWaitsMs: null, cpu: { userMs: 0, systemMs: 0 }, backgroundCpuFrac: null, elu: null, eventLoopDelay: null,
    output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
  };
}

/** An idle window: the probes' own floor on this machine. */
export function runBaseline(ctx: Context): Promise<RawWindow> {
  return new Window(ctx, 'baseline').measure(() => new Promise((r) => setTimeout(r, ctx.plan.baselineMs)));
}
