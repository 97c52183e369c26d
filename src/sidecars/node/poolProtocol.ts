/** Messages between the sidecar and its pool members (internal: both ends ship together). */
import type { RunError } from '../../shared/protocol';

export interface ErrorInfo {
  type: string;
  message: string;
  traceback: string | null;
}

/** `warmup`: one unmeasured call with the member's own fresh arguments, answered by `warmed`. */
export type PoolRequest = { type: 'call'; id: number; args: Uint8Array } | { type: 'warmup' } | { type: 'exit' };

export type PoolReply =
  | { type: 'ready'; worker: string }
  | { type: 'load-error'; error: RunError }
  | { type: 'warmed'; ms: number }
  | {
      type: 'result';
      id: number;
      startMs: number;
      endMs: number;
      cpuMs: number;
      /** false: `cpuMs` is the whole process's (Node < 23.9 has no per-thread figure). */
      cpuPerThread: boolean;
      argsReadMs: number;
      result: Uint8Array | null;
      resultBytes: number | null;
      resultWriteMs: number;
      error: ErrorInfo | null;
      notTransferable: boolean;
      /** Set when the result arrives changed (a class instance becomes a plain object). */
      resultNote: string | null;
    };

export function errorInfo(e: unknown): ErrorInfo {
  const err = e as Error;
  if (err && typeof err === 'object' && 'message' in err) {
    let stack = typeof err.stack === 'string' ? err.stack : null;
    if (stack && stack.length > 8000) stack = stack.slice(0, 2000) + '\n...\n' + stack.slice(-6000);
    return { type: err.name || err.constructor?.name || 'Error', message: String(err.message).slice(0, 2000), traceback: stack };
  }
  return { type: typeof e, message: String(e).slice(0, 2000), traceback: null };
}
