import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * Kill a sidecar and everything it started (process-pool children included).
 * POSIX: the sidecar is spawned as a process-group leader, so the group dies at once;
 * a thread stuck in a GIL-holding native call cannot answer a polite request.
 * Windows: taskkill /T walks the tree.
 */
export function killTree(pid: number, platform: NodeJS.Platform = process.platform): void {
  if (platform === 'win32') {
    spawnSync('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    return;
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** True while any process of the group is alive (POSIX); used by tests and cleanup checks. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The environment variable that marks every process of one sidecar: set on the sidecar,
 * inherited by whatever user code starts (a `setsid()` child leaves our process group,
 * but keeps its environment unless it execs with a scrubbed one).
 */
export const RUN_TAG_ENV = 'LOOPLAG_RUN_TAG';

/**
 * PIDs of live processes of this user whose environment holds `NAME=value`, read from
 * Linux's /proc (other users' environ is unreadable and skipped; zombies are already
 * dead). Elsewhere there is no cheap equivalent: an empty list.
 * One read of /proc/PID/environ per process: 5–15 ms for a hundred processes on a
 * loaded two-core machine. As root every environ is readable; a tagged process is
 * still one this run started (or one started from it, under any user).
 * /proc shows the environment the process was started with, so a process that changes
 * its own (putenv) keeps the tag; one exec'ed with a scrubbed environment loses it.
 */
export function processesWithEnv(name: string, value: string, platform: NodeJS.Platform = process.platform): number[] {
  if (platform !== 'linux') return [];
  const needle = Buffer.from(`${name}=${value}\0`);
  const found: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return []; // no procfs mounted
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      // A zombie (already dead) has no memory left: its environ reads empty.
      const environ = fs.readFileSync(`/proc/${entry}/environ`);
      // An entry starts the block or follows a NUL: `XLOOPLAG_RUN_TAG=…` is not ours.
      const at = environ.indexOf(needle);
      if (at === 0 || (at > 0 && environ.includes(Buffer.concat([Buffer.from([0]), needle])))) found.push(Number(entry));
    } catch {
      // ended while we looked, or not ours to read
    }
  }
  return found;
}

/** SIGKILL every process carrying `NAME=value` (see processesWithEnv); returns their PIDs. */
export function killTagged(name: string, value: string): number[] {
  const pids = processesWithEnv(name, value);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone, or not ours
    }
  }
  return pids;
}
