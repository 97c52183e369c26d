/**
 * The host's view of one sidecar from its messages (SidecarWatch), and what it says when
 * the sidecar cannot: where a timed-out run hung (hangSite), what a call-timeout cut (cutWindow).
 */
import * as path from 'node:path';
import type { Mode, RawWindow, RunError, RunPlan, RunTarget, SidecarMessage, TaskRecord } from '../shared/protocol';
import type { Progress } from './runSession';

/**
 * What one sidecar is doing, from its messages: whether it said hello and loaded the
 * target, its last progress, when its window opened, when it last said anything. The
 * host's view when the sidecar cannot speak: a timeout says where the run hung
 * (hangSite), the call-timeout watchdog sees a silent call (stuck, cutWindow).
 */
export class SidecarWatch implements HangState {
  helloSeen = false;
  loaded = false;
  progress: Progress | null = null;
  runningSinceMs: number | null = null;
  /** The mode whose calls run (the diagnostic window is thread mode's: a stuck call there is thread mode's too). */
  mode: string | null = null;
  phase: Progress['phase'] | null = null;
  done = 0;
  total = 0;
  private lastHeardAt: number;

  constructor(now: number, readonly sweep: boolean) {
    this.lastHeardAt = now;
  }

  heard(m: SidecarMessage, now: number): void {
    this.lastHeardAt = now;
    if (m.type === 'hello') {
      this.helloSeen = true;
    } else if (m.type === 'target') {
      this.loaded = true;
    } else if (m.type === 'progress') {
      const p = this.progress;
      // A window opens with `running`, 0 done (a sweep opens one per count in the same mode).
      if (m.phase === 'running' && (m.done === 0 || p?.mode !== m.mode || p.phase !== 'running')) this.runningSinceMs = now;
      this.progress = { mode: m.mode, phase: m.phase, done: m.done, total: m.total };
      const mode = m.mode === 'diagnostic' ? 'thread' : m.mode;
      if (mode !== this.mode) this.afterCut = false;
      this.mode = mode;
      this.phase = m.phase;
      this.done = m.mode === 'diagnostic' ? 0 : m.done;
      this.total = m.total;
    } else if (m.type === 'window' && m.window.mode === this.mode) {
      this.phase = 'done';
      if (m.window.error?.kind === 'call-timeout') this.afterCut = true;
    }
  }

  /** A window was cut by the call timeout: the sidecar should now end; a call that ignores being cancelled can keep it alive. */
  private afterCut = false;

  /** A call is running (or an inline/thread warm-up call, which runs in the sidecar) and nothing was heard for `ms`. */
  stuck(now: number, ms: number): boolean {
    if (!this.mode || this.mode === 'baseline' || now - this.lastHeardAt < ms) return false;
    return this.afterCut || this.phase === 'running' || (this.phase === 'warming' && (this.mode === 'inline' || this.mode === 'thread'));
  }

  /** The window the host records for a sidecar it ended at the call timeout. */
  cutWindow(now: number, plan: RunPlan, limitMs: number): RawWindow {
    const name = plan.target.qualname ?? (plan.target.lines ? `lines ${plan.target.lines.start}-${plan.target.lines.end}` : 'the target');
    const open = this.total - this.done;
    const silentS = Math.round((now - this.lastHeardAt) / 100) / 10;
    const inWarmup = this.phase !== 'running';
    const what = plan.sweepWorkers && !inWarmup
      // A sweep's rounds run as many calls as their time needs: no "N of total" to name.
      ? `a call of ${name} in ${this.mode} (a sweep round, after ${this.done} finished call(s)) did not finish within ${limitMs / 1000} s (--call-timeout)`
      : inWarmup
      ? `${callsPhrase(0, this.total, name)} in ${this.mode} never started: the unmeasured warm-up call before them did not finish within ${limitMs / 1000} s (--call-timeout)`
      : open > 0
        ? `${callsPhrase(this.done, this.total, name)} in ${this.mode} did not finish within ${limitMs / 1000} s (--call-timeout)`
        // Every call had reported done: what hung was the window's end (or the sidecar's, after a cut).
        : `the ${this.mode} window did not end within ${limitMs / 1000} s (--call-timeout) of its last call`;
    return this.window('unfinished', {
      kind: 'call-timeout',
      message: `${what}; the sidecar could not answer (a call held the loop or the GIL) and was stopped after ${silentS} s without a word`,
      detail: null,
    }, open, now);
  }

