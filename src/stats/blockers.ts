/**
 * Where the loop was blocked (issue 13): a window's stacks sampled during stalls, and
 * the main thread's timed steps, reduced to the lines that held the loop up, each with
 * its share of the stalled time. Pure: the same inputs give the same report, for both
 * runtimes (Python's `sys._current_frames()` reads, Node's CPU-profiler samples).
 *
 * A stall is a heartbeat lag sample at or above `stallMs`; its lag is the time to
 * explain. A stack sample at `tMs` belongs to the first heartbeat that woke at or after
 * it (the gap that heartbeat ends). Within a stall: the spans' overlap goes to their
 * step on the main thread, the rest is spread equally over the stall's dumps (the
 * samples taken at one instant). Within a dump: a loop stack with a user frame owns
 * it; else the worker threads share it by the CPU each got (the GIL holder gets the
 * most), or equally without per-thread clocks; when hardly any thread ran, the time is
 * "not running" (a busy machine), not anyone's line.
 */
import type { Attribution, Blocker, RawAttribution, RawFrame, RawStackSample, StackFrame } from '../shared/protocol';
import { round3 } from './percentiles';

/** The blockers a run reports: the rest still count in `attributedMs`. */
export const TOP_BLOCKERS = 10;
/** Stalls this long or longer get their own coverage figure (the issue's ≥ 90% target). */
export const COVERAGE_STALL_MS = 20;
/**
 * A dump whose threads together got less CPU than this share of its part of the gap
 * found nothing running: the machine ran other processes (the loop and the workers
 * all waited), so no line is to blame.
 */
export const NOT_RUNNING_CPU_FRAC = 0.1;
/** Frames kept per blocker's stack (the sidecars cap theirs at 24 too). */
const STACK_FRAMES = 24;

export interface StallInputs {
  /** The window's heartbeat samples `[tMs, lagMs]`, by wake time. */
  samples: readonly (readonly number[])[];
  heartbeatMs: number;
  stallMs: number;
}

export interface Blockers {
  /** The top TOP_BLOCKERS lines by stalled time. */
  blockers: Blocker[];
  attribution: Attribution;
}

interface Stall {
  /** Its heartbeat sample's index in the window. */
  index: number;
  wakeMs: number;
  lagMs: number;
  /** From the previous wake to this one: what the dumps' CPU is compared with. */
  gapMs: number;
  dumps: Map<number, RawStackSample[]>;
  attributedMs: number;
}

interface Tally {
  frame: RawFrame | null;
  thread: Blocker['thread'];
  step: Blocker['step'];
  ms: number;
  samples: number;
  stalls: Set<number>;
  /** Each stack through this line (frame indexes, tool frames left out) and how often it was seen. */
  stacks: Map<string, { frames: RawFrame[]; count: number }>;
}

/**
 * The blockers and the attribution summary of one window. `enabled` false (the
 * user turned attribution off) gives status `off`; a window without raw attribution
 * gives `unavailable`; a sidecar's `error` gives `failed` (what it did sample still counts).
 */
