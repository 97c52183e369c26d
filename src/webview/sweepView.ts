/** The worker sweep's view: its actions, headline, one chart per mode, the table, and the code to use. */
import type { Sweep } from '../shared/protocol';
import type { LiveProgress } from '../shared/webviewProtocol';
import { fmtMs } from '../shared/format';
import { fmtSpread } from '../report/sweepText';
import { h, icon, progressIcon } from './dom';

export function sweepHeader(s: Sweep, running: LiveProgress | null): HTMLElement {
  const t = s.target;
  const what = t.qualname ?? (t.lines ? `lines ${t.lines.start}–${t.lines.end}` : '?');
  const rt = s.runtime;
  return h('header', { class: 'header' },
    h('h1', { id: 'title' }, 'Worker sweep: ', h('span', { class: 'fn', 'data-testid': 'target-name' }, what), h('span', { class: 'args' }, `(${t.args})`)),
    h('div', { class: 'meta' },
      h('span', {}, t.file),
      rt ? h('span', {}, `${rt.implementation} ${rt.version} · ${rt.cpuCount} cores`) : null,
      h('span', {}, `${s.settings.concurrency} concurrent calls · W in ${s.settings.workers.join(', ')} · budget ${fmtMs(s.settings.lagBudgetMs)}`),
      h('time', { datetime: s.createdAt }, new Date(s.createdAt).toLocaleString()),
    ),
    h('p', { class: 'headline', 'data-testid': 'sweep-headline' }, s.headline),
    running ? h('div', { class: 'running', role: 'status', 'data-testid': 'running' }, progressIcon(), ` Sweeping ${running.mode}: ${running.phase}${running.phase === 'running' ? (running.total ? ` ${running.done}/${running.total}` : ` ${running.done} calls`) : ''}`) : null,
    s.error ? h('div', { class: 'banner error', role: 'alert' }, icon('error'), ` ${s.error.kind}: ${s.error.message}`) : null,
    !s.quality.trustworthy ? h('div', { class: 'banner warning', role: 'note' }, icon('warning'), ' The machine was busy during this sweep: numbers may be inflated.') : null,
  );
}

export function sweepTable(s: Sweep): HTMLElement {
  const rec = new Map(s.recommendations.map((r) => [r.mode, r.workers]));
  return h('section', { class: 'summary', 'aria-label': 'Sweep results' },
    h('div', { class: 'table-scroll', tabindex: 0 },
      h('table', { 'data-testid': 'sweep-table' },
        h('caption', {}, 'Each pool size', h('span', { class: 'legend-note' }, ` ★ recommended · ▲ lag over the budget (${fmtMs(s.settings.lagBudgetMs)}) · spread: the rounds' throughput ± half their range, × rounds`)),
        h('thead', {}, h('tr', {}, ['Mode', 'W', 'Calls/s', 'Spread', 'Lag p99', 'Lag max', 'Stalls', 'CPU/wall', 'Queue max', 'Wall'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, s.points.map((p) => {
          const over = p.status === 'ok' && p.lag.maxMs > s.settings.lagBudgetMs;
          const star = rec.get(p.mode) === p.workers && p.status === 'ok';
          return h('tr', { 'data-mode': p.mode, 'data-workers': String(p.workers), class: star ? 'recommended' : null },
            h('th', { scope: 'row' }, p.mode),
            h('td', {}, star ? h('span', { 'aria-label': 'recommended' }, '★ ') : null, String(p.workers), p.workers > p.effectiveWorkers ? h('span', { class: 'status', title: `only ${p.effectiveWorkers} calls run at once` }, ` (${p.effectiveWorkers} busy)`) : null),
            h('td', { 'data-metric': 'throughput' }, p.throughputPerS === null ? p.status : p.throughputPerS.toFixed(1)),
            h('td', { 'data-metric': 'spread', title: p.throughputMinPerS != null && p.throughputMaxPerS != null ? `rounds from ${p.throughputMinPerS.toFixed(1)} to ${p.throughputMaxPerS.toFixed(1)} calls/s` : null }, fmtSpread(p)),
            h('td', { 'data-metric': 'p99' }, fmtMs(p.lag.p99Ms)),
            h('td', { 'data-metric': 'max', class: over ? 'over' : null }, over ? h('span', { class: 'over-mark', 'aria-label': 'over budget' }, '▲ ') : null, fmtMs(p.lag.maxMs)),
            h('td', {}, String(p.lag.stallCount)),
            h('td', {}, p.cpuParallelism.toFixed(2)),
            h('td', {}, fmtMs(p.queueMaxMs)),
            h('td', {}, fmtMs(p.wallMs)),
          );
        })),
      ),
    ),
  );
}

export function sweepRecommendations(s: Sweep): HTMLElement {
  return h('section', { class: 'advice', 'aria-labelledby': 'rec-h' },
    h('h2', { id: 'rec-h' }, 'Recommended pool size'),
    s.recommendations.map((r) => h('article', { class: `advice-item ${r.workers === null ? 'warning' : 'ok'}`, 'data-recommendation': r.mode },
      h('h3', {}, icon(r.workers === null ? 'warning' : 'pass'), ` ${r.mode}: `, r.workers === null ? 'no pool size within budget' : h('span', { 'data-testid': `recommended-${r.mode}` }, `W = ${r.workers}`)),
      h('p', {}, r.reason),
      r.code ? h('pre', { class: 'fix' }, h('code', {}, r.code)) : null,
    )),
  );
}

/** The sweep view's actions; one left out is not offered (the standalone page has no Cancel and no Save as HTML). */
export interface SweepActions {
  cancel?: () => void;
  exportJson(): void;
  copyMarkdown(): void;
  saveHtml?: () => void;
}

/** Export a sweep as a run's report is: JSON, Markdown (the recommendation first), a standalone HTML page. */
export function sweepToolbar(a: SweepActions): HTMLElement {
  const button = (label: string, iconName: string, onclick: () => void, action: string) =>
    h('button', { class: 'secondary', 'aria-label': label, title: label, 'data-action': action, onclick }, icon(iconName), h('span', { class: 'label' }, label));
  return h('nav', { class: 'toolbar', 'aria-label': 'Sweep actions' },
    a.cancel ? button('Cancel', 'debug-stop', a.cancel, 'cancel') : null,
    button('Export JSON', 'json', a.exportJson, 'export-json'),
    button('Copy Markdown', 'copy', a.copyMarkdown, 'copy-markdown'),
    a.saveHtml ? button('Save as HTML', 'file-code', a.saveHtml, 'save-html') : null,
  );
}
