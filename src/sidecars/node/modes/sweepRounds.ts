/** A sweep window's calls, in rounds: each round one throughput measurement. */
import type { RunPlan } from '../../../shared/protocol';
import { nowMs } from '../probes';
import type { Context, TaskRec } from './context';
import type { Window } from './window';

/** A round of a fast function would otherwise hold tens of thousands of calls (and task records). */
const MAX_ROUND_CALLS = 5000;

/**
 * A sweep window as repeated rounds, each one throughput measurement: a round keeps
 * `inflight` calls running (a W-worker pool under steady load) until it has admitted
 * callsPerWorker × W calls and run minWindowMs / minRepeats, then waits for its calls.
 * Rounds repeat until the window has minRepeats of them and minWindowMs; at maxWindowMs
 * no new round starts and the round running admits no more (the host's time budget).
 * Calls are submitted as workers free up, so the pool's queue stays short.
 */
export function runRounds(
  ctx: Context, win: Window, inflight: number, plan: NonNullable<RunPlan['sweepRounds']>,
  submit: (rec: TaskRec, done: () => void) => void, finished: () => void,
): void {
  const minCalls = Math.max(inflight, plan.callsPerWorker * inflight);
  const minRoundMs = plan.minWindowMs / Math.max(1, plan.minRepeats);
  const tWindow = nowMs();
  let n = 0;
  let round = 0;
  let tRound = tWindow;
  let admitted = 0;
  let running = 0;
  const admit = (): void => {
    const now = nowMs();
    const wanted = admitted < minCalls || now - tRound < minRoundMs;
    const outOfTime = now - tWindow >= plan.maxWindowMs || ctx.cancelled;
    if (admitted >= inflight && (!wanted || outOfTime || admitted >= MAX_ROUND_CALLS)) {
      if (running === 0) endRound();
      return;
    }
    const rec = win.newRecord(n++);
    rec.round = round;
    admitted++;
    running++;
    submit(rec, () => {
      running--;
      admit();
    });
  };
  const endRound = (): void => {
    round++;
    const elapsed = nowMs() - tWindow;
    if (ctx.cancelled || elapsed >= plan.maxWindowMs || (round >= plan.minRepeats && elapsed >= plan.minWindowMs)) return finished();
    tRound = nowMs();
    admitted = 0;
    startRound();
  };
  const startRound = (): void => {
    for (let i = 0; i < inflight; i++) admit();
  };
  startRound();
}
