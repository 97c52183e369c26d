/// <reference lib="dom" />
/**
 * The report's charts in VS Code's four kinds of theme, in real Chromium: drawn in each,
 * and drawn again on a live switch, with axes and labels whose pixels contrast with the
 * background; the run in progress (charts wait for its end, the headline says "so far");
 * and the page's memory over repeated renders.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { liveDelta } from '../../src/shared/liveReport';
import { Report } from '../../src/shared/protocol';
import { contrastRatio, MODE_HUES, PALETTES, THEME_KINDS, ThemeKind } from '../../src/webview/palette';
import { launchChromium, openPanelPage, serveWebview } from '../support/browser';
import { FIXTURES, REPO } from '../support/helpers';
import { applyTheme } from '../support/vscodeThemes';

const OUT = path.join(REPO, 'out', 'screenshots');
const SHOT: Record<ThemeKind, string> = { light: 'report-light.png', dark: 'report-dark.png', 'hc-dark': 'report-hc-dark.png', 'hc-light': 'report-hc-light.png' };
/** A real document from the Python engine (cpu_bound.py, inline, thread and process modes). */
const report = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'cpu-bound-python.json'), 'utf8')));

let browser: Browser;
let closeBrowser: () => Promise<void>;
let served: Awaited<ReturnType<typeof serveWebview>>;

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  ({ browser, close: closeBrowser } = await launchChromium());
  served = await serveWebview();
});

after(async () => {
  await served?.close();
  await closeBrowser?.();
});

async function openWebview(kind: ThemeKind, viewport = { width: 1000, height: 1000 }): Promise<Page> {
  const page = await openPanelPage(browser, served.origin, viewport);
  await applyTheme(page, kind);
  return page;
}

const send = (page: Page, message: unknown) => page.evaluate((m) => window.postMessage(m, '*'), message);

/** Does `act`, then waits until the page has rendered anew (its old content is gone). */
async function rendered(page: Page, act: () => Promise<unknown>): Promise<void> {
  await page.evaluate(() => document.querySelectorAll('#app > *').forEach((el) => el.setAttribute('data-old', '')));
  await act();
  await page.waitForFunction(() => document.querySelector('#app > *') !== null && document.querySelector('#app > [data-old]') === null);
}

/** A checksum of the pixels under a chart's plot (its x axis: ticks' values and label). */
function xAxisSum(page: Page, chart: string): Promise<number> {
  return page.evaluate((c) => {
    const fig = document.querySelector(`figure[data-chart="${c}"]`)!;
    const canvas = fig.querySelector('canvas')!;
    const box = canvas.getBoundingClientRect();
    const k = canvas.width / box.width;
    const bottom = Math.ceil((fig.querySelector('.u-over')!.getBoundingClientRect().bottom - box.top) * k);
    const data = canvas.getContext('2d')!.getImageData(0, bottom + 1, canvas.width, canvas.height - bottom - 1).data;
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum = (sum * 31 + data[i] * (i % 7 + 1)) % 1000000007;
    return sum;
  }, chart);
}
const stateOf = (r: Report, id = 'a') => ({ type: 'state', currentId: id, current: r, compare: null, history: [], running: null, options: { lagBudgetMs: 100, host: 'vscode' } });

interface Ink { count: number; colour: string; minRow: number; maxRow: number }
interface ChartInk { yAxis: Ink; xAxis: Ink; yLabel: Ink; plotTop: number; plotBottom: number; background: string }

/**
 * A chart's canvas read back: the opaque pixels left of the plot (the y axis's values and
 * label), below it (the x axis's) and in the label's strip, each with their median colour.
 * On a transparent canvas a pixel's colour is the colour it was drawn in, its alpha the
 * glyph's coverage: the opaque ones are the text, not the half-transparent ticks.
 */
function chartInk(page: Page, chart: string): Promise<ChartInk> {
  return page.evaluate((c) => {
    const fig = document.querySelector(`figure[data-chart="${c}"]`)!;
    const canvas = fig.querySelector('canvas')!;
    const over = fig.querySelector('.u-over')!.getBoundingClientRect();
    const box = canvas.getBoundingClientRect();
    const k = canvas.width / box.width;
    const left = Math.floor((over.left - box.left) * k);
    const top = Math.floor((over.top - box.top) * k);
    const bottom = Math.ceil((over.bottom - box.top) * k);
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const hex = (n: number) => Math.round(n).toString(16).padStart(2, '0');
    const ink = (x0: number, x1: number, y0: number, y1: number, minAlpha: number) => {
      const rgb: number[][] = [[], [], []];
      let minRow = Infinity;
      let maxRow = -1;
      for (let y = Math.max(0, y0); y < Math.min(canvas.height, y1); y++) {
        for (let x = Math.max(0, x0); x < Math.min(canvas.width, x1); x++) {
          const i = (y * canvas.width + x) * 4;
          if (data[i + 3] < minAlpha) continue;
          for (let j = 0; j < 3; j++) rgb[j].push(data[i + j]);
          minRow = Math.min(minRow, y);
          maxRow = Math.max(maxRow, y);
        }
      }
      const median = (v: number[]) => v.sort((a, b) => a - b)[v.length >> 1] ?? 0;
      return { count: rgb[0].length, colour: `#${rgb.map((v) => hex(median(v))).join('')}`, minRow, maxRow };
    };
    const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g)!.map(Number);
    return {
      yAxis: ink(0, left - 1, top, bottom, 200),
      xAxis: ink(left, canvas.width, bottom + 1, canvas.height, 200),
      // A y label is drawn in the axis's outer labelSize (18–30 px), left of the values.
      yLabel: ink(0, Math.round(22 * k), 0, canvas.height, 100),
      plotTop: top,
      plotBottom: bottom,
      background: `#${[r, g, b].map(hex).join('')}`,
    };
  }, chart);
}

