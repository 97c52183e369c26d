/**
 * N > 1 Node server processes, the way `node:cluster` users run servers: this process
 * becomes the cluster's primary and only coordinates; each worker is this harness again
 * (serve.js, `cluster.isWorker`), which loads the user's script with the same
 * instrumentation as a single process, measures its own loop and reports to us over a
 * pipe of its own as we report to the host. Their `listen()` goes through cluster: with
 * Node's default scheduling (SCHED_RR everywhere but Windows) this process holds the one
 * listening socket and hands each new connection to the next worker that took its last
 * one; NODE_CLUSTER_SCHED_POLICY=none (each worker accepts on the shared socket) is
 * honoured, as it is for the user's own servers. The address a worker asks for is
 * 127.0.0.1 (listen.ts, in the worker), and that is what this process binds.
 * As parent.py does for Python: `ready` once every worker listens, `window` with one
 * ServerProcessWindow per worker, and a worker that dies ends the run with its fate.
 * Every worker dies with us: its orphan watch (armed against our pid), its stdin's EOF,
 * and a kill from here whenever we end first.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { LineSplitter } from '../../../shared/lineSplitter';
import type { RunError } from '../../../shared/protocol';
import { describeExit } from '../../../shared/crashCause';
import { SERVE_PROTOCOL_VERSION, ServeHostMessage, ServePlan, ServerProcessWindow, ServeSidecarMessage } from '../../../shared/protocol/serve';
import type { Channel } from '../channel';
import { clearTimeout, nowMs, setTimeout } from '../clock';
import { PARENT_PID_ENV } from '../orphanWatch';

/** The workers' protocol descriptor: high, as the host's (engine/sidecarProcess.ts), out of user code's way. */
const WORKER_PROTOCOL_FD = 63;
/** Beyond the workers' own start timeout: their Node's start and their ready on the pipe. */
const START_SLACK_S = 10;

type Ready = Extract<ServeSidecarMessage, { type: 'ready' }>;

interface Member {
  index: number;
  worker: Worker;
  pid: number;
  stdin: Writable;
  ready: Ready | null;
  window: ServerProcessWindow[] | null;
  done: boolean;
}

export interface PrimaryHooks {
  /** Ends this process (the harness's exit, which no user code can replace). */
  exit(code: number): void;
}

export class Primary {
  private readonly members: Member[] = [];
  private ended = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly nonce = randomBytes(16).toString('hex');

  constructor(
    private readonly channel: Channel<ServeSidecarMessage>,
    private readonly plan: ServePlan,
    private readonly startedAt: number,
    private readonly hooks: PrimaryHooks,
    /** The harness's bundle (serve.js): what each worker runs. */
    private readonly entry: string,
  ) {}

  start(): void {
    // Synchronous on exit: whatever ends this process (an error, the host gone) takes the workers along.
    process.on('exit', () => this.killAll());
    cluster.setupPrimary({
      exec: this.entry,
      args: [],
      // stdin: host messages; stdout and stderr: the host's, so the app's output is captured as
      // a single process's is; 'ipc': cluster's own channel; the protocol pipe at a high fd.
      stdio: ['pipe', 'inherit', 'inherit', 'ipc', ...Array<'ignore'>(WORKER_PROTOCOL_FD - 4).fill('ignore'), 'pipe'],
    });
    const workerPlan: ServePlan = { ...this.plan, processes: 1 };
    for (let index = 0; index < this.plan.processes; index++) {
      const worker = cluster.fork({ LOOPLAG_PROTOCOL_FD: String(WORKER_PROTOCOL_FD), LOOPLAG_NONCE: this.nonce, [PARENT_PID_ENV]: String(process.pid) });
      const stdio = worker.process.stdio as unknown as (Readable | Writable | null)[];
      const member: Member = { index, worker, pid: worker.process.pid ?? 0, stdin: stdio[0] as Writable, ready: null, window: null, done: false };
      this.members.push(member);
      member.stdin.on('error', () => undefined); // it died: its exit says so
      readLines(stdio[WORKER_PROTOCOL_FD] as Readable, `${this.nonce} `, (value) => this.onWorkerLine(member, value));
      // 'close', not 'exit': its stdio is read to the end first, so a worker's last `done` is never taken for a crash.
      worker.process.once('close', (code, signal) => this.onExit(member, code, signal));
      this.tell(member, { type: 'start', protocol: SERVE_PROTOCOL_VERSION, plan: workerPlan });
    }
    this.timer = setTimeout(() => {
      const late = this.members.filter((m) => !m.ready).length;
      this.fail({ kind: 'timeout', message: `${late} of ${this.members.length} server processes did not start listening within ${this.plan.startTimeoutS} s`, detail: null });
    }, (this.plan.startTimeoutS + START_SLACK_S) * 1000);
  }

