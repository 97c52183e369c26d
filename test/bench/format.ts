/** The bench's table (metric | value | target/notes) and the number formats its rows use. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root: the nearest folder above the bundle with a package.json. */
export const REPO = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();

/** LOOPLAG_BENCH_VERBOSE=1 prints the raw task times behind the probe-overhead ratios to stderr. */
export const VERBOSE = Boolean(process.env.LOOPLAG_BENCH_VERBOSE);

type Row = { section: string } | { metric: string; value: string; note: string };

export class Table {
  readonly rows: Row[] = [];
  section(title: string): void {
    this.rows.push({ section: title });
  }
  row(metric: string, value: string, note = ''): void {
    this.rows.push({ metric, value, note });
  }
  format(): string {
    const cells = this.rows.filter((r): r is Exclude<Row, { section: string }> => !('section' in r));
    const w0 = Math.max(6, ...cells.map((r) => r.metric.length));
    const w1 = Math.max(5, ...cells.map((r) => r.value.length));
    const line = (a: string, b: string, c: string) => `${a.padEnd(w0)} | ${b.padStart(w1)} | ${c}`.trimEnd();
    const out = [line('metric', 'value', 'target/notes'), `${'-'.repeat(w0)}-+-${'-'.repeat(w1)}-+-${'-'.repeat(40)}`];
    for (const r of this.rows) out.push('section' in r ? `== ${r.section}` : line(r.metric, r.value, r.note));
    return out.join('\n') + '\n';
  }
}

export const ms = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(digits)} ms`);
export const ratio = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x.toFixed(3)}×`);
export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function div(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || a === undefined || b === null || b === undefined || b === 0 ? null : a / b;
}

export function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}