/** Pixels of `colour` (within a small distance) on a chart's canvas. */
function pixelsOf(page: Page, chart: string, colour: string): Promise<number> {
  return page.evaluate(([c, hex]) => {
    const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const canvas = document.querySelector(`figure[data-chart="${c}"] canvas`) as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 200 && Math.abs(data[i] - want[0]) + Math.abs(data[i + 1] - want[1]) + Math.abs(data[i + 2] - want[2]) < 40) n++;
    }
    return n;
  }, [chart, colour] as [string, string]);
}

/** `rgb(r, g, b)` → `#rrggbb`. */
function rgbToHex(css: string): string {
  return `#${css.match(/\d+/g)!.slice(0, 3).map((n) => Number(n).toString(16).padStart(2, '0')).join('')}`;
}

/** Every chart has both axes, their text at 4.5:1 or more on the page's background, and the thread series in the kind's palette colour. */
async function assertChartsReadable(page: Page, kind: ThemeKind): Promise<void> {
  const charts = await page.$$eval('figure[data-chart]', (figs) => figs.map((f) => f.getAttribute('data-chart')!));
  assert.ok(charts.length >= 5, `charts drawn: ${charts.join(', ')}`);
  for (const chart of charts) {
    const ink = await chartInk(page, chart);
    assert.equal(ink.background, PALETTES[kind].background, `${kind}: the page's background is the theme's`);
    for (const [axis, found] of [['y', ink.yAxis], ['x', ink.xAxis]] as const) {
      assert.ok(found.count > 30, `${kind} ${chart}: the ${axis} axis has text (${found.count} opaque pixels)`);
      const ratio = contrastRatio(found.colour, ink.background);
      assert.ok(ratio >= 4.5, `${kind} ${chart}: ${axis} axis text ${found.colour} on ${ink.background} is ${ratio.toFixed(2)}:1 (text needs 4.5:1)`);
    }
    if (chart.startsWith('lag-') || chart === 'cdf') {
      // The y label fits beside the plot: cut at the canvas's top edge, it began at row 0.
      assert.ok(ink.yLabel.count > 20, `${kind} ${chart}: a y label`);
      assert.ok(ink.yLabel.minRow >= ink.plotTop && ink.yLabel.maxRow <= ink.plotBottom,
        `${kind} ${chart}: the y label (rows ${ink.yLabel.minRow}–${ink.yLabel.maxRow}) fits beside the plot (rows ${ink.plotTop}–${ink.plotBottom})`);
    }
  }
  // The blocked lines' share bars are graphics too: the palette's orange, not charts.orange (#AB5A00 on black in High Contrast).
  assert.equal(rgbToHex(await page.$eval('.share-fill', (el) => getComputedStyle(el).backgroundColor)), PALETTES[kind].hues.orange, `${kind}: the share bar`);
  const thread = PALETTES[kind].hues[MODE_HUES.thread];
  assert.ok(contrastRatio(thread, PALETTES[kind].background) >= 3);
  const n = await pixelsOf(page, 'lag-thread', thread);
  assert.ok(n > 20, `${kind}: thread's lag drawn in ${thread} (${n} pixels)`);
}

