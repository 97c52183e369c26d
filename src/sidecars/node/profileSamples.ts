/**
 * From a V8 CPU profile (the inspector's `Profiler.stop` result) to the protocol's raw
 * attribution samples: each sample's time on the heartbeat's clock, its node's ancestor
 * chain as an interned stack, the leaf's line from the node's `positionTicks`. Pure: the
 * frames are described by a resolver (frameResolver.ts) that knows paths and kinds.
 */
import type { RawFrame, RawStackSample } from '../../shared/protocol';

/** CDP `Runtime.CallFrame`: lines and columns 0-based. */
export interface CallFrame {
  functionName: string;
  scriptId?: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** CDP `Profiler.ProfileNode`. */
export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
  /** Self samples per source line (1-based), over the whole profile. */
  positionTicks?: { line: number; ticks: number }[];
}

/** CDP `Profiler.Profile`: times in µs on V8's monotonic clock; `timeDeltas[0]` is from `startTime`. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * Describes one frame. `line` is 1-based in the running script (null: unknown);
 * `isDefinition`: the line is where the function starts. Null: the frame is the
 * sidecar's own and is left out of the stack.
 */
export type FrameResolver = (frame: CallFrame, line: number | null, isDefinition: boolean) => RawFrame | null;

export interface SampleOptions {
  /** Profile time (ms, after the offset) of the window's start: samples' `tMs` count from it. */
  t0Ms: number;
  /** The window's length: samples after it are not the window's. */
  windowMs: number;
  /** Added to the profile's clock (ms) to land on the heartbeat's (see profileClockOffsetMs). */
  offsetMs: number;
  resolve: FrameResolver;
  /** Samples kept, in time order; the rest are counted as dropped. */
  maxSamples: number;
  /** Frames kept per stack, innermost first. */
  maxFrames: number;
}

export interface ProfileSamples {
  frames: RawFrame[];
  stacks: number[][];
  samples: RawStackSample[];
  droppedSamples: number;
}

/** The profiler's bookkeeping nodes: `(root)` is every chain's top, `(idle)` a loop waiting for work. */
const ROOT = '(root)';
const IDLE = '(idle)';

/** What a stack of only the sidecar's frames is shown as (its own work, e.g. the heartbeat's tick). */
const TOOL_FRAME: RawFrame = { file: null, line: null, function: '(Loop Lag)', kind: 'tool' };

/**
 * The offset (ms) from V8's profile clock to `process.hrtime`, given the hrtime read just
 * before and just after `Profiler.start`. On Linux both are CLOCK_MONOTONIC and the
 * profile's start falls between the two reads: no offset (calibrating from one read
 * would add the start's own latency as an error). Elsewhere (macOS: libuv and V8 may
 * read different clocks) the start is taken to be the read before.
 */
export function profileClockOffsetMs(startTimeUs: number, hrBeforeMs: number, hrAfterMs: number): number {
  const startMs = startTimeUs / 1000;
  const slackMs = 1;
  if (startMs >= hrBeforeMs - slackMs && startMs <= hrAfterMs + slackMs) return 0;
  return hrBeforeMs - startMs;
}

/**
 * `n` samples spread over lines in proportion to their ticks: counts by largest
 * remainder, then interleaved (smooth weighted round robin), so each part of the node's
 * time gets the lines in about the same proportion rather than one line after another.
 */
export function spreadLines(n: number, ticks: { line: number; ticks: number }[]): number[] {
  const rows = ticks.filter((t) => t.ticks > 0);
  const total = rows.reduce((s, t) => s + t.ticks, 0);
  if (n <= 0 || total <= 0) return [];
  const exact = rows.map((t) => (n * t.ticks) / total);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((s, c) => s + c, 0);
  const byRemainder = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || rows[a[1]].line - rows[b[1]].line);
  for (const [, i] of byRemainder) {
    if (left-- <= 0) break;
    counts[i]++;
  }
  const credit = counts.map(() => 0);
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    let best = -1;
    for (let i = 0; i < counts.length; i++) {
      credit[i] += counts[i];
      if (counts[i] > 0 && (best < 0 || credit[i] > credit[best])) best = i;
    }
    credit[best] -= n;
    out.push(rows[best].line);
  }
  return out;
}

/** The window's samples of a profile, as interned frames and stacks (see SampleOptions). */
export function profileSamples(profile: CpuProfile, o: SampleOptions): ProfileSamples {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ids = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Cumulative deltas, then sorted: V8 may record a sample's delta out of order.
  let us = profile.startTime;
  const timed = ids.map((id, i) => {
    us += deltas[i] ?? 0;
    return { id, tMs: us / 1000 + o.offsetMs - o.t0Ms, i };
  });
  timed.sort((a, b) => a.tMs - b.tMs || a.i - b.i);
  const inWindow = timed.filter((s) => {
    const name = byId.get(s.id)?.callFrame.functionName;
    return s.tMs >= 0 && s.tMs <= o.windowMs && name !== IDLE && name !== ROOT && byId.has(s.id);
  });
  const kept = inWindow.slice(0, o.maxSamples);

  // Each node's samples in this window get its lines in turn.
  const perNode = new Map<number, number>();
  for (const s of kept) perNode.set(s.id, (perNode.get(s.id) ?? 0) + 1);
  const lineQueue = new Map<number, number[]>();
  for (const [id, n] of perNode) lineQueue.set(id, spreadLines(n, byId.get(id)!.positionTicks ?? []));

  const frames: RawFrame[] = [];
  const frameIndex = new Map<string, number>();
  const intern = (f: RawFrame): number => {
    const key = JSON.stringify([f.file, f.line, f.function, f.kind, f.lineIsDefinition ?? false]);
    let i = frameIndex.get(key);
    if (i === undefined) {
      i = frames.push(f) - 1;
      frameIndex.set(key, i);
    }
    return i;
  };
  const stacks: number[][] = [];
  const stackIndex = new Map<string, number>();
  const stackOfLeaf = new Map<string, number>();
  /** The stack of a sample at `leafId` whose leaf line is `line` (null: the function's start). */
  const stackOf = (leafId: number, line: number | null): number => {
    const key = `${leafId}:${line}`;
    let s = stackOfLeaf.get(key);
    if (s !== undefined) return s;
    const chain: number[] = [];
    let sawTool = false;
    for (let id: number | undefined = leafId; id !== undefined && chain.length < o.maxFrames; id = parent.get(id)) {
      const cf = byId.get(id)!.callFrame;
      if (cf.functionName === ROOT && !cf.url) continue;
      const defLine = cf.lineNumber >= 0 ? cf.lineNumber + 1 : null;
      const leafLine = id === leafId && line !== null;
      const f = o.resolve(cf, leafLine ? line : defLine, !leafLine);
      if (f) chain.push(intern(f));
      else sawTool = true;
    }
    if (!chain.length && sawTool) chain.push(intern(TOOL_FRAME));
    const chainKey = chain.join(',');
    s = stackIndex.get(chainKey);
    if (s === undefined) {
      s = stacks.push(chain) - 1;
      stackIndex.set(chainKey, s);
    }
    stackOfLeaf.set(key, s);
    return s;
  };

  const samples: RawStackSample[] = kept.map((s, dump) => {
    const line = lineQueue.get(s.id)?.shift() ?? null;
    return { tMs: Math.round(s.tMs * 10000) / 10000, dump, thread: 'loop', stack: stackOf(s.id, line) };
  });
  return { frames, stacks, samples, droppedSamples: inWindow.length - kept.length };
}
