/** The report's views, built with `h()` only (see dom.ts): no HTML strings anywhere. */
import type { Advice, ModeRun, Report } from '../shared/protocol';
import type { HistoryEntry, LiveProgress } from '../shared/webviewProtocol';
import { fmtBytes, fmtMs, fmtSpeedup, suspectOf } from '../shared/format';
import { concurrentCalls } from '../shared/frameworks';
import { runtimeOfReport } from '../shared/modes';
import { hasLag, partialPhrase } from '../report/textTable';
import { verdicts } from '../report/verdict';
import { h, icon, progressIcon } from './dom';
import { explain } from './terms';

/** `errorCard`: the error card (errorView.ts) says the headline and the error, so the header does not. */
export function header(report: Report, running: LiveProgress | null, errorCard = false): HTMLElement {
  const t = report.target;
  const what = t.qualname ?? (t.lines ? `lines ${t.lines.start}–${t.lines.end}` : '?');
  const rt = report.runtime;
  const s = report.settings;
  return h('header', { class: 'header' },
    h('h1', { id: 'title' }, h('span', { class: 'fn', 'data-testid': 'target-name' }, what), h('span', { class: 'args' }, `(${t.args})`)),
    h('div', { class: 'meta' },
      h('span', { 'data-testid': 'target-file' }, t.definedIn ? `${t.file}, defined in ${t.definedIn.file}:${t.definedIn.line}` : `${t.file}${t.line ? `:${t.line}` : ''}`),
      rt ? h('span', {}, `${rt.implementation} ${rt.version}${gil(report) ? ` · GIL ${rt.gilEnabled ? 'on' : 'off'}` : ''} · ${rt.cpuCount} cores`) : null,
      h('span', {}, ...explain(`${concurrentCalls(report)} · workers ${s.workers ?? 'default'}${gil(report) ? ` · switch interval ${s.switchIntervalS === null ? 'default' : fmtMs(s.switchIntervalS * 1000)}` : ''} · heartbeat ${s.heartbeatMs} ms · stall ≥ ${fmtMs(s.stallMs)}`)),
      h('time', { datetime: report.createdAt }, new Date(report.createdAt).toLocaleString()),
    ),
    // A verdict from the modes measured so far may turn ("Not safe" then "Safe" once the
    // pool modes are in): provisional until the run ends.
    report.headline && !errorCard ? h('p', { class: 'headline', 'data-testid': 'headline' },
      running ? h('span', { class: 'so-far', 'data-testid': 'so-far' }, 'So far: ') : null, report.headline) : null,
    running ? h('div', { class: 'running', role: 'status', 'data-testid': 'running' }, progressIcon(), ` Measuring ${running.mode}: ${running.phase}${running.phase === 'running' ? ` ${running.done}/${running.total}` : ''}`) : null,
    report.error && !errorCard ? h('div', { class: 'banner error', role: 'alert' }, icon('error'), ` ${report.error.kind}: ${report.error.message}`) : null,
    !report.quality.trustworthy ? h('div', { class: 'banner warning', role: 'note', 'data-testid': 'quality' }, icon('warning'), ' The machine was busy during this run: numbers may be inflated.') : null,
  );
}

export function verdictList(report: Report, lagBudgetMs: number): HTMLElement {
  const items = verdicts(report, lagBudgetMs);
  return h('section', { class: 'verdicts', 'aria-labelledby': 'verdict-h' },
    h('h2', { id: 'verdict-h' }, 'Verdict'),
    h('ul', {}, items.map((v) => h('li', { class: `verdict ${v.level}`, 'data-mode': v.mode },
      icon(levelIcon(v.level)), h('span', { class: 'sr-only' }, `${v.level}: `), v.text))),
  );
}

function levelIcon(level: string): string {
  return level === 'critical' ? 'error' : level === 'warning' ? 'warning' : level === 'ok' ? 'pass' : 'info';
}

