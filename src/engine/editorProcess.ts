/**
 * The editor's root process, so the sidecars can leave the editor's own CPU out of the
 * busy-machine check (issue 16: the panel redrawing live progress showed as 35–65% "other
 * processes"). From the extension host up its parents while each runs the same program:
 * VS Code's main process above its extension host (with the windows, webviews and GPU
 * process under it), code-server's server above its extension host. Linux only (/proc);
 * elsewhere null, and the check counts every other process as before.
 */
import * as fs from 'node:fs';

/** The sidecars read the root's pid here (src/sidecars/node/editorCpu.ts, python probes.py). */
export const EDITOR_PID_ENV = 'LOOPLAG_EDITOR_PID';

/** The parent pid from /proc/PID/stat (field 4, after the parenthesised command), or null. */
function parentOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : null;
  } catch {
    return null;
  }
}

function exeOf(pid: number): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null; // another user's, or gone
  }
}

/** The top-most ancestor of `pid` (itself at least) running its executable; null where /proc cannot tell. */
export function editorRootPid(pid: number = process.pid): number | null {
  const exe = exeOf(pid);
  if (!exe) return null;
  let root = pid;
  for (let hops = 0; hops < 64; hops++) {
    const parent = parentOf(root);
    if (parent === null || parent === 1 || exeOf(parent) !== exe) break;
    root = parent;
  }
  return root;
}

/** The sidecar's environment with the editor's root named (unchanged without one). */
export function withEditorPid(env: NodeJS.ProcessEnv | undefined, editorPid: number | null | undefined): NodeJS.ProcessEnv | undefined {
  return editorPid ? { ...(env ?? process.env), [EDITOR_PID_ENV]: String(editorPid) } : env;
}
