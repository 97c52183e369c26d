/**
 * "Where the loop was blocked" (issue 13): per measured mode, the lines that ran while
 * the loop stalled (ModeRun.blockers) and how much of the stalled time they explain
 * (ModeRun.attribution). Every string here comes from the user's code or files: built
 * with h() only. In the panel a line is a button that asks the host to open it; in the
 * standalone page it is text.
 */
import type { Blocker, ModeRun, Report } from '../shared/protocol';
import {
  attributionCoverage, attributionStatus, blockerLine, blockerWhere, keyFrame, libraryLabel, sharePercent, unattributedText,
} from '../shared/blockerPhrases';
import { fmtMs } from '../shared/format';
import { swatch } from './charts';
import { h } from './dom';

/** The most rows a mode shows (the report keeps the top 10). */
const MAX_ROWS = 10;
/** Source text beyond this is cut (the report keeps 200 characters; CSS may cut it shorter with an ellipsis). */
const SOURCE_CHARS = 120;

export interface BlockersOptions {
  /** Open a user's line in the editor; absent where lines cannot open (the standalone page). */
  open?: (file: string, line: number) => void;
  /** Makes ids unique when two reports are side by side. */
  idPrefix: string;
}

/** The section, or null for a report from before attribution existed (nothing to say). */
export function blockersSection(report: Report, opts: BlockersOptions): HTMLElement | null {
  const measured = report.runs.filter((r) => r.status !== 'skipped');
  if (!measured.length) return null;
  if (report.settings.attribution === undefined && !measured.some((r) => r.attribution || r.blockers)) return null;
  const id = `${opts.idPrefix}blockers-h`;
  return h('section', { class: 'blockers', 'aria-labelledby': id, 'data-testid': 'blockers' },
    h('h2', { id }, 'Where the loop was blocked'),
    measured.map((run) => modeBlock(run, report, opts)),
  );
}

function modeBlock(run: ModeRun, report: Report, opts: BlockersOptions): HTMLElement {
  const id = `${opts.idPrefix}blockers-${run.mode}-h`;
  const a = run.attribution;
  const blockers = (run.blockers ?? []).slice(0, MAX_ROWS);
  // No attribution record: off for the whole report, or nothing sent for this mode (yet).
  const status = a ? attributionStatus(a)
    : report.settings.attribution === false ? attributionStatus({ status: 'off' })
      : blockers.length ? null : 'No lines were recorded for this mode.';
  const unattributed = a && a.status === 'ok' ? unattributedText(a) : null;
  return h('div', { class: 'blocker-mode', role: 'group', 'aria-labelledby': id, 'data-mode': run.mode },
    h('h3', { id }, swatch(run.mode), run.mode),
    h('p', { class: `attribution-status${a && a.status !== 'ok' ? ` ${a.status}` : ''}`, 'data-testid': `attribution-${run.mode}` },
      status ?? (a ? attributionCoverage(a) : '')),
    blockers.length ? blockerTable(blockers, opts, { testid: `blockers-${run.mode}`, caption: `${run.mode}: the lines running while the loop was stalled, by share of the stalled time` }) : null,
    a?.status === 'ok' && !blockers.length && a.stalledMs > 0 ? h('p', { class: 'notes' }, 'No line was found for the stalled time.') : null,
    unattributed ? h('p', { class: 'notes', 'data-testid': `unattributed-${run.mode}` }, unattributed) : null,
    a?.notes?.length ? h('ul', { class: 'notes' }, a.notes.map((n) => h('li', {}, n))) : null,
  );
}

/** A table of blocking lines (a mode's, or a service-mode variant's: src/webview/serveView.ts); `caption` is for screen readers. */
export function blockerTable(blockers: Blocker[], opts: BlockersOptions, name: { testid: string; caption: string }): HTMLElement {
  return h('div', { class: 'table-scroll', tabindex: 0 },
    h('table', { class: 'blockers-table', 'data-testid': name.testid },
      h('caption', { class: 'sr-only' }, name.caption),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Line'),
        h('th', { scope: 'col' }, 'Share of stalled time'),
        h('th', { scope: 'col', class: 'num' }, 'Stalled'),
        h('th', { scope: 'col' }, 'Where'))),
      h('tbody', {}, blockers.map((b) => blockerRow(b, opts))),
    ),
  );
}

/** A blocker's `file:line`: a button that opens it where lines can open, else text. */
export function blockerLocation(b: Blocker, open: BlockersOptions['open']): HTMLElement {
  const label = blockerLine(b);
  // Only the user's own lines open: a library's path is relative to its package, not the workspace.
  const canOpen = open && b.file !== null && b.line !== null && (keyFrame(b)?.kind ?? 'user') === 'user';
  return canOpen
    ? h('button', { class: 'link location', 'aria-label': `Open ${label} in the editor`, title: `Open ${label}`, onclick: () => open(b.file!, b.line!) }, label)
    : h('span', { class: 'location' }, label);
}

function blockerRow(b: Blocker, opts: BlockersOptions): HTMLElement {
  const frame = keyFrame(b);
  const share = Math.max(0, Math.min(1, b.share));
  const fill = h('span', { class: 'share-fill' });
  fill.style.width = `${(share * 100).toFixed(1)}%`; // CSSOM, which the CSP allows (style attributes it does not)
  const source = b.source === null ? null : b.source.length > SOURCE_CHARS ? `${b.source.slice(0, SOURCE_CHARS - 1)}…` : b.source;
  return h('tr', { 'data-file': b.file ?? '', 'data-line': b.line ?? '' },
    h('th', { scope: 'row', class: 'blocker-line' },
      blockerLocation(b, opts.open),
      h('div', { class: 'fn' }, h('code', {}, b.function), frame?.lineIsDefinition ? h('span', { class: 'notes' }, ' (the line where it starts)') : null),
      source !== null ? h('code', { class: 'source', title: b.source! }, source) : null,
    ),
    h('td', { class: 'share', 'data-label': 'Share' },
      h('span', { class: 'share-bar', 'aria-hidden': 'true' }, fill),
      h('span', { class: 'share-text', 'data-testid': 'share' }, sharePercent(share))),
    h('td', { class: 'stalled', 'data-label': 'Stalled' },
      h('span', { 'data-testid': 'stalled' }, fmtMs(b.stalledMs)),
      b.stalls > 0 ? h('div', { class: 'per-stall' }, `${fmtMs(b.stalledMs / b.stalls)} per stall · ${b.stalls} ${b.stalls === 1 ? 'stall' : 'stalls'}`) : null),
    h('td', { class: 'where', 'data-label': 'Where' },
      h('span', { 'data-testid': 'where' }, blockerWhere(b)),
      b.library ? h('div', { class: 'library' }, '→ ', h('code', { 'data-testid': 'library' }, libraryLabel(b.library))) : null),
  );
}
