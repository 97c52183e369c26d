/**
 * The Node server harness (bundled to dist/sidecars/node/serve.js, run on the user's
 * Node as `node serve.js`): the process *is* the user's server. It says hello, reads a
 * ServePlan, instruments `listen` (listen.ts), runs the user's script as its main
 * module, says `ready` once the server listens, measures the server's own loop from
 * `measure` to `stop`, sends the window, closes the server and exits. Protocol as the
 * function sidecar's (channel.ts: its own descriptor and nonce; orphanWatch.ts: it dies
 * with its parent): messages in src/shared/protocol/serve.ts.
 */
import cluster from 'node:cluster';
import type * as http from 'node:http';
import * as path from 'node:path';
import type { RunError } from '../../../shared/protocol';
import { SERVE_PROTOCOL_VERSION, ServeHostMessage, ServePlan, ServeSidecarMessage } from '../../../shared/protocol/serve';
import { Channel, readHostMessages, syncStdio, takeProtocolEnv } from '../channel';
import { clearTimeout, nowMs, setTimeout } from '../clock';
import { dieWithParent, parentPidFromEnv } from '../orphanWatch';
import { runtimeInfo } from '../runtimeInfo';
import { instrumentListen, LOOPBACK } from './listen';
import { loadScript, withoutToolFrames } from './loadScript';
import { RequestLog } from './requests';
import { expressAppOf, expressName, expressRoutes } from './routes';
import { ServeWindow, WindowPlan } from './window';
import { harnessEntry, Primary } from './primary';

const BASE_DIR = __dirname;
// Taken before user code loads: a script that replaces process.exit cannot keep us running.
const exitProcess = process.exit.bind(process);

type Phase = 'waiting' | 'starting' | 'ready' | 'ended';

class Harness {
  private phase: Phase = 'waiting';
  private server: http.Server | null = null;
  private window: ServeWindow | null = null;
  private readonly log = new RequestLog();
  private startTimer: NodeJS.Timeout | undefined;
  private ownExit = false;
  /** N > 1 server processes: the cluster's primary (this process serves nothing itself). */
  private primary: Primary | null = null;

  constructor(private readonly channel: Channel<ServeSidecarMessage>, private readonly workspaceRoot: string) {}

  async start(plan: ServePlan): Promise<void> {
    if (this.phase !== 'waiting') return;
    this.phase = 'starting';
    const app = plan.app;
    if (app.type !== 'node') {
      return this.fail({ kind: 'unsupported-target', message: `the Node server harness serves Node scripts, not a ${app.type} app`, detail: null }, 0);
    }
    const startedAt = nowMs();
    if (plan.processes > 1) {
      // This process becomes the cluster's primary; each worker is this harness again, serving one process.
      this.primary = new Primary(this.channel, plan, startedAt, { exit: (code) => this.exit(code) }, harnessEntry(BASE_DIR));
      this.primary.start();
      return;
    }
    const script = path.basename(app.script);
    this.watchProcess();
    refuseClusterFork(script, (e) => this.fail(e, 0));
    instrumentListen({
      port: plan.port,
      pingPath: plan.pingPath,
      onChosen: (server) => {
        this.server = server;
      },
      onListening: (server) => void this.ready(server, plan, startedAt),
      shared: cluster.isWorker,
      // One variant's refusal (unsupported-mode), not the session's: as written still runs.
      onUnshareable: (why) => this.fail({
        kind: 'unsupported-mode',
        message: `${script}'s server cannot share its port between server processes (node:cluster): ${why}; run it as written, or listen without that option`,
        detail: null, file: app.script,
      }, 0),
      onListenError: (_server, e) => this.fail({
        kind: 'crashed',
        message: `${script}'s server could not listen on ${LOOPBACK}:${plan.port || '(a free port)'}: ${e.message}`,
        detail: e.stack ?? null,
      }, 0),
      onRequest: (req, res, rawPath) => this.log.track(req, res, rawPath),
    });
    this.startTimer = setTimeout(() => {
      if (this.phase !== 'starting') return;
      this.fail({
        kind: 'unsupported-target',
        message: `${script} did not start an http server within ${plan.startTimeoutS} s: service mode measures a script that calls server.listen()`,
        detail: null, file: app.script,
      }, 0);
    }, plan.startTimeoutS * 1000);
    const error = await loadScript({ script: app.script, args: app.args, baseDir: BASE_DIR });
    if (error) this.fail(error, 0);
  }

  private async ready(server: http.Server, plan: ServePlan, startedAt: number): Promise<void> {
    if (this.phase !== 'starting') return;
    clearTimeout(this.startTimer);
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : plan.port;
    const express = expressAppOf(server);
    let routes: Awaited<ReturnType<typeof expressRoutes>> = [];
    if (express) {
      try {
        routes = await expressRoutes(express, this.workspaceRoot, BASE_DIR);
      } catch {
        // An app whose router we cannot read is still measured, without its route list.
      }
    }
    if (this.phase !== 'starting') return;
    // Before `ready`: the load, warm-up included, starts after the profiler's start-up stall.
    const profiler = await ServeWindow.prepare(this.windowPlan(plan));
    if (this.phase !== 'starting') {
      profiler?.abandon();
      return;
    }
    this.phase = 'ready';
    // Recorded from now, cut at the host's t0 when `measure` comes (see window.ts).
    this.window = ServeWindow.record(this.windowPlan(plan), this.log, profiler);
    this.channel.send({
      type: 'ready', port, pids: [process.pid], routes,
      server: express ? expressName() : 'node:http',
      startupMs: Math.round((nowMs() - startedAt) * 1000) / 1000,
    });
  }

