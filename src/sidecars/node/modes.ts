/**
 * The execution strategies. Each mode runs N concurrent calls of the target in its own
 * measured window, with the heartbeat, Node's delay histogram and ELU throughout.
 */
import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { RawWindow, RunError, RunPlan, ValueKind } from '../../shared/protocol';
import type { Channel, OutputCapture } from './channel';
import { Callable, LoadError, LoadSpec } from './loader';
import { argumentsLossNote, notCloneableReason } from './cloneCheck';
import { PARENT_PID_ENV } from './orphanWatch';
import { errorInfo, ErrorInfo, PoolReply, PoolRequest } from './poolProtocol';
import { argsKindOf, kindOf } from './valueKind';
import { clearTimeout, setImmediate, setTimeout, wallMs } from './clock';
import { CpuMeter, Heartbeat, LoopDelayMonitor, LoopUtilization, nowMs, threadCpuMs, ThreadpoolProbe } from './probes';

export const NODE_MODES = ['inline', 'worker', 'process'] as const;
export type NodeMode = (typeof NODE_MODES)[number];

class Cancelled extends Error {}
class PoolCrash extends Error {
  constructor(message: string, readonly detail: string | null = null) {
    super(message);
  }
}

/** What every mode needs: the plan, the probes that live as long as the session, cancel. */
export class Context {
  cancelled = false;
  cancelKind: 'cancelled' | 'timeout' = 'cancelled';
  private readonly cancelHooks = new Set<(e: Error) => void>();
  private mode = '';
  private done = 0;
  private lastProgress = 0;

  constructor(
    readonly plan: RunPlan,
    readonly channel: Channel,
    readonly capture: OutputCapture,
    readonly eld: LoopDelayMonitor,
    readonly spec: LoadSpec,
    readonly cpuCount: number,
  ) {}

  progress(mode: string, phase: 'starting' | 'warming' | 'running' | 'draining' | 'done', done = 0): void {
    this.channel.send({ type: 'progress', mode, phase, done, total: this.plan.concurrency });
  }

  begin(mode: string): void {
    this.mode = mode;
    this.done = 0;
  }

  taskDone(): void {
    this.done += 1;
    // A sweep's rounds run many more calls than `concurrency`: a message per call would
    // flood the pipe, so past that at most ten a second.
    const now = wallMs();
    if (this.done <= this.plan.concurrency || now - this.lastProgress >= 100) {
      this.lastProgress = now;
      this.progress(this.mode, 'running', this.done);
    }
  }

  cancel(reason: 'user' | 'timeout' | undefined): void {
    if (reason === 'timeout') this.cancelKind = 'timeout';
    this.cancelled = true;
    for (const hook of this.cancelHooks) hook(new Cancelled());
  }

  /** Rejects when the host cancels; what a window races its work against. */
  onCancel(hook: (e: Error) => void): () => void {
    this.cancelHooks.add(hook);
    return () => this.cancelHooks.delete(hook);
  }
}

interface TaskRec {
  id: number;
  queued: number;
  start: number | null;
  end: number | null;
  worker: string | null;
  cpuMs: number | null;
  error: ErrorInfo | null;
  transfer: {
    argsBytes: number; argsWriteMs: number; argsReadMs: number | null;
    resultBytes: number | null; resultWriteMs: number | null; resultReadMs: number | null;
    argsKind?: ValueKind; resultKind?: ValueKind | null;
  } | null;
  notTransferable?: boolean;
  resultNote?: string | null;
  /** A sweep window's round (see RunPlan.sweepRounds). */
  round?: number;
}

/**
 * Gap between two threadpool probes: each is one 1-byte job, so 200 a second cost the
 * pool nothing measurable, and a wait of a few ms still shows.
 */
const THREADPOOL_PROBE_INTERVAL_MS = 5;

function r4(x: number): number {
  return Math.round(x * 10000) / 10000;
}

/** Probes around one measured window; produces the protocol's RawWindow. */
class Window {
  readonly records: TaskRec[] = [];
  childCpuMs = 0;
  childUserMs = 0;

  constructor(private readonly ctx: Context, readonly mode: 'baseline' | NodeMode) {}

