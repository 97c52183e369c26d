/// <reference lib="dom" />
/**
 * Service mode's view in real Chromium, on documents the real engine made in this file's
 * setup (`looplag serve` on test/fixtures/serve: a FastAPI app under Debian's Python with
 * a blocking async route, as written and in 2 uvicorn workers; a Node http server that
 * spins; the same Node server cancelled under load). The standalone page is the one
 * `--html` wrote; the VS Code page gets `serve` messages (`acquireVsCodeApi` stood in by a
 * recorder). Document strings are payloads: they must stay text.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { serveStandaloneHtml } from '../../src/report/html';
import { VERDICT_WORDS } from '../../src/report/serveText';
import { ServeReport } from '../../src/shared/protocol/serveReport';
import type { ServeLive } from '../../src/shared/webviewProtocol';
import { launchChromium, SECURITY_PROBE, serveWebview } from '../support/browser';
import { FIXTURES, REPO, runCli, tmpDir, waitFor } from '../support/helpers';

const OUT = path.join(REPO, 'out', 'screenshots');
const DEBIAN_PYTHON = '/usr/bin/python3';
const PY_APP = path.join(FIXTURES, 'serve', 'python');
const NODE_DIR = path.join(FIXTURES, 'serve', 'node');
const LOAD = ['--rate', '5', '--duration', '2', '--warmup', '0.5', '--probe-rate', '20'];
const PAYLOAD = "<img src=x onerror=alert('x')>";

const noUvicorn = (() => {
  const r = spawnSync(DEBIAN_PYTHON, ['-c', 'import uvicorn, fastapi'], { encoding: 'utf8' });
  return r.status === 0 ? false : `${DEBIAN_PYTHON} cannot import uvicorn and fastapi (apt install python3-uvicorn python3-fastapi)`;
})();

/** The line of `file` holding `marker` (1-based). */
function lineOf(file: string, marker: string): number {
  const i = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(marker));
  assert.ok(i >= 0, `${marker} in ${file}`);
  return i + 1;
}

const readDoc = (file: string): ServeReport => ServeReport.parse(JSON.parse(fs.readFileSync(file, 'utf8')));

let browser: Browser;
let closeBrowser: () => Promise<void>;
let work: string;
/** Made once by the real CLI, read by every test (null: Debian's uvicorn is missing). */
let py: { doc: ServeReport; html: string } | null = null;
let node: ServeReport;
let cut: ServeReport;

before(async () => {
  work = tmpDir('looplag-serve-ui-');
  fs.mkdirSync(OUT, { recursive: true });
  // One CLI at a time: the machine is shared, and each run is its own measurement.
  if (!noUvicorn) {
    const out = path.join(work, 'py.json');
    const html = path.join(work, 'py.html');
    // A 20 ms budget: the async route spins ~80–100 ms on the loop, so as written is over it on
    // a quiet machine too (at the default 100 ms a quiet CI run measured probe p99 82.7 ms).
    const r = await runCli(['serve', 'app:app', '--python', DEBIAN_PYTHON, '--workspace', PY_APP, '--endpoint', 'GET /cpu/async', '--endpoint', 'GET /items/1',
      ...LOAD, '--workers', '2', '--budget-ms', '20', '--out', out, '--html', html]);
    assert.equal(r.code, 3, r.stderr);
    py = { doc: readDoc(out), html };
  }
  const nodeOut = path.join(work, 'node.json');
  const r = await runCli(['serve', path.join(NODE_DIR, 'server.mjs'), '--workspace', NODE_DIR, '--endpoint', 'GET /block', '--endpoint', 'GET /hello', ...LOAD, '--out', nodeOut]);
  assert.equal(r.code, 0, r.stderr);
  node = readDoc(nodeOut);
  // Cancelled while /block spins in the measured part (no warm-up): a variant cut short.
  const marker = path.join(work, 'spinning');
  const cutOut = path.join(work, 'cut.json');
  let notUnderLoad: Error | null = null;
  const c = await runCli(['serve', path.join(NODE_DIR, 'server.mjs'), '--workspace', NODE_DIR, '--endpoint', 'GET /block', '--rate', '5', '--warmup', '0', '--duration', '60', '--out', cutOut], {
    env: { LOOPLAG_TEST_MARKER: marker },
    onStart: (pid) => {
      waitFor(() => fs.existsSync(marker), '/block under load', 30_000).then(() => process.kill(pid, 'SIGINT'), (e: Error) => {
        notUnderLoad = e;
        process.kill(pid, 'SIGKILL');
      });
    },
  });
  assert.equal(notUnderLoad, null);
  assert.equal(c.code, 130, c.stderr);
  cut = readDoc(cutOut);
  ({ browser, close: closeBrowser } = await launchChromium());
});

