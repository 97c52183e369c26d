/**
 * Starting one pool member, as a worker thread or a child process: how each is spawned,
 * where its output goes, how it is sent calls, killed, and known to be gone.
 */
import { ChildProcess, fork } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { describeExit } from '../../../shared/crashCause';
import { writeAllSync } from '../channel';
import type { LoadSpec } from '../loader';
import { PARENT_PID_ENV } from '../orphanWatch';
import type { PoolReply, PoolRequest } from '../poolProtocol';
import { PoolCrash, TaskRec } from './context';

export interface Member {
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
export const MEMBER_STDERR_TAIL_CHARS = 8192;

/** The process-pool children's IPC descriptor. */
const POOL_IPC_FD = 63;

function passOn(fd: number, chunk: Buffer): void {
  try {
    writeAllSync(fd, chunk);
  } catch {
    // fd closed by user code: nowhere to put it
  }
}

function streamsEnded(...streams: NodeJS.ReadableStream[]): Promise<void> {
  return Promise.all(streams.map((s) => new Promise<void>((r) => {
    s.once('end', r);
    s.once('close', r);
    s.once('error', () => r());
  }))).then(() => undefined);
}

/** What a member tells its pool. */
export interface MemberEvents {
  reply(m: PoolReply): void;
  exit(code: number | null, signal: NodeJS.Signals | null): void;
  /** It failed other than by exiting (the pool ignores it once it is closing). */
  error(e: PoolCrash): void;
}

/** `member` becomes a worker thread running `script` (worker.js), which loads `spec`. */
export function startWorkerMember(member: Member, script: string, spec: LoadSpec, on: MemberEvents): void {
  const worker = new Worker(script, { workerData: { spec }, stdout: true, stderr: true });
  // The worker writes to fds 1 and 2 itself (syncStdio); whatever still comes through
  // its streams is passed on as it arrives, never collected.
  worker.stdout.on('data', (c: Buffer) => passOn(1, c));
  worker.stderr.on('data', (c: Buffer) => passOn(2, c));
  worker.on('message', (m: PoolReply) => on.reply(m));
  worker.on('error', (e) => {
    member.dead = true;
    if ((e as NodeJS.ErrnoException)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      const how = describeExit({ code: null, signal: null, oom: null, runtime: 'node', heapLimitMb: member.heapLimitMb, workerOutOfMemory: true });
      const during = member.busy ? ` while running call ${member.busy.rec.id + 1}` : '';
      on.error(new PoolCrash(`${member.name} ${how}${during}`, (e as Error)?.message ?? null, member.warming));
    } else {
      on.error(new PoolCrash(`${member.name} failed: ${e?.message ?? e}`, (e as Error)?.stack ?? null));
    }
  });
  worker.on('exit', (code) => on.exit(code, null));
  member.gone = Promise.all([new Promise((r) => worker.once('exit', r)), streamsEnded(worker.stdout, worker.stderr)]).then(() => undefined);
  member.send = (m) => worker.postMessage(m);
  member.kill = () => void worker.terminate();
}

/** `member` becomes a child process running `script` (worker.js), sent `spec` over IPC. */
export function startProcessMember(member: Member, script: string, spec: LoadSpec, on: MemberEvents): void {
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
  child.send({ type: 'init', spec } satisfies PoolRequest);
  child.stderr!.on('data', (c: Buffer) => {
    passOn(2, c);
    member.stderrTail = (member.stderrTail + c.toString('utf8')).slice(-MEMBER_STDERR_TAIL_CHARS);
  });
  child.on('message', (m) => on.reply(m as PoolReply));
  child.on('error', (e) => {
    member.dead = true;
    on.error(new PoolCrash(`${member.name} failed: ${e.message}`));
  });
  child.on('exit', (code, signal) => on.exit(code, signal));
  // 'close': exited, and its stderr read to the end (its stdout went straight to fd 1).
  member.gone = new Promise((r) => child.once('close', () => r()));
  member.name = `pid ${child.pid}`;
  member.send = (m) => child.send(m);
  member.kill = () => void child.kill('SIGKILL');
}

