/// <reference lib="dom" />
/**
 * The report UI in real Chromium, on reports produced by the real Python engine:
 * as a standalone HTML file (file://, offline) and as the VS Code webview page
 * (same CSP, `acquireVsCodeApi` stood in by a recorder).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { standaloneHtml } from '../../src/report/html';
import { liveDelta } from '../../src/shared/liveReport';
import { MODE_NAMES } from '../../src/shared/modes';
import { MODE_HUES, PALETTES } from '../../src/webview/palette';
import type { Report } from '../../src/shared/protocol';
import { Report as ReportSchema, Sweep as SweepSchema } from '../../src/shared/protocol';
import { launchChromium, openPanelPage, SECURITY_PROBE, serveWebview } from '../support/browser';
import { FIXTURES, REPO, runCli, tmpDir } from '../support/helpers';

const OUT = path.join(REPO, 'out', 'screenshots');
const PAYLOAD_DIR = "<img src=x onerror=alert('dir')>";

let browser: Browser;
let closeBrowser: () => Promise<void>;
let work: string;
let normal: { report: Report; html: string };
let hostile: { report: Report; html: string };

before(async () => {
  work = tmpDir('looplag-ui-');
  fs.mkdirSync(OUT, { recursive: true });
  const measure = async (args: string[], name: string, exitCode = 0) => {
    const html = path.join(work, `${name}.html`);
    const r = await runCli(['run', ...args, '--json', '--html', html]);
    assert.equal(r.code, exitCode, r.stderr);
    return { report: r.report!, html };
  };
  // The hostile target lives in a folder whose name is itself a payload.
  const hostileDir = path.join(work, PAYLOAD_DIR);
  fs.mkdirSync(hostileDir);
  fs.copyFileSync(path.join(FIXTURES, 'python', 'ui', 'hostile.py'), path.join(hostileDir, 'hostile.py'));
  [normal, hostile] = [
    await measure(['examples/python/cpu_bound.py::cpu_bound_task', '--args', '365, 120_000', '--concurrency', '4', '--modes', 'inline,thread,process,interpreter'], 'normal'),
    await measure([`${hostileDir}/hostile.py::shout`, '--args', `"</script><img src=x onerror=alert('arg')>"`, '--concurrency', '2', '--modes', 'inline,thread'], 'hostile', 4), // its calls raise the payload: exit 4
  ];
  ({ browser, close: closeBrowser } = await launchChromium());
});

after(async () => {
  await closeBrowser?.();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function openFile(file: string, colorScheme: 'light' | 'dark' = 'light'): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 }, colorScheme });
  const requests: string[] = [];
  page.on('request', (req) => {
    if (!req.url().startsWith('file://') && !req.url().startsWith('data:') && !req.url().startsWith('blob:')) requests.push(req.url());
  });
  await page.addInitScript(SECURITY_PROBE);
  await page.goto(`file://${file}`);
  await page.waitForSelector('body[data-rendered="true"]');
  return { page, requests };
}

/** "▲ 1.52 s" → 1520, "48.3 ms" → 48.3, "98%" → 0.98, "3 / 10" → 3, "1.93×" → 1.93. */
function parseCell(text: string): number {
  return readCell(text).value;
}

/** The number a cell shows and half a unit of its last digit shown, in the same unit. */
function readCell(text: string): { value: number; halfStep: number } {
  const t = text.replace('▲', '').trim();
  const m = /^(-?[\d.]+)\s*(ms|s|%|×|\/s)?/.exec(t);
  assert.ok(m, `a number in "${text}"`);
  const scale = m[2] === 's' ? 1000 : m[2] === '%' ? 0.01 : 1;
  const decimals = m[1].includes('.') ? m[1].length - m[1].indexOf('.') - 1 : 0;
  return { value: Number(m[1]) * scale, halfStep: 0.5 * 10 ** -decimals * scale };
}

/** A cell shows `expected` rounded as it chose: within half a unit of its last digit (and 0.6% for the formatter's own rounding). */
function close(text: string, expected: number, what: string): void {
  const { value, halfStep } = readCell(text);
  const tol = Math.max(Math.abs(expected) * 0.006, 0.006, halfStep * 1.0001);
  assert.ok(Math.abs(value - expected) <= tol, `${what}: shown ${text} (${value}), report ${expected}`);
}

