/**
 * Who used the machine's CPU while an end-to-end run went on, measured apart from the
 * sidecar (Linux /proc): the machine's busy time (as /proc/stat counts it, like
 * helpers.ts withBackgroundLoad and the sidecars' CPU meters) split into the processes
 * under code-server (the editor's own, and the sidecars it started), the rest of this
 * test's tree (Chromium, which draws the workbench and the webview, and this process),
 * and everything else: other people's processes, the load a busy-machine check is about.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

/** Linux's USER_HZ: /proc/stat and /proc/PID/stat count CPU time in these ticks. */
const CLOCK_TICKS_PER_S = 100;

/** CPU seconds at one moment, by who used them (each process counted once). */
export interface LoadSnapshot {
  atS: number;
  machine: number;
  /** code-server and what it started (server, extension hosts, file watcher), the sidecars apart. */
  editor: number;
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
  sidecars: number;
  browser: number;
  test: number;
  /** Everything this test did not start: the machine's own load. */
  others: number;
}

interface Proc {
  ppid: number;
  /** utime + stime */
  own: number;
  /** cutime + cstime: the children it waited for. */
  reaped: number;
}

function procs(): Map<number, Proc> {
  const table = new Map<number, Proc>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
      // After "pid (comm) ": ppid is field 4, utime stime cutime cstime fields 14-17.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(name), { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) });
    } catch {
      // ended meanwhile
    }
  }
  return table;
}

function isSidecar(pid: number): boolean {
  try {
    return /run_sidecar\.py|sidecars\/node\//.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
  } catch {
    return false;
  }
}

/** busy = user nice system irq softirq steal (idle and iowait are not), in seconds. */
function machineBusyS(): number {
  const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] || 0)) / CLOCK_TICKS_PER_S;
}

/**
 * Snapshots of the machine's busy CPU seconds and of this test's tree: this process,
 * Chromium (its other children), and code-server's tree split into the editor and the
 * sidecars (a sidecar runs its script: run_sidecar.py, dist/sidecars/node/…; its children
 * are the sidecar's too). A sidecar's ticks move into the extension host's once it ended
 * and was waited for: the editor's processes count their own ticks, the sidecars' group
 * the live sidecars' trees and what the editor's processes waited for.
 */
export class LoadSampler {
  constructor(private readonly codeServerPid: number) {}

  snapshot(): LoadSnapshot {
    const atS = performance.now() / 1000;
    const table = procs();
    const machine = machineBusyS();
    const children = new Map<number, number[]>();
    for (const [pid, p] of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
    const tree = (q: number): number => (table.get(q)?.own ?? 0) + (table.get(q)?.reaped ?? 0) + (children.get(q) ?? []).reduce((a, c) => a + tree(c), 0);
    const sum = { editor: 0, sidecars: 0, browser: 0, test: 0 };
    const stack: [number, 'editor' | 'browser' | 'test'][] = [[process.pid, 'test']];
    while (stack.length) {
      const [pid, parentGroup] = stack.pop()!;
      const p = table.get(pid)!;
      if (parentGroup === 'editor' && isSidecar(pid)) {
        sum.sidecars += tree(pid);
        continue;
      }
      const group = pid === this.codeServerPid ? 'editor' : parentGroup === 'test' && pid !== process.pid ? 'browser' : parentGroup;
      if (group === 'editor') {
        sum.editor += p.own;
        sum.sidecars += p.reaped;
      } else {
        sum[group] += p.own + p.reaped;
      }
      for (const child of children.get(pid) ?? []) if (table.has(child)) stack.push([child, group]);
    }
    const s = (ticks: number) => ticks / CLOCK_TICKS_PER_S;
    return { atS, machine, editor: s(sum.editor), sidecars: s(sum.sidecars), browser: s(sum.browser), test: s(sum.test) };
  }
}

export function loadShares(a: LoadSnapshot, b: LoadSnapshot): LoadShares {
  const wallS = b.atS - a.atS;
  const capacity = Math.max(1e-9, wallS * (os.cpus().length || 1));
  const share = (x: number) => Math.max(0, x) / capacity;
  const [editor, sidecars, browser, test] = (['editor', 'sidecars', 'browser', 'test'] as const).map((k) => b[k] - a[k]);
  return {
    wallS, editor: share(editor), sidecars: share(sidecars), browser: share(browser), test: share(test),
    others: Math.min(1, share((b.machine - a.machine) - editor - sidecars - browser - test)),
  };
}

/**
 * Snapshots every `everyMs` until stopped (reading /proc costs ~2 ms a time here): the
 * load over the whole span, and the busiest stretch of the machine's own load over any
 * span of at least `spanS` (a measured window is shorter than the run, and load in bursts
 * would hide in the average).
 */
export function recordLoad(codeServerPid: number, everyMs = 200): { stop(spanS: number): { whole: LoadShares; busiest: LoadShares } } {
  const sampler = new LoadSampler(codeServerPid);
  const snaps = [sampler.snapshot()];
  const timer = setInterval(() => snaps.push(sampler.snapshot()), everyMs);
  return {
    stop(spanS) {
      clearInterval(timer);
      snaps.push(sampler.snapshot());
      const whole = loadShares(snaps[0], snaps[snaps.length - 1]);
      let busiest = whole;
      for (let i = 0; i < snaps.length; i++) {
        const j = snaps.findIndex((s) => s.atS - snaps[i].atS >= spanS);
        if (j < 0) break;
        const shares = loadShares(snaps[i], snaps[j]);
        if (shares.others > busiest.others) busiest = shares;
      }
      return { whole, busiest };
    },
  };
}

/** "editor 4%, sidecars 97%, browser 6%, test 1%, others 3% over 2.41 s" */
export function describeLoad(s: LoadShares): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `editor ${pct(s.editor)}, sidecars ${pct(s.sidecars)}, browser ${pct(s.browser)}, test ${pct(s.test)}, others ${pct(s.others)} over ${s.wallS.toFixed(2)} s`;
}
