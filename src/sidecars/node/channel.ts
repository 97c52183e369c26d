/**
 * The protocol channel and the cuts that split user output into windows.
 *
 * The host gives the Node sidecar a pipe of its own at a high descriptor
 * (LOOPLAG_PROTOCOL_FD) for protocol lines, each starting with the run's nonce
 * (LOOPLAG_NONCE): user code writing to fd 3 cannot reach it, and a line it wrote there
 * anyway is recognised. fds 1 and 2 stay the host's pipes: the host reads what user code
 * prints (console.*, native addons, pool members, child processes), keeps a capped head
 * and tail per window and counts the bytes, so nothing grows here. At a window's end the
 * sidecar writes a cut marker on both before it sends the window.
 */
import * as fs from 'node:fs';
import { LineSplitter } from '../../shared/lineSplitter';
import { CapturedOutput, HostMessage, SidecarMessage } from '../../shared/protocol';

/** The protocol descriptor and nonce from the environment, removed from it (pool members and user code do not get them). */
export function takeProtocolEnv(): { fd: number; nonce: string } {
  const fd = process.env.LOOPLAG_PROTOCOL_FD;
  const nonce = process.env.LOOPLAG_NONCE ?? '';
  delete process.env.LOOPLAG_PROTOCOL_FD;
  delete process.env.LOOPLAG_NONCE;
  return { fd: fd && /^\d+$/.test(fd) ? Number(fd) : 3, nonce };
}

/** Writes all of `data` to `fd` now, waiting out EAGAIN (a non-blocking pipe the host is draining). */
export function writeAllSync(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += fs.writeSync(fd, data, offset, data.length - offset);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); // the host is reading; retry shortly
    }
  }
}

/** Typed by the messages it carries: the function sidecar's (default) or the server harness's (serve/). */
export class Channel<M extends { type: string } = SidecarMessage> {
  private readonly prefix: string;

  constructor(private readonly fd: number, nonce: string) {
    this.prefix = nonce + ' ';
  }

  /** Synchronous: a message is on the wire before the next line of ours runs (or the process exits). */
  send(message: M): void {
    writeAllSync(this.fd, Buffer.from(this.prefix + JSON.stringify(message) + '\n', 'utf8'));
  }
}

/** Ends each window's output on fds 1 and 2 with a marker the host splits the streams at. */
export class OutputCuts {
  private next = 0;

  constructor(private readonly nonce: string) {}

  /** The marker's number, for the window message. stdout/stderr write synchronously (syncStdio), so nothing printed before is still queued. */
  cut(): number {
    const n = this.next++;
    const marker = Buffer.from(`\0looplag-cut:${this.nonce}:${n}\0`, 'latin1');
    for (const fd of [1, 2]) {
      try {
        writeAllSync(fd, marker);
      } catch {
        // closed by user code: the host then takes what it read when the process ends
      }
    }
    return n;
  }
}

/** Host messages from stdin, validated by `parse` (the function sidecar's by default); `onEnd` when the host closes it. */
export function readHostMessages<M = HostMessage>(
  onMessage: (m: M) => void, onInvalid: (why: string) => void, onEnd: () => void,
  parse: (value: unknown) => M = HostMessage.parse as unknown as (value: unknown) => M,
): void {
  let invalid = false; // the host is told once, and nothing after a bad line is taken
  const lines = new LineSplitter((raw) => {
    if (invalid) return;
    let message: M;
    try {
      message = parse(JSON.parse(raw.trim()));
    } catch (e) {
      invalid = true;
      onInvalid((e as Error).message);
      return;
    }
    onMessage(message);
  });
  process.stdin.on('data', (chunk: Buffer) => lines.push(chunk));
  process.stdin.on('end', onEnd);
  process.stdin.on('error', onEnd);
}

export function emptyOutput(): CapturedOutput {
  return { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 };
}

/**
 * Makes `process.stdout.write`/`process.stderr.write` (what console.* calls) write to fds
 * 1 and 2 synchronously, in this thread: in a worker thread the streams would otherwise
 * queue everything a synchronous loop prints in memory (they wait for the main thread),
 * and a queued write could land after the window's cut marker. Installed before user code
 * loads, in the sidecar and in every pool member.
 */
export function syncStdio(): void {
  hook(process.stdout, 1);
  hook(process.stderr, 2);
}

function hook(stream: NodeJS.WriteStream, fd: number): void {
  const write = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
    const enc = typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8';
    const done = typeof encoding === 'function' ? encoding : cb;
    let error: Error | null = null;
    try {
      writeAllSync(fd, typeof chunk === 'string' ? Buffer.from(chunk, enc) : (chunk as Uint8Array));
    } catch (e) {
      error = e as Error; // a closed descriptor: what was printed is lost, as with a closed stream
    }
    if (typeof done === 'function') process.nextTick(done as (e: Error | null) => void, error);
    return true;
  };
  Object.defineProperty(stream, 'write', { value: write, writable: true, configurable: true });
}
