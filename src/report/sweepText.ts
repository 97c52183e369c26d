import type { Sweep, SweepPoint } from '../shared/protocol';
import { fmtMs } from '../shared/format';

/** `±4% ×3`: the rounds' relative half-range and how many rounds; `–` without repeats. */
export function fmtSpread(p: Pick<SweepPoint, 'throughputSpread' | 'repeats'>): string {
  return p.throughputSpread == null ? '–' : `±${(p.throughputSpread * 100).toFixed(0)}% ×${p.repeats ?? '?'}`;
}

/** The CLI's sweep output: one row per mode and pool size, ★ on the recommendation, then the code. */
export function formatSweepText(s: Sweep): string {
  const lines: string[] = [];
  const t = s.target;
  lines.push(`Loop Lag sweep · ${t.qualname ?? (t.lines ? `lines ${t.lines.start}-${t.lines.end}` : '?')}(${t.args}) in ${t.file}`);
  if (s.runtime) lines.push(`${s.runtime.implementation} ${s.runtime.version} · ${s.runtime.cpuCount} cores · ${s.settings.concurrency} concurrent calls · budget ${fmtMs(s.settings.lagBudgetMs)}`);
  lines.push(`→ ${s.headline}`);
  const rec = new Map(s.recommendations.map((r) => [r.mode, r.workers]));
  const header = ['mode', 'W', 'status', 'wall', 'tasks/s', 'spread', 'lag p99', 'lag max', 'stalls', 'CPU/wall', 'queue max', ''];
  const rows = s.points.map((p) => [
    p.mode, String(p.workers), p.status, fmtMs(p.wallMs), p.throughputPerS === null ? '–' : p.throughputPerS.toFixed(1),
    fmtSpread(p), fmtMs(p.lag.p99Ms), fmtMs(p.lag.maxMs), String(p.lag.stallCount), p.cpuParallelism.toFixed(2), fmtMs(p.queueMaxMs),
    rec.get(p.mode) === p.workers && p.status === 'ok' ? '★ recommended' : p.workers > p.effectiveWorkers ? `(${p.effectiveWorkers} busy at most)` : '',
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  lines.push('');
  all.forEach((r, n) => {
    lines.push(r.map((c, i) => (i < 1 || i === 2 || i === r.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd());
    if (n === 0) lines.push(widths.map((w) => '─'.repeat(w)).join('  '));
  });
  lines.push('');
  for (const r of s.recommendations) {
    lines.push(`${r.mode}: ${r.workers === null ? 'no recommendation' : `W=${r.workers}`} — ${r.reason}`);
    if (r.code) lines.push(...r.code.split('\n').map((l) => `    ${l}`));
  }
  for (const p of s.points) if (p.error) lines.push(`${p.mode} W=${p.workers}: ${p.status} [${p.error.kind}] ${p.error.message}`);
  if (s.error) lines.push(`error [${s.error.kind}]: ${s.error.message}`);
  for (const n of s.quality.notes) lines.push(`note: ${n}`);
  const plan = s.settings.budgetS !== undefined ? ` (budget ${s.settings.budgetS} s; each window ≥ ${fmtMs(s.settings.minWindowMs ?? 0)} and ≥ ${s.settings.minRepeats} rounds when it allows)` : '';
  lines.push(`sweep: ${fmtMs(s.settings.totalMs ?? 0)} in all, ${fmtMs(s.settings.windowsMs ?? 0)} of it measuring${plan}`);
  return lines.join('\n') + '\n';
}
