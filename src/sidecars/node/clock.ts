/**
 * The sidecar's own references to the timers and clocks it measures with, taken when its
 * bundle (sidecar.js or worker.js) is evaluated, before any user code loads. User code
 * that replaces `globalThis.setTimeout`, `setImmediate`, `performance.now` or
 * `process.hrtime` (fake timers left installed, a shim) then changes its own timing,
 * never the heartbeat's, the window's or the call records'.
 *
 * The names shadow the globals on purpose: a module imports them from here, and a
 * bare `setTimeout(…)` in it cannot reach a patched global.
 */
import { performance } from 'node:perf_hooks';

const timers = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setImmediate: globalThis.setImmediate,
  clearImmediate: globalThis.clearImmediate,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
};
export const { setTimeout, clearTimeout, setImmediate, clearImmediate, setInterval, clearInterval } = timers;

const hrtimeBigint = process.hrtime.bigint.bind(process.hrtime);
const dateNow = Date.now;
const loopUtilization = performance.eventLoopUtilization.bind(performance);
const cpuUsage = process.cpuUsage.bind(process);

/** Monotonic ms (CLOCK_MONOTONIC: shared by worker threads and child processes on the machine). */
export function nowMs(): number {
  return Number(hrtimeBigint()) / 1e6;
}

/** Wall-clock ms since the Unix epoch: for throttling, and to place a window on other tools' timelines. */
export function wallMs(): number {
  return dateNow();
}

export { cpuUsage, loopUtilization };
