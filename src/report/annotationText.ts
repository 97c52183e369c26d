/**
 * The editor's annotations of blocking lines, as text (issue 13): which lines of the
 * user's workspace a report names (`ModeRun.blockers`, the user's own call), the
 * end-of-line text ("▲ blocked the loop 1.15 s inline · held the GIL 915.0 ms in a
 * thread pool"), the hover's Markdown (every string from the report escaped: it comes
 * from user code), and how an anchor moves with an edit. Pure: the host
 * (host/annotations.ts) draws them; the tests read them.
 */
import * as path from 'node:path';
import { keyFrame, libraryLabel, sharePercent, THREAD_VERBS } from '../shared/blockerPhrases';
import { fmtMs } from '../shared/format';
import { MODES } from '../shared/modes';
import type { Advice, Blocker, Mode, Report, StackFrame } from '../shared/protocol';

/** The glyph that opens every annotation (the text says the rest). */
export const ANNOTATION_MARK = '▲';

/** One annotated line: where, what to print after it, and its hover. */
export interface LineAnnotation {
  /** Absolute path of the file. */
  file: string;
  /** 0-based, as the editor counts. */
  line: number;
  /** The line's text when measured (trimmed; the report's `source`), to tell a stale anchor; null: unknown. */
  source: string | null;
  text: string;
  /** Markdown; nothing in it from the report is interpreted (no links, HTML or emphasis). */
  hover: string;
}

/** One mode's figure for a line: the blockers of that mode and thread on it, summed. */
interface Entry {
  mode: Mode;
  thread: Blocker['thread'];
  stalledMs: number;
  share: number;
  stalls: number;
  function: string;
  library: StackFrame | null;
}

/** Where a mode ran its calls, from the mode table: a pool's phrase ("in a thread pool"), else the mode's name ("inline"). */
export function modePhrase(mode: Mode): string {
  const info = MODES[mode];
  return info.pool ? info.how : mode;
}

/**
 * A report's blocking lines in the user's workspace, one per line with every mode's
 * figure on it, in report order. A blocker counts when it is the user's own call (step
 * `call`) on a user frame whose file lies inside `workspaceRoot` (no `..`, no absolute
 * path elsewhere): library, runtime and tool lines, and the pool's own serialization
 * steps, are the report panel's, not an editor line's.
 */
export function lineAnnotations(report: Report, workspaceRoot: string): LineAnnotation[] {
  const lines = new Map<string, { file: string; line: number; source: string | null; relFile: string; entries: Entry[] }>();
  for (const run of report.runs) {
    for (const b of run.blockers ?? []) {
      const file = userFile(b, workspaceRoot);
      if (!file || b.line === null) continue;
      const key = `${file}:${b.line}`;
      const at = lines.get(key) ?? { file, line: b.line - 1, source: b.source?.trim() || null, relFile: b.file!, entries: [] };
      lines.set(key, at);
      const same = at.entries.find((e) => e.mode === run.mode && e.thread === b.thread);
      if (same) {
        same.stalledMs += b.stalledMs;
        same.share += b.share;
        same.stalls = Math.max(same.stalls, b.stalls);
      } else {
        at.entries.push({ mode: run.mode, thread: b.thread, stalledMs: b.stalledMs, share: b.share, stalls: b.stalls, function: b.function, library: b.library ?? null });
      }
    }
  }
  return [...lines.values()].map((l) => ({
    file: l.file,
    line: l.line,
    source: l.source,
    text: annotationText(l.entries),
    hover: hoverMarkdown(report, workspaceRoot, { file: l.file, line: l.line + 1, relFile: l.relFile }, l.entries),
  }));
}

/** The absolute path of a blocker's line when it is the user's own call in the workspace, else null. */
function userFile(b: Blocker, workspaceRoot: string): string | null {
  if (b.step !== 'call' || b.file === null || b.line === null) return null;
  if (keyFrame(b)?.kind !== 'user') return null;
  return insideRoot(b.file, workspaceRoot);
}