  newRecord(id: number): TaskRec {
    const rec: TaskRec = { id, queued: nowMs(), start: null, end: null, worker: null, cpuMs: null, error: null, transfer: null };
    this.records.push(rec);
    return rec;
  }

  async measure(body: (w: Window) => Promise<void>): Promise<RawWindow> {
    const ctx = this.ctx;
    const heartbeat = new Heartbeat(ctx.plan.heartbeatMs);
    const cpu = new CpuMeter();
    if (this.mode !== 'baseline') ctx.progress(this.mode, 'running', 0);
    await ctx.eld.reset();
    const threadpoolIdleMs = await ThreadpoolProbe.idleMs();
    const threadpool = new ThreadpoolProbe(THREADPOOL_PROBE_INTERVAL_MS);
    const elu = new LoopUtilization();
    heartbeat.start();
    threadpool.start();
    const t0 = nowMs();
    let status: RawWindow['status'] = 'ok';
    let error: RunError | null = null;
    let off: () => unknown = () => undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        off = ctx.onCancel(reject);
        if (ctx.cancelled) reject(new Cancelled());
        body(this).then(resolve, reject);
      });
    } catch (e) {
      status = 'failed';
      if (e instanceof Cancelled) {
        const kind = ctx.cancelKind;
        error = { kind, message: `${kind === 'timeout' ? 'timed out' : 'cancelled'} while measuring ${this.mode}`, detail: null };
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
    }
    const tEnd = nowMs();
    const threadpoolProbesMs = threadpool.stop();
    const utilization = elu.finish();
    if (status === 'ok') await heartbeat.stop();
    else heartbeat.cancel();
    // The heartbeat's last tick resolves in the middle of the timers phase; Node's delay
    // timer, due at the same time, may run after it. The check phase comes after both.
    await new Promise((r) => setImmediate(r));
    const delay = ctx.eld.read();
    const wallMs = tEnd - t0;
    const usage = cpu.finish(wallMs, this.childCpuMs, ctx.cpuCount);
    const ms = (t: number | null) => (t === null ? null : r4(t - t0));
    return {
      mode: this.mode,
      status,
      error,
      wallMs: r4(wallMs),
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
      output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
    };
  }
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (typeof x === 'object' || typeof x === 'function') && x !== null && typeof (x as PromiseLike<unknown>).then === 'function';
}

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

/**
 * N calls scheduled at once on the main thread, like N simultaneous requests to a
 * handler that does not offload: each runs to its first `await` (or its end) before
 * the loop can do anything else.
 */
export async function runInline(ctx: Context, callable: Callable, args: unknown[]): Promise<RawWindow> {
  const warmupMs = ctx.plan.warmup === false ? null : await warmUpInline(ctx, callable);
  const window = await new Window(ctx, 'inline').measure((w) => new Promise<void>((resolve) => {
    let left = ctx.plan.concurrency;
    const one = async (rec: TaskRec) => {
      if (!ctx.cancelled) {
        rec.worker = 'main thread';
        const cpu0 = threadCpuMs();
        rec.start = nowMs();
        let async = false;
        try {
          const r = callable.call(args);
          if (isThenable(r)) {
            async = true;
            await r;
          }
        } catch (e) {
          rec.error = errorInfo(e);
        }
        rec.end = nowMs();
        // An async call interleaves with the others: its CPU cannot be told apart.
        rec.cpuMs = async ? null : threadCpuMs().ms - cpu0.ms;
        ctx.taskDone();
      }
      if (--left === 0) resolve();
    };
    for (let i = 0; i < ctx.plan.concurrency; i++) {
      const rec = w.newRecord(i);
      setImmediate(() => void one(rec));
    }
  }));
  window.workers = 1;
  window.warmupMs = warmupMs === null ? null : [r4(warmupMs)];
  return window;
}

/**
 * One unmeasured call on the main thread before the inline window, with its own fresh
 * arguments, so one-time costs (JIT, lazy imports, caches, key set-up) stay out of it.
 * Its duration, ms; null when cancelled. A call that throws still warmed what it reached.
 */