describe('standalone HTML from `looplag run --html`', () => {
  test('opens offline from a file, draws every chart, and shows the report numbers', async () => {
    const { page, requests } = await openFile(normal.html);
    try {
      assert.deepEqual(requests, [], 'no network requests');
      const report = normal.report;
      const measured = report.runs.filter((r) => r.status !== 'skipped');
      // The max lag of every mode against the budget under the headline; then one lag chart per measured mode, a CDF, and one task timeline per measured mode.
      const charts = await page.$$eval('figure[data-chart]', (figs) => figs.map((f) => f.getAttribute('data-chart')));
      assert.deepEqual(charts.sort(), ['budget', ...measured.map((r) => `lag-${r.mode}`), 'cdf', ...measured.map((r) => `timeline-${r.mode}`)].sort());
      // Every chart has drawn its series: pixels of the mode's colour on its canvas.
      for (const chart of charts) {
        const modes = chart === 'cdf' || chart === 'budget' ? measured.map((r) => r.mode) : [chart!.split('-')[1]];
        for (const mode of modes) {
          const count = await page.evaluate(([c, m]) => {
            // The colour of the mode's swatch as the page shows it (set from MODES, as the chart's).
            const swatch = document.querySelector(`figure[data-chart="lag-${m}"] figcaption .swatch`)!;
            const [r, g, b, a = 1] = getComputedStyle(swatch).backgroundColor.match(/[\d.]+/g)!.map(Number);
            if (a < 1) return -1; // no colour of its own: the swatch says nothing

            const canvas = document.querySelector(`figure[data-chart="${c}"] canvas`) as HTMLCanvasElement;
            const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
            let n = 0;
            for (let i = 0; i < data.length; i += 4) {
              if (data[i + 3] > 200 && Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 40) n++;
            }
            return n;
          }, [chart!, mode]);
          assert.ok(count > 20, count < 0 ? `${mode}'s swatch has no colour` : `${chart} shows ${mode} (${count} pixels in its colour)`);
        }
      }
      // The table: modes as columns, and the numbers are the report's.
      const cells = await page.$$eval('table[data-testid="summary"] td', (tds) =>
        tds.map((td) => ({ mode: td.getAttribute('data-mode'), metric: td.getAttribute('data-metric'), text: td.textContent ?? '', over: td.classList.contains('over') })));
      for (const run of report.runs) {
        const cell = (metric: string) => cells.find((c) => c.mode === run.mode && c.metric === metric)!;
        if (run.status === 'skipped') {
          // A skipped mode is a line above the table, not a column of dashes (issue 16).
          assert.equal(cells.filter((c) => c.mode === run.mode).length, 0, `no ${run.mode} column`);
          assert.match(await page.textContent(`[data-testid="skipped"]`) ?? '', new RegExp(`^${run.mode}: skipped — `));
          continue;
        }
        close(cell('p50').text, run.lag.p50Ms, `${run.mode} p50`);
        close(cell('p99').text, run.lag.p99Ms, `${run.mode} p99`);
        close(cell('max').text, run.lag.maxMs, `${run.mode} max`);
        assert.equal(parseCell(cell('stalls').text), run.lag.stallCount);
        close(cell('stalled').text, Math.round(run.lag.stalledFrac * 100) / 100, `${run.mode} stalled`);
        close(cell('wall').text, run.wallMs, `${run.mode} wall`);
        close(cell('speedup').text, run.speedup!, `${run.mode} speedup`);
        close(cell('throughput').text, run.throughputPerS!, `${run.mode} throughput`);
        // Over the budget is marked by a glyph and a class, not colour alone.
        assert.equal(cell('max').over, run.lag.maxMs > 100, `${run.mode} max over budget`);
        if (cell('max').over) assert.match(cell('max').text, /▲/);
      }
      assert.match(await page.textContent('[data-testid="target-name"]') ?? '', /cpu_bound_task/);
      await page.screenshot({ path: path.join(OUT, 'report-light.png'), fullPage: true });
      await page.emulateMedia({ colorScheme: 'dark' });
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, 'rgb(31, 31, 31)', 'the dark theme applies');
      await page.screenshot({ path: path.join(OUT, 'report-dark.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  test('a skipped or failed mode says why on the page; no <details> opens onto nothing', async () => {
    // A target that cannot load: every mode is skipped with the same error and no detail.
    const broken = path.join(work, 'broken_target.py');
    fs.writeFileSync(broken, 'def f():\n    return 1\n\nraise SystemExit("config missing")\n');
    const brokenHtml = path.join(work, 'broken.html');
    const r = await runCli(['run', `${broken}::f`, '--modes', 'inline,thread,process,interpreter', '--no-gil-probe', '--free-threaded', 'off', '--json', '--html', brokenHtml]);
    assert.equal(r.code, 1, r.stderr);
    for (const [file, report] of [[normal.html, normal.report], [brokenHtml, r.report!]] as const) {
      const notOk = report.runs.filter((m) => m.status !== 'ok');
      assert.ok(notOk.length > 0, `${file}: a mode that was not measured (interpreter needs Python 3.14)`);
      const { page } = await openFile(file);
      try {
        const sections = await page.$$eval('section.details details', (ds) => ds.map((d) => ({
          mode: d.getAttribute('data-mode'),
          body: Array.from(d.children).filter((c) => c.tagName !== 'SUMMARY').map((c) => c.textContent ?? '').join('').trim(),
        })));
        for (const sec of sections) assert.ok(sec.body.length > 0, `${file}: the ${sec.mode ?? 'session'} section opens onto something`);
        // Each mode that was not measured says why where it can be read without opening anything.
        const visible = await page.$$eval('section.details', (ss) => ss.map((sec) => {
          const clone = sec.cloneNode(true) as HTMLElement;
          clone.querySelectorAll('details > :not(summary)').forEach((e) => e.remove());
          return clone.textContent ?? '';
        }).join('\n'));
        if (report.error && report.runs.every((m) => m.status === 'skipped')) {
          // Nothing measured: the run's error is the card's cause, said once, not once per mode (issue 16).
          assert.equal(await page.$$eval('[data-testid="error-card"]', (c) => c.length), 1, file);
          assert.equal(await page.textContent('[data-testid="error-cause"]'), report.headline);
          assert.match(report.headline ?? '', /config missing/);
          assert.equal(await page.$$eval('[data-testid="run-error"], table[data-testid="summary"]', (e) => e.length), 0, `${file}: no per-mode repeat, no table`);
        } else {
          for (const m of notOk) assert.ok(visible.includes(`${m.error!.kind} — ${m.error!.message}`), `${file}: why ${m.mode} was ${m.status}`);
        }
      } finally {
        await page.close();
      }
    }
  });

  test('payloads in the path, arguments, exception text and printed output run nothing and break no CSP rule', async () => {
    const report = hostile.report;
    assert.ok(report.target.file.includes(PAYLOAD_DIR), 'the payload reached the report through the real engine');
    assert.ok(report.runs[0].tasks[0].error?.message.includes('</script>'));
    assert.ok(report.runs[0].output.stdout.includes('</script>'));
    // The function name cannot hold markup in Python; a crafted report can.
    const crafted: Report = { ...report, target: { ...report.target, qualname: `shout</script><img src=x onerror=alert('name')>` } };
    const craftedFile = path.join(work, 'crafted.html');
    fs.writeFileSync(craftedFile, standaloneHtml(crafted, {
      js: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'main.js'), 'utf8'),
      css: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'standalone.css'), 'utf8'),
    }));
    for (const file of [hostile.html, craftedFile]) {
      const { page } = await openFile(file);
      try {
        // Open every <details> so the output and tracebacks are in the DOM and visible.
        await page.$$eval('details', (ds) => ds.forEach((d) => ((d as HTMLDetailsElement).open = true)));
        const state = await page.evaluate(() => ({
          xss: (window as unknown as { __xss: string[] }).__xss,
          csp: (window as unknown as { __cspViolations: unknown[] }).__cspViolations,
          injectedImages: document.querySelectorAll('#app img').length,
          injectedScripts: document.querySelectorAll('#app script').length,
          text: document.getElementById('app')!.textContent,
        }));
        assert.deepEqual(state.xss, [], 'no payload ran');
        assert.deepEqual(state.csp, [], 'no CSP violation');
        assert.equal(state.injectedImages, 0);
        assert.equal(state.injectedScripts, 0);
        assert.ok(state.text!.includes("<img src=x onerror=alert('img')>"), 'payloads are shown as text');
        if (file === craftedFile) assert.ok(state.text!.includes("shout</script><img src=x onerror=alert('name')>"));
      } finally {
        await page.close();
      }
    }
  });

  test('the embedded report survives `</script>` in the data and the page validates it', () => {
    const html = fs.readFileSync(hostile.html, 'utf8');
    const data = /<script type="application\/json" id="looplag-data">([^]*?)<\/script>/.exec(html)![1];
    assert.ok(!data.includes('<'), 'no raw < inside the data element');
    assert.deepEqual(ReportSchema.parse(JSON.parse(data).report), hostile.report);
    assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;nonce-/);
  });
});

