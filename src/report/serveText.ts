/**
 * looplag.serve/1 in the terminal and in Markdown: the headline first (the verdict in the
 * user's words), then per variant a compact block: the endpoints and the probe (rate,
 * sent/ok/failed, p50/p99/max), the loop (lag p99/max, stalls, CPU), the top blocking
 * lines and the handlers that were in flight during the stalls. Every string that came
 * from user code (routes, paths, file and function names, messages) is made printable.
 */
import type { Blocker } from '../shared/protocol/attribution';
import type { EndpointStats, HandlerBlocking, ServeReport, ServeVariantReport, ServeVerdict } from '../shared/protocol/serveReport';
import { attributionStatus } from '../shared/blockerPhrases';
import { fmtMs, fmtRate, printable } from '../shared/format';
import { blockerSentence, blockerWords, BLOCKER_SHOWN_MIN_SHARE, BLOCKERS_SHOWN } from './blockerText';
import { cell } from './markdown';

/** How each verdict reads beside a variant's name. */
export const VERDICT_WORDS: { [K in ServeVerdict]: string } = {
  'within-budget': 'within budget',
  'over-budget': 'over budget',
  'failed-requests': 'requests failed',
  'not-measured': 'not measured',
};

/** Handlers listed per variant in the text views (the document keeps them all). */
export const HANDLERS_SHOWN = 5;

/** `20`, `2.5`: a rate, whole when it is. */
/** The columns of a stream: `req/s` is what completed per second (below the rate sent when requests failed or queued). */
const STREAM_HEADER = ['endpoint', 'req/s', 'sent', 'ok', 'failed', 'p50', 'p99', 'max'];

/** One stream's cells: name, completed per second, sent, ok, failed (no answer or 4xx/5xx), p50, p99, max. */
function streamCells(e: EndpointStats, name: string): string[] {
  const ok = e.completed - e.errorResponses;
  const l = e.latency;
  return [name, fmtRate(e.throughputPerS), String(e.sent), String(ok), String(e.failed + e.errorResponses), fmtMs(l?.p50Ms), fmtMs(l?.p99Ms), fmtMs(l?.maxMs)];
}

function table(rows: string[][], indent: string): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => indent + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd());
}

/** The variant's shown blockers: the top BLOCKERS_SHOWN at 1% or more. */
function shownBlockers(v: ServeVariantReport): Blocker[] {
  return v.blockers.filter((b) => b.share >= BLOCKER_SHOWN_MIN_SHARE).slice(0, BLOCKERS_SHOWN);
}

/** Why a variant with stalls lists no lines (attribution off, unavailable, failed, nothing sampled); null otherwise. */
function noBlockersReason(v: ServeVariantReport): string | null {
  const stalledMs = v.loop.merged?.stalledMs ?? 0;
  if (shownBlockers(v).length || stalledMs <= 0) return null;
  const status = v.loop.processes.map((p) => attributionStatus(p.attribution)).find((s) => s !== null);
  return status ?? `no line found for its ${fmtMs(stalledMs)} of stalls`;
}

/** `GET /reports/sales: 2.70 s in 9 stalls (9 alone) · app/reports.py:42 build_sales`. */
function handlerSentence(h: HandlerBlocking): string {
  const alone = h.soleStalls ? `, ${h.soleStalls} with it alone in flight` : '';
  const top = h.topBlocker ? ` · ${blockerSentence(h.topBlocker)}` : '';
  return `${printable(`${h.method} ${h.route}`)}: ${fmtMs(h.stalledMs)} in ${h.stalls} stall${h.stalls === 1 ? '' : 's'}${alone}${top}`;
}

function loopSentence(v: ServeVariantReport): string | null {
  const m = v.loop.merged;
  if (!m) return null;
  const several = v.loop.processes.length > 1 ? ` (worst of ${v.loop.processes.length} processes: pid ${m.worstPid})` : '';
  const cpu = v.cpu ? ` · CPU ${v.cpu.parallelism.toFixed(2)} cores` : '';
  // What the heartbeat predicts a request waits, beside what the probe waited: shown when the loop stalled.
  const wait = m.stallCount > 0 ? ` · a request arriving at random: p99 wait ${fmtMs(m.arrivalWaitP99Ms)}${v.probe?.latency ? ` (the probe: ${fmtMs(v.probe.latency.p99Ms)})` : ''}` : '';
  const stalls = m.stallCount ? `${m.stallCount} stall${m.stallCount === 1 ? '' : 's'} (${fmtMs(m.stalledMs)})` : 'no stalls';
  return `loop: lag p99 ${fmtMs(m.p99Ms)}, max ${fmtMs(m.maxMs)}${several}, ${stalls}${wait}${cpu}`;
}

/** The verdict's words, or `cut short, no verdict` for a variant whose figures stop at a cut. */
export function verdictWords(v: Pick<ServeVariantReport, 'status' | 'endpoints' | 'probe' | 'verdict'>): string {
  // Cut short (src/serve/verdict.ts cutShort, which no stage may import): failed after the load sent requests.
  const cut = v.status === 'failed' && [...v.endpoints, ...(v.probe ? [v.probe] : [])].some((e) => e.sent > 0);
  return cut ? 'cut short, no verdict' : VERDICT_WORDS[v.verdict];
}

function variantTitle(v: ServeVariantReport): string {
  const server = v.server ? ` · ${printable(v.server.name)}, pid ${v.server.pids.join(', ')}, started in ${fmtMs(v.server.startupMs)}` : '';
  return `${v.label} — ${verdictWords(v)}${server}`;
}

