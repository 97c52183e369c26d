/**
 * Who used the machine's CPU while an end-to-end run went on, measured apart from the
 * sidecar (Linux /proc): the machine's busy time (as /proc/stat counts it, like
 * helpers.ts withBackgroundLoad and the sidecars' CPU meters) split into the processes
 * under code-server (the editor's own, other programs it started, and the sidecars),
 * the rest of this test's tree (Chromium, which draws the workbench and the webview,
 * and this process), and everything else: other people's processes.
 *
 * What a sidecar counts as other processes is the machine's busy time less its own tree
 * and the editor's processes that run the editor's program (src/sidecars/node/editorCpu.ts):
 * here `notTheEditors` over the same span, measured without the sidecar's help.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

/** Linux's USER_HZ: /proc/stat and /proc/PID/stat count CPU time in these ticks. */
const CLOCK_TICKS_PER_S = 100;

/** CPU seconds at one moment, by who used them (each process counted once). */
export interface LoadSnapshot {
  /** The wall clock, ms since the Unix epoch (as a report's `runs[].t0EpochMs`). */
  epochMs: number;
  machine: number;
  /** code-server's processes that run its program (server, extension hosts, language servers), the sidecars apart. */
  editor: number;
  /** Other programs under code-server, outside the sidecars (git, a terminal's shell): the sidecar counts them. */
  editorOther: number;
  /** The sidecars the extension started, with what they started. */
  sidecars: number;
  /** Chromium: the workbench and the webviews it draws. */
  browser: number;
  /** This test process. */
  test: number;
}

/** Shares of the machine (busy CPU ÷ (wall × cores)) over a span. */
export interface LoadShares {
  wallS: number;
  editor: number;
  editorOther: number;
  sidecars: number;
  browser: number;
  test: number;
  /** Everything this test did not start: the machine's own load. */
  others: number;
  /** What the sidecar counts as other processes: all but the editor's program and the sidecars. */
  notTheEditors: number;
}

interface Proc {
  ppid: number;
  /** utime + stime */
  own: number;
  /** cutime + cstime: the children it waited for. */
  reaped: number;
}

const statBuffer = Buffer.alloc(4096);

/** /proc/PID/stat in one read (readFileSync costs 5× as much CPU on /proc's size-less files). */
function readStat(pid: string): string {
  const fd = fs.openSync(`/proc/${pid}/stat`, 'r');
  try {
    return statBuffer.toString('latin1', 0, fs.readSync(fd, statBuffer, 0, statBuffer.length, 0));
  } finally {
    fs.closeSync(fd);
  }
}

function procs(): Map<number, Proc> {
  const table = new Map<number, Proc>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readStat(name);
      // After "pid (comm) ": ppid is field 4, utime stime cutime cstime fields 14-17.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(name), { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) });
    } catch {
      // ended meanwhile
    }
  }
  return table;
}

/**
 * A process's program (null when it cannot be read this time) and whether it is a
 * measuring sidecar. A sidecar is a fork of the extension host until it execs, and its
 * environment says so only after: a yes is kept for the pid, a no is asked again (a
 * snapshot must cost little: it is load too).
 */
function identity(pid: number, sidecars: Set<number>): { exe: string | null; sidecar: boolean } {
  let exe: string | null = null;
  try {
    exe = fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    // ended, or not readable at this moment
  }
  if (sidecars.has(pid)) return { exe, sidecar: true };
  try {
    // A measuring sidecar talks to the host over LOOPLAG_PROTOCOL_FD. The tools that run the
    // same script (outline, hints) do not: like any other process, the sidecar counts them.
    if (/(^|\0)LOOPLAG_PROTOCOL_FD=/.test(fs.readFileSync(`/proc/${pid}/environ`, 'latin1'))) {
      sidecars.add(pid);
      return { exe, sidecar: true };
    }
  } catch {
    // as above
  }
  return { exe, sidecar: false };
}

/** busy = user nice system irq softirq steal (idle and iowait are not), in seconds. */
function machineBusyS(): number {
  const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] || 0)) / CLOCK_TICKS_PER_S;
}

type Group = 'editor' | 'editorOther' | 'browser' | 'test';

/**
 * Snapshots of the machine's busy CPU seconds and of this test's tree: this process,
 * Chromium (its other children), and code-server's tree split into the editor's program,
 * other programs and the measuring sidecars (started with LOOPLAG_PROTOCOL_FD; their
 * children are the sidecar's too). A sidecar's ticks move into
 * the extension host's once it ended and was waited for: the editor's processes count
 * their own ticks, the sidecars' group the live sidecars' trees and what the editor's
 * processes waited for.
 */
export class LoadSampler {
  /** The measuring sidecars found so far (see identity). */
  private readonly sidecars = new Set<number>();

  constructor(private readonly codeServerPid: number) {}

