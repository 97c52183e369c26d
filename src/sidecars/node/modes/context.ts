/**
 * What every execution mode shares: the session's context (plan, probes, cancel,
 * progress), the record of one call, and the errors that end a window early.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RunPlan, ValueKind } from '../../../shared/protocol';
import type { Channel } from '../channel';
import type { LoadSpec } from '../loader';
import { ErrorInfo, rejectionInfo } from '../poolProtocol';
import { wallMs } from '../clock';
import { LoopDelayMonitor, nowMs } from '../probes';
import { RUNTIMES } from '../../../shared/modes';

export const NODE_MODES = RUNTIMES.node.modes;
export type NodeMode = (typeof NODE_MODES)[number];

/** The host cancelled or timed the session out: what a window's work rejects with (see Context.onCancel). */
export class Cancelled extends Error {}
/** A call ran past the plan's callTimeoutS: the window stops waiting (message: the window's error). */
export class CallTimeout extends Error {}
/** A pool member died or failed: the window (or the pool's start-up) fails with its cause. */
export class PoolCrash extends Error {
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

/** One call in a window, filled in as it runs; the window turns it into the protocol's TaskRecord. */
export interface TaskRec {
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
