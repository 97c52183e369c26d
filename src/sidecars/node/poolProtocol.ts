/** Messages between the sidecar and its pool members (internal: both ends ship together). */
import type { RunError } from '../../shared/protocol';
import type { LoadSpec } from './loader';

export interface ErrorInfo {
  type: string;
  message: string;
  traceback: string | null;
  /** The whole message when `message` was cut (see MESSAGE_CHARS). */
  fullMessage?: string;
}

/**
 * `init`: a child process's first message, the target to load (through the IPC channel,
 * never argv or the environment: a 10 MB argument text there fails the spawn with E2BIG).
 * `warmup`: one unmeasured call with the warm-up's arguments (evaluated once in the sidecar,
 * like the measured calls'), answered by `warmed`.
 */
export type PoolRequest =
  | { type: 'init'; spec: LoadSpec }
  | { type: 'call'; id: number; args: Uint8Array }
  | { type: 'warmup'; args: Uint8Array }
  | { type: 'exit' };

export type PoolReply =
  /** `heapLimitMb`: V8's heap limit in this member, which an out-of-memory crash names. */
  | { type: 'ready'; worker: string; heapLimitMb: number }
  /**
   * A promise rejected with no handler. `id`: the call that was running, or (none running)
   * the last one this member ran; null before any measured call (warm-up).
   */
  | { type: 'rejection'; id: number | null; error: ErrorInfo }
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

/**
 * An unhandled promise rejection as a call's error: Node's default (`--unhandled-rejections=throw`
 * since Node 15) would end the process on it, so it is the call's failure in every mode,
 * not a crash in one and nothing in another.
 */
export function rejectionInfo(reason: unknown): ErrorInfo {
  const err = reason as Error;
  const isError = Boolean(err) && typeof err === 'object' && 'message' in err;
  const what = isError ? `${err.name || 'Error'}: ${String(err.message)}` : `${typeof reason} ${String(reason)}`;
  const info = withMessage('UnhandledRejection', `${what} (a promise rejected with no handler; Node 15+ ends the process on one by default, --unhandled-rejections=throw)`,
    isError && typeof err.stack === 'string' ? err.stack : null);
  return info;
}
