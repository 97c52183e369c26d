/// <reference lib="dom" />
/**
 * The worker sweep's view in real Chromium (issue 16: sweeps in the history, exported like
 * a run), on a real `looplag sweep` document (test/fixtures/reports/sweep-python.json):
 * the standalone page `--html` / Save as HTML writes, and the panel's page fed `sweep`
 * messages with the history (`acquireVsCodeApi` stood in by a recorder).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { sweepStandaloneHtml } from '../../src/report/html';
import { Sweep } from '../../src/shared/protocol';
import type { HistoryEntry } from '../../src/shared/webviewProtocol';
import { launchChromium, openPanelPage, SECURITY_PROBE, serveWebview } from '../support/browser';
import { FIXTURES, REPO, tmpDir } from '../support/helpers';

const SWEEP = Sweep.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sweep-python.json'), 'utf8')));
const PAYLOAD = "<img src=x onerror=alert('x')>";

let browser: Browser;
let closeBrowser: () => Promise<void>;
let served: Awaited<ReturnType<typeof serveWebview>>;
const work = tmpDir('looplag-sweep-ui-');

before(async () => {
  ({ browser, close: closeBrowser } = await launchChromium());
  served = await serveWebview();
});
after(async () => {
  await closeBrowser?.();
  await served?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const security = (page: Page) => page.evaluate(() => ({
  xss: (window as unknown as { __xss: string[] }).__xss,
  csp: (window as unknown as { __cspViolations: unknown[] }).__cspViolations,
  images: document.querySelectorAll('#app img').length,
}));

const rows = (page: Page) => page.$$eval('table[data-testid="sweep-table"] tbody tr', (trs) => trs.map((tr) => `${tr.getAttribute('data-mode')} ${tr.getAttribute('data-workers')}`));
const actions = (page: Page) => page.$$eval('nav.toolbar button[data-action]', (bs) => bs.map((b) => b.getAttribute('data-action')));

test('the standalone page shows the sweep: its table, charts and recommendations, offline; a name from user code stays text', async () => {
  const file = path.join(work, 'sweep.html');
  const sweep: Sweep = { ...SWEEP, target: { ...SWEEP.target, args: PAYLOAD } };
  fs.writeFileSync(file, sweepStandaloneHtml(sweep, {
    js: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'main.js'), 'utf8'),
    css: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'standalone.css'), 'utf8'),
  }));
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  try {
    await page.addInitScript(SECURITY_PROBE);
    await page.goto(`file://${file}`);
    await page.waitForSelector('body[data-rendered="true"]');
    assert.equal((await page.textContent('[data-testid="sweep-headline"]'))?.trim(), SWEEP.headline);
    assert.deepEqual(await rows(page), SWEEP.points.map((p) => `${p.mode} ${p.workers}`));
    for (const r of SWEEP.recommendations) assert.equal((await page.textContent(`[data-testid="recommended-${r.mode}"]`))?.trim(), `W = ${r.workers}`);
    assert.equal(await page.evaluate(() => document.body.dataset.charts), String(new Set(SWEEP.points.map((p) => p.mode)).size));
    // Standalone: export and copy only (no editor to cancel in or save through), no history.
    assert.deepEqual(await actions(page), ['export-json', 'copy-markdown']);
    assert.equal(await page.$('section.history'), null);
    assert.deepEqual(await security(page), { xss: [], csp: [], images: 0 });
  } finally {
    await page.close();
  }
});

test('in the panel: the history under a finished sweep lists it and the reports; a click selects; the actions name the sweep on show', async () => {
  const page = await openPanelPage(browser, served.origin, { width: 1100, height: 900 });
  try {
    const history: HistoryEntry[] = [
      { id: 's1', createdAt: SWEEP.createdAt, label: 'sweep · cpu_bound_task() · best process W=2', headline: SWEEP.headline, status: 'complete', kind: 'sweep' },
      { id: 'r1', createdAt: '2026-11-30T16:02:24.306Z', label: PAYLOAD, headline: 'Not safe', status: 'complete' },
    ];
    const posted = () => page.evaluate(() => (window as unknown as { __posted: Record<string, unknown>[] }).__posted.filter((m) => m.type !== 'ready'));
    // While it runs: Cancel, and no history (a click there would hide the sweep being measured).
    await page.evaluate((m) => window.postMessage(m, '*'), { type: 'sweep', sweep: SWEEP, running: { mode: 'process W=4', phase: 'running', done: 3, total: 0 }, id: null, history });
    await page.waitForSelector('[data-testid="running"]');
    assert.deepEqual(await actions(page), ['cancel', 'export-json', 'copy-markdown', 'save-html']);
    assert.equal(await page.$('section.history'), null);
    await page.evaluate((m) => window.postMessage(m, '*'), { type: 'sweep', sweep: SWEEP, running: null, id: 's1', history });
    await page.waitForSelector('section.history');
    const items = await page.$$eval('section.history li', (lis) => lis.map((li) => ({
      kind: li.getAttribute('data-kind'), current: li.classList.contains('current'), text: li.textContent ?? '', compare: li.querySelector('button.small') !== null,
    })));
    assert.deepEqual(items.map((i) => [i.kind, i.current, i.compare]), [['sweep', true, false], ['report', false, false]]);
    assert.match(items[0].text, /sweep · cpu_bound_task\(\) · best process W=2/);
    assert.ok(items[1].text.includes(PAYLOAD), 'a label is text');
    await page.click('section.history li[data-kind="report"] button.link');
    for (const action of ['export-json', 'copy-markdown', 'save-html']) await page.click(`button[data-action="${action}"]`);
    assert.deepEqual(await posted(), [
      { type: 'select', id: 'r1' }, { type: 'exportJson', id: 'sweep' }, { type: 'copyMarkdown', id: 'sweep' }, { type: 'saveHtml', id: 'sweep' },
    ]);
    assert.deepEqual(await security(page), { xss: [], csp: [], images: 0 });
  } finally {
    await page.close();
  }
});