  /** The host's `measure` and `stop`, to every worker. */
  relay(message: ServeHostMessage): void {
    if (this.ended) return;
    if (message.type === 'stop') {
      this.stopping = true;
      // Stopped before every worker listened: nothing was measured.
      if (this.members.some((m) => !m.ready)) return this.end(0);
    }
    for (const m of this.members) this.tell(m, message);
  }

  /** The host is gone (stdin closed): nobody reads a window. */
  hostGone(): void {
    this.end(1);
  }

  private onWorkerLine(m: Member, value: unknown): void {
    if (this.ended) return;
    let message: ServeSidecarMessage;
    try {
      message = ServeSidecarMessage.parse(value);
    } catch (e) {
      return this.fail({ kind: 'internal-error', message: `server process ${m.index + 1} sent an invalid message: ${(e as Error).message}`, detail: null });
    }
    switch (message.type) {
      case 'hello':
        return;
      case 'error':
        // The worker's own words (its script threw, could not listen, crashed): the run's error.
        return this.fail(message.error);
      case 'ready':
        m.ready = message;
        return this.onReady();
      case 'window':
        m.window = message.processes;
        if (this.members.every((x) => x.window)) this.channel.send({ type: 'window', processes: this.members.flatMap((x) => x.window!) });
        return;
      case 'done':
        m.done = true;
        if (this.members.every((x) => x.done)) this.end(0);
    }
  }

  private onReady(): void {
    if (!this.members.every((m) => m.ready)) return;
    clearTimeout(this.timer);
    const ports = [...new Set(this.members.map((m) => m.ready!.port))];
    if (ports.length > 1) {
      // Only a listen that refuses to share (exclusive) gets a port of its own: listen.ts refuses it first.
      return this.fail({ kind: 'unsupported-mode', message: `the server's ${this.members.length} processes listened on different ports (${ports.join(', ')}): its port is not shared through node:cluster`, detail: null });
    }
    const first = this.members[0].ready!;
    this.channel.send({
      type: 'ready', port: ports[0], pids: this.members.map((m) => m.pid), routes: first.routes, server: first.server,
      startupMs: Math.round((nowMs() - this.startedAt) * 1000) / 1000,
    });
  }

  private onExit(m: Member, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended || m.done) return;
    const how = describeExit({ code, signal, stderr: null, runtime: 'node', oom: null });
    const when = this.stopping ? ' while stopping' : m.ready ? ' while serving' : ' before it listened';
    this.fail({ kind: 'crashed', message: `server process ${m.index + 1} of ${this.members.length} (pid ${m.pid}) ${how}${when}`, detail: null });
  }

  private fail(error: RunError): void {
    if (this.ended) return;
    this.channel.send({ type: 'error', error });
    this.end(1);
  }

  private end(code: number): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.killAll();
    this.channel.send({ type: 'done' });
    this.hooks.exit(code);
  }

  private tell(m: Member, message: ServeHostMessage): void {
    try {
      m.stdin.write(JSON.stringify(message) + '\n');
    } catch {
      // it died: its exit says so
    }
  }

  private killAll(): void {
    for (const m of this.members) {
      try {
        m.worker.process.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** The harness's entry script, beside this module in the bundle. */
export function harnessEntry(baseDir: string): string {
  return path.join(baseDir, 'serve.js');
}

/** Protocol lines from a worker: those that start with the nonce, parsed as JSON (a worker's own, never user output). */
function readLines(stream: Readable, prefix: string, onValue: (value: unknown) => void): void {
  const lines = new LineSplitter((line) => {
    if (!line.startsWith(prefix)) return;
    try {
      onValue(JSON.parse(line.slice(prefix.length)));
    } catch {
      onValue(null); // not JSON: invalid, as the parser says
    }
  });
  stream.on('data', (chunk: Buffer) => lines.push(chunk));
  stream.on('error', () => undefined);
}
