/**
 * A run in progress, sent to the report panel by what changed: the report's small head
 * (everything but its runs: headline, advice, quality, status), the runs the last update
 * did not have, and the order of all runs. Re-sending and re-validating every finished
 * window each time a mode ends made the last update of a long run cost as much as the
 * whole report. Pure: the host makes updates, the webview applies them.
 */
import type { Mode, ModeRun, Report } from './protocol';

export interface LiveDelta {
  /** The report with `runs: []`. */
  head: Report;
  /** Runs new since the base (or all of them, when earlier ones changed). */
  runs: ModeRun[];
  /** Every run's mode, in the report's order. */
  order: Mode[];
}

/**
 * What `next` adds to `base`, the live report the webview already has (null: none, or
 * another run's). Earlier runs change only when inline mode arrives after them (their
 * `speedup` and plausibility checks compare with it): then every run goes again.
 */
export function liveDelta(base: Report | null, next: Report): LiveDelta {
  const had = new Set(base && base.createdAt === next.createdAt ? base.runs.map((r) => r.mode) : []);
  const fresh = next.runs.filter((r) => !had.has(r.mode));
  const resend = had.size > 0 && fresh.some((r) => r.mode === 'inline');
  return { head: { ...next, runs: [] }, runs: resend ? next.runs : fresh, order: next.runs.map((r) => r.mode) };
}

/** `base` brought up to date by `delta`; null when `base` lacks a run the delta relies on (ask for the whole state). */
export function applyLiveDelta(base: Report | null, delta: LiveDelta): Report | null {
  const byMode = new Map<Mode, ModeRun>();
  if (base && base.createdAt === delta.head.createdAt) for (const r of base.runs) byMode.set(r.mode, r);
  for (const r of delta.runs) byMode.set(r.mode, r);
  const runs: ModeRun[] = [];
  for (const mode of delta.order) {
    const run = byMode.get(mode);
    if (!run) return null;
    runs.push(run);
  }
  return { ...delta.head, runs };
}