interface Metric {
  key: string;
  label: string;
  /** Rows that only one runtime can have (GIL for Python, ELU for Node). */
  applies?(report: Report): boolean;
  value(r: ModeRun): string;
  /** Over the budget or the stall threshold: marked with a glyph and text, not colour alone. */
  over?(r: ModeRun, budgetMs: number, stallMs: number): boolean;
}

/** GIL waits borrowed from the diagnostic window (the measured window ran without the probe). */
function gilSource(r: ModeRun): string {
  return r.gilWaitSource === 'diagnostic' ? ' (diagnostic)' : '';
}

/** The runtime's measures (shared/modes.ts): GIL wait and switch interval, or libuv's loop figures. */
const gil = (report: Report): boolean => runtimeOfReport(report).gil;
const libuv = (report: Report): boolean => runtimeOfReport(report).libuv;

/** The metrics a run without heartbeat samples has no figure for. */
const LAG_METRICS = new Set(['p50', 'p99', 'max', 'stalls', 'stalled', 'beats']);

export const METRICS: Metric[] = [
  { key: 'p50', label: 'Lag p50', value: (r) => fmtMs(r.lag.p50Ms), over: (r, _b, s) => r.lag.p50Ms >= s },
  { key: 'p99', label: 'Lag p99', value: (r) => fmtMs(r.lag.p99Ms), over: (r, b) => r.lag.p99Ms > b },
  { key: 'max', label: 'Lag max', value: (r) => fmtMs(r.lag.maxMs), over: (r, b) => r.lag.maxMs > b },
  { key: 'stalls', label: 'Stalls', value: (r) => String(r.lag.stallCount), over: (r) => r.lag.stallCount > 0 },
  { key: 'stalled', label: 'Stalled', value: (r) => `${Math.round(r.lag.stalledFrac * 100)}%`, over: (r) => r.lag.stalledFrac > 0 },
  { key: 'beats', label: 'Heartbeats / expected', value: (r) => `${r.lag.sampleCount} / ${r.lag.expectedSampleCount}` },
  { key: 'wall', label: 'Wall', value: (r) => fmtMs(r.wallMs) },
  { key: 'throughput', label: 'Throughput', value: (r) => (r.throughputPerS === null ? '–' : `${r.throughputPerS.toFixed(1)}/s`) },
  // A `?` marks a figure beyond the cores (ModeRun.suspect); the advice list says why.
  { key: 'speedup', label: 'Speedup vs inline', value: fmtSpeedup, over: (r) => suspectOf(r, 'speedup') !== null },
  { key: 'parallelism', label: 'Parallelism (CPU/wall)', value: (r) => `${r.cpu.parallelism.toFixed(2)}${suspectOf(r, 'parallelism') ? '?' : ''}`, over: (r) => suspectOf(r, 'parallelism') !== null },
  { key: 'elu', label: 'Event-loop utilization', applies: libuv, value: (r) => (r.elu === null || r.elu === undefined ? '–' : `${Math.round(r.elu * 100)}%`), over: (r) => (r.elu ?? 0) >= 0.5 },
  { key: 'eld', label: 'monitorEventLoopDelay max', applies: libuv, value: (r) => fmtMs(r.eventLoopDelay?.maxMs) },
  { key: 'gil50', label: 'GIL wait p50', applies: gil, value: (r) => (r.gilWait ? `${fmtMs(r.gilWait.p50Ms)}${gilSource(r)}` : '–') },
  { key: 'gil99', label: 'GIL wait p99', applies: gil, value: (r) => (r.gilWait ? `${fmtMs(r.gilWait.p99Ms)}${gilSource(r)}` : '–') },
  { key: 'transfer', label: 'Transfer cost on the loop', applies: libuv, value: (r) => (r.transfer ? fmtMs(r.transfer.loopMs) : '–') },
  { key: 'threadpool50', label: 'libuv threadpool wait p50 (idle)', applies: libuv, value: (r) => (r.threadpool ? `${fmtMs(r.threadpool.probeP50Ms)} (${fmtMs(r.threadpool.idleMs)})` : '–'), over: (r, _b, s) => (r.threadpool?.probeP50Ms ?? 0) >= s },
  { key: 'threadpoolMax', label: 'libuv threadpool wait max', applies: libuv, value: (r) => fmtMs(r.threadpool?.probeMaxMs) },
  { key: 'bytes', label: 'Data per call (args / result)', applies: libuv, value: (r) => (r.transfer ? `${fmtBytes(r.transfer.argsBytesMean)} / ${fmtBytes(r.transfer.resultBytesMean)}` : '–') },
  { key: 'queue', label: 'Queue max', value: (r) => fmtMs(r.taskStats.queueMaxMs) },
  { key: 'task', label: 'Task p50', value: (r) => fmtMs(r.taskStats.runP50Ms) },
  { key: 'workers', label: 'Workers', value: (r) => (r.workers === null ? '–' : String(r.workers)) },
  { key: 'startup', label: 'Pool start-up', value: (r) => fmtMs(r.startupMs) },
  { key: 'errors', label: 'Calls that raised', value: (r) => String(r.taskStats.errorCount), over: (r) => r.taskStats.errorCount > 0 },
  {
    key: 'unfinished', label: 'Calls unfinished / crashed',
    value: (r) => `${r.taskStats.unfinishedCount ?? 0} / ${r.taskStats.crashedCount ?? 0}`,
    over: (r) => Boolean(r.taskStats.unfinishedCount || r.taskStats.crashedCount),
  },
];