after(async () => {
  await closeBrowser?.();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function openFile(file: string, width = 1100): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  await page.addInitScript(SECURITY_PROBE);
  await page.goto(`file://${file}`);
  await page.waitForSelector('body[data-rendered="true"]');
  return page;
}

async function openStandalone(doc: ServeReport, name: string): Promise<Page> {
  const file = path.join(work, `${name}.html`);
  fs.writeFileSync(file, serveStandaloneHtml(doc, {
    js: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'main.js'), 'utf8'),
    css: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'standalone.css'), 'utf8'),
  }));
  return openFile(file);
}

const security = (page: Page) => page.evaluate(() => ({
  xss: (window as unknown as { __xss: string[] }).__xss,
  csp: (window as unknown as { __cspViolations: unknown[] }).__cspViolations,
  images: document.querySelectorAll('#app img').length,
  scripts: document.querySelectorAll('#app script').length,
  text: document.getElementById('app')!.textContent ?? '',
}));

/** Per variant column: its label, and its verdict cell's text. */
const columns = (page: Page) => page.$$eval('table[data-testid="serve-variants"] thead th[data-variant]', (ths) => ths.map((th) => ({
  name: th.getAttribute('data-variant'),
  label: th.firstChild!.textContent,
  verdict: document.querySelector(`td[data-variant="${th.getAttribute('data-variant')}"][data-metric="verdict"]`)!.textContent!.trim(),
})));

const blockerRows = (page: Page, variant: string) => page.$$eval(`table[data-testid="blockers-${variant}"] tbody tr`, (trs) => trs.map((tr) => ({
  file: tr.getAttribute('data-file'), line: tr.getAttribute('data-line'), location: tr.querySelector('.location')!.textContent, button: tr.querySelector('button.location') !== null,
})));