async function warmUpInline(ctx: Context, callable: Callable): Promise<number | null> {
  ctx.progress('inline', 'warming');
  let off: () => unknown = () => undefined;
  let t = nowMs();
  try {
    const args = await callable.makeArgs();
    t = nowMs();
    await new Promise<void>((resolve, reject) => {
      off = ctx.onCancel(reject);
      const r = callable.call(args);
      if (isThenable(r)) r.then(() => resolve(), () => resolve());
      else resolve();
    });
  } catch (e) {
    if (e instanceof Cancelled) return null;
  } finally {
    off();
  }
  return nowMs() - t;
}

interface Member {
  name: string;
  /** Exited or failed: never sent another call. */
  dead: boolean;
  busy: { rec: TaskRec; done: () => void } | null;
  /** Its unmeasured warm-up call is running (pool start-up). */
  warming: boolean;
  send(m: PoolRequest): void;
  kill(): void;
  /** Resolves when the member has exited and its stdout/stderr have been read to the end. */
  gone: Promise<void>;
}

/** How long idle members get to exit on their own before they are killed. */
const POOL_EXIT_GRACE_MS = 2000;

function streamsEnded(...streams: NodeJS.ReadableStream[]): Promise<void> {
  return Promise.all(streams.map((s) => new Promise<void>((r) => {
    s.once('end', r);
    s.once('close', r);
    s.once('error', () => r());
  }))).then(() => undefined);
}

/** W worker threads or child processes, each holding the loaded target. */
class Pool {
  readonly members: Member[] = [];
  private readonly queue: { rec: TaskRec; args: unknown[]; done: () => void }[] = [];
  private failure: ((e: Error) => void) | null = null;
  private closed = false;
  window: Window | null = null;
  /** At most this many calls run at once (a sweep's W on a pool started once). */
  limit = Number.POSITIVE_INFINITY;
  /** When the last member had loaded the target (start-up ends there; warm-up follows). */
  loadedAt = 0;
  /** Each member's warm-up call, ms, in the order they answered; empty with warm-up off. */
  readonly warmupMs: number[] = [];

  constructor(private readonly ctx: Context, readonly kind: 'worker' | 'process', readonly size: number) {}