describe('the VS Code webview page', () => {
  let served: Awaited<ReturnType<typeof serveWebview>>;
  let base: string;

  before(async () => {
    served = await serveWebview();
    base = served.origin;
  });

  after(() => served.close());

  async function openWebview(): Promise<Page> {
    return openPanelPage(browser, base, { width: 480, height: 900 });
  }

  const send = (page: Page, message: unknown) => page.evaluate((m) => window.postMessage(m, '*'), message);
  const posted = (page: Page) => page.evaluate(() => (window as unknown as { __posted: { type: string }[] }).__posted);

  test('says ready, renders posted state in a narrow column, and its buttons post typed messages', async () => {
    const page = await openWebview();
    try {
      const history = [
        { id: 'b', createdAt: hostile.report.createdAt, label: 'shout', headline: 'inline: starved', status: 'complete' as const },
        { id: 'a', createdAt: normal.report.createdAt, label: 'cpu_bound_task', headline: 'thread: starved', status: 'complete' as const },
      ];
      await send(page, { type: 'state', currentId: 'a', current: normal.report, compare: null, history, running: null, options: { lagBudgetMs: 100, host: 'vscode' } });
      await page.waitForSelector('table[data-testid="summary"]', { state: 'attached' });
      assert.equal(await page.$$eval('figure[data-chart] canvas', (c) => c.length) > 0, true);
      // Keyboard: the first action is reachable with Tab, has an accessible name, and Enter works.
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Re-run');
      await page.keyboard.press('Enter');
      for (const action of ['settings', 'export-json', 'copy-markdown', 'save-html']) {
        await page.click(`[data-action="${action}"]`);
      }
      await page.click('.history button.small'); // Compare with the other run
      const types = (await posted(page)).map((m) => m.type);
      assert.deepEqual(types, ['ready', 'rerun', 'openSettings', 'exportJson', 'copyMarkdown', 'saveHtml', 'compare']);
      // Narrow column: the page itself does not scroll sideways (the table scrolls in its own box).
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
      const csp = await page.evaluate(() => (window as unknown as { __cspViolations: unknown[] }).__cspViolations);
      assert.deepEqual(csp, []);
      await page.screenshot({ path: path.join(OUT, 'webview-narrow.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  test('live updates fill modes in as they finish; invalid messages are ignored', async () => {
    const page = await openWebview();
    try {
      const partial: Report = { ...normal.report, status: 'partial', runs: normal.report.runs.slice(0, 1) };
      await send(page, { type: 'live', report: partial, progress: { mode: 'thread', phase: 'running', done: 2, total: 4 } });
      await page.waitForSelector('[data-testid="running"]');
      assert.match((await page.textContent('[data-testid="running"]'))!, /thread: running 2\/4/);
      assert.deepEqual(await page.$$eval('table[data-testid="summary"] thead th[scope="col"]', (ths) => ths.slice(1).map((t) => t.textContent)), ['inline']);
      assert.ok(await page.$('[data-action="cancel"]'), 'a running report offers Cancel');
      await send(page, { type: 'state', current: { not: 'a report' } });
      await send(page, { type: 'live', report: normal.report, progress: null });
      // The metric column and the measured modes' (interpreter, skipped, is a line of its own).
      await page.waitForFunction((n) => document.querySelectorAll('table[data-testid="summary"] thead th[scope="col"]').length === n, 1 + normal.report.runs.filter((r) => r.status !== 'skipped').length);
      assert.equal(await page.$('[data-testid="running"]'), null);
      await send(page, { type: 'state', currentId: null, current: null, compare: null, history: [], running: null, options: { lagBudgetMs: 100, host: 'vscode' } });
      await page.waitForSelector('.empty');
    } finally {
      await page.close();
    }
  });

  test('live updates by delta: each finished window joins the modes shown; a delta the page cannot apply asks for the whole state', async () => {
    const page = await openWebview();
    try {
      const steps = [1, 2, 3].map((n): Report => ({ ...normal.report, status: 'partial', runs: normal.report.runs.slice(0, n) }));
      const progress = { mode: 'process', phase: 'running', done: 1, total: 4 };
      await send(page, { type: 'liveDelta', ...liveDelta(null, steps[0]), progress });
      await page.waitForSelector('[data-testid="running"]');
      await send(page, { type: 'liveDelta', ...liveDelta(steps[0], steps[1]), progress });
      await page.waitForFunction(() => document.querySelectorAll('table[data-testid="summary"] thead th[scope="col"]').length === 3);
      assert.deepEqual(await page.$$eval('table[data-testid="summary"] thead th[scope="col"]', (ths) => ths.slice(1).map((t) => t.textContent)), normal.report.runs.slice(0, 2).map((r) => r.mode));
      assert.deepEqual((await posted(page)).map((m) => m.type), ['ready']);
      // A delta against a window the page never got (it was hidden): it says ready again, and keeps what it shows.
      await send(page, { type: 'liveDelta', ...liveDelta({ ...steps[2], runs: steps[2].runs.slice(0, 3) }, { ...normal.report, status: 'partial' }), progress });
      await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.length === 2);
      assert.deepEqual((await posted(page)).map((m) => m.type), ['ready', 'ready']);
      assert.equal(await page.$$eval('table[data-testid="summary"] thead th[scope="col"]', (ths) => ths.length), 3);
    } finally {
      await page.close();
    }
  });

  test('a Node report shows ELU and loop-delay rows, no GIL rows, and the headline', async () => {
    const r = await runCli(['run', `${FIXTURES}/node/cjs/workloads.cjs::spin`, '--args', '20', '--concurrency', '3', '--workers', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const page = await openWebview();
    try {
      await send(page, { type: 'state', currentId: 'n', current: r.report, compare: null, history: [], running: null, options: { lagBudgetMs: 100, host: 'vscode' } });
      await page.waitForSelector('table[data-testid="summary"]', { state: 'attached' });
      const metrics = await page.$$eval('td[data-mode="inline"]', (tds) => tds.map((td) => td.getAttribute('data-metric')));
      for (const m of ['elu', 'eld', 'p99']) assert.ok(metrics.includes(m), `row ${m}`);
      for (const m of ['gil50', 'gil99']) assert.ok(!metrics.includes(m), `no row ${m}`);
      const elu = await page.textContent('td[data-mode="inline"][data-metric="elu"]');
      assert.equal(elu?.replace('▲', '').trim(), `${Math.round((r.report!.runs[0].elu ?? 0) * 100)}%`);
      assert.equal(await page.textContent('[data-testid="headline"]'), r.report!.headline);
      assert.ok(await page.$('[data-testid="elu-worker"]'), 'ELU next to the worker lag chart');
    } finally {
      await page.close();
    }
  });

  test('a Node report says where a re-exported target is defined, and what a worker did to its result', async () => {
    const T = `${FIXTURES}/node/targets/esm`;
    const [reexport, point] = await Promise.all([
      runCli(['run', `${T}/index.js::work`, '--args', '1', '--modes', 'inline', '--concurrency', '1', '--json']),
      runCli(['run', `${T}/results.js::makePoint`, '--args', '1', '--modes', 'worker', '--concurrency', '2', '--json']),
    ]);
    assert.equal(reexport.code, 0, reexport.stderr);
    assert.equal(point.code, 0, point.stderr);
    const page = await openWebview();
    try {
      await send(page, { type: 'state', currentId: 'r', current: reexport.report, compare: null, history: [], running: null, options: { lagBudgetMs: 100, host: 'vscode' } });
      await page.waitForSelector('table[data-testid="summary"]', { state: 'attached' });
      assert.match((await page.textContent('[data-testid="target-file"]'))!, /index\.js, defined in .*impl\.js:1$/);
      await send(page, { type: 'state', currentId: 'p', current: point.report, compare: null, history: [], running: null, options: { lagBudgetMs: 100, host: 'vscode' } });
      await page.waitForSelector('details[data-mode="worker"] [data-testid="run-notes"]', { state: 'attached' });
      assert.match((await page.textContent('details[data-mode="worker"] [data-testid="run-notes"]'))!, /returned a `Point` instance, which arrives here as a plain object/);
    } finally {
      await page.close();
    }
  });

  test('a worker sweep renders its charts, table, recommendation and code', async () => {
    const out = path.join(work, 'sweep.json');
    const r = await runCli(['sweep', `${FIXTURES}/node/cjs/workloads.cjs::spin`, '--args', '10', '--concurrency', '4', '--workers', '1,2,4', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const sweep = SweepSchema.parse(JSON.parse(fs.readFileSync(out, 'utf8')));
    const page = await openWebview();
    try {
      await send(page, { type: 'sweep', sweep, running: null });
      await page.waitForSelector('table[data-testid="sweep-table"]');
      const rows = await page.$$eval('table[data-testid="sweep-table"] tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-mode'), tr.getAttribute('data-workers')]));
      assert.deepEqual(rows, sweep.points.map((p) => [p.mode, String(p.workers)]));
      for (const p of sweep.points) {
        const cell = await page.textContent(`tr[data-mode="${p.mode}"][data-workers="${p.workers}"] td[data-metric="throughput"]`);
        assert.equal(cell, p.throughputPerS === null ? p.status : p.throughputPerS.toFixed(1));
      }
      assert.equal(await page.textContent('[data-testid="sweep-headline"]'), sweep.headline);
      for (const rec of sweep.recommendations.filter((x) => x.workers !== null)) {
        assert.equal(await page.textContent(`[data-testid="recommended-${rec.mode}"]`), `W = ${rec.workers}`);
      }
      // One chart per mode, each drew something.
      assert.equal(await page.$$eval('figure[data-chart^="sweep-"] canvas', (c) => c.length), new Set(sweep.points.map((p) => p.mode)).size);
      await page.click('[data-action="export-json"]');
      assert.deepEqual((await posted(page)).map((m) => m.type), ['ready', 'exportJson']);
      assert.deepEqual(await page.evaluate(() => (window as unknown as { __cspViolations: unknown[] }).__cspViolations), []);
      await page.screenshot({ path: path.join(OUT, 'webview-sweep.png'), fullPage: true });
      // A report afterwards replaces the sweep view.
      await send(page, { type: 'state', currentId: 'a', current: normal.report, compare: null, history: [], running: null, options: { lagBudgetMs: 100, host: 'vscode' } });
      await page.waitForSelector('table[data-testid="summary"]', { state: 'attached' });
      assert.equal(await page.$('table[data-testid="sweep-table"]'), null);
    } finally {
      await page.close();
    }
  });

  test('every mode\'s swatch has its colour from the theme kind\'s palette, the free-threaded column\'s too, under the panel\'s CSP', async () => {
    // One run per mode the table knows (a report holds at most the runtime's own; the view does not mind).
    const run = normal.report.runs.find((r) => r.status === 'ok')!;
    const report: Report = { ...normal.report, runs: MODE_NAMES.map((mode) => ({ ...run, mode })) };
    const page = await openWebview();
    try {
      await send(page, { type: 'state', currentId: 'a', current: report, compare: null, history: [], running: null, options: { lagBudgetMs: 100, host: 'vscode' } });
      await page.waitForSelector('table[data-testid="summary"]', { state: 'attached' });
      for (const m of MODE_NAMES) {
        // The colour the chart draws the mode in (theme.ts readTheme): the light palette's (no VS Code class, a light OS).
        const shown = await page.evaluate((mode) => {
          const swatch = document.querySelector(`figure[data-chart="lag-${mode}"] figcaption .swatch`);
          return swatch ? getComputedStyle(swatch).backgroundColor : 'no swatch';
        }, m);
        const hex = PALETTES.light.hues[MODE_HUES[m]];
        assert.equal(shown, `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`, `${m}'s swatch`);
      }
      assert.equal(new Set(MODE_NAMES.map((m) => MODE_HUES[m])).size, MODE_NAMES.length, 'each mode its own colour');
      assert.deepEqual(await page.evaluate(() => (window as unknown as { __cspViolations: unknown[] }).__cspViolations), []);
    } finally {
      await page.close();
    }
  });

  test('compare shows one view of the deltas; two unlike targets are said to be unlike; payloads stay text', async () => {
    const page = await openWebview();
    try {
      await send(page, { type: 'state', currentId: 'a', current: normal.report, compare: hostile.report, history: [], running: null, options: { lagBudgetMs: 100, host: 'vscode' } });
      await page.waitForSelector('table[data-testid="deltas"]');
      // One comparison (test/webview/compare.test.ts checks its figures), not two reports side by side.
      assert.equal(await page.$$eval('table[data-testid="summary"]', (t) => t.length), 0);
      assert.match(await page.textContent('[data-testid="unfair"]') ?? '', /Different target: .*cpu_bound\.py::cpu_bound_task.* before, .*hostile\.py::shout.* after\./);
      assert.deepEqual(await page.evaluate(() => (window as unknown as { __xss: unknown[] }).__xss), []);
      assert.deepEqual(await page.evaluate(() => (window as unknown as { __cspViolations: unknown[] }).__cspViolations), []);
    } finally {
      await page.close();
    }
  });
});
