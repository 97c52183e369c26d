/**
 * How many processes the kernel's out-of-memory killer has killed, read before and after
 * a process ran: a SIGKILL with no new OOM kill was sent by a process (or by itself), not
 * by the kernel for lack of memory. Linux only; elsewhere nothing is readable and the
 * message says Loop Lag cannot tell.
 */
import * as fs from 'node:fs';
import type { OomEvidence } from '../shared/crashCause';

/** One counter: where it was read and its value. */
export interface OomCount {
  source: string;
  kills: number;
}

/**
 * The OOM-kill counters this process can read: the system's (/proc/vmstat `oom_kill`,
 * Linux 4.13+) and its memory cgroup's (v2 `memory.events`, v1 `memory.oom_control`).
 * A cgroup limit (a container's) kills within the cgroup; both counters count it.
 */
export function readOomKills(): OomCount[] {
  const counts: OomCount[] = [];
  const add = (source: string, text: string | null) => {
    const m = text ? /^oom_kill (\d+)$/m.exec(text) : null;
    if (m) counts.push({ source, kills: Number(m[1]) });
  };
  add('/proc/vmstat', readText('/proc/vmstat'));
  const cgroups = readText('/proc/self/cgroup') ?? '';
  const v2 = /^0::(\S*)$/m.exec(cgroups)?.[1];
  const v1 = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(\S*)$/m.exec(cgroups)?.[1];
  const candidates = [
    ...(v2 !== undefined ? [`/sys/fs/cgroup${v2 === '/' ? '' : v2}/memory.events`] : []),
    ...(v1 !== undefined ? [`/sys/fs/cgroup/memory${v1 === '/' ? '' : v1}/memory.oom_control`, '/sys/fs/cgroup/memory/memory.oom_control'] : []),
  ];
  for (const file of candidates) {
    const text = readText(file);
    if (text && /^oom_kill \d+$/m.test(text)) {
      add(file, text);
      break;
    }
  }
  return counts;
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * What the counters say happened between two readings: null when none could be read
 * (not Linux, or no permission), else the counter that moved (or the first, unmoved).
 */
export function oomEvidence(before: OomCount[], after: OomCount[]): OomEvidence | null {
  const pairs = before.flatMap((b) => {
    const a = after.find((x) => x.source === b.source);
    return a ? [{ source: b.source, before: b.kills, after: a.kills }] : [];
  });
  return pairs.find((p) => p.after > p.before) ?? pairs[0] ?? null;
}
