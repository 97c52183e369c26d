/**
 * Which of a run's blockers (where the loop was blocked, issue 13) advice may name: those
 * that explain enough of the stalled time, seen often enough, in a run whose attribution
 * explains enough of it (thresholds.ts). Detection only; blockerText.ts words them.
 * Reports from before attribution, or with it off, have none: the rules then read as
 * they did without it.
 */
import type { Advice, Blocker, ModeRun, Report } from '../shared/protocol';
import * as T from './thresholds';

/** Attribution placed enough of the stalled time on some line for its lines to speak for the stalls. */
const explainsEnough = (coverage: number | null) => coverage !== null && coverage >= T.BLOCKER_COVERAGE_MIN;

/** A run's blockers when its attribution worked and explains enough; none when it was off, failed or absent. */
function runBlockers(run: ModeRun | undefined): readonly Blocker[] {
  const a = run?.attribution;
  return run?.blockers && a?.status === 'ok' && explainsEnough(a.coverage) ? run.blockers : [];
}

/**
 * The user's own call's lines that ran on `thread` (the loop inline; a worker holding the
 * GIL in thread mode and the diagnostic) worth naming, largest first.
 */
function worthCiting(list: readonly Blocker[], thread: Blocker['thread']): Blocker[] {
  return list
    .filter((b) => b.thread === thread && b.step === 'call')
    .filter((b) => b.share >= T.BLOCKER_MIN_SHARE && b.samples >= T.BLOCKER_MIN_SAMPLES)
    // Advice names a line and sets `Advice.at` from it: a blocker without one (GC, no user frame) is not cited.
    .filter((b) => b.file !== null && b.line !== null)
    .sort((a, b) => b.stalledMs - a.stalledMs)
    .slice(0, T.BLOCKERS_CITED_MAX);
}

/** A run's lines worth naming on `thread`, largest first. */
export function citedBlockers(run: ModeRun | undefined, thread: Blocker['thread']): Blocker[] {
  return worthCiting(runBlockers(run), thread);
}

/**
 * The one-thread diagnostic's lines worth naming. It has no attribution summary of its
 * own: the sum of its blockers' shares (a lower bound, as they are the top 10) stands in
 * for the coverage.
 */
export function citedDiagnosticBlockers(report: Report): Blocker[] {
  const list = report.diagnostic?.blockers;
  if (!list?.length || report.settings.attribution === false) return [];
  return explainsEnough(list.reduce((s, b) => s + b.share, 0)) ? worthCiting(list, 'gil-holder') : [];
}

/** A pool's step (all its blockers together) and its share of the run's stalled time. */
export interface StepShare {
  step: Blocker['step'];
  share: number;
  stalledMs: number;
  /** Its largest blocker, for the line it names, if any. */
  top: Blocker;
}

/** The steps of a pool call that are the tool's work around the user's call, not the call itself. */
const POOL_STEPS: ReadonlySet<Blocker['step']> = new Set(['serialize-args', 'deserialize-result', 'pool-manager']);

/**
 * Pools: the parent's own work around the calls ((de)serialization on the loop or Node's
 * main thread, Python's pool manager thread), each step worth naming, largest first. A
 * step is the unit here (the user acts on "the arguments cost"), so its blockers are
 * summed before the thresholds.
 */
export function citedPoolSteps(run: ModeRun | undefined): StepShare[] {
  const byStep = new Map<Blocker['step'], { s: StepShare; samples: number; timed: boolean }>();
  for (const b of runBlockers(run)) {
    if (!POOL_STEPS.has(b.step)) continue;
    // A timed span (the sidecar's clock around the step) has no sampled stack: exact, however few stalls it overlapped.
    const timed = b.stack.length === 0;
    const got = byStep.get(b.step);
    if (!got) byStep.set(b.step, { s: { step: b.step, share: b.share, stalledMs: b.stalledMs, top: b }, samples: b.samples, timed });
    else {
      got.s.share += b.share;
      got.s.stalledMs += b.stalledMs;
      got.samples += b.samples;
      got.timed ||= timed;
      if (b.stalledMs > got.s.top.stalledMs) got.s.top = b;
    }
  }
  return [...byStep.values()]
    .filter((x) => x.s.share >= T.BLOCKER_MIN_SHARE && (x.timed || x.samples >= T.BLOCKER_MIN_SAMPLES))
    .map((x) => x.s)
    .sort((a, b) => b.stalledMs - a.stalledMs);
}

/**
 * The line an advice is about, for the editor's hover: the blocker's, when it is the
 * user's (its frame in the stack is a workspace file, or the stack does not say); none
 * for a blocker without a line or keyed on a library's or the tool's frame (a pool step
 * with no user code under it), which no editor of the workspace shows.
 */
export function atOf(b: Blocker | undefined): Pick<Advice, 'at'> {
  if (!b || b.file === null || b.line === null) return {};
  const own = b.stack.find((f) => f.file === b.file && f.line === b.line);
  return own && own.kind !== 'user' ? {} : { at: { file: b.file, line: b.line } };
}
