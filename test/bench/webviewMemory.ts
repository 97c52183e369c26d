/**
 * The report panel's memory over successive runs, in real Chromium (issue 16: each re-render
 * allocated ~47 MB in the webview, 577 → 1279 MB over 15 runs). The panel's page gets what
 * the host posts for 15 runs of one report (test/support/runSequence.ts: started, each mode
 * done, finished with its charts); the heap after a forced GC after run 1 and after run 15.
 */
import * as fs from 'node:fs';
import { CHROMIUM, launchChromium, serveWebview } from '../support/browser';
import { openPanelPage, renderRuns, rendererRssMB, settledMemory } from '../support/runSequence';
import { syntheticReport } from '../support/syntheticReport';
import { progress, Table } from './format';
import { TARGETS } from './runtimes';

const RUNS = 15;
/** Heartbeats per mode: 10 s windows at 1 ms. */
const SAMPLES = 10_000;

export async function webviewMemory(t: Table): Promise<void> {
  progress('report UI memory over 15 runs');
  t.section(`report UI memory: ${RUNS} runs of 3 modes × ${SAMPLES.toLocaleString('en')} samples in the panel's page (Chromium)`);
  if (!fs.existsSync(CHROMIUM)) {
    t.row('webview heap', '–', `${CHROMIUM} not installed (npm test installs it)`);
    return;
  }
  const report = syntheticReport(TARGETS, SAMPLES, 11);
  const { browser, close } = await launchChromium();
  const served = await serveWebview();
  try {
    const page = await openPanelPage(() => browser.newPage({ viewport: { width: 1000, height: 900 } }), served.origin);
    let history = await renderRuns(page, report, 0, 1, []);
    const one = await settledMemory(page);
    const rss1 = await rendererRssMB(browser);
    history = await renderRuns(page, report, 1, RUNS, history);
    const all = await settledMemory(page);
    const rss15 = await rendererRssMB(browser);
    const perRunMB = (all.usedMB - one.usedMB) / (RUNS - 1);
    t.row('webview heap after GC: run 1 → run 15', `${one.usedMB.toFixed(1)} → ${all.usedMB.toFixed(1)} MB`, 'Runtime.getHeapUsage after HeapProfiler.collectGarbage');
    t.row('webview heap retained per run', `${perRunMB.toFixed(2)} MB`, 'target < 2 MB per render retained (issue 16: ~47 MB before)');
    t.row('renderer resident memory: run 1 → run 15', rss1 === null || rss15 === null ? '–' : `${rss1.toFixed(0)} → ${rss15.toFixed(0)} MB`,
      'VmRSS of Chromium\'s renderers: canvases\' pixels are not in the heap');
    t.row('DOM nodes / listeners: run 1 → run 15', `${one.nodes} → ${all.nodes} / ${one.listeners} → ${all.listeners}`, 'Memory.getDOMCounters; the history list grows by one entry per run');
    await page.close();
  } finally {
    await served.close();
    await close();
  }
}
