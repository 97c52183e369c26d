/// <reference lib="dom" />
/**
 * Compare in real Chromium (issue 16: "compare shows deltas"): a real report and the same
 * document edited as a fix would change it (test/support/comparePair.ts), in the webview
 * (the history's Compare: the newer on show, the older picked) and in a standalone HTML
 * file (the older as the report, the newer as `compare`). The verdict change comes first,
 * the delta table shows ▲/▼ with the right direction and value, ≈ inside the noise, and
 * every lag chart overlays both runs on one y scale, kept through a theme switch.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after as afterAll, before as beforeAll, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { standaloneHtml } from '../../src/report/html';
import { Report } from '../../src/shared/protocol';
import { DELTA_TEXT, ThemeKind } from '../../src/webview/palette';
import { panelHarness, SECURITY_PROBE } from '../support/browser';
import { comparePair } from '../support/comparePair';
import { FIXTURES, REPO } from '../support/helpers';
import { applyTheme } from '../support/vscodeThemes';

const OUT = path.join(REPO, 'out', 'screenshots');
const { before, after } = comparePair();
const MODES = ['inline', 'thread', 'process'];

const harness = panelHarness({ before: beforeAll, after: afterAll }, 'looplag-compare-');
beforeAll(async () => {
  fs.mkdirSync(OUT, { recursive: true });
});

async function openWebview(kind: ThemeKind): Promise<Page> {
  const page = await harness.open({ width: 1200, height: 1000 });
  await applyTheme(page, kind);
  return page;
}

const history = [
  { id: 'b', createdAt: after.createdAt, label: 'cpu_bound_task', headline: after.headline!, status: 'complete' },
  { id: 'a', createdAt: before.createdAt, label: 'cpu_bound_task', headline: before.headline!, status: 'complete' },
];

interface Row { mode: string; metric: string; before: string; after: string; delta: string; judgement: string; arrow: string; colour: string }

function rows(page: Page): Promise<Row[]> {
  return page.$$eval('table[data-testid="deltas"] tbody tr', (trs) => trs.map((tr) => {
    const delta = tr.querySelector('td.delta') as HTMLElement;
    return {
      mode: tr.getAttribute('data-mode')!, metric: tr.getAttribute('data-metric')!,
      before: tr.querySelector('[data-side="before"]')!.textContent!, after: tr.querySelector('[data-side="after"]')!.textContent!,
      delta: delta.textContent!, judgement: delta.dataset.judgement!, arrow: delta.dataset.arrow!, colour: getComputedStyle(delta).color,
    };
  }));
}

function rgbToHex(css: string): string {
  return `#${css.match(/\d+/g)!.slice(0, 3).map((n) => Number(n).toString(16).padStart(2, '0')).join('')}`;
}

/** The comparison as both hosts must show it, whichever of the two is the one on show. */
async function assertComparison(page: Page, kind: ThemeKind): Promise<void> {
  // The verdict change comes first, before the runs and the table.
  const order = await page.$$eval('[data-testid="compare"] > *', (els) => els.map((e) => e.getAttribute('data-testid') ?? e.tagName.toLowerCase()));
  assert.equal(order.indexOf('verdict-change'), 1, `the verdict change right under the title: ${order.join(', ')}`);
  assert.equal(await page.textContent('[data-testid="verdict-change"]'), ' Verdict changed: Not safe → Safe in a thread pool');
  assert.equal(await page.textContent('[data-testid="headline-before"]'), before.headline);
  assert.equal(await page.textContent('[data-testid="headline-after"]'), after.headline);
  assert.match(await page.textContent('[data-testid="unfair"]') ?? '', /machine was busy during the before run \(other processes used 74% of its CPU\)/);

  const table = await rows(page);
  const row = (mode: string, metric: string) => table.find((r) => r.mode === mode && r.metric === metric)!;
  // thread lag max: 1.09 s → 15.7 ms, fell 98.6%: ▼ better, in the better colour.
  const max = row('thread', 'max');
  assert.deepEqual([max.before, max.after, max.arrow, max.judgement], ['1.09 s', '15.7 ms', '▼', 'better']);
  assert.equal(max.delta, '▼ −1.07 s (−99%) better');
  assert.equal(rgbToHex(max.colour), DELTA_TEXT[kind].better, `${kind}: better in its colour`);
  // inline wall time +30%: ▲ worse.
  const wall = row('inline', 'wall');
  assert.deepEqual([wall.before, wall.after, wall.arrow, wall.judgement], ['2.20 s', '2.86 s', '▲', 'worse']);
  assert.equal(wall.delta, '▲ +659.9 ms (+30%) worse');
  assert.equal(rgbToHex(wall.colour), DELTA_TEXT[kind].worse, `${kind}: worse in its colour`);
  // inline throughput fell: ▼, and lower throughput is worse.
  assert.deepEqual([row('inline', 'throughput').arrow, row('inline', 'throughput').judgement], ['▼', 'worse']);
  // process throughput +2%: ≈, not coloured as a change.
  const tput = row('process', 'throughput');
  assert.deepEqual([tput.before, tput.after, tput.arrow, tput.judgement], ['3.1/s', '3.2/s', '≈', 'noise']);
  assert.equal(tput.delta, '≈ +0.1/s (+2.0%) within noise');
  assert.notEqual(rgbToHex(tput.colour), DELTA_TEXT[kind].better);
  assert.notEqual(rgbToHex(tput.colour), DELTA_TEXT[kind].worse);
  assert.deepEqual([row('thread', 'gil99').arrow, row('thread', 'gil99').delta], ['=', '= no change']);
  assert.deepEqual([...new Set(table.map((r) => r.mode))], MODES);

  // Charts: one per mode with both runs, one y scale for all, as uPlot drew them.
  const charts = await page.$$eval('figure[data-chart^="compare-"]', (figs) => figs.map((f) => ({
    chart: f.getAttribute('data-chart')!, yMin: Number(f.getAttribute('data-y-min')), yMax: Number(f.getAttribute('data-y-max')), runs: Number(f.getAttribute('data-runs')),
    legend: Array.from(f.querySelectorAll('.u-legend .u-series .u-label')).map((l) => l.textContent ?? ''),
  })));
  assert.deepEqual(charts.map((c) => c.chart), [...MODES.map((m) => `compare-lag-${m}`), 'compare-cdf']);
  const lag = charts.filter((c) => c.chart.startsWith('compare-lag-'));
  const longest = Math.max(...[before, after].flatMap((r) => r.runs.map((m) => m.lag.maxMs)));
  for (const c of lag) {
    assert.equal(c.runs, 2, `${c.chart}: both runs overlaid`);
    assert.equal(c.legend.filter((l) => /^(before|after) /.test(l)).length, 2, `${c.chart}: a legend for before and after (${c.legend.join(', ')})`);
    assert.deepEqual([c.yMin, c.yMax], [0, longest * 1.15], `${c.chart}: the shared y scale, 0 to the longest lag of either run`);
  }
  const cdf = charts.find((c) => c.chart === 'compare-cdf')!;
  assert.equal(cdf.runs, 6, 'the distribution: before and after of each of the 3 modes');
  assert.deepEqual(await page.evaluate(() => (window as unknown as { __cspViolations: unknown[] }).__cspViolations), []);
}