  /** The window of a sidecar that ended (crash, timeout, cancel) while its mode's calls ran; null outside a window. */
  lostWindow(plan: RunPlan, why: RunError, sent: ReadonlySet<string>): RawWindow | null {
    if (!this.mode || this.phase !== 'running' || sent.has(this.mode) || !plan.modes.includes(this.mode as Mode)) return null;
    return this.window(why.kind === 'crashed' ? 'crashed' : 'unfinished', why, this.total - this.done, Date.now());
  }

  /**
   * No samples: the sidecar's own figures died with it, and a gap the host saw is not
   * the loop's lag (the host cannot tell a blocked loop from a silent one). The calls
   * that finished are known by count only: their records have no times.
   */
  private window(lostAs: 'unfinished' | 'crashed', error: RunError, open: number, now: number): RawWindow {
    const done = this.total - open;
    const tasks: TaskRecord[] = Array.from({ length: this.total }, (_, i) => ({
      id: i, queuedMs: 0, startMs: null, endMs: null, worker: null, error: null, status: i < done ? 'ok' : lostAs,
    }));
    return {
      mode: this.mode as Mode, status: 'failed', error, partial: true,
      wallMs: this.phase === 'running' && this.runningSinceMs !== null ? now - this.runningSinceMs : 0, startupMs: null, workers: null, tasks, samples: [], gilWaitsMs: null,
      cpu: { userMs: 0, systemMs: 0 }, backgroundCpuFrac: null,
      notes: ['no lag samples: the sidecar ended before it could send this window (its wall time is the host\'s, from the window\'s start to the cut)'],
      output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
    };
  }
}

/** `call 3 of f` / `calls 3–10 of f` (1-based): the calls not done when the sidecar stopped, in the order they were started. */
function callsPhrase(done: number, total: number, name: string): string {
  return total - done === 1 ? `call ${total} of ${name}` : `calls ${done + 1}–${total} of ${name}`;
}

/** What one sidecar was doing, from its messages so far: for a timeout to say where the run hung. */
export interface HangState {
  helloSeen: boolean;
  /** The target was imported (its `target` message came). */
  loaded: boolean;
  /** The last progress message, and when (host ms) its mode's `running` phase began. */
  progress: Progress | null;
  runningSinceMs: number | null;
  /** A sweep's rounds run more calls than `total`. */
  sweep: boolean;
}

/**
 * Where a run hung, as the middle of the timeout message: "in thread mode: 2 of 10 calls
 * of `slow` finished, 8 not finished (running or queued; the longest for 2.8 s)". The
 * longest is timed from the window's start, when the first calls were handed out.
 */
export function hangSite(h: HangState, target: RunTarget, nowMs: number): string {
  const fn = target.qualname ? `\`${target.qualname}\`` : target.lines ? `lines ${target.lines.start}-${target.lines.end}` : 'the target';
  if (!h.helloSeen) return 'while the sidecar was starting';
  const p = h.progress;
  if (!p) return h.loaded ? 'before the first mode started' : `while importing ${path.basename(target.file)}`;
  if (p.mode === 'baseline') return 'while measuring the idle baseline';
  if (p.mode === 'diagnostic') return 'in the one-thread diagnostic before thread mode';
  const mode = `in ${p.mode} mode`;
  switch (p.phase) {
    case 'starting': return `${mode}, while it was starting (no call of ${fn} had started)`;
    case 'warming': return `${mode}, while warming up (starting the pool, or a first call of ${fn})`;
    case 'draining': return `${mode}, while waiting for its last calls of ${fn} to end`;
    case 'done': return `${mode}, after all its calls of ${fn} finished (while stopping it)`;
    case 'running': {
      const longest = h.runningSinceMs === null ? null : `the longest for ${((nowMs - h.runningSinceMs) / 1000).toFixed(1)} s`;
      if (h.sweep || p.total === 0) return `${mode}, in a sweep round: ${p.done} call(s) of ${fn} finished${longest ? ` (${longest})` : ''}`;
      const left = Math.max(0, p.total - p.done);
      return `${mode}: ${p.done} of ${p.total} calls of ${fn} finished, ${left} not finished (running or queued${longest ? `; ${longest}` : ''})`;
    }
  }
}
