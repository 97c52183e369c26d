/**
 * Where the loop was blocked (RunPlan.attribution), for one window. Inline: V8's CPU
 * profiler through `node:inspector` on the main thread, started before the window opens
 * (`Profiler.start` itself blocks the loop for 40–240 ms) and stopped after it; its
 * samples are put on the heartbeat's clock and sent as stacks. Pool modes: no profiler
 * (the calls run elsewhere), but the main thread's own steps around each call
 * (serializing its arguments, deserializing its result) as exact spans. A failure is
 * the window's `attribution.error`: the measurement stands without it.
 */
import * as Module from 'node:module';
import type { AttributionPlan, RawAttribution, RawSpan } from '../../shared/protocol';
import { nowMs } from './clock';
import { Frames } from './frameResolver';
import { CpuProfile, profileClockOffsetMs, profileSamples } from './profileSamples';

/** Samples sent per window at most: 40 s of a blocked loop at 2 ms. */
const MAX_SAMPLES = 20_000;
/** Frames per stack, innermost first (the protocol's report keeps as many). */
const MAX_FRAMES = 24;
/** Spans per window at most: one or two per call, a sweep's many calls included. */
const MAX_SPANS = 20_000;

type Post = (method: string, params?: object) => Promise<unknown>;
interface InspectorSession {
  connect(): void;
  disconnect(): void;
  post(method: string, params: object | undefined, cb: (err: Error | null, result?: unknown) => void): void;
}

/** The inspector module, or why there is none (a Node built without it, a runtime that hides it). */
function loadInspector(): { Session: new () => InspectorSession } | string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('node:inspector') as { Session: new () => InspectorSession };
  } catch (e) {
    return `this Node has no inspector (${(e as Error).message})`;
  }
}

/** One window's attribution: begun before its heartbeat starts, ended after it stops. */
export class WindowAttribution {
  /** Pool modes: the main thread's steps, on the heartbeat's clock (absolute ms). */
  readonly spans: RawSpan[] | null;
  private droppedSpans = 0;

  private constructor(
    private readonly plan: AttributionPlan,
    private readonly profiler: { session: InspectorSession; post: Post; hrBeforeMs: number; hrAfterMs: number } | null,
    private readonly error: string | null,
    spans: boolean,
  ) {
    this.spans = spans ? [] : null;
  }

  /**
   * Null when the plan turns attribution off. Inline: the profiler is running when this
   * resolves; the time it took to start is before the window, never in it.
   */
  static async begin(plan: AttributionPlan | undefined, mode: string): Promise<WindowAttribution | null> {
    if (!plan?.enabled || mode === 'baseline') return null;
    if (mode !== 'inline') return new WindowAttribution(plan, null, null, true);
    const inspector = loadInspector();
    if (typeof inspector === 'string') return new WindowAttribution(plan, null, inspector, false);
    let session: InspectorSession | null = null;
    try {
      const s = new inspector.Session();
      session = s;
      s.connect();
      const post: Post = (method, params) => new Promise((resolve, reject) => s.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: Math.max(1, Math.round(plan.intervalMs * 1000)) });
      const hrBeforeMs = nowMs();
      await post('Profiler.start');
      const hrAfterMs = nowMs();
      return new WindowAttribution(plan, { session: s, post, hrBeforeMs, hrAfterMs }, null, false);
    } catch (e) {
      disconnect(session);
      return new WindowAttribution(plan, null, `the V8 profiler did not start: ${(e as Error).message}`, false);
    }
  }

  /** Records one of the main thread's steps (pool modes); `startMs`/`endMs` from nowMs(). */
  span(step: RawSpan['step'], startMs: number, endMs: number): void {
    if (!this.spans) return;
    if (this.spans.length < MAX_SPANS) this.spans.push({ step, startMs, endMs });
    else this.droppedSpans++;
  }

  /** Stops the profiler (if any) and says what the window's `t0`…`t0 + windowMs` saw. */
  async end(t0: number, windowMs: number, workspaceRoot: string | null, toolDir: string): Promise<RawAttribution> {
    const r4 = (x: number) => Math.round(x * 10000) / 10000;
    if (this.spans) {
      return {
        method: 'spans', intervalMs: 0, frames: [], stacks: [], samples: [],
        spans: this.spans.map((s) => ({ step: s.step, startMs: r4(s.startMs - t0), endMs: r4(s.endMs - t0) })),
        ...(this.droppedSpans ? { notes: [`${this.droppedSpans} spans past the first ${MAX_SPANS} were not sent`] } : {}),
      };
    }
    const empty: RawAttribution = { method: 'v8-cpu-profiler', intervalMs: this.plan.intervalMs, frames: [], stacks: [], samples: [] };
    if (!this.profiler) return { ...empty, error: this.error ?? 'the V8 profiler did not start' };
    const { post, session, hrBeforeMs, hrAfterMs } = this.profiler;
    try {
      const { profile } = (await post('Profiler.stop')) as { profile: CpuProfile };
      const offsetMs = profileClockOffsetMs(profile.startTime, hrBeforeMs, hrAfterMs);
      const frames = new Frames({ workspaceRoot, toolDir, findSourceMap: sourceMapFinder() });
      const out = profileSamples(profile, { t0Ms: t0, windowMs, offsetMs, resolve: frames.resolve, maxSamples: MAX_SAMPLES, maxFrames: MAX_FRAMES });
      return {
        ...empty, frames: out.frames, stacks: out.stacks, samples: out.samples,
        ...(out.droppedSamples ? { droppedSamples: out.droppedSamples, notes: [`samples past the first ${MAX_SAMPLES} were not sent`] } : {}),
      };
    } catch (e) {
      return { ...empty, error: `the V8 profiler failed: ${(e as Error).message}` };
    } finally {
      disconnect(session);
    }
  }

  /** The window failed outside our control: stop sampling, send nothing. */
  abandon(): void {
    disconnect(this.profiler?.session ?? null);
  }
}

function disconnect(session: InspectorSession | null): void {
  try {
    // Disconnecting ends the session's profile and disables its domains.
    session?.disconnect();
  } catch {
    // already gone
  }
}

/** `module.findSourceMap` (Node 13.7+), which sees the maps the loader's transpiler inlined. */
export function sourceMapFinder(): ((file: string) => { findEntry(line: number, column: number): object } | undefined) | undefined {
  const find = (Module as unknown as { findSourceMap?: (file: string) => { findEntry(line: number, column: number): object } | undefined }).findSourceMap;
  if (typeof find !== 'function') return undefined;
  return (file) => {
    try {
      return find(file);
    } catch {
      return undefined;
    }
  };
}
