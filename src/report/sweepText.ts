import type { Sweep, SweepPoint } from '../shared/protocol';
import { fmtMs } from '../shared/format';
import { cell, codeBlock } from './markdown';

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

/** What a sweep measured, as its views name it: `render()`, or `lines 3-9`. */
function sweepTargetName(s: Sweep): string {
  const t = s.target;
  return t.qualname ? `${t.qualname}()` : t.lines ? `lines ${t.lines.start}-${t.lines.end}` : '?';
}

/** The history's label for a sweep: `sweep · render() · best thread W=4` (the history lists reports and sweeps together). */
export function sweepHistoryLabel(s: Sweep): string {
  return `sweep · ${sweepTargetName(s)} · ${s.best ? `best ${s.best.mode} W=${s.best.workers}` : 'no pool size within budget'}`;
}

/**
 * A sweep as Markdown for a pull request or an issue (the panel's Copy Markdown): the
 * headline and each mode's recommended W with its code first, then a row per pool size.
 */
export function sweepMarkdown(s: Sweep): string {
  const t = s.target;
  const rt = s.runtime;
  const out: string[] = [];
  out.push(`### Loop Lag worker sweep: \`${sweepTargetName(s).replace(/`/g, "'")}\``, '');
  out.push(`${cell(t.file)} · args \`${t.args.replace(/`/g, "'") || '(none)'}\` · ` +
    (rt ? `${cell(rt.implementation)} ${cell(rt.version)} (${rt.cpuCount} cores) · ` : '') +
    `${s.settings.concurrency} concurrent calls · budget ${fmtMs(s.settings.lagBudgetMs)} · ${s.createdAt}`, '');
  out.push(`**${cell(s.headline)}**`, '');
  for (const r of s.recommendations) {
    out.push(`- **${cell(r.mode)}**: ${r.workers === null ? 'no pool size within budget' : `W = ${r.workers}`}: ${cell(r.reason)}`);
    if (r.code) out.push('', ...codeBlock(r.code, t.language).map((l) => `  ${l}`), '');
  }
  const rec = new Map(s.recommendations.map((r) => [r.mode, r.workers]));
  if (s.points.length) {
    out.push('', '| mode | W | calls/s | spread | lag p99 | lag max | stalls | CPU/wall | queue max |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const p of s.points) {
      const star = rec.get(p.mode) === p.workers && p.status === 'ok' ? ' ★' : '';
      const over = p.status === 'ok' && p.lag.maxMs > s.settings.lagBudgetMs ? '▲ ' : '';
      out.push(`| ${cell(p.mode)} | ${p.workers}${star} | ${p.throughputPerS === null ? cell(p.status) : p.throughputPerS.toFixed(1)} | ${fmtSpread(p)} | ` +
        `${fmtMs(p.lag.p99Ms)} | ${over}${fmtMs(p.lag.maxMs)} | ${p.lag.stallCount} | ${p.cpuParallelism.toFixed(2)} | ${fmtMs(p.queueMaxMs)} |`);
    }
    out.push('', `★ recommended · ▲ lag max over the budget (${fmtMs(s.settings.lagBudgetMs)}) · spread: the rounds' throughput ± half their range, × rounds`);
  }
  for (const p of s.points) if (p.error) out.push('', `> ${cell(p.mode)} W=${p.workers}: ${cell(p.status)}: ${cell(p.error.message)}`);
  if (s.error) out.push('', `> ${cell(s.error.kind)}: ${cell(s.error.message)}`);
  for (const n of s.quality.notes) out.push('', `> ${cell(n)}`);
  if (!s.quality.trustworthy) out.push('', '> ⚠ The machine was busy during this sweep: numbers may be inflated.');
  return out.join('\n') + '\n';
}
