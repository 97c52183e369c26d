/**
 * Successive runs as the report panel sees them, for Chromium (the bench's webview heap
 * figure and test/webview/memory.test.ts): per run, the messages src/host/reportView.ts posts
 * (the run started: the state with nothing on show and the run `starting`; each mode done:
 * a `liveDelta`; the run finished: the state with the report and the history one longer),
 * each sent once the page rendered the one before. The heap is read after forcing a GC
 * through CDP (`HeapProfiler.collectGarbage`, `Runtime.getHeapUsage`, `Memory.getDOMCounters`).
 */
import * as fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { liveDelta } from '../../src/shared/liveReport';
import type { Report } from '../../src/shared/protocol';
import type { HistoryEntry, ToWebview } from '../../src/shared/webviewProtocol';
import { SECURITY_PROBE } from './browser';

const OPTIONS = { lagBudgetMs: 100, host: 'vscode' } as const;

/** The panel's page (served by browser.ts serveWebview) with `acquireVsCodeApi` stood in, once it said `ready`. */
export async function openPanelPage(newPage: () => Promise<Page>, origin: string): Promise<Page> {
  const page = await newPage();
  await page.addInitScript(SECURITY_PROBE + `
    window.__posted = [];
    window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), setState: () => {}, getState: () => null });
  `);
  await page.goto(origin);
  await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
  return page;
}

/** Run `n` (0-based) of `report`: the messages the host posts, in order; `history` is the runs before it, newest first. */
export function runMessages(report: Report, n: number, history: HistoryEntry[]): { messages: ToWebview[]; history: HistoryEntry[] } {
  // Each run is its own document (another creation time), as a re-run's is.
  const full: Report = { ...report, createdAt: new Date(Date.parse(report.createdAt) + n * 60_000).toISOString() };
  const id = `run-${n}`;
  const progress = (mode: string) => ({ mode, phase: 'running', done: 1, total: report.settings.concurrency });
  const messages: ToWebview[] = [
    { type: 'state', currentId: null, current: null, compare: null, history, running: { mode: report.runs[0].mode, phase: 'starting', done: 0, total: report.settings.concurrency }, options: OPTIONS },
  ];
  let base: Report | null = null;
  for (let i = 1; i <= full.runs.length; i++) {
    const partial: Report = { ...full, status: 'partial', runs: full.runs.slice(0, i) };
    messages.push({ type: 'liveDelta', ...liveDelta(base, partial), progress: progress(full.runs[Math.min(i, full.runs.length - 1)].mode) });
    base = partial;
  }
  const entry: HistoryEntry = { id, createdAt: full.createdAt, label: full.target.qualname ?? 'lines', headline: full.headline ?? '', status: 'complete' };
  const after = [entry, ...history];
  messages.push({ type: 'state', currentId: id, current: full, compare: null, history: after, running: null, options: OPTIONS });
  return { messages, history: after };
}

/** Sends `message` and waits until the page rendered it (every render sets `data-rendered`). */
export async function deliver(page: Page, message: ToWebview): Promise<void> {
  await page.evaluate((m) => {
    document.body.dataset.rendered = 'pending';
    window.postMessage(m, '*');
  }, message);
  await page.waitForFunction(() => document.body.dataset.rendered === 'true');
}

/** Runs `from` … `to - 1` of `report` through the page, each ending with its charts drawn; the history grows with them. */
export async function renderRuns(page: Page, report: Report, from: number, to: number, history: HistoryEntry[]): Promise<HistoryEntry[]> {
  for (let n = from; n < to; n++) {
    const run = runMessages(report, n, history);
    for (const m of run.messages) await deliver(page, m);
    history = run.history;
  }
  return history;
}

/** The page's heap after a forced GC (MB), and its DOM nodes and event listeners. */
export async function settledMemory(page: Page): Promise<{ usedMB: number; nodes: number; listeners: number }> {
  const cdp = await page.context().newCDPSession(page);
  try {
    // Twice: what a first collection frees can let a second free more (weak maps, finalizers).
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = await cdp.send('Runtime.getHeapUsage');
    const dom = await cdp.send('Memory.getDOMCounters');
    return { usedMB: heap.usedSize / 1048576, nodes: dom.nodes, listeners: dom.jsEventListeners };
  } finally {
    await cdp.detach();
  }
}

/**
 * The resident memory of Chromium's renderer processes (MB, Linux /proc): what the heap does
 * not hold, e.g. the canvases' pixels, which a chart never destroyed would keep.
 */
export async function rendererRssMB(browser: Browser): Promise<number | null> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
    let kb = 0;
    for (const p of processInfo.filter((x) => x.type === 'renderer')) {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${p.id}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    }
    return kb / 1024;
  } catch {
    return null; // not Linux, or the domain is not there
  } finally {
    await cdp.detach();
  }
}
