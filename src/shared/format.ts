/**
 * Numbers for people, the same in every view (CLI table, Markdown, panel, advice, headline).
 * Pure: no vscode, DOM or node imports, so advice, report and the webview all use it.
 */
import type { ModeRun, Report } from './protocol';
import { KNOBS } from './settings';

/** Milliseconds for people: 0.12 ms, 48.3 ms, 1.52 s. */
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** A number with fixed digits and an optional unit, or a dash when there is none. */
export function fmtNum(x: number | null | undefined, digits = 2, suffix = ''): string {
  return x === null || x === undefined ? '–' : `${x.toFixed(digits)}${suffix}`;
}

/** A fraction as a whole percent: 0.456 → `46%`. */
/** A request rate: `20`, `2.5`, `0.25` (two decimals at most, trailing zeros dropped). */
export function fmtRate(r: number): string {
  return Number.isInteger(r) ? String(r) : String(Number(r.toFixed(2)));
}

export function fmtPct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/** Bytes for people: `512 B`, `3.2 KB`, `1.5 MB` (binary multiples). */
export function fmtBytes(n: number | null): string {
  if (n === null) return '–';
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${Math.round(n)} B`;
}

/** A figure the report marks as suspect (ModeRun.suspect) is shown with a `?`, never as plain fact. */
export function suspectOf(r: ModeRun, field: 'speedup' | 'parallelism'): string | null {
  return r.suspect?.find((s) => s.field === field)?.reason ?? null;
}

/** Speedup vs inline for people: `1.85×`, `3.40×?` when it is more than the cores can give. */
export function fmtSpeedup(r: ModeRun): string {
  if (r.speedup === null) return '–';
  return `${r.speedup.toFixed(2)}×${suspectOf(r, 'speedup') ? '?' : ''}`;
}

/** The report's own lag budget, else the default of looplag.lagBudgetMs. */
export function budgetOf(report: Report, fallbackMs: number = KNOBS.lagBudgetMs.default): number {
  return report.settings.lagBudgetMs ?? fallbackMs;
}

/** C0/C1 controls, zero-width and line/paragraph separators, bidi embeddings, overrides and isolates, BOM. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Text from user code (a source line, a function or file name) safe to print in a
 * terminal or quote in one line: whitespace runs become one space, other unsafe
 * characters (escape sequences, bidi overrides) U+FFFD.
 */
export function printable(text: string): string {
  return text.replace(/\s+/g, ' ').replace(UNSAFE, '\ufffd').trim();
}
