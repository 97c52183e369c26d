/**
 * The report panel over successive runs keeps its memory (issue 16: each re-render allocated
 * ~47 MB in the webview, 577 → 1279 MB over 15 runs). Real Chromium, the panel's page, and
 * per run the messages the host posts (test/support/runSequence.ts: started, each mode done,
 * finished with its charts drawn): after 15 runs the heap (after a forced GC), the DOM, the
 * listeners and the renderers' resident memory stay within a margin of what one run left.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, serveWebview } from '../support/browser';
import { FIXTURES } from '../support/helpers';
import { openPanelPage, renderRuns, rendererRssMB, settledMemory } from '../support/runSequence';
import { syntheticReport } from '../support/syntheticReport';

const RUNS = 15;

let browser: Browser;
let closeBrowser: () => Promise<void>;
let served: Awaited<ReturnType<typeof serveWebview>>;

before(async () => {
  ({ browser, close: closeBrowser } = await launchChromium());
  served = await serveWebview();
});

after(async () => {
  await served?.close();
  await closeBrowser?.();
});

test(`${RUNS} runs shown live in the panel retain under 2 MB of heap per run, and no DOM, listeners or canvases`, async (t) => {
  // 3 modes × 5,000 heartbeats: the charts hold a few MB each run, which a leak would keep.
  const report = syntheticReport(`${FIXTURES}/python/bench/bench_targets.py`, 5_000, 3);
  const page = await openPanelPage(() => browser.newPage({ viewport: { width: 1000, height: 900 } }), served.origin);
  try {
    let history = await renderRuns(page, report, 0, 1, []);
    const one = await settledMemory(page);
    const rss1 = await rendererRssMB(browser);
    history = await renderRuns(page, report, 1, RUNS, history);
    const all = await settledMemory(page);
    const rss15 = await rendererRssMB(browser);
    const perRunMB = (all.usedMB - one.usedMB) / (RUNS - 1);
    t.diagnostic(`heap after GC ${one.usedMB.toFixed(1)} → ${all.usedMB.toFixed(1)} MB (${perRunMB.toFixed(2)} MB per run); renderers ${rss1?.toFixed(0)} → ${rss15?.toFixed(0)} MB; DOM nodes ${one.nodes} → ${all.nodes}, listeners ${one.listeners} → ${all.listeners}`);
    assert.equal(history.length, RUNS);
    assert.ok(perRunMB < 2, `${perRunMB.toFixed(2)} MB of heap retained per run (${one.usedMB.toFixed(1)} → ${all.usedMB.toFixed(1)} MB)`);
    assert.ok(all.usedMB < one.usedMB * 1.5 + 5, `heap ${all.usedMB.toFixed(1)} MB after ${RUNS} runs against ${one.usedMB.toFixed(1)} MB after 1`);
    // The history list grows by one entry a run (a row, its buttons): ~15 nodes and 3 listeners each.
    assert.ok(all.nodes < one.nodes + 30 * (RUNS - 1), `DOM nodes ${one.nodes} → ${all.nodes}`);
    assert.ok(all.listeners < one.listeners + 5 * (RUNS - 1), `listeners ${one.listeners} → ${all.listeners}`);
    assert.equal(await page.$$eval('canvas', (c) => c.length), await page.$$eval('figure[data-chart] canvas', (c) => c.length), 'every canvas is a chart on show');
    // Canvases' pixels are not in the heap: charts kept from each run added ~6 MB a run (+90 MB
    // over 14 runs with ChartSet.destroy left out of render()); as they should, 1–8 MB in all.
    if (rss1 !== null && rss15 !== null) assert.ok(rss15 < rss1 + 40, `renderers' resident memory ${rss1.toFixed(0)} → ${rss15.toFixed(0)} MB`);
  } finally {
    await page.close();
  }
});
