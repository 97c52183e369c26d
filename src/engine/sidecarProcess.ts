import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { HostMessage, SidecarMessage } from '../shared/protocol';
import { ValidationError } from '../shared/validate';
import { killTagged, killTree, RUN_TAG_ENV } from './killTree';
import { LineSplitter } from './lineSplitter';

export type SidecarState = 'starting' | 'running' | 'cancelling' | 'done' | 'failed';

export interface SidecarExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the interpreter could not be started at all (e.g. ENOENT). */
  spawnError: NodeJS.ErrnoException | null;
  /** The last few KiB of the sidecar's own stderr (faulthandler, crashes). */
  stderrTail: string;
  /** A line that failed protocol validation, if one did. */
  protocolError: string | null;
}

export interface SidecarOptions {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Where protocol lines arrive: the child's stdout (Python swaps its own fds so user
   * output never reaches it) or a private pipe on fd 3 (Node: user output then cannot
   * reach the protocol at all, and what reaches stdout is logged like stderr).
   */
  protocolFd?: 1 | 3;
  onMessage(message: SidecarMessage): void;
  onStderr?(text: string): void;
}

const STDERR_TAIL_BYTES = 8192;
/**
 * How long the pipes are still read once the sidecar itself has exited. Whatever it
 * wrote before exiting is already in the pipe and arrives within a few loop turns; a
 * process that escaped both the group kill and the tag kill (setsid and a scrubbed
 * environment) may hold a copy of the pipes for as long as it lives, and must not keep
 * the run waiting for their end-of-file.
 */
export const PIPE_DRAIN_MS = 500;

/**
 * One sidecar process with a lifecycle: `starting → running → cancelling → done | failed`.
 * `stopped` resolves exactly once, after the whole process tree is gone.
 */
export class SidecarProcess {
  state: SidecarState = 'starting';
  readonly stopped: Promise<SidecarExit>;
  readonly pid: number | undefined;
  /** The value of LOOPLAG_RUN_TAG in the environment of this sidecar and all it starts. */
  readonly runTag = randomBytes(12).toString('hex');
  private readonly child: ChildProcess;
  private stderrTail = '';
  private protocolError: string | null = null;
  private graceTimer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SidecarOptions) {
    this.child = spawn(options.command, options.args, {
      cwd: options.cwd,
      // Whose death ends the sidecar (see the sidecars' orphan watch): it checks this pid
      // is still alive once its watch is armed, in case we died before that.
      // The run tag finds what escaped the process group (see kill).
      env: { ...(options.env ?? process.env), LOOPLAG_PARENT_PID: String(process.pid), [RUN_TAG_ENV]: this.runTag },
      stdio: options.protocolFd === 3 ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
      // Own process group on POSIX so cancel can kill pool children with it.
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    this.pid = this.child.pid;
    const splitter = new LineSplitter((line) => this.onLine(line));
    const onStderr = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_BYTES);
      options.onStderr?.(text);
    };
    if (options.protocolFd === 3) {
      (this.child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => splitter.push(chunk));
      this.child.stdout!.on('data', onStderr);
    } else {
      this.child.stdout!.on('data', (chunk: Buffer) => splitter.push(chunk));
    }
    this.child.stderr!.on('data', onStderr);
    this.child.stdin!.on('error', () => undefined); // EPIPE after the sidecar died: reported via exit
    // The sidecar must not outlive its host. It ends itself when its stdin closes,
    // but a worker thread stuck in a GIL-holding call (pow(3, 10**9)) keeps it from
    // ever noticing: a second Ctrl+C (process.exit) or a crash of the host would leave
    // it spinning. 'exit' listeners run synchronously, and killTree is synchronous.
    const onHostExit = () => this.kill();
    process.once('exit', onHostExit);
    this.stopped = new Promise((resolve) => {
      let spawnError: NodeJS.ErrnoException | null = null;
      let finished = false;
      let exitKilled = false; // what the run left was killed once the sidecar exited
      this.child.on('error', (e: NodeJS.ErrnoException) => {
        spawnError = e;
        if (this.child.pid === undefined) finish(null, null);
      });
      // 'close' normally: every copy of the pipes is closed, so every protocol line has
      // been read. But user code's children inherit the pipes (a fork, a detached child
      // with inherited stdio), so 'close' can come long after the sidecar is gone, or
      // never: once it has exited, what is left of its run is killed, and the pipes are
      // read for a bounded time only.
      this.child.on('close', (code, signal) => finish(code, signal));
      this.child.on('exit', (code, signal) => {
        this.kill();
        exitKilled = true;
        this.drainTimer = setTimeout(() => {
          for (const stream of this.child.stdio) stream?.destroy();
          finish(code, signal);
        }, PIPE_DRAIN_MS);
      });
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (finished) return;
        finished = true;
        process.off('exit', onHostExit);
        clearTimeout(this.graceTimer);
        clearTimeout(this.drainTimer);
        // Leftovers of the group, and of the run outside it (scanned for once is enough:
        // nothing of the run is left to start a process after the kill at exit).
        if (exitKilled) this.killGroup();
        else this.kill();
        if (this.state !== 'cancelling') this.state = code === 0 && !spawnError ? 'done' : 'failed';
        else this.state = 'failed';
        resolve({ code, signal, spawnError, stderrTail: this.stderrTail, protocolError: this.protocolError });
      };
    });
  }

  private onLine(line: string): void {
    if (this.protocolError) return;
    let message: SidecarMessage;
    try {
      message = SidecarMessage.parse(JSON.parse(line));
    } catch (e) {
      const why = e instanceof ValidationError || e instanceof SyntaxError ? e.message : String(e);
      this.protocolError = `${why} in line ${JSON.stringify(line.slice(0, 200))}`;
      this.kill();
      return;
    }
    if (this.state === 'starting') this.state = 'running';
    this.options.onMessage(message);
  }

  send(message: HostMessage): void {
    if (this.child.stdin?.writable) this.child.stdin.write(JSON.stringify(message) + '\n');
  }

  /** Polite cancel, then the whole tree is killed after `graceMs` if still alive. */
  cancel(graceMs: number, reason: 'user' | 'timeout' = 'user'): Promise<SidecarExit> {
    if (this.state === 'starting' || this.state === 'running') {
      this.state = 'cancelling';
      this.send({ type: 'cancel', reason });
      this.graceTimer = setTimeout(() => this.kill(), graceMs);
    }
    return this.stopped;
  }

  /**
   * Kill the sidecar's process group, then every process of this user that carries this
   * sidecar's run tag: children user code moved out of the group (`setsid()`, a detached
   * child) die with the run too. Synchronous, so it can run in an 'exit' listener.
   */
  kill(): void {
    this.killGroup();
    killTagged(RUN_TAG_ENV, this.runTag);
  }

  private killGroup(): void {
    if (this.child.pid !== undefined) killTree(this.child.pid);
  }
}
