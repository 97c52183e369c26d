/**
 * The shapes every fix and hint speaks in: zero-based positions, ranges and text edits over
 * a source text, as `vscode.Position`/`Range`/`TextEdit` take them (the editor maps each
 * field one to one), and the offset ⇄ position arithmetic over that text.
 */

/** Zero-based line and UTF-16 column, as VS Code counts them. */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** Replace `range` with `newText` (an insertion has start = end). Ranges are in the original text. */
export interface TextEdit {
  range: Range;
  newText: string;
}

/** A fix either yields its edits or says why it is not offered (shown nowhere yet; tests and logs read it). */
export type FixResult = { edits: TextEdit[] } | { notOffered: string };

/** Line starts of a text, to turn offsets into positions and back. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.starts.push(i + 1);
  }

  position(offset: number): Position {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - this.starts[lo] };
  }

  offset(pos: Position): number {
    const start = this.starts[Math.min(pos.line, this.starts.length - 1)] ?? 0;
    return Math.min(start + pos.character, this.text.length);
  }

  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(end) };
  }

  lineStart(offset: number): number {
    return this.starts[this.position(offset).line];
  }
}

/** An edit replacing offsets [start, end) of the indexed text. */
export function replace(index: LineIndex, start: number, end: number, newText: string): TextEdit {
  return { range: index.range(start, end), newText };
}

/**
 * Apply edits to a text (the editor does this itself; tests and the CLI use this one).
 * Edits must not overlap; they are applied from the last to the first so offsets stay valid,
 * and insertions at one point keep the order given.
 */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const index = new LineIndex(text);
  const spans = edits.map((e, i) => ({ start: index.offset(e.range.start), end: index.offset(e.range.end), newText: e.newText, i }));
  spans.sort((a, b) => b.start - a.start || b.i - a.i);
  let out = text;
  let floor = Infinity;
  for (const s of spans) {
    if (s.end > floor) throw new Error(`overlapping edits at offset ${s.start}`);
    out = out.slice(0, s.start) + s.newText + out.slice(s.end);
    floor = s.start;
  }
  return out;
}

/** The text's line ending (`\r\n` if its first line ends so), for the lines a fix adds. */
export function eolOf(text: string): string {
  const nl = text.indexOf('\n');
  return nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n';
}
