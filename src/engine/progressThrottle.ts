/**
 * How often a run's progress reaches its views (the editor's status bar and progress
 * notification, the CLI's line). Whatever a view draws during a window is CPU the window
 * sees, and in code-server the browser drawing the workbench is not the editor's process,
 * so the busy-machine check counts it: redrawn at each call's end (a call every 100 ms),
 * the status bar and notification took 10-25% of a 2-core machine through each window
 * (issue 16). So a window's own updates (phase `running`: its start and its calls'
 * ends) are shown only once it has run `quietMs`, then at most one every `quietMs`;
 * other updates (a pool starting, a mode done) come between windows: at once when the
 * mode or phase changes, else at most one every `minGapMs`.
 */
export const QUIET_WINDOW_MS = 1000;

export class ProgressThrottle {
  private lastAtMs = -Infinity;
  private lastKey = '';
  /** The window whose updates are held: its mode, and when its first update came. */
  private window: { key: string; startMs: number } | null = null;

  constructor(
    private readonly minGapMs = 250,
    private readonly nowMs: () => number = () => performance.now(),
    private readonly quietMs = QUIET_WINDOW_MS,
  ) {}

  /** True when this update is to be shown. */
  admit(p: { mode: string; phase: string }): boolean {
    const key = `${p.mode}\u0000${p.phase}`;
    const now = this.nowMs();
    if (p.phase === 'running') {
      if (this.window?.key !== key) this.window = { key, startMs: now };
      if (now - this.window.startMs < this.quietMs) return false;
      if (key === this.lastKey && now - this.lastAtMs < this.quietMs) return false;
    } else {
      this.window = null;
      if (key === this.lastKey && now - this.lastAtMs < this.minGapMs) return false;
    }
    this.lastKey = key;
    this.lastAtMs = now;
    return true;
  }
}
