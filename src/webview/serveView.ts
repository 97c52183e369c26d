/**
 * Service mode in the panel (issue 14): a looplag.serve/1 document, finished or so far.
 * The verdict first (the document's headline), then the variants side by side, one lag
 * chart per variant on shared axes, and per variant its endpoints, where the loop was
 * blocked and which handlers were in flight. The verdicts and sentences are the
 * document's, with src/serve/verdict.ts deciding what is cut short; every string from the
 * document goes through h() (text, never HTML).
 */
import type { EndpointStats, ServeReport, ServeVariantReport } from '../shared/protocol/serveReport';
import type { ServeLive } from '../shared/webviewProtocol';
import { attributionStatus } from '../shared/blockerPhrases';
import { fmtMs } from '../shared/format';
import { VERDICT_WORDS } from '../report/serveText';
import { cutShort, fmtBudget, requestFailures, streamsOf } from '../serve/verdict';
import { blockerLocation, blockerTable, BlockersOptions } from './blockersView';
import { Child, h, icon, progressIcon } from './dom';

/** What the panel keeps of a rendered serve view: its chart figures (drawn once attached) and its progress line. */
export interface ServeViewParts {
  el: HTMLElement;
  /** `lag`: the loops' lag with the probe; `latency`: every endpoint's and the probe's requests. */
  figures: { el: HTMLElement; variant: ServeVariantReport; kind: 'lag' | 'latency' }[];
  /** Rewrites the progress line in place: nothing else is redrawn while a variant is under load. */
  progress(running: ServeLive | null): void;
}

/** Phases with requests going out: the progress line counts them. */
const LOAD_PHASES = new Set(['warmup', 'measuring', 'draining']);

/**
 * What identifies the variants that ended: while it is unchanged, a `serve` message only
 * moves the progress line (issue 16: redrawing charts under load makes the machine busy).
 */
export function finishedKey(r: ServeReport): string {
  return JSON.stringify([r.createdAt, r.status, r.headline, r.variants.map((v) => [v.name, v.label, v.status, v.headline])]);
}

/** `cut short, no verdict` or the verdict's words. */
function verdictWords(v: ServeVariantReport): string {
  return cutShort(v) ? 'cut short, no verdict' : VERDICT_WORDS[v.verdict];
}

const VERDICT_ICONS: Record<ServeVariantReport['verdict'], string> = {
  'within-budget': 'pass', 'over-budget': 'warning', 'failed-requests': 'error', 'not-measured': 'circle-slash',
};

function verdictBadge(v: ServeVariantReport): HTMLElement {
  const cut = cutShort(v);
  return h('span', { class: `serve-verdict ${cut ? 'cut-short' : v.verdict}`, 'data-testid': 'verdict' },
    icon(cut ? 'debug-stop' : VERDICT_ICONS[v.verdict]), ' ', verdictWords(v));
}

/** `measuring 1.2 of 3.0 s · 40 sent, 38 answered`. */
export function progressText(running: ServeLive): string {
  const counts = LOAD_PHASES.has(running.phase)
    ? ` ${fmtMs(running.elapsedMs)} of ${fmtMs(running.durationMs)} · ${running.sent} sent, ${running.completed} answered`
    : '';
  return `Variant ${running.variantIndex + 1} of ${running.variants}, ${running.variant}: ${running.phase}${counts}`;
}

function appName(r: ServeReport): string {
  return r.app.type === 'asgi' ? r.app.target : r.app.script;
}

function header(r: ServeReport, running: ServeLive | null, progressEl: HTMLElement): HTMLElement {
  const s = r.settings;
  const rt = r.runtime;
  const soFar = running !== null;
  return h('header', { class: 'header' },
    h('h1', { id: 'title' }, 'Service: ', h('span', { class: 'fn', 'data-testid': 'app-name' }, appName(r))),
    h('div', { class: 'meta' },
      rt ? h('span', {}, `${rt.implementation} ${rt.version} · ${rt.cpuCount} cores`) : null,
      h('span', {}, `${s.ratePerS} req/s per endpoint · probe ${s.probeRatePerS} req/s · ${s.durationS} s measured after ${s.warmupS} s warm-up`),
      h('span', {}, `budget ${fmtBudget(s.verdictBudgetMs)}${s.budgetMs === null ? ' (default)' : ''}`),
      h('time', { datetime: r.createdAt }, new Date(r.createdAt).toLocaleString()),
    ),
    r.variants.length ? h('p', { class: 'headline', 'data-testid': 'serve-headline' }, soFar ? 'So far: ' : null, r.headline) : null,
    progressEl,
    r.error && !soFar ? h('div', { class: 'banner error', role: 'alert', 'data-testid': 'serve-error' }, icon('error'), ` ${r.error.kind}: ${r.error.message}`) : null,
    r.status === 'partial' && !soFar ? h('div', { class: 'banner warning', role: 'note', 'data-testid': 'cut-short' }, icon('warning'), ' Cut short: the figures stop at the cut.') : null,
    !r.quality.trustworthy ? h('div', { class: 'banner warning', role: 'note' }, icon('warning'), ' These figures may not describe the server alone: ', r.quality.notes.join(' ')) : null,
  );
}

