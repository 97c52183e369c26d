/**
 * The sweep's climbing rule (issue 14), pure: rate by rate in ascending order, each
 * variant still climbing is measured once; a variant stops climbing at the first rate it
 * does not sustain (over the budget, failed requests, an endpoint falling behind, or not measured: higher rates would
 * only cost time to say the same), and its higher rates are not run, with that reason. A
 * point that ends the session (cancel, --timeout, an app that cannot start in any variant)
 * stops every variant. Rate-major rather than variant-major: a cut keeps every variant's
 * low rates, and the variants compared at one rate ran minutes apart at most.
 */
import type { RunError } from '../../shared/protocol';
import type { ServeVerdict } from '../../shared/protocol/serveReport';
import { fmtRate } from '../../shared/format';

/** What the climbing rule reads of a measured point (src/serve/verdict.ts verdictOf decides it). */
export interface PointOutcome<P> {
  point: P;
  verdict: ServeVerdict;
  /** The session ended with this point: nothing after it runs. */
  ended: RunError | null;
  /** Endpoints that did not keep up with the rate (keepUp.ts): not sustained, whatever the verdict. */
  behind?: readonly string[];
}

/** One rate of one variant: measured, or not run and why. */
export type ClimbStep<P> = { ratePerS: number; outcome: PointOutcome<P> } | { ratePerS: number; notRun: string };

/** Why a variant stops climbing at this rate; null when it sustained it (within the budget, every endpoint keeping up). */
export function stopReason(verdict: ServeVerdict, ratePerS: number, behind: readonly string[] = []): string | null {
  const at = `at ${fmtRate(ratePerS)} req/s`;
  switch (verdict) {
    case 'within-budget': return behind.length ? `fell behind ${at}` : null;
    case 'over-budget': return `over budget ${at}`;
    case 'failed-requests': return `requests failed ${at}`;
    case 'not-measured': return `not measured ${at}`;
  }
}

/** Why the points after a session's end were not run. */
export function endedReason(e: RunError): string {
  if (e.kind === 'cancelled') return 'cancelled before it ran';
  if (e.kind === 'timeout') return '--timeout reached before it ran';
  return `the sweep ended before it ran (${e.kind})`;
}

/**
 * Runs the sweep's points through `measure`, rates ascending (as given: the caller sorts),
 * and returns each variant's steps, one per rate, in order.
 */
export async function climb<V, P>(variants: readonly V[], ratesPerS: readonly number[], measure: (variant: V, ratePerS: number) => Promise<PointOutcome<P>>): Promise<ClimbStep<P>[][]> {
  const steps: ClimbStep<P>[][] = variants.map(() => []);
  const stopped: (string | null)[] = variants.map(() => null);
  let ended: RunError | null = null;
  for (const ratePerS of ratesPerS) {
    for (let i = 0; i < variants.length; i++) {
      const notRun = ended ? endedReason(ended) : stopped[i];
      if (notRun !== null) {
        steps[i].push({ ratePerS, notRun });
        continue;
      }
      const outcome = await measure(variants[i], ratePerS);
      steps[i].push({ ratePerS, outcome });
      if (outcome.ended) ended = outcome.ended;
      else stopped[i] = stopReason(outcome.verdict, ratePerS, outcome.behind);
    }
  }
  return steps;
}

/** Measured within the budget, every endpoint keeping up. */
export function sustained<P>(o: PointOutcome<P>): boolean {
  return o.verdict === 'within-budget' && !o.behind?.length;
}

/** The highest rate sustained, or null. */
export function sustainedRate<P>(steps: readonly ClimbStep<P>[]): number | null {
  let best: number | null = null;
  for (const s of steps) if ('outcome' in s && sustained(s.outcome)) best = Math.max(best ?? s.ratePerS, s.ratePerS);
  return best;
}
