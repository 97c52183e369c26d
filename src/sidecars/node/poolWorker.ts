/**
 * A pool member: a worker thread (parentPort) or a child process (IPC). It loads the
 * target the parent's way, then answers `call` messages one at a time. Arguments and
 * results cross as v8-serialized bytes (the structured-clone format worker_threads
 * and advanced IPC use), so the cost and size of moving them are measured, not guessed.
 */
import * as v8 from 'node:v8';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { notCloneableReason, prototypeLossNote } from './cloneCheck';
import { ErrorInfo, errorInfo, PoolReply, PoolRequest, rejectionInfo } from './poolProtocol';
import { dieWithParent, parentPidFromEnv } from './orphanWatch';
import { installHooks, LoadError, loadCaptured, LoadSpec, resolveCallable } from './loader';
import { nowMs, threadCpuMs } from './probes';
import { syncStdio } from './channel';
import { setImmediate } from './clock';

function send(message: PoolReply): void {
  if (parentPort) parentPort.postMessage(message);
  else process.send?.(message);
}

/** A child process's target arrives as its first IPC message (see PoolRequest `init`). */
function initSpec(): Promise<LoadSpec> {
  return new Promise((resolve) => {
    const onInit = (m: PoolRequest) => {
      if (m.type !== 'init') return;
      process.off('message', onInit);
      resolve(m.spec);
    };
    process.on('message', onInit);
  });
}

async function main(): Promise<void> {
  if (!parentPort) {
    // A child whose parent died (SIGKILL cannot clean up) ends itself: at once when
    // idle, and from a watch thread when a call blocks this one.
    process.on('disconnect', () => process.exit(1));
    dieWithParent(parentPidFromEnv());
  }
  syncStdio(); // before user code: what it prints goes straight to fds 1 and 2, never queued
  const spec: LoadSpec = parentPort ? (workerData as { spec: LoadSpec }).spec : await initSpec();
  // The call running (its id), else the last one run: where an unhandled rejection goes.
  let current: { id: number; rejection: ErrorInfo | null } | null = null;
  let lastId: number | null = null;
  process.on('unhandledRejection', (reason) => {
    const info = rejectionInfo(reason);
    if (current) current.rejection ??= info;
    else send({ type: 'rejection', id: lastId, error: info });
  });
  installHooks(spec);
  let callable;
  try {
    callable = resolveCallable(await loadCaptured(spec), spec, []);
  } catch (e) {
    const error = e instanceof LoadError ? e.error : { kind: 'import-error' as const, message: String((e as Error)?.message ?? e), detail: (e as Error)?.stack ?? null };
    send({ type: 'load-error', error });
    return;
  }
  const onRequest = async (m: PoolRequest) => {
    // Asked to stop: exit once stdout and stderr have flushed (an empty write's callback
    // runs after everything queued before it), so nothing printed is lost.
    if (m.type === 'exit') {
      process.stdout.write('', () => process.stderr.write('', () => process.exit(0)));
      return;
    }
    if (m.type === 'warmup') {
      // Pays this member's one-time costs (JIT, lazy imports, caches) outside the window.
      // An error here is the measured calls' to report, not the warm-up's.
      let t = nowMs();
      try {
        const args = v8.deserialize(m.args) as unknown[];
        t = nowMs();
        const r = callable.call(args);
        if (r && typeof (r as PromiseLike<unknown>).then === 'function') await r;
      } catch {
        // measured again in the window
      }
      send({ type: 'warmed', ms: nowMs() - t });
      return;
    }
    if (m.type !== 'call') return;
    const t0 = nowMs();
    const args = v8.deserialize(m.args) as unknown[];
    const argsReadMs = nowMs() - t0;
    const cpu0 = threadCpuMs();
    const call = { id: m.id, rejection: null as ErrorInfo | null };
    current = call;
    const startMs = nowMs();
    let error = null;
    let result: unknown;
    try {
      result = callable.call(args);
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') result = await result;
    } catch (e) {
      error = errorInfo(e);
    }
    const endMs = nowMs();
    const cpu1 = threadCpuMs();
    // Node reports a rejection left unhandled once the microtasks of this turn have run:
    // one turn of the loop later it is known, and belongs to this call.
    await new Promise((r) => setImmediate(r));
    current = null;
    lastId = m.id;
    error ??= call.rejection;
    let bytes: Uint8Array | null = null;
    let notTransferable = false;
    let resultNote: string | null = null;
    const w0 = nowMs();
    if (!error) {
      try {
        bytes = v8.serialize(result);
      } catch (e) {
        // V8 names the value by its source text (`function () { [native code] }`): name its type and place.
        error = { ...errorInfo(e), type: 'DataCloneError', message: notCloneableReason(result, 'result') };
        notTransferable = true;
      }
    }
    const resultWriteMs = nowMs() - w0;
    if (bytes) resultNote = prototypeLossNote(result, parentPort ? 'worker thread' : 'child process');
    send({
      type: 'result', id: m.id, startMs, endMs, cpuMs: cpu1.ms - cpu0.ms, cpuPerThread: cpu1.perThread,
      argsReadMs, result: bytes, resultBytes: bytes ? bytes.length : null, resultWriteMs, error, notTransferable, resultNote,
    });
  };
  if (parentPort) parentPort.on('message', (m: PoolRequest) => void onRequest(m));
  else process.on('message', (m: PoolRequest) => void onRequest(m));
  send({ type: 'ready', worker: parentPort ? `worker ${threadId}` : `pid ${process.pid}`, heapLimitMb: Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20) });
}

void main();