export function summaryTable(report: Report, lagBudgetMs: number, caption = 'Summary'): HTMLElement {
  const runs = report.runs;
  return h('section', { class: 'summary', 'aria-label': caption },
    h('div', { class: 'table-scroll', tabindex: 0 },
      h('table', { 'data-testid': 'summary' },
        h('caption', {}, caption, h('span', { class: 'legend-note' }, ' ▲ over the lag budget (', fmtMs(lagBudgetMs), ') or the stall threshold (', fmtMs(report.settings.stallMs), ')')),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Metric'), runs.map((r) => h('th', { scope: 'col', class: `mode-${r.mode}` }, r.mode,
          r.status !== 'ok' ? h('span', { class: 'status' }, ` (${r.status}${r.partial ? ', partial' : ''})`) : null,
          partialPhrase(r) ? h('div', { class: 'status partial', 'data-testid': 'partial' }, partialPhrase(r)) : null)))),
        h('tbody', {}, METRICS.filter((m) => m.applies?.(report) ?? true).map((m) => h('tr', {},
          h('th', { scope: 'row' }, ...explain(m.label)),
          runs.map((r) => {
            if (r.status === 'skipped' || (!hasLag(r) && LAG_METRICS.has(m.key))) return h('td', { 'data-mode': r.mode, 'data-metric': m.key }, '–');
            const over = m.over?.(r, lagBudgetMs, report.settings.stallMs) ?? false;
            return h('td', { 'data-mode': r.mode, 'data-metric': m.key, class: over ? 'over' : null, title: over ? 'over the budget or the stall threshold' : null },
              over ? h('span', { class: 'over-mark', 'aria-label': 'over budget' }, '▲ ') : null, m.value(r));
          }),
        ))),
      ),
    ),
  );
}

export function adviceList(advice: Advice[]): HTMLElement | null {
  if (!advice.length) return null;
  return h('section', { class: 'advice', 'aria-labelledby': 'advice-h' },
    h('h2', { id: 'advice-h' }, 'Advice'),
    advice.map((a) => h('article', { class: `advice-item ${a.severity}`, 'data-advice-id': a.id },
      h('h3', {}, icon(levelIcon(a.severity)), h('span', { class: 'sr-only' }, `${a.severity}: `), ' ', a.title, h('code', { class: 'advice-id' }, a.id)),
      h('p', {}, a.detail),
      a.fix ? h('pre', { class: 'fix' }, h('code', {}, a.fix)) : null,
      a.docs && /^https:\/\//.test(a.docs) ? h('a', { href: a.docs }, 'Documentation') : null,
    )),
  );
}