describe('the standalone page looplag serve --html wrote', () => {
  test('the verdict first, the variants side by side, a lag chart per variant, the blocking line of the async route (as text)', { skip: noUvicorn }, async () => {
    const { doc, html } = py!;
    assert.deepEqual(doc.variants.map((v) => v.status), ['ok', 'ok'], doc.headline);
    const spinLine = lineOf(path.join(PY_APP, 'app.py'), 'total += i * i');
    const page = await openFile(html);
    try {
      assert.equal(await page.textContent('[data-testid="serve-headline"]'), doc.headline);
      // The headline comes before the variants' table, which comes before the charts.
      assert.ok(await page.$eval('[data-testid="serve-headline"]', (el) => Boolean(el.compareDocumentPosition(document.querySelector('[data-testid="serve-variants"]')!) & Node.DOCUMENT_POSITION_FOLLOWING)));
      assert.deepEqual(await columns(page), doc.variants.map((v) => ({ name: v.name, label: v.label, verdict: VERDICT_WORDS[v.verdict] })));
      assert.deepEqual(doc.variants.map((v) => v.label), ['as written', '2 uvicorn workers']);
      // A pure-Python loop in an async route at 5 req/s: the loop was blocked past the 20 ms budget.
      assert.equal(doc.variants[0].verdict, 'over-budget', doc.headline);
      const probeP99 = await page.textContent('td[data-variant="as-written"][data-metric="probe-p99"]');
      assert.match(probeP99!, /^▲ /, 'over the budget: marked with a glyph, not colour alone');
      // One chart per variant, drawn.
      assert.deepEqual(await page.$$eval('figure[data-chart^="serve-lag-"]', (fs) => fs.map((f) => [f.getAttribute('data-chart'), f.querySelectorAll('canvas').length > 0])),
        [['serve-lag-as-written', true], ['serve-lag-processes', true]]);
      // And each variant's request latency over time (every endpoint and the probe), drawn with a point per request kept.
      assert.deepEqual(await page.$$eval('figure[data-chart^="serve-latency-"]', (fs) => fs.map((f) => [f.getAttribute('data-chart'), f.querySelectorAll('canvas').length > 0])),
        [['serve-latency-as-written', true], ['serve-latency-processes', true]]);
      const rows = await blockerRows(page, 'as-written');
      assert.deepEqual(rows[0], { file: 'app.py', line: String(spinLine), location: `app.py:${spinLine}`, button: false }, 'lines are text in a file: nowhere to open them');
      // Each endpoint and the probe, with its counts as the document has them.
      const endpoints = await page.$$eval('table[data-testid="endpoints-as-written"] tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-endpoint'), tr.children[1].textContent]));
      assert.deepEqual(endpoints, [...doc.variants[0].endpoints.map((e) => [e.name, String(e.sent)]), ['probe', String(doc.variants[0].probe!.sent)]]);
      assert.deepEqual((await security(page)).csp, []);
      // The view's top (headline, variants, charts): docs/images/serve-panel.png is this.
      await page.screenshot({ path: path.join(OUT, 'serve-panel.png') });
      await page.emulateMedia({ colorScheme: 'dark' });
      assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(31, 31, 31)', 'the dark theme applies');
      await page.screenshot({ path: path.join(OUT, 'serve-dark.png'), fullPage: true });
    } finally {
      await page.close();
    }
    const data = /<script type="application\/json" id="looplag-data">([^]*?)<\/script>/.exec(fs.readFileSync(html, 'utf8'))![1];
    assert.deepEqual(ServeReport.parse(JSON.parse(data).serve), doc);
  });

  test('a session cancelled under load: cut short, no verdict, its figures so far', async () => {
    const v = cut.variants[0];
    assert.equal(cut.status, 'partial');
    assert.ok(v.status === 'failed' && v.endpoints[0].sent > 0, `${v.status}: ${v.endpoints[0].sent} sent`);
    const page = await openStandalone(cut, 'cut');
    try {
      assert.deepEqual((await columns(page)).map((c) => c.verdict), ['cut short, no verdict']);
      assert.equal(await page.textContent('th[data-variant="as-written"] .status'), 'so far');
      assert.match((await page.textContent('[data-testid="cut-short"]'))!, /Cut short/);
      assert.match((await page.textContent('[data-testid="serve-headline"]'))!, /cut short .*no verdict\.$/);
      assert.match((await page.textContent('[data-testid="serve-error"]'))!, /^ cancelled: /);
      assert.equal(await page.textContent('.serve-variant [data-testid="variant-headline"]'), v.headline);
      assert.deepEqual((await security(page)).csp, []);
    } finally {
      await page.close();
    }
  });
});

