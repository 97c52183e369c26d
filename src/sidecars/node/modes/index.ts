/**
 * The execution strategies. Each mode runs N concurrent calls of the target in its own
 * measured window, with the heartbeat, Node's delay histogram and ELU throughout:
 * context.ts (what every mode shares), window.ts (the measured window, the baseline),
 * inline.ts, pool.ts with poolMembers.ts (worker threads, child processes), poolModes.ts
 * (worker and process windows, a sweep's) and sweepRounds.ts.
 */
export { Context, NODE_MODES } from './context';
export type { NodeMode } from './context';
export { runBaseline, skipped } from './window';
export { runInline } from './inline';
export { runPool, runPoolSweep } from './poolModes';