function progressLine(el: HTMLElement, running: ServeLive | null): void {
  el.replaceChildren(...(running ? [progressIcon(), ` ${progressText(running)}`] : []));
  el.hidden = running === null;
}

interface Row {
  key: string;
  label: string;
  value(v: ServeVariantReport): Child;
  /** Over the budget: marked with a glyph and text, not colour alone. */
  over?(v: ServeVariantReport, budgetMs: number): boolean;
}

const probe = (v: ServeVariantReport) => v.probe?.latency ?? null;
const merged = (v: ServeVariantReport) => v.loop.merged;

/** The variants' comparison rows: what a trivial request waited first, then the loop. */
const ROWS: Row[] = [
  { key: 'probe-p50', label: 'A trivial request waited: p50', value: (v) => fmtMs(probe(v)?.p50Ms) },
  { key: 'probe-p99', label: 'A trivial request waited: p99', value: (v) => fmtMs(probe(v)?.p99Ms), over: (v, b) => (probe(v)?.p99Ms ?? 0) > b },
  { key: 'probe-max', label: 'A trivial request waited: max', value: (v) => fmtMs(probe(v)?.maxMs) },
  { key: 'wait-p99', label: 'Predicted wait p99 (heartbeat)', value: (v) => fmtMs(merged(v)?.arrivalWaitP99Ms) },
  { key: 'lag-p99', label: 'Loop lag p99', value: (v) => fmtMs(merged(v)?.p99Ms), over: (v, b) => (merged(v)?.p99Ms ?? 0) > b },
  { key: 'lag-max', label: 'Loop lag max', value: (v) => fmtMs(merged(v)?.maxMs) },
  { key: 'stalls', label: 'Stalls', value: (v) => (merged(v) ? `${merged(v)!.stallCount} (${fmtMs(merged(v)!.stalledMs)})` : '–') },
  {
    key: 'failed', label: 'Requests failed',
    value: (v) => `${streamsOf(v).reduce((a, e) => a + requestFailures(e), 0)} of ${streamsOf(v).reduce((a, e) => a + e.sent, 0)}`,
    over: (v) => streamsOf(v).some((e) => requestFailures(e) > 0),
  },
  { key: 'cpu', label: 'CPU (cores)', value: (v) => (v.cpu ? v.cpu.parallelism.toFixed(2) : '–') },
  { key: 'server', label: 'Server', value: (v) => (v.server ? `${v.server.name}, pid ${v.server.pids.join(', ')}, started in ${fmtMs(v.server.startupMs)}` : 'did not start') },
];

function variantsTable(r: ServeReport, soFar: boolean): HTMLElement {
  const budgetMs = r.settings.verdictBudgetMs;
  return h('section', { class: 'summary', 'aria-label': 'Variants' },
    h('div', { class: 'table-scroll', tabindex: 0 },
      h('table', { 'data-testid': 'serve-variants' },
        h('caption', {}, soFar ? 'Variants measured so far' : 'Variants', h('span', { class: 'legend-note' }, ` ▲ over the budget (${fmtBudget(budgetMs)}) or failed`)),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Variant'), r.variants.map((v) => h('th', { scope: 'col', 'data-variant': v.name }, v.label,
          cutShort(v) ? h('div', { class: 'status partial' }, 'so far') : null)))),
        h('tbody', {},
          h('tr', {}, h('th', { scope: 'row' }, 'Verdict'), r.variants.map((v) => h('td', { 'data-variant': v.name, 'data-metric': 'verdict' }, verdictBadge(v)))),
          ROWS.map((row) => h('tr', {}, h('th', { scope: 'row' }, row.label), r.variants.map((v) => {
            const over = row.over?.(v, budgetMs) ?? false;
            return h('td', { 'data-variant': v.name, 'data-metric': row.key, class: over ? 'over' : null },
              over ? h('span', { class: 'over-mark', 'aria-label': 'over budget' }, '▲ ') : null, row.value(v));
          }))),
        ),
      ),
    ),
  );
}

/** `200: 57, 500: 3, timeout: 1`: every status and error, most frequent first. */
function codesText(e: EndpointStats): string {
  const all = [...Object.entries(e.statusCodes), ...Object.entries(e.errors)].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  return all.length ? all.map(([k, n]) => `${k}: ${n}`).join(', ') : '–';
}