describe('compare in the webview', () => {
  test('the history\'s Compare shows the deltas, the verdict change and overlaid charts; a theme switch keeps them', async () => {
    const page = await openWebview('light');
    try {
      // The newer run on show, the older picked from the history: before and after by time, not by role.
      await page.evaluate((m) => window.postMessage(m, '*'), {
        type: 'state', currentId: 'b', current: after, compare: before, history, running: null, options: { lagBudgetMs: 100, host: 'vscode' },
      });
      await page.waitForSelector('body[data-rendered="true"]');
      assert.ok(await page.$('[data-testid="compare"]'), 'one compare view (not two reports side by side)');
      await page.waitForFunction(() => document.body.dataset.chartsTheme === 'light' && document.querySelectorAll('figure[data-chart^="compare-"][data-y-max]').length === 4);
      await assertComparison(page, 'light');
      await page.screenshot({ path: path.join(OUT, 'compare.png'), fullPage: true });
      // The first screen: docs/images/compare.png is this.
      await page.screenshot({ path: path.join(OUT, 'compare-top.png') });
      const canvases = await page.$$eval('canvas', (c) => c.length);
      for (const kind of ['dark', 'hc-dark', 'hc-light'] as const) {
        await applyTheme(page, kind);
        await page.waitForFunction((k) => document.body.dataset.chartsTheme === k, kind);
        await assertComparison(page, kind);
        assert.equal(await page.$$eval('canvas', (c) => c.length), canvases, `${kind}: each chart drawn once (the old ones destroyed)`);
      }
      await page.screenshot({ path: path.join(OUT, 'compare-hc-light.png'), fullPage: true });
      // The log-scale toggle: every lag chart again, on one log scale.
      await page.click('input[data-action="log-scale"]');
      await page.waitForFunction(() => Array.from(document.querySelectorAll('figure[data-chart^="compare-lag-"]')).every((f) => f.getAttribute('data-y-min') === '0.01'));
      const logMax = await page.$$eval('figure[data-chart^="compare-lag-"]', (figs) => figs.map((f) => f.getAttribute('data-y-max')));
      assert.equal(new Set(logMax).size, 1, `one log scale: ${logMax.join(', ')}`);
      assert.ok(await page.$('button[aria-pressed="true"]'), 'the history offers Stop comparing');
    } finally {
      await page.close();
    }
  });

  test('a run that measured nothing: its figures are "not measured", the charts show the other run', async () => {
    const failed = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'import-error-python.json'), 'utf8')));
    const page = await openWebview('dark');
    try {
      await page.evaluate((m) => window.postMessage(m, '*'), {
        type: 'state', currentId: 'b', current: failed, compare: before, history: [], running: null, options: { lagBudgetMs: 100, host: 'vscode' },
      });
      await page.waitForFunction(() => document.querySelectorAll('figure[data-chart^="compare-"][data-y-max]').length === 4);
      assert.equal(await page.textContent('[data-testid="verdict-change"]'), ' Verdict changed: Not safe → Not measured in a thread pool');
      const judged = await page.$$eval('td.delta', (tds) => [...new Set(tds.map((td) => td.textContent))]);
      assert.deepEqual(judged, ['not measured after']);
      assert.match(await page.textContent('[data-testid="unfair"]') ?? '', /Different target/);
      assert.deepEqual(await page.$$eval('figure[data-chart^="compare-lag-"]', (f) => f.map((x) => x.getAttribute('data-runs'))), ['2', '2', '2']);
    } finally {
      await page.close();
    }
  });
});

describe('compare in a standalone HTML file', () => {
  test('standaloneHtml(report, assets, compare) shows the same comparison offline', async () => {
    const file = path.join(harness.work, 'compare.html');
    fs.writeFileSync(file, standaloneHtml(before, {
      js: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'main.js'), 'utf8'),
      css: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'standalone.css'), 'utf8'),
    }, after));
    const page = await harness.browser.newPage({ viewport: { width: 1200, height: 1000 }, colorScheme: 'dark' });
    const requests: string[] = [];
    page.on('request', (req) => {
      if (!/^(file|data|blob):/.test(req.url())) requests.push(req.url());
    });
    try {
      await page.addInitScript(SECURITY_PROBE);
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-rendered="true"]');
      assert.ok(await page.$('[data-testid="compare"]'), 'one compare view (not two reports side by side)');
      await page.waitForFunction(() => document.querySelectorAll('figure[data-chart^="compare-"][data-y-max]').length === 4);
      await assertComparison(page, 'dark');
      assert.deepEqual(requests, [], 'no network requests');
      await page.screenshot({ path: path.join(OUT, 'compare-standalone-dark.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });
});