function variantLines(v: ServeVariantReport, attributionOn: boolean): string[] {
  const out = ['', variantTitle(v)];
  if (v.error) out.push(`  ${v.status} [${v.error.kind}] ${printable(v.error.message)}`);
  const streams = [...v.endpoints.map((e) => streamCells(e, printable(e.name))), ...(v.probe ? [streamCells(v.probe, 'probe')] : [])];
  if (streams.length) out.push(...table([STREAM_HEADER, ...streams], '  '));
  const loop = loopSentence(v);
  if (loop) out.push(`  ${loop}`);
  if (v.loop.processes.length > 1) {
    for (const p of v.loop.processes) out.push(`    pid ${p.pid}: lag p99 ${fmtMs(p.lag.p99Ms)}, max ${fmtMs(p.lag.maxMs)}, ${p.lag.stallCount} stalls, CPU ${p.cpu.parallelism.toFixed(2)} cores`);
  }
  const shown = shownBlockers(v);
  if (shown.length) out.push('  where the loop was blocked (share of the stalled time):', ...shown.map((b) => `    ${blockerSentence(b)}`));
  const none = attributionOn ? noBlockersReason(v) : null;
  if (none) out.push(`  ${none}`);
  const handlers = v.byHandler.filter((h) => h.stalls > 0).slice(0, HANDLERS_SHOWN);
  if (handlers.length) out.push('  in flight during the stalls:', ...handlers.map((h) => `    ${handlerSentence(h)}`));
  for (const n of [...v.notes, ...v.quality.notes]) out.push(`  note: ${printable(n)}`);
  if (v.output.truncated) out.push(`  server output truncated (${v.output.stdoutBytes + v.output.stderrBytes} bytes printed)`);
  return out;
}

/** The app as the views name it: `app.main:app` or `server.js`. */
function appName(r: ServeReport): string {
  return printable(r.app.type === 'asgi' ? r.app.target : r.app.script);
}

/** The CLI's human output for `looplag serve`: the headline first, then each variant's block. */
export function serveText(r: ServeReport): string {
  const s = r.settings;
  const lines: string[] = [];
  const rt = r.runtime ? ` · ${printable(r.runtime.implementation)} ${printable(r.runtime.version)} · ${r.runtime.cpuCount} cores` : '';
  lines.push(`Loop Lag serve · ${appName(r)}${rt}`);
  const budget = s.verdictBudgetMs < 1000 ? `${s.verdictBudgetMs} ms` : fmtMs(s.verdictBudgetMs);
  lines.push(`${fmtRate(s.ratePerS)} req/s per endpoint, probe ${fmtRate(s.probeRatePerS)} req/s · ${s.durationS} s measured after ${s.warmupS} s warm-up · ` +
    `budget ${budget}${s.budgetMs === null ? ' (default)' : ''} · heartbeat ${s.heartbeatMs} ms · stall ≥ ${fmtMs(s.stallMs)}`);
  lines.push(`→ ${printable(r.headline)}`);
  for (const v of r.variants) lines.push(...variantLines(v, s.attribution));
  if (!s.attribution) lines.push('', attributionStatus({ status: 'off' })!);
  if (r.error) lines.push('', `error [${r.error.kind}]: ${printable(r.error.message)}`);
  if (!r.quality.trustworthy) lines.push('', '⚠ These figures may not describe the server alone: see the notes above.');
  return lines.join('\n') + '\n';
}

/** The same for a pull request or an issue: the headline, one table row per stream and variant, the top lines. */
export function serveMarkdown(r: ServeReport): string {
  const out = [`### Loop Lag serve: \`${appName(r).replace(/`/g, "'")}\``, '', `**${cell(printable(r.headline))}**`, ''];
  out.push('| variant | endpoint | req/s | sent | ok | failed | p50 | p99 | max | loop lag p99 | verdict |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const v of r.variants) {
    const streams = [...v.endpoints.map((e) => streamCells(e, printable(e.name))), ...(v.probe ? [streamCells(v.probe, 'probe')] : [])];
    const loop = fmtMs(v.loop.merged?.p99Ms);
    if (!streams.length) out.push(`| ${cell(v.label)} | – | – | – | – | – | – | – | – | ${loop} | ${verdictWords(v)} |`);
    for (const c of streams) out.push(`| ${cell(v.label)} | ${c.map(cell).join(' | ')} | ${loop} | ${verdictWords(v)} |`);
  }
  if (r.error) out.push('', `> ${cell(`error [${r.error.kind}]: ${printable(r.error.message)}${r.status === 'partial' ? ' (the figures stop at the cut)' : ''}`)}`);
  const blockers = r.variants.flatMap((v) => shownBlockers(v).map((b) => [v, b] as const));
  if (blockers.length) {
    out.push('', '**Where the loop was blocked** (share of the stalled time)', '', '| variant | share | line | what | stalled |', '|---|---:|---|---|---:|');
    for (const [v, b] of blockers) {
      const w = blockerWords(b);
      out.push(`| ${cell(v.label)} | ${cell(w.share)} | ${w.place ? cell(w.place) : '–'} | ${cell(w.what)} | ${fmtMs(b.stalledMs)} |`);
    }
  }
  if (!r.quality.trustworthy) out.push('', `> ⚠ ${cell(r.quality.notes.map(printable).join(' '))}`);
  return out.join('\n') + '\n';
}
