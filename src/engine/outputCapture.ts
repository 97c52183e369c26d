/**
 * The host's capture of what a sidecar's process prints on fds 1 and 2 (user code from
 * the language or from C, and pool members, which inherit both). The host reads the
 * pipes, so no thread inside the sidecar competes with the measured code, and nothing
 * is kept but a head and a tail per window: memory stays bounded however much is
 * printed, and nothing is written to disk.
 *
 * The sidecar ends each window's output with a cut marker written on both fds before it
 * sends the window message; the stream is split there, so pipe timing cannot put one
 * window's output into another's.
 */
import type { CapturedOutput } from '../shared/protocol';

/** One stream's bytes since the last cut: the head and a rolling tail when over the cap. */
export class CappedBytes {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;
  private readonly headCap: number;

  constructor(private readonly cap: number) {
    // Three quarters head: what a call printed first usually says what it was doing.
    this.headCap = Math.floor((cap * 3) / 4);
  }

  write(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.headBytes < this.headCap) {
      // A copy: the chunk may be a view of a larger buffer that must not be kept alive.
      const take = Buffer.from(chunk.subarray(0, this.headCap - this.headBytes));
      this.head.push(take);
      this.headBytes += take.length;
      chunk = chunk.subarray(take.length);
    }
    if (!chunk.length) return;
    const tailCap = this.cap - this.headCap;
    if (chunk.length >= tailCap) {
      this.tail = [Buffer.from(chunk.subarray(chunk.length - tailCap))];
      this.tailBytes = tailCap;
      return;
    }
    this.tail.push(Buffer.from(chunk));
    this.tailBytes += chunk.length;
    while (this.tailBytes - this.tail[0].length >= tailCap) this.tailBytes -= this.tail.shift()!.length;
  }

  get bytes(): number {
    return this.total;
  }

  /** The text kept (with a line saying how much was left out) and the byte count. */
  take(): { text: string; truncated: boolean; bytes: number } {
    const head = Buffer.concat(this.head);
    let tail = Buffer.concat(this.tail);
    const tailCap = this.cap - head.length;
    if (tail.length > tailCap) tail = tail.subarray(tail.length - tailCap);
    const omitted = this.total - head.length - tail.length;
    const text = omitted > 0
      ? head.toString('utf8') + `\n... [${omitted} bytes omitted by Loop Lag] ...\n` + tail.toString('utf8')
      : Buffer.concat([head, tail]).toString('utf8');
    const out = { text, truncated: omitted > 0, bytes: this.total };
    this.head = [];
    this.tail = [];
    this.headBytes = this.tailBytes = this.total = 0;
    return out;
  }
}

/** The marker the sidecar writes on fds 1 and 2 to end window `n`'s output: NUL-delimited, with the run's nonce. */
export function cutMarker(nonce: string, n: number): string {
  return `\0looplag-cut:${nonce}:${n}\0`;
}

/** Longest marker we parse (a 20-digit number is more windows than any run has). */
const MAX_NUMBER_DIGITS = 20;

/**
 * One of fds 1 and 2: splits the stream at cut markers into capped segments.
 * `onCut(n)` runs when marker `n` has been read (everything printed before it is in
 * segment `n`).
 */
export class StreamCapture {
  private current: CappedBytes;
  private readonly done = new Map<number, { text: string; truncated: boolean; bytes: number }>();
  private readonly prefix: Buffer;
  /** A possible marker's start at the end of the last chunk, kept until the next one decides. */
  private carry: Buffer = Buffer.alloc(0);
  /** The highest marker read so far. */
  lastCut = -1;

  constructor(nonce: string, cap: number, private readonly onCut: (n: number) => void,
    private readonly onUserBytes?: (chunk: Buffer) => void) {
    this.current = new CappedBytes(cap);
    this.prefix = Buffer.from(`\0looplag-cut:${nonce}:`, 'latin1');
  }

  push(chunk: Buffer): void {
    let buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = Buffer.alloc(0);
    for (;;) {
      const at = buf.indexOf(this.prefix);
      if (at < 0) {
        // Keep back a tail that could be the start of a marker split across reads.
        const keep = partialPrefixLength(buf, this.prefix);
        this.user(buf.subarray(0, buf.length - keep));
        if (keep) this.carry = Buffer.from(buf.subarray(buf.length - keep));
        return;
      }
      const numberStart = at + this.prefix.length;
      const end = buf.indexOf(0, numberStart);
      if (end < 0) {
        if (buf.length - numberStart <= MAX_NUMBER_DIGITS) {
          this.user(buf.subarray(0, at));
          this.carry = Buffer.from(buf.subarray(at));
          return;
        }
        // Not a marker after all (no NUL after the digits): user bytes.
        this.user(buf.subarray(0, numberStart));
        buf = buf.subarray(numberStart);
        continue;
      }
      const digits = buf.subarray(numberStart, end).toString('latin1');
      if (!/^\d{1,20}$/.test(digits)) {
        this.user(buf.subarray(0, numberStart));
        buf = buf.subarray(numberStart);
        continue;
      }
      this.user(buf.subarray(0, at));
      const n = Number(digits);
      this.done.set(n, this.current.take());
      this.lastCut = Math.max(this.lastCut, n);
      buf = buf.subarray(end + 1);
      this.onCut(n);
    }
  }

  private user(bytes: Buffer): void {
    if (!bytes.length) return;
    this.current.write(bytes);
    this.onUserBytes?.(bytes);
  }

  /** Segment `n`, forgetting it and every earlier one (outputs that were cut to be discarded). */
  takeSegment(n: number): { text: string; truncated: boolean; bytes: number } | undefined {
    const segment = this.done.get(n);
    for (const k of [...this.done.keys()]) if (k <= n) this.done.delete(k);
    return segment;
  }

  /** What was printed since the last marker (all of it, at the end of the process). */
  takeOpen(): { text: string; truncated: boolean; bytes: number } {
    if (this.carry.length) {
      this.current.write(this.carry);
      this.carry = Buffer.alloc(0);
    }
    return this.current.take();
  }
}

/** How many bytes at the end of `buf` are a proper start of `prefix`. */
function partialPrefixLength(buf: Buffer, prefix: Buffer): number {
  const max = Math.min(prefix.length - 1, buf.length);
  if (buf.subarray(buf.length - max).lastIndexOf(0) < 0) return 0; // every start of the prefix is its NUL
  for (let len = max; len > 0; len--) {
    if (buf.compare(prefix, 0, len, buf.length - len, buf.length) === 0) return len;
  }
  return 0;
}

export function combine(
  out: { text: string; truncated: boolean; bytes: number },
  err: { text: string; truncated: boolean; bytes: number },
): CapturedOutput {
  return { stdout: out.text, stderr: err.text, truncated: out.truncated || err.truncated, stdoutBytes: out.bytes, stderrBytes: err.bytes };
}
