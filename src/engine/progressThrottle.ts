/**
 * How often a run's progress reaches its views (the editor's status bar and progress
 * notification, the CLI's line): the sidecars send one update per call finished (then up
 * to ten a second), and the editor redraws for each, during the window being measured.
 * At most one every `minGapMs`, but always when the mode or phase changes.
 */
export class ProgressThrottle {
  private lastAtMs = -Infinity;
  private lastKey = '';

  constructor(private readonly minGapMs = 250, private readonly nowMs: () => number = () => performance.now()) {}

  /** True when this update is to be shown. */
  admit(p: { mode: string; phase: string }): boolean {
    const key = `${p.mode}\u0000${p.phase}`;
    const now = this.nowMs();
    if (key === this.lastKey && now - this.lastAtMs < this.minGapMs) return false;
    this.lastKey = key;
    this.lastAtMs = now;
    return true;
  }
}