export function reduceBlockers(raw: RawAttribution | null | undefined, lag: StallInputs, enabled: boolean): Blockers {
  const stalls = stallsOf(lag);
  const stalledMs = stalls.reduce((a, s) => a + s.lagMs, 0);
  if (!enabled) return { blockers: [], attribution: empty('off', stalledMs) };
  if (!raw) return { blockers: [], attribution: empty('unavailable', stalledMs, 'the sidecar sampled no stacks in this mode') };
  if (raw.unavailable !== undefined) return { blockers: [], attribution: empty('unavailable', stalledMs, raw.unavailable) };

  const notes: string[] = [...(raw.notes ?? [])];
  const frameOf = (i: number): RawFrame | undefined => raw.frames[i];
  const stackOf = (s: RawStackSample): RawFrame[] | null => {
    const ids = raw.stacks[s.stack];
    if (!ids) return null;
    // Tool frames (Loop Lag's own) are never the user's answer; a bad index is dropped.
    return ids.map(frameOf).filter((f): f is RawFrame => f !== undefined && f.kind !== 'tool');
  };

  let badStacks = 0;
  const wakes = lag.samples.map((s) => s[0]);
  const stallAt = new Map<number, Stall>(stalls.map((s) => [s.index, s]));
  for (const s of raw.samples) {
    // Samples outside stalls (a gap shorter than stallMs) explain no stalled time.
    const stall = stallAt.get(firstAtOrAfter(wakes, s.tMs));
    if (!stall) continue;
    const dump = stall.dumps.get(s.dump) ?? [];
    dump.push(s);
    stall.dumps.set(s.dump, dump);
  }

  const tallies = new Map<string, Tally>();
  const unattributed = { noSampleMs: 0, notRunningMs: 0, otherMs: 0 };
  let cpuSplit = false;
  let equalSplit = false;
  stalls.forEach((stall, n) => {
    const credit = (frames: RawFrame[] | null, thread: Blocker['thread'], step: Blocker['step'] | null, ms: number, spanFrame?: RawFrame) => {
      const keyed = spanFrame ?? keyFrame(frames ?? []);
      if (!keyed || ms <= 0) return;
      const realStep = step ?? stepOf(keyed);
      const key = [thread, realStep, keyed.file ?? '', keyed.line ?? '', keyed.function].join('\u0000');
      const t = tallies.get(key) ?? { frame: keyed, thread, step: realStep, ms: 0, samples: 0, stalls: new Set<number>(), stacks: new Map() };
      t.ms += ms;
      t.samples++;
      t.stalls.add(n);
      if (frames) {
        const stackKey = frames.map((f) => `${f.file}:${f.line}:${f.function}`).join('|');
        const seen = t.stacks.get(stackKey) ?? { frames, count: 0 };
        seen.count++;
        t.stacks.set(stackKey, seen);
      }
      tallies.set(key, t);
      stall.attributedMs += ms;
    };

    // The main thread's own steps (serialization around pool calls): exact, so first.
    const start = stall.wakeMs - stall.lagMs;
    const overlaps = (raw.spans ?? []).map((sp) => ({ step: sp.step, ms: Math.max(0, Math.min(sp.endMs, stall.wakeMs) - Math.max(sp.startMs, start)) }));
    const spanned = overlaps.reduce((a, o) => a + o.ms, 0);
    const scale = spanned > stall.lagMs ? stall.lagMs / spanned : 1;
    for (const o of overlaps) credit(null, 'main', o.step, o.ms * scale, { file: null, line: null, function: o.step, kind: 'runtime' });
    const rest = stall.lagMs - Math.min(spanned, stall.lagMs);
    if (rest <= 0) return;
    if (!stall.dumps.size) {
      unattributed.noSampleMs += rest;
      return;
    }
    const ms = rest / stall.dumps.size;
    for (const id of [...stall.dumps.keys()].sort((a, b) => a - b)) {
      const dump = stall.dumps.get(id)!;
      const stacks = dump.map((s) => {
        const st = stackOf(s);
        if (!st) badStacks++;
        return st ?? [];
      });
      const split = splitDump(dump, stacks, ms, stall.gapMs / stall.dumps.size);
      for (const o of split.owners) credit(o.frames, o.thread, o.step, o.ms);
      unattributed.notRunningMs += split.notRunningMs;
      unattributed.otherMs += split.otherMs;
      if (split.weighting === 'cpu-time') cpuSplit = true;
      if (split.weighting === 'equal') equalSplit = true;
    }
  });

  if (badStacks) notes.push(`${badStacks} samples named a stack the sidecar did not send`);
  const all = [...tallies.values()].map((t) => toBlocker(t, stalledMs)).sort(byRank);
  const attributedMs = stalls.reduce((a, s) => a + s.attributedMs, 0);
  const long = stalls.filter((s) => s.lagMs >= COVERAGE_STALL_MS);
  const longMs = long.reduce((a, s) => a + s.lagMs, 0);
  const attribution: Attribution = {
    version: 1,
    status: raw.error ? 'failed' : 'ok',
    ...(raw.error ? { reason: raw.error } : {}),
    method: raw.method,
    intervalMs: raw.intervalMs,
    stalledMs: round3(stalledMs),
    attributedMs: round3(attributedMs),
    coverage: stalledMs > 0 ? fraction(attributedMs / stalledMs) : null,
    coverage20Ms: longMs > 0 ? fraction(long.reduce((a, s) => a + s.attributedMs, 0) / longMs) : null,
    unattributed: { noSampleMs: round3(unattributed.noSampleMs), notRunningMs: round3(unattributed.notRunningMs), otherMs: round3(unattributed.otherMs) },
    samples: raw.samples.length,
    ...(raw.droppedSamples !== undefined ? { droppedSamples: raw.droppedSamples } : {}),
    ...(equalSplit ? { weighting: 'equal' as const } : cpuSplit ? { weighting: 'cpu-time' as const } : {}),
    ...(notes.length ? { notes } : {}),
  };
  return { blockers: all.slice(0, TOP_BLOCKERS), attribution };
}

/** Who a dump's part of a stall goes to, and what no line explains. */
interface DumpSplit {
  owners: { frames: RawFrame[]; thread: Blocker['thread']; step: Blocker['step'] | null; ms: number }[];
  notRunningMs: number;
  otherMs: number;
  weighting?: 'cpu-time' | 'equal';
}

/**
 * One dump's `ms` of a stall: the loop owns it when it was in the user's code (inline);
 * else the other threads share it, by the CPU each got over the dump's part of the gap
 * (`gapMs`), or equally when a thread has no CPU clock. Every thread's CPU counts, the
 * loop's too: time it ran outside the user's code is no worker's. A thread of the
 * user's own ('other') or without frames is no line's (`otherMs`).
 */