  /** `t0EpochMs`: when the host's load began its measured part (see ServeHostMessage). */
  measure(t0EpochMs?: number): void {
    if (this.primary) return this.primary.relay({ type: 'measure', ...(t0EpochMs !== undefined ? { t0EpochMs } : {}) });
    if (this.phase !== 'ready') return;
    this.window?.open(t0EpochMs);
  }

  private windowPlan(plan: ServePlan): WindowPlan {
    return { heartbeatMs: plan.heartbeatMs, attribution: plan.attribution, workspaceRoot: this.workspaceRoot, toolDir: BASE_DIR };
  }

  async stop(): Promise<void> {
    if (this.primary) return this.primary.relay({ type: 'stop' });
    if (this.phase === 'ended') return;
    const wasReady = this.phase === 'ready';
    this.phase = 'ended';
    clearTimeout(this.startTimer);
    if (wasReady && this.window?.opened) {
      const window = await this.window.close();
      this.channel.send({ type: 'window', processes: [window] });
    }
    this.closeServer();
    this.channel.send({ type: 'done' });
    this.exit(0);
  }

  /** The host is gone (stdin closed): nobody reads a window. */
  hostGone(): void {
    if (this.primary) return this.primary.hostGone();
    this.phase = 'ended';
    this.closeServer();
    this.exit(1);
  }

  fail(error: RunError, code: number): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    clearTimeout(this.startTimer);
    this.channel.send({ type: 'error', error });
    this.closeServer();
    this.channel.send({ type: 'done' });
    this.exit(code);
  }

  /** The user's script ending the process, or throwing where nothing catches it, is the run's crash. */
  private watchProcess(): void {
    process.on('exit', (code) => {
      if (this.ownExit || this.phase === 'ended') return;
      const when = this.phase === 'ready' ? 'while serving' : 'before its server listened';
      // Synchronous: the message is on the wire before the process is gone.
      this.channel.send({ type: 'error', error: { kind: 'crashed', message: `the server script exited with code ${code} ${when} (process.exit)`, detail: null } });
    });
    process.on('uncaughtException', (e: unknown) => {
      // A script with a handler of its own keeps running, as it would without us.
      if (process.listenerCount('uncaughtException') > 1) return;
      const err = e as Error | undefined;
      const when = this.phase === 'ready' ? 'while serving' : 'before its server listened';
      this.fail({
        kind: 'crashed',
        message: `the server threw ${err?.name ?? typeof e} ${when}, which nothing caught: ${String(err?.message ?? e).split('\n')[0]}`,
        detail: withoutToolFrames(err?.stack ?? null, BASE_DIR),
      }, 1);
    });
  }

  private closeServer(): void {
    const server = this.server;
    if (!server) return;
    try {
      server.close();
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    } catch {
      // not listening: nothing to close
    }
  }

  /** Exits now, even if the script keeps handles open (intervals, connections, pools). */
  private exit(code: number): void {
    this.ownExit = true;
    exitProcess(code);
  }
}

/**
 * A script that forks cluster workers itself would run its workers uninstrumented, and
 * its primary never serves: refused at its first `cluster.fork()`, before anything listens.
 */
function refuseClusterFork(script: string, fail: (e: RunError) => void): void {
  if (!cluster.isPrimary) return; // a worker of ours (--workers N): cluster.fork does not exist there
  cluster.fork = (() => {
    fail({
      kind: 'unsupported-mode', // as written only: --workers N runs its worker path, so the session goes on
      message: `${script} starts node:cluster workers itself (cluster.fork()): Loop Lag measures the server process it runs, so run the script's single-process path (without its own cluster), and --workers N to compare N processes`,
      detail: null,
    });
    throw new Error('Loop Lag: cluster.fork() is not supported in service mode');
  }) as typeof cluster.fork;
}

function main(): void {
  // First: a host killed outright takes the server with it, even while a handler blocks the loop.
  dieWithParent(parentPidFromEnv());
  const { fd, nonce } = takeProtocolEnv();
  const channel = new Channel<ServeSidecarMessage>(fd, nonce);
  syncStdio();
  // The host starts the harness in the workspace (or the script's folder): frames under it are the user's.
  const harness = new Harness(channel, process.cwd());
  channel.send({ type: 'hello', protocol: SERVE_PROTOCOL_VERSION, sidecar: 'node', runtime: runtimeInfo() });
  const internal = (e: Error) => harness.fail({ kind: 'internal-error', message: `Loop Lag's server harness failed: ${e?.name}: ${e?.message}`, detail: e?.stack ?? null }, 1);
  readHostMessages<ServeHostMessage>(
    (m) => {
      if (m.type === 'start') {
        if (m.protocol !== SERVE_PROTOCOL_VERSION) {
          harness.fail({ kind: 'protocol-error', message: `the host speaks serve protocol ${m.protocol}, this harness ${SERVE_PROTOCOL_VERSION}`, detail: null }, 2);
          return;
        }
        harness.start(m.plan).catch(internal);
      } else if (m.type === 'measure') harness.measure(m.t0EpochMs);
      else if (m.type === 'stop') harness.stop().catch(internal);
    },
    (why) => harness.fail({ kind: 'protocol-error', message: why, detail: null }, 2),
    () => harness.hostGone(),
    (value) => ServeHostMessage.parse(value),
  );
}

main();
