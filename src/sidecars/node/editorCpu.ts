/**
 * CPU the editor's own processes used over a window, so the busy-machine check counts
 * only load that is not ours (issue 16: the panel redrawing live progress showed as 35–65%
 * "other processes"). The host names the editor's root process (the extension host's
 * top-most ancestor running the same program) in LOOPLAG_EDITOR_PID; Linux's /proc gives
 * every process's parent and CPU ticks. The CLI names none: nothing is subtracted.
 * The Python sidecar's probes.py EditorCpu does the same.
 */
import * as fs from 'node:fs';

export const EDITOR_PID_ENV = 'LOOPLAG_EDITOR_PID';

/** /proc/PID/stat counts in USER_HZ clock ticks, 100 per second on every Linux platform. */
const CLOCK_TICKS_PER_S = 100;

/**
 * user+system ticks of each live process under `rootPid` (itself included) that runs the
 * root's program, through such processes only, and not under `skipPid` (this sidecar and
 * what it started); null when /proc cannot tell.
 */
export function treeCpuTicks(rootPid: number, skipPid: number): Map<number, number> | null {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return null;
  }
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = statOf(Number(name));
    if (!stat) continue; // ended meanwhile
    parent.set(Number(name), stat.ppid);
    ticks.set(Number(name), stat.ticks);
  }
  if (!parent.has(rootPid)) return null;
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parent) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const found = new Map<number, number>();
  const rootExe = exeOf(rootPid);
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    if (pid === skipPid) continue;
    // The editor's own processes run its program (VS Code's renderers, GPU process and
    // extension hosts; code-server's node). A shell in its terminal, and whatever runs
    // there (builds, dev servers, load generators), is the user's load: not followed.
    if (pid !== rootPid && (rootExe === null || exeOf(pid) !== rootExe)) continue;
    found.set(pid, ticks.get(pid)!);
    stack.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** The program a process runs (/proc/PID/exe); null when it cannot be read. */
function exeOf(pid: number): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}

/**
 * The editor's processes, found once (walking /proc takes a few ms, so it happens outside
 * a window's probes), and their CPU ticks read at any moment after (a file each: cheap
 * enough at a window's first and last instant). A process started after the walk is not
 * followed; one that ends is not counted (its ticks went with it).
 */
export class EditorCpu {
  private readonly pids: number[];

  constructor(rootPid: number | null) {
    this.pids = rootPid ? [...(treeCpuTicks(rootPid, process.pid)?.keys() ?? [])] : [];
  }

  /** Each known process's ticks now. */
  read(): Map<number, number> {
    const ticks = new Map<number, number>();
    for (const pid of this.pids) {
      const stat = statOf(pid);
      if (stat) ticks.set(pid, stat.ticks);
    }
    return ticks;
  }

  /** CPU seconds between two readings, of the processes alive at both. */
  static usedS(from: Map<number, number>, to: Map<number, number>): number {
    let used = 0;
    for (const [pid, t] of to) if (from.has(pid)) used += Math.max(0, t - from.get(pid)!);
    return used / CLOCK_TICKS_PER_S;
  }
}

/** A process's parent and user+system ticks (/proc/PID/stat); null once it ended. */
function statOf(pid: number): { ppid: number; ticks: number } | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // After "pid (comm) ": state ppid … utime stime are fields 3, 4, 14 and 15; comm may hold spaces and parentheses.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(rest[1]);
  const ticks = Number(rest[11]) + Number(rest[12]);
  return Number.isFinite(ppid) && Number.isFinite(ticks) ? { ppid, ticks } : null;
}

/** The root the host named, if any. */
export function editorPidFromEnv(): number | null {
  const value = process.env[EDITOR_PID_ENV] ?? '';
  return /^\d+$/.test(value) ? Number(value) : null;
}