describe('the VS Code webview page', () => {
  let served: Awaited<ReturnType<typeof serveWebview>>;

  before(async () => {
    served = await serveWebview();
  });

  after(() => served.close());

  async function openWebview(width = 1100): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.addInitScript(SECURITY_PROBE + `
      window.__posted = [];
      window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), setState: (s) => (window.__state = s), getState: () => null });
    `);
    await page.goto(served.origin);
    await page.waitForFunction(() => (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
    return page;
  }

  const send = (page: Page, report: ServeReport, running: ServeLive | null) => page.evaluate((m) => window.postMessage(m, '*'), { type: 'serve', report, running });
  const posted = (page: Page) => page.evaluate(() => (window as unknown as { __posted: Record<string, unknown>[] }).__posted);

  test('a blocking line opens in the editor (openLocation with its file and line); fits a narrow panel', async () => {
    const page = await openWebview(360);
    try {
      await send(page, node, null);
      await page.waitForSelector('table[data-testid="blockers-as-written"]');
      const [first] = node.variants[0].blockers;
      // V8 may inline spin(): the line is its loop or its call in the handler.
      const script = path.join(NODE_DIR, 'server.mjs');
      assert.ok(first.file === 'server.mjs' && [lineOf(script, 'BLOCKING LINE'), lineOf(script, 'spin(Number(')].includes(first.line!), `${first.file}:${first.line}`);
      const [row] = await blockerRows(page, 'as-written');
      assert.equal(row.button, true);
      await page.click('table[data-testid="blockers-as-written"] tbody tr:first-child button.location');
      assert.deepEqual((await posted(page)).filter((m) => m.type === 'openLocation'), [{ type: 'openLocation', file: 'server.mjs', line: first.line }]);
      assert.deepEqual(await page.$$eval('table[data-testid="handlers-as-written"] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-route'))),
        node.variants[0].byHandler.filter((x) => x.stalls > 0).map((x) => `${x.method} ${x.route}`));
      // The actions name the document on show: the host holds it.
      for (const action of ['export-json', 'copy-markdown', 'save-html']) await page.click(`button[data-action="${action}"]`);
      assert.deepEqual((await posted(page)).filter((m) => m.id === 'serve'), [
        { type: 'exportJson', id: 'serve' }, { type: 'copyMarkdown', id: 'serve' }, { type: 'saveHtml', id: 'serve' },
      ]);
      // Wide tables scroll in their own box: the page does not scroll sideways at 360 px.
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no sideways scroll at 360 px');
      assert.deepEqual((await security(page)).csp, []);
    } finally {
      await page.close();
    }
  });

  test('while running: the variants that ended and a progress line; the charts are not redrawn until a variant ends', async () => {
    const doc = py?.doc ?? node;
    const first = { ...doc, status: 'partial' as const, variants: doc.variants.slice(0, 1) };
    const live = (elapsedMs: number): ServeLive => ({
      variant: 'next', variantIndex: 1, variants: 2, phase: 'measuring', elapsedMs, durationMs: 2000, sent: Math.round(elapsedMs / 50), completed: Math.round(elapsedMs / 50) - 1,
    });
    const page = await openWebview();
    try {
      // Before any variant ended: the progress line alone.
      await send(page, { ...first, variants: [] }, { ...live(300), variant: doc.variants[0].label, variantIndex: 0 });
      await page.waitForSelector('[data-testid="serve"] .empty');
      assert.equal(await page.textContent('[data-testid="serve"] .empty'), 'No variant has ended yet.');
      assert.match((await page.textContent('[data-testid="running"]'))!, /^ Variant 1 of 2, as written: measuring 300\.0 ms of 2\.00 s/);
      assert.equal(await page.$('[data-testid="serve-headline"]'), null);
      await send(page, first, live(1200));
      await page.waitForSelector('figure[data-chart="serve-lag-as-written"] canvas');
      assert.equal(await page.textContent('[data-testid="running"]'), ' Variant 2 of 2, next: measuring 1.20 s of 2.00 s · 24 sent, 23 answered');
      assert.deepEqual((await columns(page)).map((c) => c.name), ['as-written']);
      assert.match((await page.textContent('[data-testid="serve-headline"]'))!, /^So far: /);
      assert.ok(await page.$('button[data-action="cancel"]'), 'Cancel while running');
      // Marks the drawn chart: a redraw would replace it.
      await page.$eval('figure[data-chart="serve-lag-as-written"] .uplot', (el) => ((el as HTMLElement & { __mark?: boolean }).__mark = true));
      await send(page, first, live(1500));
      await page.waitForFunction(() => document.querySelector('[data-testid="running"]')!.textContent!.includes('1.50 s of 2.00 s'));
      assert.equal(await page.$eval('figure[data-chart="serve-lag-as-written"] .uplot', (el) => (el as HTMLElement & { __mark?: boolean }).__mark === true && el.isConnected), true,
        'the same chart: not redrawn while the next variant is under load');
      // A variant ended: redrawn, with both.
      await send(page, doc, null);
      await page.waitForFunction((n) => document.querySelectorAll('figure[data-chart^="serve-lag-"] canvas').length === n, doc.variants.length);
      assert.equal(await page.$eval('figure[data-chart="serve-lag-as-written"] .uplot', (el) => (el as HTMLElement & { __mark?: boolean }).__mark === true), false);
      assert.equal(await page.isVisible('[data-testid="running"]'), false);
      assert.equal(await page.$('button[data-action="cancel"]'), null);
    } finally {
      await page.close();
    }
  });

  test('payloads in the app, endpoint, route, line, messages and output are text, in the panel and the page', async () => {
    const v = node.variants[0];
    const evil: ServeReport = {
      ...node,
      app: { type: 'node', script: `/srv/${PAYLOAD}.mjs`, args: [] },
      headline: `At 5 req/s on GET /${PAYLOAD}, a trivial request waited`,
      error: { kind: 'crashed', message: `boom ${PAYLOAD}`, detail: null },
      variants: [{
        ...v,
        endpoints: v.endpoints.map((e) => ({ ...e, name: `GET /${PAYLOAD}`, errors: { [PAYLOAD]: 1 } })),
        blockers: v.blockers.map((b) => ({ ...b, file: `${PAYLOAD}.mjs`, function: PAYLOAD, source: `x = '</script>${PAYLOAD}'` })),
        byHandler: v.byHandler.map((x) => ({ ...x, route: `/${PAYLOAD}` })),
        headline: `variant ${PAYLOAD}`,
        notes: [`note ${PAYLOAD}`],
        output: { ...v.output, stdout: `printed </script>${PAYLOAD}` },
      }],
    };
    const panel = await openWebview();
    const page = await openStandalone(evil, 'hostile');
    try {
      await send(panel, evil, null);
      await panel.waitForSelector('table[data-testid="blockers-as-written"]');
      for (const p of [panel, page]) {
        const s = await security(p);
        assert.deepEqual(s.xss, [], 'no payload ran');
        assert.deepEqual(s.csp, [], 'no CSP violation');
        assert.equal(s.images, 0);
        assert.equal(s.scripts, 0);
        for (const text of [`GET /${PAYLOAD}`, `GET /${PAYLOAD}`, `${PAYLOAD}.mjs:`, `note ${PAYLOAD}`, `variant ${PAYLOAD}`, `/srv/${PAYLOAD}.mjs`, `boom ${PAYLOAD}`]) {
          assert.ok(s.text.includes(text), `shown as text: ${text}`);
        }
      }
      await panel.click('table[data-testid="blockers-as-written"] tbody tr:first-child button.location');
      assert.deepEqual((await posted(panel)).filter((m) => m.type === 'openLocation'), [{ type: 'openLocation', file: `${PAYLOAD}.mjs`, line: v.blockers[0].line }]);
    } finally {
      await panel.close();
      await page.close();
    }
    const html = fs.readFileSync(path.join(work, 'hostile.html'), 'utf8');
    const data = /<script type="application\/json" id="looplag-data">([^]*?)<\/script>/.exec(html)![1];
    assert.ok(!data.includes('<'), 'no raw < inside the data element');
    assert.deepEqual(ServeReport.parse(JSON.parse(data).serve), evil);
  });
});
