/**
 * A test driver for a service-mode server harness: starts it with the protocol
 * environment SidecarProcess gives a sidecar (descriptor 63, nonce, parent pid, run tag),
 * validates each framed line with the host's ServeSidecarMessage parser, and lets a test
 * wait for a message by type. (Test-local until SidecarProcess is generic over its schema.)
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as path from 'node:path';
import { after } from 'node:test';
import { RUN_TAG_ENV } from '../../src/engine/killTree';
import { LineSplitter } from '../../src/shared/lineSplitter';
import { defaultNodeSidecarDir } from '../../src/engine/runtimes';
import { PROTOCOL_FD } from '../../src/engine/sidecarProcess';
import { SERVE_PROTOCOL_VERSION, ServeHostMessage, ServePlan, ServerProcessWindow, ServeSidecarMessage } from '../../src/shared/protocol/serve';
import { FIXTURES } from './helpers';

/** The Node server fixtures. */
export const NODE_SERVE_DIR = path.join(FIXTURES, 'serve', 'node');

type Message = ServeSidecarMessage;
type Of<T extends Message['type']> = Extract<Message, { type: T }>;

export class ServeHarness {
  readonly child: ChildProcess;
  readonly messages: Message[] = [];
  readonly runTag = randomBytes(8).toString('hex');
  /** Protocol problems: a line without the nonce, or one the parser rejected. */
  readonly problems: string[] = [];
  stderr = '';
  stdout = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters: (() => void)[] = [];
  private readonly nonce = randomBytes(16).toString('hex');

  constructor(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; parentPid?: number }) {
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: {
        ...process.env, ...options.env, LOOPLAG_PARENT_PID: String(options.parentPid ?? process.pid),
        LOOPLAG_PROTOCOL_FD: String(PROTOCOL_FD), LOOPLAG_NONCE: this.nonce, [RUN_TAG_ENV]: this.runTag,
      },
      stdio: ['pipe', 'pipe', 'pipe', ...Array<'ignore'>(PROTOCOL_FD - 3).fill('ignore'), 'pipe'],
      detached: true,
    });
    const splitter = new LineSplitter((line) => this.onLine(line));
    (this.child.stdio as unknown as (NodeJS.ReadableStream | null)[])[PROTOCOL_FD]!.on('data', (c: Buffer) => splitter.push(c));
    this.child.stdout!.on('data', (c: Buffer) => (this.stdout += c.toString('utf8')));
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString('utf8')));
    this.child.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      resolve({ code, signal });
      this.wake();
    }));
  }

  private onLine(line: string): void {
    const prefix = this.nonce + ' ';
    if (!line.startsWith(prefix)) {
      this.problems.push(`unframed: ${line.slice(0, 200)}`);
      return;
    }
    try {
      this.messages.push(ServeSidecarMessage.parse(JSON.parse(line.slice(prefix.length))));
    } catch (e) {
      this.problems.push(`${(e as Error).message}: ${line.slice(0, 300)}`);
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(message: ServeHostMessage): void {
    this.child.stdin!.write(JSON.stringify(message) + '\n');
  }

  start(plan: ServePlan): void {
    this.send({ type: 'start', protocol: SERVE_PROTOCOL_VERSION, plan });
  }

  /** The first message of this type (or the first `error`, which ends the run), within `timeoutMs`. */
  async next<T extends Message['type']>(type: T, timeoutMs = 30_000): Promise<Of<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => m.type === type) as Of<T> | undefined;
      if (found) return found;
      const error = this.messages.find((m) => m.type === 'error') as Of<'error'> | undefined;
      if (error) throw new Error(`harness error while waiting for ${type}: [${error.error.kind}] ${error.error.message}\n${error.error.detail ?? ''}\n${this.stderr}`);
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`harness exited (${this.child.exitCode ?? this.child.signalCode}) before ${type}\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${type}\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Ends it whatever it is doing (a test's cleanup). */
  kill(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** A plan for a Node script, with the test's overrides. */
export function nodePlan(script: string, over: Partial<ServePlan> = {}): ServePlan {
  return {
    app: { type: 'node', script, args: [] },
    processes: 1, threadTokens: null, port: 0,
    pingPath: `/__looplag/ping-${randomBytes(6).toString('hex')}`,
    heartbeatMs: 1, attribution: { enabled: true, intervalMs: 1 }, startTimeoutS: 20,
    ...over,
  };
}

/** One HTTP request to 127.0.0.1 (or `host`); the status and body. */
export function request(port: number, path: string, options: { method?: string; host?: string; timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: options.host ?? '127.0.0.1', port, path, method: options.method ?? 'GET', agent: false, timeout: options.timeoutMs ?? 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts Node server harnesses (dist/sidecars/node/serve.js) for one test file, in the
 * fixtures' folder; every one still running is killed after the file. Call at the top level.
 */
export function nodeServeRunner() {
  const serveJs = path.join(defaultNodeSidecarDir(), 'serve.js');
  const started: ServeHarness[] = [];
  after(() => {
    for (const h of started) h.kill();
  });
  const harness = (options: { cwd?: string; env?: NodeJS.ProcessEnv; parentPid?: number } = {}): ServeHarness => {
    const h = new ServeHarness(process.execPath, [serveJs], { cwd: options.cwd ?? NODE_SERVE_DIR, env: options.env, parentPid: options.parentPid });
    started.push(h);
    return h;
  };
  /** Starts `script` (in the fixtures' folder) and waits for `ready`. */
  const serve = async (script: string, over: Partial<ServePlan> = {}, env?: NodeJS.ProcessEnv, parentPid?: number) => {
    const h = harness({ env, parentPid });
    const plan = nodePlan(path.join(NODE_SERVE_DIR, script), over);
    await h.next('hello');
    h.start(plan);
    const ready = await h.next('ready');
    return { h, plan, ready };
  };
  return { harness, serve };
}

/** `measure`, then a probe answered: the harness has read `measure` (its stdin is read before the probe's connection). */
export async function measure(h: ServeHarness, port: number, plan: ServePlan): Promise<void> {
  h.send({ type: 'measure' });
  assert.deepEqual(await request(port, plan.pingPath), { status: 200, body: 'ok' });
}

/** `stop`; the one window, and the harness's exit. */
export async function stop(h: ServeHarness): Promise<{ window: ServerProcessWindow; exit: { code: number | null } }> {
  h.send({ type: 'stop' });
  const message = await h.next('window');
  await h.next('done');
  const exit = await h.exited;
  assert.deepEqual(h.problems, []);
  assert.equal(message.processes.length, 1);
  return { window: message.processes[0], exit };
}
