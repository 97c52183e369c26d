/**
 * Where the loop was blocked, in the text views (CLI table, Markdown): one blocker as a
 * line (`82% services/feeds.py:17 parse_feed → lxml.etree.fromstring`), the top few per
 * mode, and what a run says when it has none. The words are shared/blockerPhrases.ts',
 * as in the panel. Plain text: each view escapes it for its own format.
 */
import type { Blocker, ModeRun, Report } from '../shared/protocol';
import { attributionStatus, blockerLine as placeOf, blockerWhere, libraryLabel, sharePercent, STEP_PHRASES } from '../shared/blockerPhrases';
import { fmtMs, printable } from '../shared/format';

/** The CLI table and Markdown show this many per mode (the report keeps 10). */
export const BLOCKERS_SHOWN = 3;
/**
 * Below this share of the stalled time a line is left out of the text views: a 0.1 ms
 * step in a 2 s stall reads as "0%" and crowds out nothing but noise (the report keeps it).
 */
export const BLOCKER_SHOWN_MIN_SHARE = 0.01;

export interface BlockerWords {
  /** `82%` of the run's stalled time (`<1%`, never a misleading 0%). */
  share: string;
  /** `services/feeds.py:17`; null for a step with no line (serialization, GC). */
  place: string | null;
  /** `parse_feed → lxml.etree.fromstring`, `job, held the GIL in a worker`, `main thread: serializing arguments`. */
  what: string;
}

export function blockerWords(b: Blocker): BlockerWords {
  const share = sharePercent(b.share);
  // A step of the tool's (or the GC) with no line of its own: the step is the whole story.
  if (STEP_PHRASES[b.step] !== null && b.file === null) return { share, place: null, what: printable(blockerWhere(b)) };
  // On the loop is what a blocker is by default: said only for other threads.
  const where = b.thread === 'loop' && b.step === 'call' ? '' : `, ${blockerWhere(b)}`;
  const lib = b.library ? ` → ${libraryLabel(b.library)}` : '';
  // Names from user code go to a terminal: no escape sequences, no bidi overrides.
  return { share, place: b.file === null ? null : printable(placeOf(b)), what: printable(`${b.function}${lib}${where}`) };
}

/** One line: `82% services/feeds.py:17 parse_feed → lxml.etree.fromstring`. */
export function blockerSentence(b: Blocker): string {
  const w = blockerWords(b);
  return `${w.share} ${w.place ? `${w.place} ` : ''}${w.what}`;
}

/**
 * Why a run lists no blockers, or null when it lists some or has nothing to explain (no
 * stalls, a skipped mode, a report from before attribution, attribution off: said once
 * for the report by attributionOffNote).
 */
export function noBlockersReason(r: ModeRun): string | null {
  const a = r.attribution;
  if (!a || r.status === 'skipped' || r.blockers?.some((b) => b.share >= BLOCKER_SHOWN_MIN_SHARE) || a.status === 'off') return null;
  if (a.status !== 'ok') return attributionStatus(a);
  if (a.stalledMs <= 0) return null;
  if (r.blockers?.length) return `no line explains 1% or more of its ${fmtMs(a.stalledMs)} of stalls`;
  // The sidecar's notes say why it sampled nothing (e.g. a free-threaded build's thread mode).
  return `no line found for its ${fmtMs(a.stalledMs)} of stalls (${a.notes?.length ? a.notes.join('; ') : 'no stack sampled during them'})`;
}

/** `--no-attribution` / `looplag.attribution: false`, once, since it holds for every mode. */
export function attributionOffNote(report: Report): string | null {
  return report.settings.attribution === false ? attributionStatus({ status: 'off' }) : null;
}

/** The runs' top blockers, as the text views list them: `[run, blocker]` pairs, in run order. */
export function shownBlockers(report: Report): [ModeRun, Blocker][] {
  return report.runs.flatMap((r) => (r.blockers ?? []).filter((b) => b.share >= BLOCKER_SHOWN_MIN_SHARE).slice(0, BLOCKERS_SHOWN)
    .map((b): [ModeRun, Blocker] => [r, b]));
}