function splitDump(dump: readonly RawStackSample[], stacks: readonly RawFrame[][], ms: number, gapMs: number): DumpSplit {
  const out: DumpSplit = { owners: [], notRunningMs: 0, otherMs: 0 };
  const loop = dump.findIndex((s) => s.thread === 'loop');
  const others = dump.map((_, i) => i).filter((i) => i !== loop);
  if (loop >= 0 && (stacks[loop].some((f) => f.kind === 'user') || (!others.length && stacks[loop].some((f) => f.kind !== 'stdlib')))) {
    // In the user's code, or nothing else sampled (inline, Node): the loop's own frames, e.g. the
    // garbage collector. A loop in the standard library alone (asyncio waiting in select on a
    // busy machine) ran none of the target: no line's.
    out.owners.push({ frames: stacks[loop], thread: 'loop', step: null, ms });
    return out;
  }
  if (!others.length) {
    out.otherMs = ms;
    return out;
  }
  const give = (i: number, part: number) => {
    const raw = dump[i].thread;
    const thread = raw === 'worker' || raw === 'pool-manager' ? 'gil-holder' : raw === 'main' ? 'main' : null;
    if (thread && stacks[i].length) out.owners.push({ frames: stacks[i], thread, step: raw === 'pool-manager' ? 'pool-manager' : null, ms: part });
    else out.otherMs += part;
  };
  if (others.every((i) => typeof dump[i].cpuMs === 'number')) {
    const cpu = dump.map((s) => Math.max(0, s.cpuMs ?? 0));
    const total = cpu.reduce((a, c) => a + c, 0);
    if (total < NOT_RUNNING_CPU_FRAC * gapMs) {
      out.notRunningMs = ms;
      return out;
    }
    out.weighting = 'cpu-time';
    dump.forEach((_, i) => {
      if (cpu[i] > 0) give(i, (ms * cpu[i]) / total);
    });
  } else {
    out.weighting = 'equal';
    for (const i of others) give(i, ms / others.length);
  }
  return out;
}

/** The stalls of a window, in wake order, each with the gap it ends. */
function stallsOf(lag: StallInputs): Stall[] {
  const out: Stall[] = [];
  lag.samples.forEach(([wakeMs, lagMs], i) => {
    if (lagMs < lag.stallMs) return;
    const gapMs = i > 0 ? wakeMs - lag.samples[i - 1][0] : lagMs + lag.heartbeatMs;
    out.push({ index: i, wakeMs, lagMs, gapMs, dumps: new Map(), attributedMs: 0 });
  });
  return out;
}

/** The index of the first wake at or after `t` (wakes ascending); `wakes.length` when none. */
function firstAtOrAfter(wakes: readonly number[], t: number): number {
  let lo = 0;
  let hi = wakes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (wakes[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The line to change: the innermost frame in the user's workspace, else the innermost frame. */
function keyFrame(frames: readonly RawFrame[]): RawFrame | undefined {
  return frames.find((f) => f.kind === 'user') ?? frames[0];
}

/** The garbage collector is a step of its own (no line of the user's ran); all else is the call. */
function stepOf(frame: RawFrame): Blocker['step'] {
  return frame.kind === 'runtime' && frame.function === '(garbage collector)' ? 'gc' : 'call';
}

function toBlocker(t: Tally, stalledMs: number): Blocker {
  // The most frequent stack; ties go to the one that sorts first, so the report is reproducible.
  const [top] = [...t.stacks.entries()].sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const frames = top ? top[1].frames : [];
  const k = frames.findIndex((f) => f.kind === 'user');
  // What the user's line called that blocked: the innermost frame below it, when it is not the user's.
  const below = k > 0 ? frames[0] : null;
  const f = t.frame!;
  return {
    file: f.file,
    line: f.line,
    function: f.function,
    source: f.source ?? null,
    thread: t.thread,
    step: t.step,
    stalledMs: round3(t.ms),
    share: stalledMs > 0 ? fraction(t.ms / stalledMs) : 0,
    samples: t.samples,
    stalls: t.stalls.size,
    stack: frames.slice(0, STACK_FRAMES).map(stackFrame),
    ...(t.stacks.size ? { library: below ? stackFrame(below) : null } : {}),
  };
}

function stackFrame(f: RawFrame): StackFrame {
  return { file: f.file, line: f.line, function: f.function, kind: f.kind, ...(f.lineIsDefinition !== undefined ? { lineIsDefinition: f.lineIsDefinition } : {}) };
}

/** By stalled time, then by place: ties never depend on the samples' order. */
function byRank(a: Blocker, b: Blocker): number {
  return b.stalledMs - a.stalledMs || cmp(a.file, b.file) || (a.line ?? Infinity) - (b.line ?? Infinity) || cmp(a.function, b.function)
    || cmp(a.thread, b.thread) || cmp(a.step, b.step);
}

function cmp(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/** A share rounded down to 4 digits, so shares never add up past 1. */
function fraction(x: number): number {
  return Math.floor(Math.min(1, Math.max(0, x)) * 10000) / 10000;
}

function empty(status: 'off' | 'unavailable', stalledMs: number, reason?: string): Attribution {
  return {
    version: 1, status, ...(reason ? { reason } : {}), method: null, intervalMs: null,
    stalledMs: round3(stalledMs), attributedMs: 0, coverage: null, coverage20Ms: null,
    unattributed: { noSampleMs: 0, notRunningMs: 0, otherMs: 0 }, samples: 0,
  };
}
