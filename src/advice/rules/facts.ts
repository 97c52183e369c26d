/**
 * What every rule reads and the shape of a rule: the facts computed once per report
 * (advise.ts), the runtimes a rule applies to, and the small helpers their texts share.
 */
import type { RuntimeName } from '../../shared/modes';
import type { Advice, ModeRun, Report } from '../../shared/protocol';
import { withinBudget } from '../budget';

/** What the rules read, computed once per report. */
export interface Facts {
  report: Report;
  /** The sidecar that ran the target (Python for .py, Node for JavaScript and TypeScript). */
  runtime: RuntimeName;
  budgetMs: number;
  stallMs: number;
  switchMs: number;
  cores: number;
  planned: string;
  ok(mode: string): ModeRun | undefined;
  /** Null without a GIL (Node) or without a window that shows how the target treats it. */
  gilBehaviour: GilBehaviour | null;
}

/** How the target treats the GIL, from the one-thread diagnostic (or thread mode's GIL waits). */
export interface GilBehaviour {
  kind: 'native-hold' | 'time-sliced' | 'released';
  evidence: string;
}

/**
 * One rule: which runtimes' reports it reads, and `(facts) → Advice | undefined` (or one
 * item per mode), citing the numbers it rests on. Detection only: the fix code comes
 * from snippets/, the per-runtime phrases and links from runtimes.ts.
 */
export interface Rule {
  readonly runtimes: readonly RuntimeName[];
  readonly check: (f: Facts) => Advice | Advice[] | undefined;
}

export const rule = (runtimes: readonly RuntimeName[], check: Rule['check']): Rule => ({ runtimes, check });

/** A lag finding is a problem only over the budget (withinBudget, the one rule); within it, a note. */
export const lagSeverity = (r: ModeRun, f: Facts): Advice['severity'] => (withinBudget(r, f.budgetMs) ? 'info' : 'critical');
export const times = (x: number | null) => (x === null ? '–' : `${x.toFixed(2)}×`);

export function fnName(r: Pick<Report, 'target'>): string {
  return r.target.qualname ?? 'work';
}

export function targetCall(r: Report): string {
  return `${fnName(r)}(${r.target.args})`;
}

export function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
