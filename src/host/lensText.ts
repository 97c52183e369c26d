/**
 * The result hint above a measured function (the report's one-sentence headline, cut to
 * fit a CodeLens, with the whole sentence as its tooltip) and a run's progress words. Pure
 * (no vscode), so the tests can compute what the editor should show.
 */
import { compactHeadline } from '../report/verdict';
import type { Report } from '../shared/protocol';
import type { Progress } from '../engine/runSession';

/** A CodeLens is one line above the code: longer titles push the text far to the right. */
export const LENS_TITLE_MAX = 120;

export interface ResultHint {
  /** What the CodeLens shows. */
  title: string;
  /** The whole headline. */
  tooltip: string;
}

/**
 * `report.headline` when the report has one (older reports do not), else the compact
 * per-mode phrase (`inline: 1.20 s stall · thread: starved · …`).
 */
export function resultHint(report: Report, max = LENS_TITLE_MAX): ResultHint {
  const full = report.headline?.trim() || compactHeadline(report);
  return { title: shorten(full, max), tooltip: full };
}

/**
 * At most `max` characters: whole sentences when the first one fits (the verdict stays,
 * the alternative goes), else cut after a clause (`, `, `; `, before ` (`) or a word,
 * with an ellipsis, and a parenthesis left open closed again.
 */
export function shorten(text: string, max = LENS_TITLE_MAX): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  if (oneLine.length <= max) return oneLine;
  // Sentence ends: ". " followed by a capital (not "1.5 s" or "e.g. x").
  const ends = [...oneLine.matchAll(/[.!?](?= [A-Z(])/g)].map((m) => m.index! + 1).filter((i) => i + 2 <= max);
  if (ends.length) return `${oneLine.slice(0, ends[ends.length - 1])} …`;
  const head = oneLine.slice(0, max - 2); // room for "…" and a ")"
  let at = Math.max(head.lastIndexOf(', '), head.lastIndexOf('; '), head.lastIndexOf(' ('));
  if (at < max / 2) at = head.lastIndexOf(' ');
  if (at < max / 2) at = head.length;
  const kept = head.slice(0, at).replace(/[\s,;:(·–-]+$/, '');
  const open = (kept.match(/\(/g) ?? []).length > (kept.match(/\)/g) ?? []).length;
  return `${kept}…${open ? ')' : ''}`;
}

/** A function run's progress in the notification and the status bar: `worker 2/5`. */
export function progressText(p: Progress): string {
  // Python's thread mode opens with one call alone on a one-thread pool (the GIL
  // diagnostic window): it is thread mode's work, and its calls are not the N of the count.
  if (p.mode === 'diagnostic') return 'thread: GIL diagnostic, one call alone';
  if (p.phase === 'running') return p.total ? `${p.mode} ${p.done}/${p.total}` : `${p.mode} ${p.done} calls`;
  if (p.phase === 'warming') return `${p.mode}: starting the pool`;
  return `${p.mode}: ${p.phase}`;
}