  snapshot(): LoadSnapshot {
    const table = procs();
    const machine = machineBusyS();
    const epochMs = Date.now();
    const children = new Map<number, number[]>();
    for (const [pid, p] of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
    const tree = (q: number): number => (table.get(q)?.own ?? 0) + (table.get(q)?.reaped ?? 0) + (children.get(q) ?? []).reduce((a, c) => a + tree(c), 0);
    const editorExe = identity(this.codeServerPid, this.sidecars).exe;
    const sum = { editor: 0, editorOther: 0, sidecars: 0, browser: 0, test: 0 };
    const stack: [number, Group][] = [[process.pid, 'test']];
    while (stack.length) {
      const [pid, parentGroup] = stack.pop()!;
      const p = table.get(pid)!;
      let group: Group = parentGroup;
      if (pid === this.codeServerPid) group = 'editor';
      else if (parentGroup === 'test' && pid !== process.pid) group = 'browser';
      else if (parentGroup === 'editor') {
        const who = identity(pid, this.sidecars);
        if (who.sidecar) {
          sum.sidecars += tree(pid);
          continue;
        }
        // As the sidecar follows the editor's tree: through processes that run its program only
        // (a program not readable this time stays where its parent is).
        if (who.exe !== null && who.exe !== editorExe) group = 'editorOther';
      }
      if (group === 'editor') {
        sum.editor += p.own;
        sum.sidecars += p.reaped;
      } else {
        sum[group] += p.own + p.reaped;
      }
      for (const child of children.get(pid) ?? []) if (table.has(child)) stack.push([child, group]);
    }
    const s = (ticks: number) => ticks / CLOCK_TICKS_PER_S;
    return {
      epochMs, machine, editor: s(sum.editor), editorOther: s(sum.editorOther), sidecars: s(sum.sidecars),
      browser: s(sum.browser), test: s(sum.test),
    };
  }
}

const GROUPS = ['editor', 'editorOther', 'sidecars', 'browser', 'test'] as const;

export function loadShares(a: LoadSnapshot, b: LoadSnapshot): LoadShares {
  const wallS = (b.epochMs - a.epochMs) / 1000;
  const capacity = Math.max(1e-9, wallS * (os.cpus().length || 1));
  const share = (x: number) => Math.max(0, x) / capacity;
  const d = Object.fromEntries(GROUPS.map((k) => [k, b[k] - a[k]])) as Record<(typeof GROUPS)[number], number>;
  const machine = b.machine - a.machine;
  return {
    wallS, editor: share(d.editor), editorOther: share(d.editorOther), sidecars: share(d.sidecars), browser: share(d.browser), test: share(d.test),
    others: Math.min(1, share(machine - GROUPS.reduce((sum, k) => sum + d[k], 0))),
    notTheEditors: Math.min(1, share(machine - d.editor - d.sidecars)),
  };
}

/** A snapshot at `epochMs`, read off the two around it in proportion (CPU seconds grow steadily between reads). */
function snapshotAt(snaps: LoadSnapshot[], epochMs: number): LoadSnapshot | null {
  for (let i = 1; i < snaps.length; i++) {
    const [a, b] = [snaps[i - 1], snaps[i]];
    if (epochMs < a.epochMs || epochMs > b.epochMs) continue;
    const f = b.epochMs === a.epochMs ? 0 : (epochMs - a.epochMs) / (b.epochMs - a.epochMs);
    const at = (k: keyof LoadSnapshot) => a[k] + f * (b[k] - a[k]);
    return {
      epochMs, machine: at('machine'), editor: at('editor'), editorOther: at('editorOther'), sidecars: at('sidecars'),
      browser: at('browser'), test: at('test'),
    };
  }
  return null;
}

export interface LoadRecording {
  /** The load over the recording, from its first snapshot to its last. */
  whole(): LoadShares;
  /** The load over `[fromEpochMs, toEpochMs]` (a measured window), or null outside the recording. */
  between(fromEpochMs: number, toEpochMs: number): LoadShares | null;
  stop(): void;
}

/** Snapshots every `everyMs` until stopped (~1-2 ms of CPU a time here: 1-2% of a core, which the sidecar counts). */
export function recordLoad(codeServerPid: number, everyMs = 100): LoadRecording {
  const sampler = new LoadSampler(codeServerPid);
  const snaps = [sampler.snapshot()];
  const timer = setInterval(() => snaps.push(sampler.snapshot()), everyMs);
  let stopped = false;
  return {
    whole: () => loadShares(snaps[0], snaps[snaps.length - 1]),
    between(from, to) {
      const [a, b] = [snapshotAt(snaps, from), snapshotAt(snaps, to)];
      return a && b ? loadShares(a, b) : null;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      snaps.push(sampler.snapshot());
    },
  };
}

/**
 * Waits until the machine has been quiet for `spanMs` (all but the sidecars under
 * `quietFrac` of it: the workbench has settled after opening a file, its language
 * server has loaded), up to `timeoutMs`. The load of the last span it saw.
 */
export async function settle(codeServerPid: number, opts: { quietFrac: number; spanMs: number; timeoutMs: number }): Promise<{ quiet: boolean; last: LoadShares }> {
  const sampler = new LoadSampler(codeServerPid);
  const deadline = Date.now() + opts.timeoutMs;
  let a = sampler.snapshot();
  for (;;) {
    await new Promise((r) => setTimeout(r, opts.spanMs));
    const b = sampler.snapshot();
    const last = loadShares(a, b);
    const busy = last.editor + last.editorOther + last.browser + last.others;
    if (busy < opts.quietFrac) return { quiet: true, last };
    if (Date.now() >= deadline) return { quiet: false, last };
    a = b;
  }
}

/** "editor 4%, other programs under the editor 0%, sidecars 97%, browser 6%, test 1%, others 3% over 2.41 s" */
export function describeLoad(s: LoadShares): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `editor ${pct(s.editor)}, other programs under the editor ${pct(s.editorOther)}, sidecars ${pct(s.sidecars)}, ` +
    `browser ${pct(s.browser)}, test ${pct(s.test)}, others ${pct(s.others)} over ${s.wallS.toFixed(2)} s`;
}
