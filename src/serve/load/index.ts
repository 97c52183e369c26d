/**
 * Placeholder until the load generator (the **load** engineer's src/serve/load/) is
 * merged: the lead takes theirs. The session codes against types.ts only.
 */
import type { LoadOptions, LoadPlan, LoadResult } from './types';

export type { LoadOptions, LoadPlan, LoadResult } from './types';

export async function runLoad(_plan: LoadPlan, _options: LoadOptions = {}): Promise<LoadResult> {
  throw new Error('the load generator is not built on this branch');
}
