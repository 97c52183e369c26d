/**
 * Dying with the parent, even while user code blocks the main thread.
 *
 * Stdin EOF and IPC 'disconnect' are events on the main thread's loop: a sync loop in
 * user code keeps them from ever firing, so a host killed with SIGKILL would leave us
 * spinning. A worker thread has its own isolate and event loop and runs regardless;
 * `process.ppid` is read afresh on each access (libuv's uv_os_getppid), also there.
 */
import { Worker } from 'node:worker_threads';

/** The host puts its pid here for the sidecar, the sidecar its own for pool children. */
export const PARENT_PID_ENV = 'LOOPLAG_PARENT_PID';

/** How often the watch looks: the parent's death is acted on within this. */
const WATCH_MS = 200;

// Plain JS run with `eval`, so the watch needs no file of its own in the bundle.
// process.exit() in a worker ends only the worker: the process ends by signal. Our
// process group first (the sidecar leads one, so user code's children go with it;
// a pool child leads none and the group kill fails harmlessly), then ourselves.
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const gone = (pid) => { try { process.kill(pid, 0); return false; } catch (e) { return e.code === 'ESRCH'; } };
const check = () => {
  if (process.ppid === workerData.ppid && !(workerData.parentPid && gone(workerData.parentPid))) return;
  try { process.kill(-process.pid, 'SIGKILL'); } catch {}
  process.kill(process.pid, 'SIGKILL');
};
check();
setInterval(check, workerData.everyMs);
`;

/**
 * The pid our parent says it has (null when not started by a host), removed from the
 * environment so user code and the processes it starts do not inherit it.
 */
export function parentPidFromEnv(): number | null {
  const value = process.env[PARENT_PID_ENV] ?? '';
  delete process.env[PARENT_PID_ENV];
  return /^\d+$/.test(value) ? Number(value) : null;
}

/**
 * Starts a watch thread that SIGKILLs this process (and the process group it leads)
 * once its parent is gone: the parent pid changed (we were reparented) or `parentPid`
 * no longer exists. Unref'd: it never keeps the process alive.
 */
export function dieWithParent(parentPid: number | null): void {
  const watch = new Worker(WATCHDOG, {
    eval: true,
    workerData: { ppid: process.ppid, parentPid, everyMs: WATCH_MS },
    stdout: true,
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
  });
  // A watch that fails must not stop the run: the main thread's checks remain.
  watch.on('error', () => undefined);
  watch.unref();
}
