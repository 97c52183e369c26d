/**
 * The execution strategies. Each mode runs N concurrent calls of the target in its own
 * measured window, with the heartbeat, Node's delay histogram and ELU throughout.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { RawWindow, RunError, RunPlan, ValueKind } from '../../../shared/protocol';
import type { Channel } from '../channel';
import { writeAllSync } from '../channel';
import { Callable, LoadError, LoadSpec } from '../loader';
import { argumentsLossNote, notCloneableReason } from '../cloneCheck';
import { PARENT_PID_ENV } from '../orphanWatch';
import { errorInfo, ErrorInfo, PoolReply, PoolRequest, rejectionInfo } from '../poolProtocol';
import { describeExit } from '../../../shared/crashCause';
import { oomEvidence, readOomKills } from '../../../engine/oomKills';
import { argsKindOf, kindOf } from '../valueKind';
import { clearInterval, clearTimeout, setImmediate, setInterval, setTimeout, wallMs } from '../clock';
import { CpuMeter, Heartbeat, LoopDelayMonitor, LoopUtilization, nowMs, threadCpuMs, ThreadpoolProbe } from '../probes';
import { RUNTIMES } from '../../../shared/modes';

export const NODE_MODES = RUNTIMES.node.modes;
export type NodeMode = (typeof NODE_MODES)[number];

class Cancelled extends Error {}
/** A call ran past the plan's callTimeoutS: the window stops waiting (message: the window's error). */
class CallTimeout extends Error {}
class PoolCrash extends Error {
  /** `warmingUp`: the member died in its unmeasured warm-up call, i.e. in the target. */
  constructor(message: string, readonly detail: string | null = null, readonly warmingUp = false) {
    super(message);
  }
}

/** What every mode needs: the plan, the probes that live as long as the session, cancel. */
export class Context {
  cancelled = false;
  /** The measured inline call an async continuation belongs to (an unhandled rejection's call). */
  readonly callScope = new AsyncLocalStorage<TaskRec>();
  cancelKind: 'cancelled' | 'timeout' | 'call-timeout' = 'cancelled';
  private readonly cancelHooks = new Set<(e: Error) => void>();
  private mode = '';
  private done = 0;
  private lastProgress = 0;
  /** When a call last finished (nowMs): a queued pool call can have started no earlier. */
  lastDoneAt = 0;
  /** A warm-up call that did not finish within the call timeout, in this mode: said in the window's notes. */
  warmupCut = false;