/**
 * Errors and printed output per mode: all user-controlled text, shown as text. Calls that
 * raised are errorView.ts's grouped section; a mode skipped for the run's own error would
 * repeat the banner, so it is not listed.
 */
export function details(report: Report): HTMLElement {
  const runError = report.error?.message.replace(/^not measured:\s*/i, '');
  return h('section', { class: 'details', 'aria-labelledby': 'details-h' },
    h('h2', { id: 'details-h' }, 'Errors and output'),
    report.error?.detail ? h('details', {}, h('summary', {}, `Session error detail (${report.error.kind})`), h('pre', { 'data-testid': 'session-error' }, report.error.detail)) : null,
    report.runs.map((r) => {
      const out = r.output;
      const notes = r.notes ?? [];
      const repeat = r.status === 'skipped' && r.error?.message.replace(/^not measured:\s*/i, '') === runError;
      if ((!r.error || repeat) && !out.stdout && !out.stderr && !notes.length) return null;
      const why = r.error ? `${r.error.kind} — ${r.error.message}` : '';
      // Only an error's message to show (a skipped or crashed mode): a line, not a
      // section that opens onto nothing.
      if (!r.error?.detail && !out.stdout && !out.stderr && !notes.length) {
        return h('p', { class: 'run-error', 'data-mode': r.mode, 'data-testid': 'run-error' }, `${r.mode} (${r.status}): ${why}`);
      }
      return h('details', { 'data-mode': r.mode },
        h('summary', {}, `${r.mode}: ${why}${out.stdout || out.stderr ? ' · printed output' : ''}${notes.length ? ' · notes' : ''}`),
        r.error?.detail ? h('pre', {}, r.error.detail) : null,
        notes.length ? h('ul', { class: 'notes', 'data-testid': 'run-notes' }, notes.map((n) => h('li', {}, n))) : null,
        out.stdout ? h('div', {}, h('h4', {}, `stdout (${out.stdoutBytes} bytes${out.truncated ? ', truncated' : ''})`), h('pre', { class: 'output' }, out.stdout)) : null,
        out.stderr ? h('div', {}, h('h4', {}, `stderr (${out.stderrBytes} bytes)`), h('pre', { class: 'output' }, out.stderr)) : null,
      );
    }),
    report.quality.notes.length ? h('ul', { class: 'notes' }, report.quality.notes.map((n) => h('li', {}, n))) : null,
  );
}

/**
 * The history: reports and worker sweeps, newest first; a sweep's entry is labelled as one
 * (`sweep · render() · best thread W=4`) and has no Compare (it compares with no report).
 * `on.compare` absent (the sweep view): no Compare at all.
 */
export function historyList(entries: HistoryEntry[], currentId: string | null, compareId: string | null, on: { select(id: string): void; compare?(id: string | null): void }): HTMLElement | null {
  if (entries.length < 2) return null;
  return h('section', { class: 'history', 'aria-labelledby': 'history-h' },
    h('h2', { id: 'history-h' }, `History (${entries.length})`),
    h('ol', {}, entries.map((e) => h('li', { class: e.id === currentId ? 'current' : null, 'data-kind': e.kind ?? 'report', 'data-history-id': e.id },
      h('button', { class: 'link', 'aria-current': e.id === currentId ? 'true' : null, onclick: () => on.select(e.id) },
        h('span', { class: 'when' }, new Date(e.createdAt).toLocaleString()), ' ', h('span', { class: 'label' }, e.label), ' — ', e.headline),
      e.id !== currentId && on.compare && e.kind !== 'sweep' ? h('button', { class: 'secondary small', 'aria-pressed': e.id === compareId ? 'true' : 'false', onclick: () => on.compare?.(e.id === compareId ? null : e.id) }, e.id === compareId ? 'Stop comparing' : 'Compare') : null,
    ))),
  );
}
