import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CapturedOutput, HostMessage, SidecarMessage } from '../shared/protocol';
import { ValidationError } from '../shared/validate';
import { killTagged, killTree, RUN_TAG_ENV } from './killTree';
import { LineSplitter } from '../shared/lineSplitter';
import { combine, StreamCapture } from './outputCapture';

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
  /**
   * Set when a line on the protocol descriptor did not carry this run's nonce: user code
   * wrote there (the message says so, with what was written, cut).
   */
  foreignWrite: string | null;
  /** What was printed on fds 1 and 2 after the last window's cut (up to a crash, say), capped. */
  output: CapturedOutput;
}

/**
 * The sidecar's protocol descriptor: high, so user code that writes to the low numbers
 * (a leaked fd 3, a C library's guess) cannot reach it. Spawned pool members do not get
 * it (close-on-exec); forked ones inherit a copy, and a line they write there without the
 * run's nonce is reported as a foreign write.
 */
export const PROTOCOL_FD = 63;

/** What a protocol message has in common, whatever the schema: its tag. */
export interface TaggedMessage {
  type: string;
}

/**
 * The options of one harness process. `M` is the schema of what it sends, `H` of what it
 * is sent: function mode's sidecar by default (SidecarMessage, HostMessage); service
 * mode's server harness passes its own (shared/protocol/serve.ts) with `parse` and
 * `cancelMessage`, and gets the same framing, nonce, output capture and kills.
 */
export interface SidecarOptions<M extends TaggedMessage = SidecarMessage, H = HostMessage> {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** The per-window cap on captured output, head + tail, per stream (the plan's `outputCapBytes`). */
  outputCapBytes: number;
  onMessage(message: M): void;
  /** Validates one message (parse, never cast); default: function mode's SidecarMessage. */
  parse?(value: unknown): M;
  /** What a polite `cancel` sends; default: function mode's `cancel` message. */
  cancelMessage?(reason: CancelReason): H;
  /** The start of what the process wrote on fd 2, for logs (capped: see STDERR_LOG_BYTES). */
  onStderr?(text: string): void;
}

export type CancelReason = 'user' | 'timeout' | 'call-timeout';

const STDERR_TAIL_BYTES = 8192;
/** Bytes of fd 2 passed to `onStderr`: a log must not grow with what user code prints. */
const STDERR_LOG_BYTES = 64 * 1024;
const FOREIGN_SHOWN_CHARS = 200;
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
 * `stopped` resolves exactly once, after the sidecar has exited and its process group and
 * every process carrying its run tag were killed (a process that escaped both no longer
 * holds the run up: its pipes are read for PIPE_DRAIN_MS at most).
 */
export class SidecarProcess<M extends TaggedMessage = SidecarMessage, H = HostMessage> {
  state: SidecarState = 'starting';
  readonly stopped: Promise<SidecarExit>;
  readonly pid: number | undefined;
  /** The value of LOOPLAG_RUN_TAG in the environment of this sidecar and all it starts. */
  readonly runTag = randomBytes(12).toString('hex');
  private readonly child: ChildProcess;
  private stderrTail = '';
  private protocolError: string | null = null;
  private foreignWrite: string | null = null;
  private graceTimer: NodeJS.Timeout | undefined;
  /** Every protocol line starts with it: anything else on the descriptor came from user code. */
  private readonly nonce = randomBytes(16).toString('hex');
  private readonly stdoutCapture: StreamCapture;
  private readonly stderrCapture: StreamCapture;
  /** Messages held back (in order) until the output of the window at their head has been read. */
  private readonly held: M[] = [];
  private gone = false;
  private stderrLogged = 0;
  private drainTimer: NodeJS.Timeout | undefined;

  private readonly parse: (value: unknown) => M;