  constructor(
    readonly plan: RunPlan,
    readonly channel: Channel,
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

  /** The plan's per-call limit in ms; null: none. */
  get callLimitMs(): number | null {
    return this.plan.callTimeoutS ? this.plan.callTimeoutS * 1000 : null;
  }

  /** The measured function as messages name it. */
  get functionName(): string {
    const t = this.plan.target;
    return t.qualname ?? (t.lines ? `lines ${t.lines.start}-${t.lines.end}` : 'the target');
  }

  taskDone(): void {
    this.lastDoneAt = nowMs();
    this.done += 1;
    // A sweep's rounds run many more calls than `concurrency`: a message per call would
    // flood the pipe, so past that at most ten a second.
    const now = wallMs();
    if (this.done <= this.plan.concurrency || now - this.lastProgress >= 100) {
      this.lastProgress = now;
      this.progress(this.mode, 'running', this.done);
    }
  }

  cancel(reason: 'user' | 'timeout' | 'call-timeout' | undefined): void {
    if (reason === 'timeout' || reason === 'call-timeout') this.cancelKind = reason;
    this.cancelled = true;
    for (const hook of this.cancelHooks) hook(new Cancelled());
  }

  /**
   * A promise rejected with no handler: the error of the inline call it came from (Node
   * runs the handler in the promise's async context). Pool members report their own.
   */
  unhandledRejection(reason: unknown): void {
    const rec = this.callScope.getStore();
    if (rec && !rec.error) rec.error = rejectionInfo(reason);
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
    const threadpoolProbesMs = threadpool.stop();
    const utilization = elu.finish();
    if (status === 'ok') await heartbeat.stop();
    else heartbeat.cancel(partial ? tEnd : undefined);
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
      ...(partial ? { partial: true } : {}),
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
          const r = ctx.callScope.run(rec, () => callable.call(args));
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
        // Said at once (the channel writes synchronously): sync calls queued in the same
        // check phase run back to back, and the host's call-timeout watchdog must hear
        // each one end, not only the last.
        ctx.taskDone();
        // Node reports a rejection left unhandled after this turn's microtasks: one turn
        // later it is known, and is this call's error (the window waits for it).
        await new Promise((r) => setImmediate(r));
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
  let timer: NodeJS.Timeout | undefined;
  let t = nowMs();
  try {
    const args = await callable.makeArgs();
    t = nowMs();
    await new Promise<void>((resolve, reject) => {
      off = ctx.onCancel(reject);
      const r = callable.call(args);
      if (isThenable(r)) {
        r.then(() => resolve(), () => resolve());
        // A promise that never settles: stop waiting at the call timeout (the window's
        // calls, cut by the same limit, then say what happened).
        const limit = ctx.callLimitMs;
        if (limit) {
          timer = setTimeout(() => {
            ctx.warmupCut = true;
            resolve();
          }, limit);
        }
      } else resolve();
    });
  } catch (e) {
    if (e instanceof Cancelled) return null;
  } finally {
    off();
    clearTimeout(timer);
  }
  return nowMs() - t;
}

interface Member {
  name: string;
  /** V8's heap limit in the member, MB, once it is ready (an out-of-memory crash names it). */
  heapLimitMb: number | null;
  /** The end of what a child process wrote to stderr: V8's "heap out of memory" is there. */
  stderrTail: string;
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

/** Enough of a member's stderr for V8's out-of-memory report (its last lines). */
const MEMBER_STDERR_TAIL_CHARS = 8192;

/**
 * A member that could not load the target while the sidecar had: the file was moved or
 * deleted during the run, which a member's own error ("Cannot find module") hides.
 */
function movedOrDeleted(file: string, kind: 'worker' | 'process'): RunError | null {
  if (fs.existsSync(file)) return null;
  return {
    kind: 'target-not-found',
    message: `the target file ${file} was moved or deleted during the run: the ${kind} pool's members could not load it`,
    detail: null,
    file,
  };
}

/** The process-pool children's IPC descriptor. */
const POOL_IPC_FD = 63;

function passOn(fd: number, chunk: Buffer): void {
  try {
    writeAllSync(fd, chunk);
  } catch {
    // fd closed by user code: nowhere to put it
  }
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
  start(warmArgs: Uint8Array | null): Promise<void> {
    const warmup = warmArgs !== null;
    const oomBefore = readOomKills();
    return new Promise<void>((resolve, reject) => {
      let ready = 0;
      this.failure = reject;
      const script = path.join(this.ctx.spec.baseDir, 'worker.js');
      for (let i = 0; i < this.size; i++) {
        const member: Member = { name: `${this.kind} ${i + 1}`, heapLimitMb: null, stderrTail: '', dead: false, busy: null, warming: false, send: () => undefined, kill: () => undefined, gone: Promise.resolve() };
        const onReply = (m: PoolReply) => {
          if (m.type === 'ready') {
            member.name = m.worker;
            member.heapLimitMb = m.heapLimitMb;
            if (++ready === this.size) this.loadedAt = nowMs();
            if (warmup) {
              member.warming = true;
              member.send({ type: 'warmup', args: warmArgs });
              const limit = this.ctx.callLimitMs;
              if (limit && ready === this.size) {
                // A warm-up call that never ends keeps its member (dispatch skips it);
                // the window's calls queue for the others, cut by the same limit.
                setTimeout(() => {
                  if (this.warmupMs.length < this.size) {
                    this.ctx.warmupCut = true;
                    resolve();
                  }
                }, limit);
              }
            } else if (ready === this.size) resolve();
          } else if (m.type === 'warmed') {
            member.warming = false;
            this.warmupMs.push(Math.round(m.ms * 1000) / 1000);
            if (this.warmupMs.length === this.size) resolve();
            this.dispatch(); // a member whose warm-up outlasted the call timeout is free now
          } else if (m.type === 'load-error') {
            this.fail(new LoadError(movedOrDeleted(this.ctx.spec.file, this.kind) ?? m.error));
          } else if (m.type === 'rejection') {
            // After its call had answered: still that call's failure, when its window is running.
            const rec = m.id === null ? undefined : this.window?.records.find((r) => r.id === m.id);
            if (rec && rec.end !== null && !rec.error) rec.error = m.error;
          } else {
            this.onResult(member, m);
          }
        };
        const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
          member.dead = true;
          if (this.closed) return;
          const how = describeExit({
            code, signal, stderr: member.stderrTail, runtime: 'node', heapLimitMb: member.heapLimitMb,
            oom: signal === 'SIGKILL' ? oomEvidence(oomBefore, readOomKills()) : null,
          });
          // A death in the warm-up call is said so by the pool's start-up error.
          const during = member.busy ? ` while running call ${member.busy.rec.id + 1}` : member.warming ? ''
            : ready < this.size ? ' while loading the target' : '';
          const loadFailed = ready < this.size && !member.busy && !member.warming ? movedOrDeleted(this.ctx.spec.file, this.kind) : null;
          this.fail(loadFailed ? new LoadError(loadFailed) : new PoolCrash(`${member.name} ${how}${during}`, member.stderrTail || null, member.warming));
        };
        if (this.kind === 'worker') {
          const worker = new Worker(script, { workerData: { spec: this.ctx.spec }, stdout: true, stderr: true });
          // The worker writes to fds 1 and 2 itself (syncStdio); whatever still comes through
          // its streams is passed on as it arrives, never collected.
          worker.stdout.on('data', (c: Buffer) => passOn(1, c));
          worker.stderr.on('data', (c: Buffer) => passOn(2, c));
          worker.on('message', onReply);
          worker.on('error', (e) => {
            member.dead = true;
            if (this.closed) return;
            if ((e as NodeJS.ErrnoException)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
              const how = describeExit({ code: null, signal: null, oom: null, runtime: 'node', heapLimitMb: member.heapLimitMb, workerOutOfMemory: true });
              const during = member.busy ? ` while running call ${member.busy.rec.id + 1}` : '';
              this.fail(new PoolCrash(`${member.name} ${how}${during}`, (e as Error)?.message ?? null, member.warming));
            } else {
              this.fail(new PoolCrash(`${member.name} failed: ${e?.message ?? e}`, (e as Error)?.stack ?? null));
            }
          });
          worker.on('exit', (code) => onExit(code, null));
          member.gone = Promise.all([new Promise((r) => worker.once('exit', r)), streamsEnded(worker.stdout, worker.stderr)]).then(() => undefined);
          member.send = (m) => worker.postMessage(m);
          member.kill = () => void worker.terminate();
        } else {
          const child: ChildProcess = fork(script, [], {
            serialization: 'advanced',
            // fd 1 is the host's pipe, where the sidecar's own output goes; stderr passes
            // through the sidecar as it arrives (its tail names an out-of-memory death), never
            // collected; the IPC channel sits high (fd 3 is where user code writes when it
            // guesses a free fd).
            stdio: ['ignore', 'inherit', 'pipe', ...Array<'ignore'>(POOL_IPC_FD - 3).fill('ignore'), 'ipc'],
            env: { ...process.env, [PARENT_PID_ENV]: String(process.pid) },
            execArgv: [],
          });
          // The target (with its argument text, which can be megabytes) goes through IPC.
          child.send({ type: 'init', spec: this.ctx.spec } satisfies PoolRequest);
          child.stderr!.on('data', (c: Buffer) => {
            passOn(2, c);
            member.stderrTail = (member.stderrTail + c.toString('utf8')).slice(-MEMBER_STDERR_TAIL_CHARS);
          });
          child.on('message', (m) => onReply(m as PoolReply));
          child.on('error', (e) => {
            member.dead = true;
            if (!this.closed) this.fail(new PoolCrash(`${member.name} failed: ${e.message}`));
          });
          child.on('exit', onExit);
          // 'close': exited, and its stderr read to the end (its stdout went straight to fd 1).
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
      if (member.dead || member.busy || member.warming || !this.queue.length || busy >= this.limit) continue;
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

/** `warmArgs`: the members' warm-up calls' own arguments (evaluated once, sent to each); null: no warm-up. */
export async function runPool(ctx: Context, mode: 'worker' | 'process', args: unknown[], warmArgs: unknown[] | null): Promise<RawWindow> {
  return (await runPoolWindows(ctx, mode, args, warmArgs, null, () => undefined))[0];
}

/**
 * A worker sweep: one pool per mode, as large as the largest count can use (never more
 * than the calls in flight), and a window per count that lets only that many calls run
 * at once, which is what a pool of that size does, without a pool start per count.
 */
export function runPoolSweep(ctx: Context, mode: 'worker' | 'process', args: unknown[], warmArgs: unknown[] | null, counts: number[], emit: (w: RawWindow) => void): Promise<RawWindow[]> {
  return runPoolWindows(ctx, mode, args, warmArgs, counts, emit);
}

async function runPoolWindows(
  ctx: Context, mode: 'worker' | 'process', args: unknown[], warmArgs: unknown[] | null, counts: number[] | null, emit: (w: RawWindow) => void,
): Promise<RawWindow[]> {
  const fail = (w: RawWindow) => {
    if (counts) emit(w);
    return [w];
  };
  let warmBytes: Uint8Array | null;
  try {
    v8.serialize(args);
    warmBytes = warmArgs && v8.serialize(warmArgs);
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
      pool.start(warmBytes).then(resolve, reject);
    }).finally(() => offCancel());
    startupMs = pool.loadedAt - t;
  } catch (e) {
    pool.close();
    if (e instanceof LoadError) return fail(skipped(mode, e.error.kind, e.error.message, 'failed'));
    if (e instanceof PoolCrash) {
      const w = skipped(mode, 'crashed', e.warmingUp
        ? `a ${mode} pool member died in the target's unmeasured warm-up call: ${e.message}`
        : `the ${mode} pool broke while starting: ${e.message}`, 'failed');
      w.error!.detail = e.detail;
      return fail(w);
    }
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
      if (notes.length) window.notes = [...(window.notes ?? []), ...notes];
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
