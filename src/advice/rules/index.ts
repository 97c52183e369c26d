/**
 * The advice engine's rules, in the order they run (the order of equal-severity items
 * in a report). Each topic file holds the rules for one thing a report can show; each
 * rule is pure, declares the runtimes it reads, and cites the numbers it rests on. IDs
 * are a contract (README lists each with its condition).
 */
import type { RuntimeName } from '../../shared/modes';
import { asyncBlocksLoop, inlineBlocksLoop, workerRecommended } from './blockingLoop';
import type { Rule } from './facts';
import { freeThreaded, gilContention, gilHeldNative, gilReleased, nativeOversubscription, noThreadSpeedup } from './gil';
import { poolStartup, processOverhead, queueing, transferOverhead } from './pools';
import { cachedCalls, callsRaised, callsUnfinished, implausibleFigures, measurementUntrustworthy } from './quality';
import { libuvThreadpoolSaturated } from './threadpool';

export { healthy } from './blockingLoop';
export type { Facts, GilBehaviour, Rule } from './facts';
export { executorCall } from '../snippets/python';

export const RULES: readonly Rule[] = [
  measurementUntrustworthy, inlineBlocksLoop, asyncBlocksLoop, gilHeldNative, gilContention, gilReleased,
  noThreadSpeedup, processOverhead, queueing, freeThreaded, workerRecommended, transferOverhead,
  callsRaised, nativeOversubscription,
  libuvThreadpoolSaturated, callsUnfinished,
  poolStartup, cachedCalls, implausibleFigures,
];

/** The rules that read this runtime's reports, in order: the one place a rule's `runtimes` is read. */
export function rulesFor(runtime: RuntimeName): Rule[] {
  return RULES.filter((r) => r.runtimes.includes(runtime));
}
