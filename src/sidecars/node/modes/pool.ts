/**
 * A pool of W worker threads or child processes, each holding the loaded target: start
 * (load and warm-up), one call per free member with its arguments serialized as it is
 * sent (what moving them costs on each side is recorded), results, crashes, drain.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import type { RunError, ValueKind } from '../../../shared/protocol';
import { describeExit } from '../../../shared/crashCause';
import { oomEvidence, readOomKills } from '../../../engine/oomKills';
import { LoadError } from '../loader';
import { errorInfo, PoolReply } from '../poolProtocol';
import { argsKindOf, kindOf } from '../valueKind';
import { clearTimeout, setTimeout } from '../clock';
import { nowMs } from '../probes';
import { Context, PoolCrash, TaskRec } from './context';
import { Member, MemberEvents, startProcessMember, startWorkerMember } from './poolMembers';
import type { Window } from './window';

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

/** How long idle members get to exit on their own before they are killed. */
const POOL_EXIT_GRACE_MS = 2000;

/** W worker threads or child processes, each holding the loaded target. */
export class Pool {
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
        const events: MemberEvents = {
          reply: onReply,
          exit: onExit,
          error: (e) => {
            if (!this.closed) this.fail(e);
          },
        };
        if (this.kind === 'worker') startWorkerMember(member, script, this.ctx.spec, events);
        else startProcessMember(member, script, this.ctx.spec, events);
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
      const written = nowMs();
      this.window?.attribution?.span('serialize-args', t, written);
      job.rec.transfer = { argsBytes: bytes.length, argsWriteMs: written - t, argsReadMs: null, resultBytes: null, resultWriteMs: null, resultReadMs: null, argsKind: argsKindOf(job.args) };
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
        const read = nowMs();
        readMs = read - t;
        this.window?.attribution?.span('deserialize-result', t, read);
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
