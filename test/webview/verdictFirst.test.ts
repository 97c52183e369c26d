/// <reference lib="dom" />
/**
 * Verdict first (issue 16), as a newcomer meets it: the panel at half of a 1600×1000
 * window (a webview of about 780–800 CSS px wide), real reports from the engines. Without
 * scrolling they see the headline, the change to make with its code, and the figure that
 * justifies it; the summary table is folded and opens (and stays open while the same
 * report is drawn again); skipped modes are one line; the terms explain themselves.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { standaloneHtml } from '../../src/report/html';
import { keyLineOf, nextStep } from '../../src/report/nextStep';
import { Report } from '../../src/shared/protocol';
import { TERMS } from '../../src/webview/terms';
import { panelHarness, SECURITY_PROBE } from '../support/browser';
import { FIXTURES, REPO } from '../support/helpers';

const OUT = path.join(REPO, 'out', 'screenshots');
const fixture = (name: string) => Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', name), 'utf8')));
/** Real documents: a native call holding the GIL (interpreter mode skipped on 3.11), a Node CPU loop, numpy safe in threads. */
const REPORTS = {
  'python-gil': fixture('gil-held-python.json'),
  node: fixture('cpu-loop-node.json'),
  'python-safe': fixture('numpy-matmul-threads.json'),
};
/** The panel at half of a 1600×1000 window, and a narrower, shorter one to be safe. */
const VIEWPORTS = [{ width: 800, height: 1000 }, { width: 780, height: 900 }];

const harness = panelHarness({ before: before, after: after }, 'looplag-fold-');
before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
});

async function openWebview(viewport: { width: number; height: number }): Promise<Page> {
  const page = await harness.open(viewport);
  return page;
}

const send = (page: Page, message: unknown) => page.evaluate((m) => window.postMessage(m, '*'), message);
const stateOf = (r: Report, id: string) => ({ type: 'state', currentId: id, current: r, compare: null, history: [], running: null, options: { lagBudgetMs: 100, host: 'vscode' } });

/** Waits for the report and its charts to be drawn (whichever they are: the assertions say what is missing). */
async function drawn(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.rendered === 'true' && Number(document.body.dataset.charts) > 0);
}

/** The boxes a newcomer must see without scrolling: each fully inside the viewport, the page not scrolled. */
async function assertAboveTheFold(page: Page, what: string): Promise<void> {
  const seen = await page.evaluate(() => {
    const box = (sel: string) => {
      const el = document.querySelector(sel);
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width, height: r.height };
    };
    return {
      scrollY: window.scrollY, width: window.innerWidth, height: window.innerHeight,
      headline: box('[data-testid="headline"]'),
      code: box('[data-testid="next-step-code"]'),
      figure: box('figure[data-chart="budget"] canvas'),
    };
  });
  assert.equal(seen.scrollY, 0, `${what}: not scrolled`);
  for (const part of ['headline', 'code', 'figure'] as const) {
    const b = seen[part];
    assert.ok(b, `${what}: the ${part} is on the page`);
    assert.ok(b.width > 0 && b.height > 0, `${what}: the ${part} has a size`);
    assert.ok(b.top >= 0 && b.left >= 0 && b.bottom <= seen.height && b.right <= seen.width,
      `${what}: the ${part} (${Math.round(b.left)},${Math.round(b.top)}–${Math.round(b.right)},${Math.round(b.bottom)}) within the ${seen.width}×${seen.height} viewport`);
  }
}

