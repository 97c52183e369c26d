/**
 * Where the loop was blocked, in words: one blocker as the views say it
 * (`82% services/feeds.py:17 parse_feed → fromstring (lxml/etree.pyx)`), and what a run
 * says when it has none (attribution off, unavailable, failed, or no sample in its
 * stalls). Plain text: each view escapes it for its own format.
 */
import type { Attribution, Blocker, ModeRun, Report, StackFrame } from '../shared/protocol';
import { fmtMs, fmtPct } from '../shared/format';
import { SWITCHES } from '../shared/settings';

/** The CLI table, Markdown and the HTML export show this many per mode (the report keeps 10). */
export const BLOCKERS_SHOWN = 3;

/** What a step other than the user's call was doing (the call itself needs no words). */
const STEP_TEXT: { readonly [S in Blocker['step']]: string | null } = {
  call: null,
  'serialize-args': 'serializing arguments',
  'deserialize-result': 'deserializing results',
  'pool-manager': "the pool's manager thread",
  gc: 'garbage collection',
};

/** Where the blocking code ran, when not on the loop itself. */
const THREAD_TEXT: { readonly [T in Blocker['thread']]: string | null } = {
  loop: null,
  'gil-holder': 'held the GIL',
  main: 'main thread',
};

export interface BlockerWords {
  /** `82%` of the run's stalled time. */
  share: string;
  /** `services/feeds.py:17`; null for a step with no line (serialization, GC). */
  place: string | null;
  /** `parse_feed → fromstring (lxml/etree.pyx)`, `main thread: serializing arguments`, `sorted_rows, held the GIL`. */
  what: string;
}

/** A frame's place: `file:line`, the file alone without a line; null without a file. */
export function framePlace(f: Pick<StackFrame, 'file' | 'line'>): string | null {
  if (f.file === null) return null;
  return f.line === null ? f.file : `${f.file}:${f.line}`;
}

export function blockerWords(b: Blocker): BlockerWords {
  const step = STEP_TEXT[b.step];
  const thread = THREAD_TEXT[b.thread];
  const lib = b.library ? ` → ${b.library.function}${framePlace(b.library) ? ` (${framePlace(b.library)})` : ''}` : '';
  let what: string;
  if (b.thread === 'main' && step) what = `${thread}: ${step}`;
  else if (step && b.file === null) what = thread ? `${step}, ${thread}` : step;
  else what = `${b.function}${lib}${thread ? `, ${thread}` : ''}`;
  return { share: fmtPct(b.share), place: framePlace(b), what };
}

/** One line: `82% services/feeds.py:17 parse_feed → fromstring (lxml/etree.pyx)`. */
export function blockerLine(b: Blocker): string {
  const w = blockerWords(b);
  return `${w.share} ${w.place ? `${w.place} ` : ''}${w.what}`;
}

/**
 * Why a run shows no blockers, or null when it shows some (or has nothing to explain:
 * no stalls, a skipped mode, a report from before attribution).
 */
export function noBlockersReason(r: ModeRun): string | null {
  const a: Attribution | undefined = r.attribution;
  if (!a || r.status === 'skipped' || r.blockers?.length) return null;
  if (a.status === 'off') return null; // said once for the report (attributionOffNote)
  if (a.status === 'unavailable' || a.status === 'failed') return `blockers ${a.status}${a.reason ? `: ${a.reason}` : ''}`;
  if (a.stalledMs <= 0) return null;
  return `no line found for its ${fmtMs(a.stalledMs)} of stalls (no stack sampled during them)`;
}

/** `--no-attribution` / `looplag.attribution: false`: said once, since it holds for every mode. */
export function attributionOffNote(report: Report): string | null {
  return report.settings.attribution === false
    ? `where the loop was blocked was not looked for (${SWITCHES.attribution.flag}, looplag.${SWITCHES.attribution.setting})`
    : null;
}

/** The runs' top blockers, as the text views list them: `[mode, blocker]` pairs, in run order. */
export function shownBlockers(report: Report): [ModeRun, Blocker][] {
  return report.runs.flatMap((r) => (r.blockers ?? []).slice(0, BLOCKERS_SHOWN).map((b) => [r, b] as [ModeRun, Blocker]));
}