function endpointsTable(v: ServeVariantReport): HTMLElement | null {
  const streams = streamsOf(v);
  if (!streams.length) return null;
  const cols = ['Endpoint', 'Sent', 'Completed', 'Failed', 'Status codes', 'p50', 'p90', 'p99', 'Max', 'Req/s'];
  return h('div', { class: 'table-scroll', tabindex: 0 },
    h('table', { class: 'serve-endpoints', 'data-testid': `endpoints-${v.name}` },
      h('caption', { class: 'sr-only' }, `${v.label}: each endpoint's requests and latency from their intended start`),
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, streams.map((e) => {
        const l = e.latency;
        const failed = requestFailures(e);
        return h('tr', { 'data-endpoint': e === v.probe ? 'probe' : e.name },
          h('th', { scope: 'row' }, e === v.probe ? 'probe (a trivial request)' : e.name),
          h('td', {}, String(e.sent)), h('td', {}, String(e.completed)),
          h('td', { class: failed ? 'over' : null }, String(failed)),
          h('td', {}, codesText(e)),
          h('td', {}, fmtMs(l?.p50Ms)), h('td', {}, fmtMs(l?.p90Ms)), h('td', {}, fmtMs(l?.p99Ms)), h('td', {}, fmtMs(l?.maxMs)),
          h('td', {}, e.throughputPerS.toFixed(1)));
      })),
    ),
  );
}

/** Why a variant with stalls lists no line (as serveText says it), else null. */
function noBlockersReason(r: ServeReport, v: ServeVariantReport): string | null {
  const stalledMs = v.loop.merged?.stalledMs ?? 0;
  if (v.blockers.length || stalledMs <= 0) return null;
  if (!r.settings.attribution) return attributionStatus({ status: 'off' });
  return v.loop.processes.map((p) => attributionStatus(p.attribution)).find((s) => s !== null) ?? `No line was found for its ${fmtMs(stalledMs)} of stalls.`;
}

