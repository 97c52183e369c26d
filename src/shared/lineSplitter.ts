/** Splits a byte stream into UTF-8 lines without re-scanning or re-joining on every chunk. */
export class LineSplitter {
  private pending: Buffer[] = [];

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    let nl = chunk.indexOf(10, start);
    while (nl !== -1) {
      this.pending.push(chunk.subarray(start, nl));
      const line = Buffer.concat(this.pending).toString('utf8');
      this.pending = [];
      if (line.trim()) this.onLine(line);
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
  }

  /** Whatever followed the last newline (a line cut off by a crash). */
  rest(): string {
    return Buffer.concat(this.pending).toString('utf8');
  }
}