  /**
   * Start every member and wait until each has loaded the target and, unless the plan
   * turns warm-up off, made one unmeasured call.
   */
  start(): Promise<void> {
    const warmup = this.ctx.plan.warmup !== false;
    return new Promise<void>((resolve, reject) => {
      let ready = 0;
      this.failure = reject;
      const script = path.join(this.ctx.spec.baseDir, 'worker.js');
      for (let i = 0; i < this.size; i++) {
        const member: Member = { name: `${this.kind} ${i + 1}`, dead: false, busy: null, warming: false, send: () => undefined, kill: () => undefined, gone: Promise.resolve() };
        const onReply = (m: PoolReply) => {
          if (m.type === 'ready') {
            member.name = m.worker;
            if (++ready === this.size) this.loadedAt = nowMs();
            if (warmup) {
              member.warming = true;
              member.send({ type: 'warmup' });
            } else if (ready === this.size) resolve();
          } else if (m.type === 'warmed') {
            member.warming = false;
            this.warmupMs.push(Math.round(m.ms * 1000) / 1000);
            if (this.warmupMs.length === this.size) resolve();
          } else if (m.type === 'load-error') {
            this.fail(new LoadError(m.error));
          } else {
            this.onResult(member, m);
          }
        };
        const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
          member.dead = true;
          if (this.closed) return;
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          const during = member.busy ? ` while running call ${member.busy.rec.id + 1}` : member.warming ? ' during its warm-up call'
            : ready < this.size ? ' while loading the target' : '';
          this.fail(new PoolCrash(`${member.name} ${how}${during} (user code may have called process.exit() or crashed the runtime)`));
        };
        if (this.kind === 'worker') {
          const worker = new Worker(script, { workerData: { spec: this.ctx.spec }, stdout: true, stderr: true });
          worker.stdout.on('data', (c: Buffer) => this.ctx.capture.stdout.write(c));
          worker.stderr.on('data', (c: Buffer) => this.ctx.capture.stderr.write(c));
          worker.on('message', onReply);
          worker.on('error', (e) => {
            member.dead = true;
            if (!this.closed) this.fail(new PoolCrash(`${member.name} failed: ${e?.message ?? e}`, (e as Error)?.stack ?? null));
          });
          worker.on('exit', (code) => onExit(code, null));
          member.gone = Promise.all([new Promise((r) => worker.once('exit', r)), streamsEnded(worker.stdout, worker.stderr)]).then(() => undefined);
          member.send = (m) => worker.postMessage(m);
          member.kill = () => void worker.terminate();
        } else {
          const child: ChildProcess = fork(script, [], {
            serialization: 'advanced',
            stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
            env: { ...process.env, LOOPLAG_POOL_SPEC: JSON.stringify(this.ctx.spec), [PARENT_PID_ENV]: String(process.pid) },
            execArgv: [],
          });
          child.stdout!.on('data', (c: Buffer) => this.ctx.capture.stdout.write(c));
          child.stderr!.on('data', (c: Buffer) => this.ctx.capture.stderr.write(c));
          child.on('message', (m) => onReply(m as PoolReply));
          child.on('error', (e) => {
            member.dead = true;
            if (!this.closed) this.fail(new PoolCrash(`${member.name} failed: ${e.message}`));
          });
          child.on('exit', onExit);
          // 'close': exited and every byte of its stdout/stderr read.
          member.gone = new Promise((r) => child.once('close', () => r()));
          member.name = `pid ${child.pid}`;
          member.send = (m) => child.send(m);
          member.kill = () => void child.kill('SIGKILL');
        }
        this.members.push(member);
      }
    });
  }

  /**
   * A member died: whoever waits on the pool hears it now, or as soon as it starts
   * waiting (a member can die between two windows of a sweep, when nobody listens).
   */
  private fail(e: Error): void {
    this.broken ??= e;
    const f = this.failure;
    this.failure = null;
    f?.(e);
  }

  private broken: Error | null = null;

  /** Submit one call: queued as it is, to be serialized when a member takes it. */
  submit(rec: TaskRec, args: unknown[], onDone: () => void): void {
    this.queue.push({ rec, args, done: onDone });
    this.dispatch();
  }

  /**
   * Hand queued calls to free members. Arguments are serialized here, on the loop, one
   * call per free member, as piscina and a hand-written pool do (postMessage clones
   * when it is called): serializing every queued call up front would put N copies'
   * worth of work in one turn of the loop, a stall no real pool causes.
   */
  private dispatch(): void {
    let busy = this.members.filter((m) => m.busy).length;
    for (const member of this.members) {
      if (member.dead || member.busy || !this.queue.length || busy >= this.limit) continue;
      busy++;
      const job = this.queue.shift()!;
      const t = nowMs();
      const bytes = v8.serialize(job.args);
      job.rec.transfer = { argsBytes: bytes.length, argsWriteMs: nowMs() - t, argsReadMs: null, resultBytes: null, resultWriteMs: null, resultReadMs: null, argsKind: argsKindOf(job.args) };
      member.busy = { rec: job.rec, done: job.done };
      member.send({ type: 'call', id: job.rec.id, args: bytes });
    }
  }

  /** Calls in flight reject through here when a member dies. */
  watch(reject: (e: Error) => void): boolean {
    if (this.broken) {
      reject(this.broken);
      return false;
    }
    this.failure = reject;
    return true;
  }

  private onResult(member: Member, m: Extract<PoolReply, { type: 'result' }>): void {
    const job = member.busy;
    if (!job || job.rec.id !== m.id) return;
    member.busy = null;
    const rec = job.rec;
    rec.start = m.startMs;
    rec.end = m.endMs;
    rec.worker = member.name;
    rec.error = m.error;
    rec.notTransferable = m.notTransferable;
    rec.resultNote = m.resultNote;
    if (this.kind === 'process') {
      rec.cpuMs = m.cpuMs;
      if (this.window) this.window.childCpuMs += m.cpuMs;
    } else {
      rec.cpuMs = m.cpuPerThread ? m.cpuMs : null;
    }
    let readMs: number | null = null;
    let resultKind: ValueKind | null = null;
    if (m.result) {
      const t = nowMs();
      try {
        // Classified after the clock stops: what the result is, for the transfer advice.
        const value: unknown = v8.deserialize(m.result);
        readMs = nowMs() - t;
        resultKind = kindOf(value);
      } catch (e) {
        readMs = nowMs() - t;
        rec.error = errorInfo(e);
      }
    }
    rec.transfer = { ...rec.transfer!, argsReadMs: m.argsReadMs, resultBytes: m.resultBytes, resultWriteMs: m.result ? m.resultWriteMs : null, resultReadMs: readMs, resultKind };
    this.ctx.taskDone();
    job.done();
    this.dispatch();
  }

  /** Kill at once (cancel, failure): members may be stuck in user code. */
  close(): void {
    this.closed = true;
    for (const m of this.members) m.kill();
  }

  /**
   * After a finished window: ask the idle members to exit and wait until their output
   * is read, so what they printed lands in this mode's capture (a result can arrive
   * before the output printed ahead of it); kill whatever is not gone after a grace.
   */
  async drain(): Promise<void> {
    this.closed = true;
    for (const m of this.members) {
      try {
        if (!m.busy) m.send({ type: 'exit' });
      } catch {
        // already gone
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.members.map((m) => m.gone)),
      new Promise((r) => {
        timer = setTimeout(r, POOL_EXIT_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    for (const m of this.members) m.kill();
  }
}

/** A round of a fast function would otherwise hold tens of thousands of calls (and task records). */
const MAX_ROUND_CALLS = 5000;

/**
 * A sweep window as repeated rounds, each one throughput measurement: a round keeps
 * `inflight` calls running (a W-worker pool under steady load) until it has admitted
 * callsPerWorker × W calls and run minWindowMs / minRepeats, then waits for its calls.
 * Rounds repeat until the window has minRepeats of them and minWindowMs; at maxWindowMs
 * no new round starts and the round running admits no more (the host's time budget).
 * Calls are submitted as workers free up, so the pool's queue stays short.
 */
function runRounds(
  ctx: Context, win: Window, inflight: number, plan: NonNullable<RunPlan['sweepRounds']>,
  submit: (rec: TaskRec, done: () => void) => void, finished: () => void,
): void {
  const minCalls = Math.max(inflight, plan.callsPerWorker * inflight);
  const minRoundMs = plan.minWindowMs / Math.max(1, plan.minRepeats);
  const tWindow = nowMs();
  let n = 0;
  let round = 0;
  let tRound = tWindow;
  let admitted = 0;
  let running = 0;
  const admit = (): void => {
    const now = nowMs();
    const wanted = admitted < minCalls || now - tRound < minRoundMs;
    const outOfTime = now - tWindow >= plan.maxWindowMs || ctx.cancelled;
    if (admitted >= inflight && (!wanted || outOfTime || admitted >= MAX_ROUND_CALLS)) {
      if (running === 0) endRound();
      return;
    }
    const rec = win.newRecord(n++);
    rec.round = round;
    admitted++;
    running++;
    submit(rec, () => {
      running--;
      admit();
    });
  };
  const endRound = (): void => {
    round++;
    const elapsed = nowMs() - tWindow;
    if (ctx.cancelled || elapsed >= plan.maxWindowMs || (round >= plan.minRepeats && elapsed >= plan.minWindowMs)) return finished();
    tRound = nowMs();
    admitted = 0;
    startRound();
  };
  const startRound = (): void => {
    for (let i = 0; i < inflight; i++) admit();
  };
  startRound();
}

/** The default pool size: one per core the runtime may use, as `os.availableParallelism()`. */
export function defaultWorkers(cpuCount: number): number {
  return Math.max(1, cpuCount);
}

export async function runPool(ctx: Context, mode: 'worker' | 'process', args: unknown[]): Promise<RawWindow> {
  return (await runPoolWindows(ctx, mode, args, null, () => undefined))[0];
}

/**
 * A worker sweep: one pool per mode, as large as the largest count can use (never more
 * than the calls in flight), and a window per count that lets only that many calls run
 * at once, which is what a pool of that size does, without a pool start per count.
 */
export function runPoolSweep(ctx: Context, mode: 'worker' | 'process', args: unknown[], counts: number[], emit: (w: RawWindow) => void): Promise<RawWindow[]> {
  return runPoolWindows(ctx, mode, args, counts, emit);
}

async function runPoolWindows(ctx: Context, mode: 'worker' | 'process', args: unknown[], counts: number[] | null, emit: (w: RawWindow) => void): Promise<RawWindow[]> {
  const fail = (w: RawWindow) => {
    if (counts) emit(w);
    return [w];
  };
  try {
    v8.serialize(args);
  } catch (e) {
    return fail(skipped(mode, 'not-transferable', `the call arguments can't be sent to a ${mode === 'worker' ? 'worker thread' : 'child process'}: ${notCloneableReason(args, 'arguments')}`, 'failed'));
  }
  // Never more pool members than calls in flight: the extra ones only cost start-up
  // time and memory (32 idle workers held 652 MB). A sweep sizes for its largest count.
  const requested = counts ? Math.max(...counts) : ctx.plan.workers ?? defaultWorkers(ctx.cpuCount);
  const size = Math.max(1, Math.min(requested, ctx.plan.concurrency));
  // Only a W the user asked for is worth a note; the default is capped quietly.
  const capped = !counts && ctx.plan.workers && ctx.plan.workers > size ? ctx.plan.workers : null;
  const pool = new Pool(ctx, mode, size);
  const t = nowMs();
  ctx.progress(mode, 'warming');
  let startupMs: number;
  try {
    let offCancel: () => unknown = () => undefined;
    await new Promise<void>((resolve, reject) => {
      offCancel = ctx.onCancel(reject);
      pool.start().then(resolve, reject);
    }).finally(() => offCancel());
    startupMs = pool.loadedAt - t;
  } catch (e) {
    pool.close();
    if (e instanceof LoadError) return fail(skipped(mode, e.error.kind, e.error.message, 'failed'));
    if (e instanceof PoolCrash) return fail(skipped(mode, 'crashed', `the ${mode} pool broke while starting: ${e.message}`, 'failed'));
    if (e instanceof Cancelled) {
      return fail(skipped(mode, ctx.cancelKind, `${ctx.cancelKind === 'timeout' ? 'timed out' : 'cancelled'} while starting the ${mode} pool`, 'failed'));
    }
    throw e;
  }
  const windows: RawWindow[] = [];
  try {
    for (const count of counts ?? [null]) {
      pool.limit = count === null ? size : Math.min(count, size);
      ctx.begin(mode);
      const w = new Window(ctx, mode);
      pool.window = w;
      const rounds = counts ? ctx.plan.sweepRounds : undefined;
      const window = await w.measure((win) => new Promise<void>((resolve, reject) => {
        if (!pool.watch(reject)) return;
        if (rounds) return runRounds(ctx, win, pool.limit, rounds, (rec, done) => pool.submit(rec, args, done), resolve);
        let left = ctx.plan.concurrency;
        for (let i = 0; i < ctx.plan.concurrency; i++) {
          pool.submit(win.newRecord(i), args, () => {
            if (--left === 0) resolve();
          });
        }
      }));
      const notTransferable = w.records.find((r) => r.notTransferable);
      if (notTransferable && window.status === 'ok') {
        window.status = 'failed';
        window.error = {
          kind: 'not-transferable',
          message: `the return value can't be sent back from the ${mode === 'worker' ? 'worker thread' : 'child process'}: ${notTransferable.error?.message}`,
          detail: null,
        };
      }
      const argsNote = argumentsLossNote(args, mode === 'worker' ? 'worker thread' : 'child process');
      const cappedNote = capped ? `the pool started ${size} workers, not the ${capped} asked for: only ${ctx.plan.concurrency} calls run at once` : null;
      const notes = [...new Set([...(argsNote ? [argsNote] : []), ...(cappedNote ? [cappedNote] : []), ...w.records.flatMap((r) => (r.resultNote ? [r.resultNote] : []))])];
      if (capped) window.workersRequested = capped;
      if (notes.length) window.notes = notes;
      window.workers = count ?? size;
      window.startupMs = windows.length ? null : Math.round(startupMs * 1000) / 1000;
      // Warm-up ran once, when the pool started: it belongs to the first window.
      window.warmupMs = windows.length || !pool.warmupMs.length ? null : pool.warmupMs;
      windows.push(window);
      if (counts && window.status === 'ok') emit(window);
      if (window.status !== 'ok' || ctx.cancelled) break;
    }
  } catch (e) {
    pool.close();
    throw e;
  }
  const last = windows[windows.length - 1];
  if (last.status === 'ok') await pool.drain();
  else pool.close();
  if (counts && last.status !== 'ok') emit(last);
  return windows;
}