function handlersTable(v: ServeVariantReport, open: BlockersOptions['open']): HTMLElement | null {
  const handlers = v.byHandler.filter((x) => x.stalls > 0);
  if (!handlers.length) return null;
  return h('div', { class: 'table-scroll', tabindex: 0 },
    h('table', { class: 'serve-handlers', 'data-testid': `handlers-${v.name}` },
      h('caption', {}, 'Handlers in flight during the stalls'),
      h('thead', {}, h('tr', {}, ['Route', 'Requests', 'Stalls (it alone)', 'Stalled (it alone)', 'Top line when alone'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, handlers.map((x) => h('tr', { 'data-route': `${x.method} ${x.route}` },
        h('th', { scope: 'row' }, `${x.method} ${x.route}`),
        h('td', {}, String(x.requests)),
        h('td', {}, `${x.stalls} (${x.soleStalls})`),
        h('td', {}, `${fmtMs(x.stalledMs)} (${fmtMs(x.soleStalledMs)})`),
        h('td', { class: 'blocker-line' }, x.topBlocker ? [blockerLocation(x.topBlocker, open), ' ', h('code', {}, x.topBlocker.function)] : '–'),
      ))),
    ),
  );
}

function probeVsLoop(v: ServeVariantReport): HTMLElement | null {
  const p = v.probeVsLoop;
  if (!p) return null;
  return h('p', { class: 'notes', 'data-testid': `probe-vs-loop-${v.name}` },
    `The probe waited p99 ${fmtMs(p.probeP99Ms)}; the heartbeat predicts ${fmtMs(p.arrivalWaitP99Ms)} for a request arriving at random`,
    p.ratio !== null ? ` (the probe waited ${p.ratio.toFixed(2)}× that)` : '', `; the worst loop's lag p99 was ${fmtMs(p.loopLagP99Ms)}.`);
}

function variantSection(r: ServeReport, v: ServeVariantReport, open: BlockersOptions['open']): HTMLElement {
  const id = `variant-${v.name}-h`;
  const none = noBlockersReason(r, v);
  const notes = [...v.notes, ...v.quality.notes];
  const out = v.output;
  return h('section', { class: 'serve-variant', 'aria-labelledby': id, 'data-variant': v.name },
    h('h2', { id }, v.label, ' — ', verdictBadge(v)),
    h('p', { class: 'variant-headline', 'data-testid': 'variant-headline' }, v.headline),
    v.error ? h('p', { class: 'run-error', 'data-testid': 'variant-error' }, `${v.status} [${v.error.kind}]: ${v.error.message}`) : null,
    endpointsTable(v),
    probeVsLoop(v),
    v.loop.processes.length > 1 ? h('ul', { class: 'notes', 'data-testid': `processes-${v.name}` }, v.loop.processes.map((p) =>
      h('li', {}, `pid ${p.pid}: lag p99 ${fmtMs(p.lag.p99Ms)}, max ${fmtMs(p.lag.maxMs)}, ${p.lag.stallCount} stalls, CPU ${p.cpu.parallelism.toFixed(2)} cores, ${p.requests} requests`))) : null,
    v.blockers.length || none ? h('h3', {}, 'Where the loop was blocked') : null,
    v.blockers.length ? blockerTable(v.blockers, { open, idPrefix: `${v.name}-` }, { testid: `blockers-${v.name}`, caption: `${v.label}: the lines running while the loop was stalled, by share of the stalled time` }) : null,
    none ? h('p', { class: 'attribution-status', 'data-testid': `attribution-${v.name}` }, none) : null,
    handlersTable(v, open),
    notes.length ? h('ul', { class: 'notes' }, notes.map((n) => h('li', {}, n))) : null,
    out.stdout || out.stderr ? h('details', {}, h('summary', {}, `Server output${out.truncated ? ' (truncated)' : ''}`),
      out.stdout ? h('pre', { class: 'output' }, out.stdout) : null,
      out.stderr ? h('pre', { class: 'output' }, out.stderr) : null) : null,
  );
}

/**
 * The whole view, charts left to draw (they need their width, once attached). `open`:
 * open a line in the editor (absent in the standalone page, where lines are text).
 */
export function serveView(r: ServeReport, running: ServeLive | null, open: BlockersOptions['open']): ServeViewParts {
  const progressEl = h('div', { class: 'running', role: 'status', 'data-testid': 'running' });
  progressLine(progressEl, running);
  const el = h('div', { class: 'serve', 'data-testid': 'serve' }, header(r, running, progressEl));
  const figures: ServeViewParts['figures'] = [];
  if (!r.variants.length) {
    el.appendChild(h('p', { class: 'empty' }, running ? 'No variant has ended yet.' : 'No variant was measured.'));
    return { el, figures, progress: (next) => progressLine(progressEl, next) };
  }
  el.appendChild(variantsTable(r, running !== null));
  const withLoop = r.variants.filter((v) => v.loop.processes.length || v.probe?.timeline.length);
  if (withLoop.length) {
    const section = h('section', { class: 'charts serve-charts', 'aria-labelledby': 'serve-lag-h' },
      h('h2', { id: 'serve-lag-h' }, 'Loop lag over time'),
      h('p', { class: 'legend-note' }, `Each server process's lag as a line, the probe's latency as dots, the budget (${fmtBudget(r.settings.verdictBudgetMs)}) dashed; every variant on the same axes.`));
    for (const v of withLoop) {
      const m = v.loop.merged;
      const fig = h('figure', { class: 'chart', 'data-chart': `serve-lag-${v.name}`, role: 'img',
        'aria-label': `${v.label}: loop lag over the measured load${m ? `, p99 ${fmtMs(m.p99Ms)}, max ${fmtMs(m.maxMs)}, ${m.stallCount} stalls` : ''}${v.probe?.latency ? `; probe p99 ${fmtMs(v.probe.latency.p99Ms)}` : ''}` },
        h('figcaption', {}, `${v.label}${cutShort(v) ? ' (so far)' : ''} — ${v.loop.processes.length} process${v.loop.processes.length === 1 ? '' : 'es'}`));
      section.appendChild(fig);
      figures.push({ el: fig, variant: v, kind: 'lag' });
    }
    el.appendChild(section);
  }
  const withRequests = r.variants.filter((v) => v.endpoints.some((e) => e.timeline.length) || v.probe?.timeline.length);
  if (withRequests.length) {
    const section = h('section', { class: 'charts serve-charts', 'aria-labelledby': 'serve-latency-h' },
      h('h2', { id: 'serve-latency-h' }, 'Request latency over time'),
      h('p', { class: 'legend-note' }, `Each request at its intended start: ${r.settings.endpoints.map((e) => e.name).join(', ')} in colour, the probe in the text colour, the budget dashed; every variant on the same axes. A climb means requests queued.`));
    for (const v of withRequests) {
      const fig = h('figure', { class: 'chart', 'data-chart': `serve-latency-${v.name}`, role: 'img',
        'aria-label': `${v.label}: request latency over the measured load; ${v.endpoints.map((e) => `${e.name} p99 ${e.latency ? fmtMs(e.latency.p99Ms) : '–'}`).join(', ')}` },
        h('figcaption', {}, `${v.label}${cutShort(v) ? ' (so far)' : ''}`));
      section.appendChild(fig);
      figures.push({ el: fig, variant: v, kind: 'latency' });
    }
    el.appendChild(section);
  }
  for (const v of r.variants) el.appendChild(variantSection(r, v, open));
  return { el, figures, progress: (next) => progressLine(progressEl, next) };
}
