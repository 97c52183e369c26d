import { spawnSync } from 'node:child_process';

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