  constructor(private readonly options: SidecarOptions<M, H>) {
    // Without its own schema a process speaks function mode's (the default type arguments).
    this.parse = options.parse ?? ((value) => SidecarMessage.parse(value) as unknown as M);
    this.child = spawn(options.command, options.args, {
      cwd: options.cwd,
      // Whose death ends the sidecar (see the sidecars' orphan watch): it checks this pid
      // is still alive once its watch is armed, in case we died before that.
      // The protocol descriptor and the nonce (the sidecar removes both from its
      // environment); the run tag finds what escaped the process group (see kill).
      env: {
        ...(options.env ?? process.env), LOOPLAG_PARENT_PID: String(process.pid),
        LOOPLAG_PROTOCOL_FD: String(PROTOCOL_FD), LOOPLAG_NONCE: this.nonce, [RUN_TAG_ENV]: this.runTag,
      },
      // fds 1 and 2 are pipes we read (the capture); 3 to 62 stay closed in the child.
      stdio: ['pipe', 'pipe', 'pipe', ...Array<'ignore'>(PROTOCOL_FD - 3).fill('ignore'), 'pipe'],
      // Own process group on POSIX so cancel can kill pool children with it.
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    this.pid = this.child.pid;
    const splitter = new LineSplitter((line) => this.onLine(line));
    const pump = () => this.pump();
    this.stdoutCapture = new StreamCapture(this.nonce, options.outputCapBytes, pump);
    this.stderrCapture = new StreamCapture(this.nonce, options.outputCapBytes, pump, (chunk) => {
      // The tail is kept as bytes' text of bounded size; decoding a 1 GB flood whole is not.
      const piece = chunk.length > STDERR_TAIL_BYTES ? chunk.subarray(chunk.length - STDERR_TAIL_BYTES) : chunk;
      this.stderrTail = (this.stderrTail + piece.toString('utf8')).slice(-STDERR_TAIL_BYTES);
      if (options.onStderr && this.stderrLogged < STDERR_LOG_BYTES) {
        const logged = chunk.subarray(0, STDERR_LOG_BYTES - this.stderrLogged);
        this.stderrLogged += logged.length;
        options.onStderr(logged.toString('utf8'));
        if (this.stderrLogged >= STDERR_LOG_BYTES) options.onStderr(`\n[Loop Lag: the rest of the sidecar's stderr is not logged; the report keeps each window's head and tail]\n`);
      }
    });
    (this.child.stdio as unknown as (NodeJS.ReadableStream | null)[])[PROTOCOL_FD]?.on('data', (chunk: Buffer) => splitter.push(chunk));
    this.child.stdout?.on('data', (chunk: Buffer) => this.stdoutCapture.push(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => this.stderrCapture.push(chunk));
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
        // Windows whose cut marker never arrived get what was read; the rest is the crash's.
        this.gone = true;
        this.pump();
        const output = combine(this.stdoutCapture.takeOpen(), this.stderrCapture.takeOpen());
        resolve({
          code, signal, spawnError, stderrTail: this.stderrTail, protocolError: this.protocolError,
          foreignWrite: this.foreignWrite, output,
        });
      };
    });
  }

  private onLine(line: string): void {
    if (this.protocolError || this.foreignWrite) return;
    const prefix = this.nonce + ' ';
    if (!line.startsWith(prefix)) {
      if (this.state === 'starting') {
        // Before the hello no user code ran: this is not our sidecar talking.
        this.protocolError = `a line without the sidecar's framing: ${JSON.stringify(line.slice(0, FOREIGN_SHOWN_CHARS))}`;
      } else {
        const shown = line.length > FOREIGN_SHOWN_CHARS ? `${line.slice(0, FOREIGN_SHOWN_CHARS)}… [cut: ${line.length - FOREIGN_SHOWN_CHARS} more characters]` : line;
        // A nonce after the foreign bytes: they were written without a newline, ahead of our line.
        const at = line.indexOf(prefix);
        const written = at > 0 ? JSON.stringify(line.slice(0, Math.min(at, FOREIGN_SHOWN_CHARS))) : JSON.stringify(shown);
        this.foreignWrite = `your code wrote to file descriptor ${PROTOCOL_FD}, which Loop Lag uses for its protocol: ${written}`;
      }
      this.kill();
      return;
    }
    line = line.slice(prefix.length);
    let message: M;
    try {
      message = this.parse(JSON.parse(line));
    } catch (e) {
      const why = e instanceof ValidationError || e instanceof SyntaxError ? e.message : String(e);
      this.protocolError = `${why} in line ${JSON.stringify(line.slice(0, 200))}`;
      this.kill();
      return;
    }
    if (this.state === 'starting') this.state = 'running';
    this.held.push(message);
    this.pump();
  }

  /**
   * Deliver held messages in order. A window with an output mark waits until that cut
   * marker has been read on both fds (the sidecar writes them before the message, but
   * the three pipes are read independently) or the process is gone.
   */
  private pump(): void {
    while (this.held.length) {
      const message = this.held[0];
      // Function mode's windows only: a service-mode window has no mark (the server's
      // output goes to the variant whole, from takeOpen() at exit).
      if (isMarkedWindow(message)) {
        const mark = message.outputMark;
        const ready = (c: StreamCapture) => c.lastCut >= mark;
        if (!this.gone && !(ready(this.stdoutCapture) && ready(this.stderrCapture))) return;
        const take = (c: StreamCapture) => (ready(c) ? c.takeSegment(mark) ?? { text: '', truncated: false, bytes: 0 } : c.takeOpen());
        const { outputMark: _mark, ...rest } = message;
        this.held.shift();
        const withOutput: SidecarMessage = { ...rest, window: { ...rest.window, output: combine(take(this.stdoutCapture), take(this.stderrCapture)) } };
        this.options.onMessage(withOutput as unknown as M);
        continue;
      }
      this.held.shift();
      this.options.onMessage(message);
    }
  }

  send(message: H): void {
    if (this.child.stdin?.writable) this.child.stdin.write(JSON.stringify(message) + '\n');
  }

  /** Polite cancel, then the whole tree is killed after `graceMs` if still alive. */
  cancel(graceMs: number, reason: CancelReason = 'user'): Promise<SidecarExit> {
    if (this.state === 'starting' || this.state === 'running') {
      this.state = 'cancelling';
      this.send(this.options.cancelMessage ? this.options.cancelMessage(reason) : ({ type: 'cancel', reason } as HostMessage as H));
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

/** A function-mode window whose output is split at a cut marker (the sidecar's `outputMark`). */
function isMarkedWindow(message: TaggedMessage): message is Extract<SidecarMessage, { type: 'window' }> & { outputMark: number } {
  return message.type === 'window' && typeof (message as { outputMark?: unknown }).outputMark === 'number';
}
