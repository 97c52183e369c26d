/// <reference lib="dom" />
/**
 * "Where the loop was blocked" in real Chromium, on synthetic reports (the samplers and
 * the reducer are written apart from the view): the standalone HTML file (lines are
 * text) and the VS Code webview page (`acquireVsCodeApi` stood in by a recorder; a
 * line posts `openLocation`). Report strings are payloads: they must stay text.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { standaloneHtml } from '../../src/report/html';
import { sharePercent } from '../../src/shared/blockerPhrases';
import { fmtMs } from '../../src/shared/format';
import type { Attribution, Blocker, ModeRun, Report } from '../../src/shared/protocol';
import { Report as ReportSchema } from '../../src/shared/protocol';
import { launchChromium, openPanelPage, SECURITY_PROBE, serveWebview } from '../support/browser';
import { FIXTURES, REPO, tmpDir } from '../support/helpers';

const OUT = path.join(REPO, 'out', 'screenshots');
const FN_PAYLOAD = "render</script><img src=x onerror=alert('fn')>";
const SOURCE_PAYLOAD = "x = '</script><img src=x onerror=alert(\"src\")>'";

const base = (): Report => ReportSchema.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8')));

function attribution(over: Partial<Attribution> = {}): Attribution {
  return {
    version: 1, status: 'ok', method: 'current-frames', intervalMs: 10, stalledMs: 1064, attributedMs: 1043,
    coverage: 0.98, coverage20Ms: 0.99, unattributed: { noSampleMs: 21, notRunningMs: 0, otherMs: 0 }, samples: 75, ...over,
  };
}

function blocker(over: Partial<Blocker>): Blocker {
  const b: Blocker = {
    file: 'services/feeds.py', line: 17, function: 'parse_feed', source: 'tree = etree.fromstring(body)',
    thread: 'loop', step: 'call', stalledMs: 722, share: 0.68, samples: 50, stalls: 3, stack: [], library: null, ...over,
  };
  if (!over.stack) b.stack = [{ file: b.file, line: b.line, function: b.function, kind: 'user' }];
  return b;
}

const LIB = { file: 'markdown/core.py', line: 250, function: 'convert', kind: 'library' as const };

/** inline and thread with lines; process with attribution unavailable; interpreter skipped (not shown). */
function blockerReport(): Report {
  const r = base();
  const [inline, thread, process, interpreter] = r.runs;
  const runs: ModeRun[] = [
    { ...inline, attribution: attribution(), blockers: [
      blocker({ library: { file: 'lxml/etree.pyx', line: null, function: 'fromstring', kind: 'library' } }),
      blocker({ file: 'services/docs.py', line: 41, function: 'render_article', source: 'html = markdown.markdown(text)', stalledMs: 174, share: 0.164, stalls: 2, library: LIB }),
      blocker({ file: 'services/feeds.py', line: 3, function: 'slow', source: null, stalledMs: 2, share: 0.002, stalls: 1,
        stack: [{ file: 'services/feeds.py', line: 3, function: 'slow', kind: 'user', lineIsDefinition: true }] }),
    ] },
    { ...thread, attribution: attribution({ weighting: 'cpu-time', notes: ['Thread shares are per heartbeat gap.'] }), blockers: [
      blocker({ file: 'job.py', line: 20, function: 'job', source: 'sorted(data); sorted(data)', thread: 'gil-holder', stalledMs: 701, share: 0.67, stalls: 12 }),
      // No user frame: its key is the library's own frame, which cannot open.
      blocker({ file: 'json/encoder.py', line: 199, function: 'encode', source: null, thread: 'gil-holder', stalledMs: 40, share: 0.04, stalls: 1,
        stack: [{ file: 'json/encoder.py', line: 199, function: 'encode', kind: 'stdlib' }] }),
    ] },
    { ...process, attribution: attribution({ status: 'unavailable', reason: 'a process pool member is not sampled', method: null, intervalMs: null, stalledMs: 0, attributedMs: 0, coverage: null, coverage20Ms: null, samples: 0, unattributed: { noSampleMs: 0, notRunningMs: 0, otherMs: 0 } }) },
    interpreter,
  ];
  return { ...r, settings: { ...r.settings, attribution: true }, runs };
}

