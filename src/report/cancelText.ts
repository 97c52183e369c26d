/**
 * What a cancelled run or sweep says it measured, in one sentence from one place: the
 * report's error (the panel's banner, the CLI's `error [cancelled]` line, Markdown) and
 * the editor's notification are this text, so they cannot disagree (issue 16: one said
 * how many windows had arrived when Cancel was pressed, the other counted the report's
 * runs afterwards, a skipped mode included). Pure.
 */
import type { ModeRun } from '../shared/protocol';

type RunFigures = Pick<ModeRun, 'mode' | 'status' | 'partial' | 'workers' | 'lag' | 'error'>;

/**
 * A run with figures: not skipped, and not a cut window the sidecar could not answer for
 * (recorded by the host with no samples). The report's `partial` status asks the same.
 */
export function hasFigures(r: RunFigures): boolean {
  return r.status !== 'skipped' && !(r.partial && r.lag.sampleCount === 0);
}

/**
 * `cancelled after 2 modes measured: inline, thread (cut short)`; a sweep names its pool
 * sizes (`thread W=1, thread W=2`); `cancelled before any mode was measured`.
 */
export function cancelledMessage(runs: readonly RunFigures[], kind: 'run' | 'sweep' = 'run'): string {
  const measured = runs.filter(hasFigures);
  if (!measured.length) return `cancelled before any ${kind === 'sweep' ? 'pool size' : 'mode'} was measured`;
  const noun = kind === 'sweep' ? 'pool size' : 'mode';
  const name = (r: RunFigures) => `${kind === 'sweep' ? `${r.mode} W=${r.workers ?? '?'}` : r.mode}${note(r)}`;
  return `cancelled after ${measured.length} ${noun}${measured.length === 1 ? '' : 's'} measured: ${measured.map(name).join(', ')}`;
}

/** Measured whole: its window ran to its end. */
export function measuredWhole(r: RunFigures): boolean {
  return r.status === 'ok' && !r.partial;
}

/** After a run's name: nothing when measured whole, `(cut short)` for the window the cancel cut, else its status. */
function note(r: RunFigures): string {
  if (measuredWhole(r)) return '';
  return r.partial || r.error?.kind === 'cancelled' ? ' (cut short)' : ` (${r.status})`;
}