function insideRoot(file: string, root: string): string | null {
  const abs = path.resolve(root, file);
  const rel = path.relative(root, abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? abs : null;
}

/** "▲ blocked the loop 1.15 s inline · held the GIL 915.0 ms in a thread pool". */
function annotationText(entries: Entry[]): string {
  return `${ANNOTATION_MARK} ${entries.map((e) => `${THREAD_VERBS[e.thread]} ${fmtMs(e.stalledMs)} ${modePhrase(e.mode)}`).join(' · ')}`;
}

/**
 * The hover: each mode's figure on the line, then the advice about it (the advice whose
 * `at` is this line, else the run's first advice for that mode that is not "ok") with
 * its fix as a code block. The advice's text is the report's, so it is escaped too;
 * its `code spans` stay code spans.
 */
function hoverMarkdown(report: Report, root: string, at: { file: string; line: number; relFile: string }, entries: Entry[]): string {
  const out = [`**Loop Lag** · ${escapeMarkdown(path.basename(at.file))}:${at.line}`, ''];
  for (const e of entries) {
    const library = e.library ? ` → ${codeSpan(libraryLabel(e.library))}` : '';
    out.push(`- ${codeSpan(e.function)} ${THREAD_VERBS[e.thread]} **${fmtMs(e.stalledMs)}** ${escapeMarkdown(modePhrase(e.mode))}: ` +
      `${sharePercent(e.share)} of the stalled time${e.stalls > 0 ? `, in ${e.stalls} stall${e.stalls === 1 ? '' : 's'}` : ''}${library}`);
  }
  const shown = new Set<Advice>();
  for (const e of entries) {
    const advice = adviceFor(report, root, at.file, at.line, e.mode);
    if (!advice || shown.has(advice)) continue;
    shown.add(advice);
    out.push('', '---', '', `**${inlineMarkdown(advice.title)}**`, '', inlineMarkdown(advice.detail));
    if (advice.fix) out.push('', codeBlock(advice.fix, report.target.language));
    if (advice.docs && /^https:\/\/[^\s()<>\\]+$/.test(advice.docs)) out.push('', `[Docs](${advice.docs})`);
  }
  return out.join('\n');
}

/**
 * The advice about a line in a mode: one whose `at` names the line (for that mode, or
 * for no mode in particular), else the run's first advice for the mode that is not "ok"
 * (advice is in severity order).
 */
export function adviceFor(report: Report, root: string, file: string, line: number, mode: Mode): Advice | undefined {
  const atLine = report.advice.filter((a) => a.at && a.at.line === line && insideRoot(a.at.file, root) === file);
  return atLine.find((a) => a.mode === mode) ?? atLine.find((a) => !a.mode) ?? report.advice.find((a) => a.mode === mode && a.severity !== 'ok');
}

/** Every character Markdown could read as syntax, backslash-escaped; newlines become spaces (one hover line). */
export function escapeMarkdown(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[\\`*_{}[\]()#+\-.!|<>~&:]/g, '\\$&');
}

/** Text as a code span whatever backticks it holds (CommonMark: a fence longer than any run inside). */
export function codeSpan(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || flat.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/**
 * Advice text (plain text with `code` in backticks, as every view has it): the code
 * spans as code spans, the rest escaped. Unbalanced backticks: all of it escaped.
 */
export function inlineMarkdown(text: string): string {
  const parts = text.split('`');
  if (parts.length % 2 === 0) return escapeMarkdown(text);
  return parts.map((p, i) => (i % 2 ? (p ? codeSpan(p) : '') : escapeMarkdown(p))).join('');
}

/** A fenced code block that no line of the code can close (the fence outlasts any backtick run in it). */
export function codeBlock(code: string, language: string): string {
  const longest = Math.max(0, ...(code.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${language.replace(/[^\w-]/g, '')}\n${code.replace(/\n$/, '')}\n${fence}`;
}

/** One edit of a document, as the editor reports it: the replaced range (0-based) and the new text. */
export interface LineEdit {
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
  text: string;
}

/**
 * Anchors after an edit: those above it stay, those below move by the lines it added
 * or removed, and a line whose text it changed is dropped (its figure was measured on
 * the old text). Lines only pushed down or pulled up whole (a newline typed at the
 * start of the line, whole lines deleted above it) keep their anchor.
 */
export function shiftAnchors<T extends { line: number }>(anchors: readonly T[], edit: LineEdit): T[] {
  const added = (edit.text.match(/\n/g) ?? []).length;
  const delta = added - (edit.endLine - edit.startLine);
  // The edit's end line keeps its text when the edit ends at its column 0 and what
  // precedes that point afterwards ends a line (the new text ends with a newline, or
  // nothing replaced a range that started a line).
  const endLineKept = edit.endCharacter === 0 && (edit.text.endsWith('\n') || (edit.text === '' && edit.startCharacter === 0));
  const out: T[] = [];
  for (const a of anchors) {
    if (a.line < edit.startLine) out.push(a);
    else if (a.line > edit.endLine || (a.line === edit.endLine && endLineKept)) out.push({ ...a, line: a.line + delta });
  }
  return out;
}

/** Does the document's line still hold the measured text? (`source` may be cut at 200 characters, with or without an ellipsis.) */
export function sourceMatches(source: string | null, lineText: string): boolean {
  if (source === null) return true;
  const want = source.trim().replace(/…$/, '');
  return lineText.trim().startsWith(want);
}