/** Every string a report carries is a payload here. */
function hostileReport(): Report {
  const r = blockerReport();
  const evil = blocker({ file: "<img src=x onerror=alert('file')>.py", function: FN_PAYLOAD, source: SOURCE_PAYLOAD,
    library: { file: '</script><img src=x onerror=alert(1)>.py', line: 1, function: "<img src=x onerror=alert('lib')>", kind: 'library' } });
  return { ...r, runs: r.runs.map((run, i) => (i === 0 ? { ...run, blockers: [evil], attribution: attribution({ notes: ["<img src=x onerror=alert('note')>"] }) } : run)) };
}

let browser: Browser;
let closeBrowser: () => Promise<void>;
let work: string;
const assets = () => ({
  js: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'main.js'), 'utf8'),
  css: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'standalone.css'), 'utf8'),
});

before(async () => {
  work = tmpDir('looplag-blockers-ui-');
  fs.mkdirSync(OUT, { recursive: true });
  ({ browser, close: closeBrowser } = await launchChromium());
});

after(async () => {
  await closeBrowser?.();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function openStandalone(report: Report, name: string, width = 1000): Promise<Page> {
  const file = path.join(work, `${name}.html`);
  fs.writeFileSync(file, standaloneHtml(report, assets()));
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  await page.addInitScript(SECURITY_PROBE);
  await page.goto(`file://${file}`);
  await page.waitForSelector('body[data-rendered="true"]');
  return page;
}


const rows = (page: Page, mode: string) => page.$$eval(`table[data-testid="blockers-${mode}"] tbody tr`, (trs) => trs.map((tr) => ({
  file: tr.getAttribute('data-file'),
  line: tr.getAttribute('data-line'),
  location: tr.querySelector('.location')!.textContent!,
  fn: tr.querySelector('.fn')!.textContent!,
  source: tr.querySelector('.source')?.textContent ?? null,
  share: tr.querySelector('[data-testid="share"]')!.textContent!,
  stalled: tr.querySelector('[data-testid="stalled"]')!.textContent!,
  perStall: tr.querySelector('.per-stall')?.textContent ?? null,
  where: tr.querySelector('[data-testid="where"]')!.textContent!,
  library: tr.querySelector('[data-testid="library"]')?.textContent ?? null,
  button: tr.querySelector('button.location') !== null,
})));

const security = (page: Page) => page.evaluate(() => ({
  xss: (window as unknown as { __xss: string[] }).__xss,
  csp: (window as unknown as { __cspViolations: unknown[] }).__cspViolations,
  images: document.querySelectorAll('#app img').length,
  scripts: document.querySelectorAll('#app script').length,
  text: document.getElementById('app')!.textContent ?? '',
}));

describe('standalone HTML', () => {
  test('a section per measured mode: each line with its function, source, share as text, stalled ms per stall, thread in words and library frame', async () => {
    const report = blockerReport();
    const page = await openStandalone(report, 'blockers');
    try {
      assert.equal(await page.textContent('section[data-testid="blockers"] h2'), 'Where the loop was blocked');
      // Measured modes only: the skipped interpreter run has no block.
      assert.deepEqual(await page.$$eval('.blocker-mode', (ds) => ds.map((d) => d.getAttribute('data-mode'))), ['inline', 'thread', 'process']);
      const inline = await rows(page, 'inline');
      assert.deepEqual(inline.map((r) => [r.location, r.share, r.where]), [
        ['services/feeds.py:17', '68%', 'on the loop'],
        ['services/docs.py:41', '16%', 'on the loop'],
        ['services/feeds.py:3', '<1%', 'on the loop'],
      ]);
      for (const [row, b] of inline.map((r, i) => [r, report.runs[0].blockers![i]] as const)) {
        assert.equal(row.share, sharePercent(b.share));
        assert.equal(row.stalled, fmtMs(b.stalledMs));
        assert.equal(row.perStall, `${fmtMs(b.stalledMs / b.stalls)} per stall · ${b.stalls} ${b.stalls === 1 ? 'stall' : 'stalls'}`);
        assert.equal(row.source, b.source);
        assert.ok(row.fn.startsWith(b.function));
        assert.equal(row.button, false, 'lines are text in a file: nowhere to open them');
      }
      assert.equal(inline[0].library, 'lxml.etree.fromstring');
      assert.equal(inline[1].library, 'markdown.core.convert');
      assert.equal(inline[2].library, null);
      assert.match(inline[2].fn, /the line where it starts/, 'a function-start line says so');
      const thread = await rows(page, 'thread');
      assert.deepEqual(thread.map((r) => [r.location, r.share, r.where]), [['job.py:20', '67%', 'held the GIL in a worker'], ['json/encoder.py:199', '4%', 'held the GIL in a worker']]);
      // The share bar is drawn to its share, and hidden from screen readers (the text says it).
      const bars = await page.$$eval('table[data-testid="blockers-inline"] .share-bar', (bs) => bs.map((b) => ({
        hidden: b.getAttribute('aria-hidden'), frac: (b.firstElementChild as HTMLElement).getBoundingClientRect().width / b.getBoundingClientRect().width,
      })));
      assert.equal(bars[0].hidden, 'true');
      assert.ok(Math.abs(bars[0].frac - 0.68) < 0.03, `bar at ${bars[0].frac}`);
      assert.ok(Math.abs(bars[1].frac - 0.164) < 0.03, `bar at ${bars[1].frac}`);
      // Coverage, the unattributed rest, the unavailable mode's reason.
      assert.match((await page.textContent('[data-testid="attribution-inline"]'))!, /^98% of 1\.06 s stalled attributed to a line \(stalls ≥ 20 ms: 99%\) · 75 samples, every 10\.0 ms$/);
      assert.match((await page.textContent('[data-testid="unattributed-inline"]'))!, /21\.0 ms with no sample/);
      assert.match((await page.textContent('[data-testid="attribution-thread"]'))!, /workers weighted by CPU time/);
      assert.equal(await page.textContent('[data-testid="attribution-process"]'), 'Attribution unavailable: a process pool member is not sampled.');
      assert.equal(await page.$('table[data-testid="blockers-process"]'), null);
      // A table with column and row headers, and a caption for screen readers.
      assert.deepEqual(await page.$$eval('table[data-testid="blockers-inline"] thead th', (ths) => ths.map((t) => [t.getAttribute('scope'), t.textContent])),
        [['col', 'Line'], ['col', 'Share of stalled time'], ['col', 'Stalled'], ['col', 'Where']]);
      assert.equal(await page.$$eval('table[data-testid="blockers-inline"] tbody th[scope="row"]', (t) => t.length), 3);
      assert.match((await page.textContent('table[data-testid="blockers-inline"] caption'))!, /inline: the lines running while the loop was stalled/);
      assert.deepEqual((await security(page)).csp, []);
      await page.locator('section[data-testid="blockers"]').screenshot({ path: path.join(OUT, 'blockers-light.png') });
    } finally {
      await page.close();
    }
  });

  test('attribution off, failed, and a report from before attribution', async () => {
    const r = blockerReport();
    const off: Report = { ...r, settings: { ...r.settings, attribution: false }, runs: r.runs.map(({ blockers: _b, attribution: _a, ...run }) => run) };
    const failed: Report = { ...r, runs: r.runs.map((run, i) => (i === 1 ? { ...run, blockers: [], attribution: attribution({ status: 'failed', reason: 'the dump file could not be read' }) } : run)) };
    const { attribution: _s, ...oldSettings } = r.settings;
    const old: Report = { ...off, settings: oldSettings };
    let page = await openStandalone(off, 'off');
    try {
      for (const mode of ['inline', 'thread', 'process']) {
        assert.match((await page.textContent(`[data-testid="attribution-${mode}"]`))!, /^Attribution off \(--no-attribution or the looplag\.attribution setting\)/);
      }
      assert.equal(await page.$('table[class="blockers-table"]'), null);
    } finally {
      await page.close();
    }
    page = await openStandalone(failed, 'failed');
    try {
      assert.equal(await page.textContent('[data-testid="attribution-thread"]'), 'Attribution failed: the dump file could not be read; the measurement itself stands.');
      assert.equal(await page.$('table[data-testid="blockers-thread"]'), null);
      assert.equal((await rows(page, 'inline')).length, 3, 'the other modes still show their lines');
    } finally {
      await page.close();
    }
    page = await openStandalone(old, 'old');
    try {
      assert.equal(await page.$('section[data-testid="blockers"]'), null, 'nothing to say about a report from before');
      assert.ok(await page.$('table[data-testid="summary"]'));
    } finally {
      await page.close();
    }
  });

  test('payloads in the file, function, source line, library and notes are text; the embedded JSON has no raw <', async () => {
    const report = hostileReport();
    const page = await openStandalone(report, 'hostile');
    try {
      const s = await security(page);
      assert.deepEqual(s.xss, [], 'no payload ran');
      assert.deepEqual(s.csp, [], 'no CSP violation');
      assert.equal(s.images, 0);
      assert.equal(s.scripts, 0);
      for (const text of [FN_PAYLOAD, SOURCE_PAYLOAD, "<img src=x onerror=alert('file')>.py:17", "<img src=x onerror=alert('note')>"]) {
        assert.ok(s.text.includes(text), `shown as text: ${text}`);
      }
      const [row] = await rows(page, 'inline');
      assert.equal(row.fn, FN_PAYLOAD);
      assert.equal(row.source, SOURCE_PAYLOAD);
      assert.equal(row.library, "<img src=x onerror=alert('lib')> (</script><img src=x onerror=alert(1)>.py:1)");
    } finally {
      await page.close();
    }
    const html = fs.readFileSync(path.join(work, 'hostile.html'), 'utf8');
    const data = /<script type="application\/json" id="looplag-data">([^]*?)<\/script>/.exec(html)![1];
    assert.ok(!data.includes('<'), 'no raw < inside the data element');
    assert.deepEqual(ReportSchema.parse(JSON.parse(data).report), report);
  });
});

describe('the VS Code webview page', () => {
  let served: Awaited<ReturnType<typeof serveWebview>>;
  let origin: string;

  before(async () => {
    served = await serveWebview();
    origin = served.origin;
  });

  after(() => served.close());

  async function openWebview(width: number): Promise<Page> {
    return openPanelPage(browser, origin, { width, height: 900 });
  }

  const send = (page: Page, message: unknown) => page.evaluate((m) => window.postMessage(m, '*'), message);
  const posted = (page: Page) => page.evaluate(() => (window as unknown as { __posted: Record<string, unknown>[] }).__posted);
  const state = (current: Report, compare: Report | null = null) =>
    ({ type: 'state', currentId: 'a', current, compare, history: [], running: null, options: { lagBudgetMs: 100, host: 'vscode' } });

  test('clicking a user line (mouse or keyboard) posts openLocation; a library line is not a link; fits a narrow panel', async () => {
    const page = await openWebview(360);
    try {
      await send(page, state(blockerReport()));
      await page.waitForSelector('table[data-testid="blockers-inline"]');
      const inline = await rows(page, 'inline');
      assert.deepEqual(inline.map((r) => r.button), [true, true, true]);
      assert.deepEqual((await rows(page, 'thread')).map((r) => r.button), [true, false], 'json/encoder.py is the stdlib\'s, not the workspace\'s');
      assert.equal(await page.getAttribute('table[data-testid="blockers-inline"] tbody tr:nth-child(2) button.location', 'aria-label'), 'Open services/docs.py:41 in the editor');
      await page.click('table[data-testid="blockers-inline"] tbody tr:nth-child(2) button.location');
      await page.focus('table[data-testid="blockers-thread"] tbody tr:first-child button.location');
      await page.keyboard.press('Enter');
      const opens = (await posted(page)).filter((m) => m.type === 'openLocation');
      assert.deepEqual(opens, [
        { type: 'openLocation', file: 'services/docs.py', line: 41, column: 'current' },
        { type: 'openLocation', file: 'job.py', line: 20, column: 'current' },
      ]);
      // A narrow panel: the page does not scroll sideways, and rows stack with their labels.
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no sideways scroll at 360 px');
      assert.equal(await page.$eval('table[data-testid="blockers-inline"] tbody tr', (tr) => getComputedStyle(tr).display), 'block');
      assert.deepEqual((await security(page)).csp, []);
      await page.locator('section[data-testid="blockers"]').screenshot({ path: path.join(OUT, 'blockers-narrow.png') });
    } finally {
      await page.close();
    }
  });

  test('a line in the compared report opens in that report\'s workspace; payloads stay text in the panel too', async () => {
    const page = await openWebview(1200);
    try {
      await send(page, state(blockerReport(), hostileReport()));
      await page.waitForSelector('[data-column="compare"] table[data-testid="blockers-inline"]');
      // Ids stay unique with two reports side by side.
      const ids = await page.$$eval('section[data-testid="blockers"] [id]', (els) => els.map((e) => e.id));
      assert.equal(new Set(ids).size, ids.length, `unique ids: ${ids.join(', ')}`);
      await page.click('[data-column="compare"] table[data-testid="blockers-inline"] tbody tr:first-child button.location');
      const opens = (await posted(page)).filter((m) => m.type === 'openLocation');
      assert.deepEqual(opens, [{ type: 'openLocation', file: "<img src=x onerror=alert('file')>.py", line: 17, column: 'compare' }]);
      const s = await security(page);
      assert.deepEqual(s.xss, []);
      assert.deepEqual(s.csp, []);
      assert.equal(s.images, 0);
      assert.ok(s.text.includes(FN_PAYLOAD));
    } finally {
      await page.close();
    }
  });
});
