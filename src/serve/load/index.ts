/**
 * runLoad: the open-loop load generator (see types.ts), run in a Node process of its own
 * (dist/loadgen.js, child.ts) so it never shares an event loop with the server or the
 * editor. The child leads its own process group: abort, a failure or the end of the run
 * kills the group; the child's orphan watch ends it if we die first.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { killTree } from '../../engine/killTree';
import { LineSplitter } from '../../shared/lineSplitter';
import { ChildMessage, planProblem } from './messages';
import type { LoadOptions, LoadPlan, LoadResult } from './types';

export type { LoadOptions, LoadPlan, LoadProgress, LoadResult, LoadTarget, TargetResult } from './types';
export { planProblem } from './messages';

/** The generator's script in the bundle. */
export const LOADGEN_SCRIPT = 'loadgen.js';
const STDERR_TAIL_CHARS = 4000;

/** How long an aborted run waits for the generator's figures up to the cut before killing it. */
export const CUT_GRACE_MS = 1000;

/**
 * The error a run that was aborted rejects with (as Node's own: name `AbortError`, code
 * `ABORT_ERR`), carrying what the generator measured up to the cut: `partial` is null when
 * the cut came in the warm-up, or the generator did not answer within CUT_GRACE_MS.
 */
export class LoadAbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(readonly partial: LoadResult | null = null) {
    super('load generation aborted');
    this.name = 'AbortError';
  }
}

/** dist/loadgen.js beside the bundle that imports us (dist/cli.js), or in the checkout's dist/ (tests, bench). */
export function loadgenScriptPath(from: string = __dirname): string {
  const tried: string[] = [];
  for (let dir = from, up = 0; up < 4; up++, dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, LOADGEN_SCRIPT), path.join(dir, 'dist', LOADGEN_SCRIPT)]) {
      if (fs.existsSync(candidate)) return candidate;
      tried.push(candidate);
    }
  }
  throw new Error(`the load generator is not built (no ${LOADGEN_SCRIPT} in ${tried.join(', ')}): run npm run build`);
}

/**
 * Runs `plan` and resolves with what every stream recorded once the generator's process
 * has exited. Rejects on a bad plan, a generator that failed or crashed, and (with a
 * LoadAbortError, after the process is gone) when `opts.signal` aborts: the generator is
 * told to cut, stops sending at once and answers with its figures so far (the error's
 * `partial`), and is killed with its group when that takes over CUT_GRACE_MS.
 */
export function runLoad(plan: LoadPlan, opts: LoadOptions = {}): Promise<LoadResult> {
  const problem = planProblem(plan);
  if (problem) return Promise.reject(new Error(`load plan: ${problem}`));
  if (opts.signal?.aborted) return Promise.reject(new LoadAbortError());
  let script: string;
  try {
    script = loadgenScriptPath();
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(opts.nodePath ?? process.execPath, [script], {
      env: { ...(opts.env ?? process.env), LOOPLAG_PARENT_PID: String(process.pid) },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group (POSIX), so killing it cannot reach ours.
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    let result: LoadResult | null = null;
    let partial: LoadResult | null = null;
    let failure: Error | null = null;
    let aborted = false;
    let cutTimer: NodeJS.Timeout | undefined;
    let stderrTail = '';
    const kill = () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) killTree(child.pid);
    };
    const fail = (e: Error) => {
      failure ??= e;
      kill();
    };
    const onAbort = () => {
      aborted = true;
      if (failure) return;
      child.stdin.write(JSON.stringify({ type: 'cut' }) + '\n');
      cutTimer = setTimeout(kill, CUT_GRACE_MS);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const onMessage = (message: ChildMessage) => {
      switch (message.type) {
        case 'measuring':
          opts.onMeasureStart?.(message.t0EpochMs ?? Date.now());
          break;
        case 'progress':
          opts.onProgress?.({ phase: message.phase, elapsedMs: message.elapsedMs, sent: message.sent, completed: message.completed });
          break;
        case 'result':
          result = message.result;
          break;
        case 'cut':
          partial = message.result;
          break;
        case 'error':
          fail(new Error(`load generator: ${message.message}`));
          break;
      }
    };
    const splitter = new LineSplitter((line) => {
      if (failure) return;
      try {
        const message = ChildMessage.parse(JSON.parse(line));
        // Once aborted the caller hears no more progress: only the figures (a run that ended as the cut came keeps its whole result).
        if (!aborted || message.type === 'cut' || message.type === 'result') onMessage(message);
      } catch (e) {
        // A line that is not ours, or a callback of the caller's that threw: the run stops.
        fail(e instanceof Error ? e : new Error(String(e)));
      }
    });
    child.stdout.on('data', (chunk: Buffer) => splitter.push(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS)));
    // The child may be gone before it reads the plan (a bad nodePath): its exit says why.
    child.stdin.on('error', () => undefined);
    child.stdin.write(JSON.stringify(plan) + '\n');

    let spawnError: Error | null = null;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      opts.signal?.removeEventListener('abort', onAbort);
      clearTimeout(cutTimer);
      // Anything the generator's process group still holds goes with it.
      if (child.pid !== undefined) killTree(child.pid);
      if (aborted) reject(new LoadAbortError(partial ?? result));
      else if (failure) reject(failure);
      else if (result) resolve(result);
      else if (spawnError) reject(new Error(`load generator: could not start ${opts.nodePath ?? process.execPath}: ${spawnError.message}`));
      else reject(new Error(`load generator exited (${signal ?? `code ${code}`}) without a result${stderrTail.trim() ? `: ${stderrTail.trim()}` : ''}`));
    });
  });
}
