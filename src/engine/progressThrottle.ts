/**
 * When a run's progress reaches its views (the editor's status bar and progress
 * notification, the CLI's line). Whatever a view draws during a window is CPU the window
 * sees, and in code-server the browser drawing the workbench is not the editor's process,
 * so the busy-machine check counts it (issue 16): redrawn at each call's end, the status
 * bar and notification took 10-25% of a 2-core machine through each window, and a mode's
 * "starting" drawn just before its window (after a 100 ms warm-up call) took 40% of its
 * first half second. So:
 * - a window's own updates (phase `running`: its start and its calls' ends) are shown only
 *   `quietMs` after its start, then the latest at most every `quietMs`;
 * - an update between windows (a pool starting, a warm-up, a mode done) is shown once it
 *   has stood `settleMs` with no newer update: a phase that a window follows at once is
 *   never drawn, and one that lasts (a process pool importing numpy) is drawn well before
 *   its window. The sidecars send a few such updates per mode, so this never starves.
 */
/**
 * How long after a window's "running" its progress is first shown, and how often after
 * that: 1 s of the window, plus the up to 0.5 s the sidecar waits for a quiet moment
 * between sending "running" and opening the window (CpuMeter.quietStart).
 */
export const QUIET_WINDOW_MS = 1500;
/** How long an update between windows must stand before it is shown. */
export const SETTLE_MS = 300;

/** The time and timers the throttle runs on (a test's fake clock, else performance.now and setTimeout). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Holds a sidecar's progress updates back from its windows and passes them to `show` (see above). */
export class ProgressThrottle<P extends { mode: string; phase: string; done: number }> {
  private held: P | null = null;
  private timer: unknown = null;
  private lastShownMs = Number.NEGATIVE_INFINITY;
  /** The window whose updates are held (its mode and calls done so far), and when its first update came. */
  private window: { mode: string; done: number; startMs: number } | null = null;

  constructor(
    private readonly show: (p: P) => void,
    private readonly opts: { quietMs: number; settleMs: number; clock: Clock } = { quietMs: QUIET_WINDOW_MS, settleMs: SETTLE_MS, clock: realClock },
  ) {}

  /** A progress from the sidecar: shown now, later, or never, by the rules above. */
  offer(p: P): void {
    const { clock } = this.opts;
    const now = clock.now();
    let dueMs: number;
    if (p.phase === 'running') {
      // A new window: another mode, or the same mode's next window in a sweep (its count starts again).
      const was = this.window;
      const starts = !was || was.mode !== p.mode || p.done < was.done;
      const window = { mode: p.mode, done: p.done, startMs: was && !starts ? was.startMs : now };
      this.window = window;
      dueMs = Math.max(window.startMs + this.opts.quietMs, this.lastShownMs + this.opts.quietMs);
      // A window starting makes what was held before it moot: its time is to be left alone.
      if (starts) this.stopTimer();
    } else {
      this.window = null;
      // Between windows: once it has stood a settle (each such update starts the wait again).
      dueMs = now + this.opts.settleMs;
      this.stopTimer();
    }
    this.held = p;
    if (this.timer !== null) return;
    this.timer = clock.setTimeout(() => {
      this.timer = null;
      const held = this.held;
      this.held = null;
      if (!held) return;
      this.lastShownMs = clock.now();
      this.show(held);
    }, Math.max(0, dueMs - now));
  }

  /**
   * A window's result came: what was held of it is moot (a sweep's next window follows
   * without another update, and its views would put the old count under the new label).
   */
  windowEnded(): void {
    if (this.held?.phase === 'running') {
      this.stopTimer();
      this.held = null;
    }
    this.window = null;
  }

  /** The sidecar ended: nothing held is shown later. */
  dispose(): void {
    this.stopTimer();
    this.held = null;
  }

  private stopTimer(): void {
    if (this.timer !== null) this.opts.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
