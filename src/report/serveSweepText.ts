/**
 * looplag.serveSweep/1 in the terminal: the headline first (the highest rate each variant
 * sustains within the budget), then per variant one row per rate (the verdict, the probe's
 * p50/p99, the loop's lag p99/max, the worst endpoint's p99, failures, completed per
 * second; a rate not run says why) and the line that blocked the loop most where the
 * variant stopped. Every string from user code is made printable.
 */
import { fmtMs, fmtRate, printable } from '../shared/format';
import type { ServeSweep, ServeSweepPoint, ServeSweepVariant } from '../shared/protocol/serveSweep';
import { blockerSentence } from './blockerText';
import { VERDICT_WORDS } from './serveText';

const HEADER = ['req/s', 'verdict', 'probe p50', 'probe p99', 'lag p99', 'lag max', 'endpoint p99', 'failed', 'done/s'];

function pointCells(p: ServeSweepPoint): string[] {
  const verdict = p.status === 'failed' ? (p.error ? `failed [${p.error.kind}]` : 'failed') : p.fellBehind.length ? 'fell behind' : VERDICT_WORDS[p.verdict];
  const worst = p.endpoints.reduce<number | null>((a, e) => (e.p99Ms === null ? a : Math.max(a ?? 0, e.p99Ms)), null);
  return [fmtRate(p.ratePerS), verdict, fmtMs(p.probe?.p50Ms), fmtMs(p.probe?.p99Ms), fmtMs(p.loop?.lagP99Ms), fmtMs(p.loop?.lagMaxMs), fmtMs(worst), String(p.failures), p.completedPerS.toFixed(1)];
}

function variantTitle(v: ServeSweepVariant): string {
  if (v.points.every((p) => p.status === 'not-run')) return `${v.label} — not run`;
  if (!v.points.some((p) => p.status === 'measured')) return `${v.label} — not measured`;
  const amount = v.sustainedRatePerS === null ? 'sustains none of the rates' : `sustains ${fmtRate(v.sustainedRatePerS)} req/s`;
  const why = v.stop ? ` (${printable(v.stop.reason)})` : v.sustainedAll ? ' (every rate tried)' : '';
  return `${v.label} — ${amount}${why}`;
}

function variantLines(v: ServeSweepVariant): string[] {
  const rows = [HEADER, ...v.points.filter((p) => p.status !== 'not-run').map(pointCells)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const out = ['', variantTitle(v)];
  if (rows.length > 1) out.push(...rows.map((r) => `  ${r.map((c, i) => (i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`.trimEnd()));
  for (const p of v.points) {
    if (p.status === 'not-run') out.push(`  ${fmtRate(p.ratePerS)} req/s not run: ${printable(p.reason ?? '')}`);
    else if (p.status === 'failed' && p.error) out.push(`  ${fmtRate(p.ratePerS)} req/s: ${printable(p.error.message)}`);
  }
  // Where it stopped, the line that held the loop: what limits the rate.
  const stopped = v.points.find((p) => p.ratePerS === v.stop?.ratePerS);
  if (stopped?.topBlocker) out.push(`  at ${fmtRate(stopped.ratePerS)} req/s the loop was blocked most at: ${blockerSentence(stopped.topBlocker)}`);
  const notes = v.points.flatMap((p) => p.notes.map((n) => `at ${fmtRate(p.ratePerS)} req/s: ${printable(n)}`));
  for (const n of notes) out.push(`  note: ${n}`);
  return out;
}

/** The CLI's human output for `looplag serve --sweep-rate`. */
export function serveSweepText(d: ServeSweep): string {
  const s = d.settings;
  const app = printable(d.app.type === 'asgi' ? d.app.target : d.app.script);
  const rt = d.runtime ? ` · ${printable(d.runtime.implementation)} ${printable(d.runtime.version)} · ${d.runtime.cpuCount} cores` : '';
  const budget = s.verdictBudgetMs < 1000 ? `${s.verdictBudgetMs} ms` : fmtMs(s.verdictBudgetMs);
  const lines = [
    `Loop Lag serve sweep · ${app}${rt}`,
    `${s.endpoints.map((e) => printable(e.name)).join(', ')} at ${s.ratesPerS.map(fmtRate).join(', ')} req/s${s.endpoints.length > 1 ? ' each' : ''} · probe ${fmtRate(s.probeRatePerS)} req/s · ` +
      `${s.durationS} s measured after ${s.warmupS} s warm-up per point · budget ${budget}${s.budgetMs === null ? ' (default)' : ''} · stall ≥ ${fmtMs(s.stallMs)}`,
    `→ ${printable(d.headline)}`,
  ];
  for (const v of d.variants) lines.push(...variantLines(v));
  if (d.error) lines.push('', `error [${d.error.kind}]: ${printable(d.error.message)}`);
  if (!d.quality.trustworthy) lines.push('', '⚠ Some points may not describe the server alone: see the notes above.');
  return lines.join('\n') + '\n';
}
