/** Messages between the sidecar and its pool members (internal: both ends ship together). */
import type { RunError } from '../../shared/protocol';

export interface ErrorInfo {
  type: string;
  message: string;
  traceback: string | null;
  /** The whole message when `message` was cut (see MESSAGE_CHARS). */
  fullMessage?: string;
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

/**
 * A task error's message is shown in tables and one-line errors: cut there, and kept
 * whole (up to FULL_MESSAGE_CHARS) in the record's fullMessage. Same caps as the Python sidecar.
 */
export const MESSAGE_CHARS = 2000;
export const FULL_MESSAGE_CHARS = 65536;

/** `text` up to `limit` characters, with a visible mark saying how much was cut. */
export function cutText(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… [cut: ${text.length - limit} more characters]`;
}

function withMessage(type: string, message: string, traceback: string | null): ErrorInfo {
  const info: ErrorInfo = { type, message: cutText(message, MESSAGE_CHARS), traceback };
  if (message.length > MESSAGE_CHARS) info.fullMessage = cutText(message, FULL_MESSAGE_CHARS);
  return info;
}

export function errorInfo(e: unknown): ErrorInfo {
  const err = e as Error;
  if (err && typeof err === 'object' && 'message' in err) {
    let stack = typeof err.stack === 'string' ? err.stack : null;
    if (stack && stack.length > 8000) stack = stack.slice(0, 2000) + '\n...\n' + stack.slice(-6000);
    return withMessage(err.name || err.constructor?.name || 'Error', String(err.message), stack);
  }
  return withMessage(typeof e, String(e), null);
}