describe('verdict first in a half-width panel', () => {
  for (const [name, report] of Object.entries(REPORTS)) {
    for (const viewport of VIEWPORTS) {
      test(`${name} at ${viewport.width}×${viewport.height}: the headline, the change with its code and the figure, without scrolling`, async () => {
        const step = nextStep(report);
        assert.ok(step, `${name}: the report asks for a change (or says how)`);
        const page = await openWebview(viewport);
        try {
          await send(page, stateOf(report, name));
          await drawn(page);
          await page.screenshot({ path: path.join(OUT, `verdict-first-${name}-${viewport.width}x${viewport.height}.png`) });
          await assertAboveTheFold(page, `${name} ${viewport.width}×${viewport.height}`);
          assert.equal(await page.textContent('[data-testid="headline"]'), report.headline);
          // The same change the CLI and the Markdown show, with its code.
          assert.equal(await page.getAttribute('[data-testid="next-step"]', 'data-advice-id'), step.advice.id);
          assert.equal(await page.textContent('[data-testid="next-step"] h2'), `${step.kind === 'change' ? 'Change' : 'How'}: ${step.advice.title}`);
          assert.equal(await page.textContent('[data-testid="next-step-code"]'), step.advice.fix);
          // The line making the call is marked, and in view inside the code's own box (a setup block opens on imports).
          const key = keyLineOf(step.advice.fix, report.target.qualname);
          assert.notEqual(key, null, `${name}: the fix has a line making the call`);
          const inBox = await page.evaluate(() => {
            const pre = document.querySelector('[data-testid="next-step-code"]')!.getBoundingClientRect();
            const mark = document.querySelector('[data-testid="next-step-key"]');
            const m = mark?.getBoundingClientRect();
            return m ? { text: mark!.textContent, visible: m.top >= pre.top && m.bottom <= pre.bottom } : null;
          });
          assert.deepEqual(inBox, { text: step.advice.fix.split('\n')[key!], visible: true }, `${name}: the call's line in view`);
          // The figure draws every measured mode's bar: pixels in each mode's colour.
          const measured = report.runs.filter((r) => r.status !== 'skipped').map((r) => r.mode);
          const aria = (await page.getAttribute('figure[data-chart="budget"]', 'aria-label'))!;
          for (const mode of measured) assert.match(aria, new RegExp(`\\b${mode} `), `${name}: ${mode} in the figure`);
          // Then one line per mode: the measured ones, and the skipped ones in a line per reason.
          const lines = await page.$$eval('.verdicts li', (lis) => lis.map((li) => li.getAttribute('data-mode')));
          assert.deepEqual(lines.slice(0, measured.length), measured);
          assert.deepEqual(await page.evaluate(() => (window as unknown as { __cspViolations: unknown[] }).__cspViolations), []);
        } finally {
          await page.close();
        }
      });
    }
  }

  test('the summary table is folded, opens, and stays open while the same report is drawn again', async () => {
    const report = REPORTS['python-gil'];
    const page = await openWebview(VIEWPORTS[0]);
    try {
      await send(page, stateOf(report, 'a'));
      await drawn(page);
      const fold = 'details[data-fold="summary"]';
      assert.equal(await page.$eval(fold, (d) => (d as HTMLDetailsElement).open), false, 'closed by default');
      assert.equal(await page.isVisible('table[data-testid="summary"]'), false, 'the table is folded');
      // The fold's summary comes after the verdict block: the table is not what a newcomer reads first.
      const [foldTop, verdictsBottom] = await page.evaluate(() => [
        document.querySelector('details[data-fold="summary"]')!.getBoundingClientRect().top,
        document.querySelector('.verdicts')!.getBoundingClientRect().bottom,
      ]);
      assert.ok(foldTop >= verdictsBottom, 'the table folds below the verdicts');
      await page.click(`${fold} > summary`);
      await page.waitForSelector('table[data-testid="summary"]', { state: 'visible' });
      // Drawn again (a notice, as Copy gives): the table stays open.
      await send(page, { type: 'notice', text: 'Copied the code.' });
      await page.waitForSelector('.notice');
      assert.equal(await page.$eval(fold, (d) => (d as HTMLDetailsElement).open), true, 'still open after a re-render');
      assert.equal(await page.isVisible('table[data-testid="summary"]'), true);
      // The measured modes are the columns; the skipped one is not a column of dashes.
      const columns = await page.$$eval('table[data-testid="summary"] thead th[scope="col"]', (ths) => ths.slice(1).map((t) => t.className.replace('mode-', '')));
      assert.deepEqual(columns, report.runs.filter((r) => r.status !== 'skipped').map((r) => r.mode));
      assert.equal(await page.$$eval('td[data-mode="interpreter"]', (tds) => tds.length), 0);
      // Another report: folded again.
      await send(page, stateOf(REPORTS.node, 'b'));
      await page.waitForFunction(() => document.querySelector('[data-testid="target-name"]')?.textContent === 'sumOfSquareRoots');
      assert.equal(await page.$eval(fold, (d) => (d as HTMLDetailsElement).open), false, 'another report starts folded');
      await page.click(`${fold} > summary`);
      await page.screenshot({ path: path.join(OUT, 'verdict-first-table-open.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  test('a skipped mode is one line: the mode and why, not a column', async () => {
    const report = REPORTS['python-gil'];
    const skipped = report.runs.find((r) => r.status === 'skipped')!;
    assert.equal(skipped.mode, 'interpreter', 'the fixture ran on Python < 3.14');
    const page = await openWebview(VIEWPORTS[0]);
    try {
      await send(page, stateOf(report, 'a'));
      await drawn(page);
      const lines = await page.$$eval('[data-testid="skipped"]', (els) => els.map((e) => e.textContent));
      assert.deepEqual(lines, [`interpreter: skipped — ${skipped.error!.message.replace(/^not measured:\s*/i, '')}`]);
      assert.match(lines[0]!, /needs Python 3\.14/);
      // One line: its box is one line of text high and no wider than the page.
      const box = (await page.$eval('[data-testid="skipped"]', (el) => {
        const r = el.getBoundingClientRect();
        return { height: r.height, right: r.right, line: parseFloat(getComputedStyle(el).lineHeight) };
      }));
      assert.ok(box.height < box.line * 1.6, `one line (${box.height} px, a line is ${box.line} px)`);
      assert.ok(box.right <= 800, 'nothing runs off the side');
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'the page does not scroll sideways');
    } finally {
      await page.close();
    }
  });

  test('terms explain themselves on hover and on keyboard focus', async () => {
    const page = await openWebview(VIEWPORTS[0]);
    try {
      await send(page, stateOf(REPORTS['python-gil'], 'a'));
      await drawn(page);
      await page.click('details[data-fold="summary"] > summary');
      // Each term where it is a label: the header's settings, the table's rows, the captions.
      for (const [key, where] of [
        ['switchInterval', '.meta'], ['heartbeats', '.meta'], ['stall', '.meta'], ['budget', 'figure[data-chart="budget"]'],
        ['lag', 'table[data-testid="summary"]'], ['p99', 'table[data-testid="summary"]'], ['gilWait', 'table[data-testid="summary"]'],
      ] as const) {
        const el = page.locator(`${where} abbr[data-term="${key}"]`).first();
        await el.scrollIntoViewIfNeeded();
        await el.hover();
        // What the pointer is over carries the definition (the browser shows it as a tooltip).
        const title = await page.evaluate(() => {
          const all = document.querySelectorAll(":hover");
          const hovered = all[all.length - 1];
          return hovered?.closest('[title]')?.getAttribute('title') ?? null;
        });
        assert.equal(title, TERMS[key].title, `${key} in ${where}: its title on hover`);
      }
      // Node's ELU, in its chart's caption.
      await send(page, stateOf(REPORTS.node, 'n'));
      await page.waitForSelector('figure[data-chart="lag-inline"] abbr[data-term="elu"]');
      assert.equal(await page.getAttribute('figure[data-chart="lag-inline"] abbr[data-term="elu"]', 'title'), TERMS.elu.title);
      // Keyboard: Tab reaches a term, and its definition shows beside it.
      await page.evaluate(() => window.scrollTo(0, 0));
      let focused: { term: string | null; after: string } = { term: null, after: '' };
      for (let i = 0; i < 30 && !focused.term; i++) {
        await page.keyboard.press('Tab');
        focused = await page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          return { term: el?.dataset.term ?? null, after: el ? getComputedStyle(el, '::after').content : '' };
        });
      }
      assert.ok(focused.term, 'Tab reaches a term');
      assert.equal(focused.after, JSON.stringify(TERMS[focused.term as keyof typeof TERMS].title), 'its definition shows on focus');
      await page.screenshot({ path: path.join(OUT, 'verdict-first-term-focus.png') });
    } finally {
      await page.close();
    }
  });

  test('the standalone HTML file has the same first screen', async () => {
    const report = REPORTS.node;
    const file = path.join(harness.work, 'node.html');
    fs.writeFileSync(file, standaloneHtml(report, {
      js: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'main.js'), 'utf8'),
      css: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'standalone.css'), 'utf8'),
    }));
    for (const viewport of VIEWPORTS) {
      const page = await harness.browser.newPage({ viewport, colorScheme: 'light' });
      try {
        await page.addInitScript(SECURITY_PROBE);
        await page.goto(`file://${file}`);
        await drawn(page);
        await page.screenshot({ path: path.join(OUT, `verdict-first-standalone-${viewport.width}x${viewport.height}.png`) });
        await assertAboveTheFold(page, `standalone ${viewport.width}×${viewport.height}`);
        assert.equal(await page.$eval('details[data-fold="summary"]', (d) => (d as HTMLDetailsElement).open), false);
        assert.deepEqual(await page.evaluate(() => (window as unknown as { __cspViolations: unknown[] }).__cspViolations), []);
      } finally {
        await page.close();
      }
    }
  });
});