describe('charts in every theme', () => {
  for (const kind of THEME_KINDS) {
    test(`${kind}: every chart has axes and labels that contrast with the background`, async () => {
      const page = await openWebview(kind, { width: 1000, height: 1250 });
      try {
        await send(page, stateOf(report));
        await page.waitForFunction((k) => document.body.dataset.chartsTheme === k, kind);
        await assertChartsReadable(page, kind);
        await page.screenshot({ path: path.join(OUT, SHOT[kind]), fullPage: true });
        // The first screen (docs/images/report-light.png and report-dark.png are these).
        await page.screenshot({ path: path.join(OUT, SHOT[kind].replace('.png', '-top.png')) });
        assert.deepEqual(await page.evaluate(() => (window as unknown as { __cspViolations: unknown[] }).__cspViolations), []);
      } finally {
        await page.close();
      }
    });
  }

  test('a live switch light → dark → high contrast dark → high contrast light draws every chart again, keeping a zoom', async () => {
    const page = await openWebview('light');
    try {
      await send(page, stateOf(report));
      await page.waitForFunction(() => document.body.dataset.chartsTheme === 'light');
      // Zoom the process chart to its first half (drag across its plot).
      const unzoomedSum = await xAxisSum(page, 'lag-process');
      const over = (await page.$('figure[data-chart="lag-process"] .u-over'))!;
      await over.scrollIntoViewIfNeeded();
      const box = (await over.boundingBox())!;
      await page.mouse.move(box.x + 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
      assert.notEqual(await xAxisSum(page, 'lag-process'), unzoomedSum, 'the drag zoomed in');
      const canvases = await page.$$eval('canvas', (c) => c.length);
      for (const kind of ['dark', 'hc-dark', 'hc-light'] as const) {
        await applyTheme(page, kind);
        await page.waitForFunction((k) => document.body.dataset.chartsTheme === k, kind);
        await assertChartsReadable(page, kind);
        assert.equal(await page.$$eval('canvas', (c) => c.length), canvases, `${kind}: each chart drawn once (the old ones destroyed)`);
        // The swatches follow too.
        const swatch = await page.$eval('figure[data-chart="lag-thread"] .swatch', (el) => getComputedStyle(el).backgroundColor);
        assert.equal(rgbToHex(swatch), PALETTES[kind].hues.orange, `${kind}: the thread swatch`);
        await page.screenshot({ path: path.join(OUT, `report-switch-${kind}.png`), fullPage: true });
      }
      // Still zoomed: its x axis is not the one a fresh, unzoomed chart in the same theme has.
      const kept = await xAxisSum(page, 'lag-process');
      await rendered(page, () => send(page, stateOf(report, 'b')));
      assert.notEqual(kept, await xAxisSum(page, 'lag-process'), 'the zoom survived the theme switches');
    } finally {
      await page.close();
    }
  });
});

describe('a run in progress', () => {
  test('charts wait for the run to end; the headline says "so far" until then', async () => {
    const page = await openWebview('dark');
    try {
      const partial: Report = { ...report, status: 'partial', runs: report.runs.slice(0, 2) };
      const progress = { mode: 'process', phase: 'running', done: 1, total: 4 };
      await send(page, { type: 'liveDelta', ...liveDelta(null, partial), progress });
      await page.waitForSelector('[data-testid="charts-deferred"]');
      assert.equal(await page.$$eval('canvas', (c) => c.length), 0, 'no chart drawn during the run');
      assert.equal(await page.textContent('[data-testid="headline"]'), `So far: ${partial.headline}`);
      assert.equal(await page.$eval('[data-testid="running"] .codicon', (el) => getComputedStyle(el).animationName), 'none', 'nothing animates during the run');
      // The run ends: its report, charts and a headline that is no longer provisional.
      await send(page, stateOf(report));
      await page.waitForFunction(() => document.querySelectorAll('figure[data-chart] canvas').length >= 5);
      assert.equal(await page.$('[data-testid="charts-deferred"]'), null);
      assert.equal(await page.$('[data-testid="so-far"]'), null);
      assert.equal(await page.textContent('[data-testid="headline"]'), report.headline);
    } finally {
      await page.close();
    }
  });
});

describe('memory over repeated renders', () => {
  test('15 renders of a report keep the heap and the DOM within a margin of one', async () => {
    const page = await openWebview('light');
    try {
      const cdp = await page.context().newCDPSession(page);
      const settle = async () => {
        await cdp.send('HeapProfiler.collectGarbage');
        await cdp.send('HeapProfiler.collectGarbage');
        const heap = await cdp.send('Runtime.getHeapUsage');
        const dom = await cdp.send('Memory.getDOMCounters');
        return { usedMB: heap.usedSize / 1048576, nodes: dom.nodes, listeners: dom.jsEventListeners };
      };
      const render = async (i: number) => {
        // A fresh document each time, as the host posts it (same report, another id).
        await rendered(page, () => send(page, stateOf(JSON.parse(JSON.stringify(report)), `r${i}`)));
        await page.waitForFunction(() => document.querySelectorAll('figure[data-chart] canvas').length >= 5);
      };
      await render(0);
      const one = await settle();
      for (let i = 1; i < 15; i++) await render(i);
      const fifteen = await settle();
      const perRender = (fifteen.usedMB - one.usedMB) / 14;
      console.log(`# webview heap after GC: ${one.usedMB.toFixed(1)} MB after 1 render, ${fifteen.usedMB.toFixed(1)} MB after 15 (${perRender.toFixed(2)} MB retained per render); DOM nodes ${one.nodes} → ${fifteen.nodes}, listeners ${one.listeners} → ${fifteen.listeners}`);
      assert.ok(fifteen.usedMB < one.usedMB * 1.5 + 10, `heap ${fifteen.usedMB.toFixed(1)} MB after 15 renders against ${one.usedMB.toFixed(1)} MB after 1`);
      assert.ok(fifteen.nodes < one.nodes * 1.5 + 500, `DOM nodes ${fifteen.nodes} after 15 renders against ${one.nodes} after 1`);
      assert.ok(fifteen.listeners < one.listeners * 1.5 + 50, `listeners ${fifteen.listeners} after 15 renders against ${one.listeners} after 1`);
    } finally {
      await page.close();
    }
  });
});
