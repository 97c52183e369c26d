/**
 * The protocol channel and the capture of user output.
 *
 * The host gives the Node sidecar a pipe of its own on fd 3 for protocol lines, so
 * nothing the user's code writes to stdout or stderr (console.log, a native addon, a
 * child process that inherits fds 1 and 2) can corrupt a JSON line. The JavaScript
 * streams are also captured, per window and capped, for the report.
 */
import * as fs from 'node:fs';
import { HostMessage, SidecarMessage } from '../../shared/protocol';

export const PROTOCOL_FD = 3;

export class Channel {
  constructor(private readonly fd = PROTOCOL_FD) {}

  /** Synchronous: a message is on the wire before the next line of ours runs (or the process exits). */
  send(message: SidecarMessage): void {
    const data = Buffer.from(JSON.stringify(message) + '\n', 'utf8');
    let offset = 0;
    while (offset < data.length) {
      try {
        offset += fs.writeSync(this.fd, data, offset, data.length - offset);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); // the host is reading; retry shortly
      }
    }
  }
}

/** Host messages from stdin, validated; `onEnd` when the host closes it. */
export function readHostMessages(onMessage: (m: HostMessage) => void, onInvalid: (why: string) => void, onEnd: () => void): void {
  let buffer = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffer += chunk;
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i).trim();
      buffer = buffer.slice(i + 1);
      if (!line) continue;
      let message: HostMessage;
      try {
        message = HostMessage.parse(JSON.parse(line));
      } catch (e) {
        onInvalid((e as Error).message);
        return;
      }
      onMessage(message);
    }
  });
  process.stdin.on('end', onEnd);
  process.stdin.on('error', onEnd);
}

/** One stream's bytes since the last take: the head and a rolling tail when over the cap. */
class CappedText {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;

  constructor(private readonly cap: number) {}

  write(chunk: Buffer): void {
    this.total += chunk.length;
    const headCap = Math.floor((this.cap * 3) / 4);
    if (this.headBytes < headCap) {
      const take = chunk.subarray(0, headCap - this.headBytes);
      this.head.push(take);
      this.headBytes += take.length;
      chunk = chunk.subarray(take.length);
    }
    if (!chunk.length) return;
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    const tailCap = this.cap - headCap;
    while (this.tailBytes - this.tail[0].length >= tailCap) this.tailBytes -= this.tail.shift()!.length;
  }

  take(): { text: string; truncated: boolean; bytes: number } {
    const head = Buffer.concat(this.head);
    let tail = Buffer.concat(this.tail);
    const tailCap = this.cap - head.length;
    if (tail.length > tailCap) tail = tail.subarray(tail.length - tailCap);
    const omitted = this.total - head.length - tail.length;
    const text = omitted > 0
      ? head.toString('utf8') + `\n... [${omitted} bytes omitted by Loop Lag] ...\n` + tail.toString('utf8')
      : head.toString('utf8') + tail.toString('utf8');
    const out = { text, truncated: omitted > 0, bytes: this.total };
    this.head = [];
    this.tail = [];
    this.headBytes = this.tailBytes = this.total = 0;
    return out;
  }
}

export interface CapturedOutput {
  stdout: string;
  stderr: string;
  truncated: boolean;
  stdoutBytes: number;
  stderrBytes: number;
}

/**
 * Replaces `process.stdout.write`/`process.stderr.write` (what console.* calls) for the
 * life of the sidecar; workers and pool children are piped in by the pools.
 */
export class OutputCapture {
  readonly stdout: CappedText;
  readonly stderr: CappedText;

  constructor(cap: number) {
    this.stdout = new CappedText(cap);
    this.stderr = new CappedText(cap);
    hook(process.stdout, this.stdout);
    hook(process.stderr, this.stderr);
  }

  take(): CapturedOutput {
    const out = this.stdout.take();
    const err = this.stderr.take();
    return { stdout: out.text, stderr: err.text, truncated: out.truncated || err.truncated, stdoutBytes: out.bytes, stderrBytes: err.bytes };
  }
}

export function emptyOutput(): CapturedOutput {
  return { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 };
}

function hook(stream: NodeJS.WriteStream, into: CappedText): void {
  const write = (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
    const enc = typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8';
    into.write(typeof chunk === 'string' ? Buffer.from(chunk, enc) : Buffer.from(chunk as Uint8Array));
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  };
  Object.defineProperty(stream, 'write', { value: write, writable: true, configurable: true });
}
