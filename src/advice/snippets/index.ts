/**
 * The fix code per runtime, one entry each: what rules shared by every
 * runtime, the sweep and the de-duplication of setups ask for. Code for one runtime's
 * own rules is called from its module directly (snippets/python.ts, snippets/node.ts).
 */
import type { RuntimeName } from '../../shared/modes';
import type { Mode, Report } from '../../shared/protocol';
import { NODE_SNIPPETS } from './node';
import { PYTHON_SNIPPETS } from './python';

/** What every runtime's snippet module writes. */
export interface FixSnippets {
  /** The pool that takes CPU-bound calls off the loop, created once at start-up: the one complete setup a report shows. */
  offloadPool(r: Pick<Report, 'target'>): string;
  /** A pool of `workers` members for `mode`, as the worker sweep recommends it. */
  sizedPool(mode: Mode, workers: number, r: Pick<Report, 'target'>): string;
  /** The line a later advice shows instead of repeating a setup block the report already shows. */
  sameSetup(title: string): string;
}

export const SNIPPETS: { readonly [R in RuntimeName]: FixSnippets } = {
  python: PYTHON_SNIPPETS,
  node: NODE_SNIPPETS,
};
