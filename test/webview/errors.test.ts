/// <reference lib="dom" />
/**
 * Errors as the verdict (issue 16) in real Chromium, on reports the CLI wrote
 * (test/fixtures/python/errorcard: `missing_module.py::handler` and `raising.py::parse`
 * with `--args 3`; paths then rewritten to /home/dev): a run that measured nothing is one
 * card with its action as a button and no mode table; calls that raised are one grouped
 * line and one traceback without the tool's frames, the user's line a link. In the
 * VS Code page `acquireVsCodeApi` is stood in by a recorder of what the page posts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { standaloneHtml } from '../../src/report/html';
import { Report } from '../../src/shared/protocol';
import { launchChromium, openPanelPage, SECURITY_PROBE, serveWebview } from '../support/browser';
import { FIXTURES, REPO, tmpDir } from '../support/helpers';

const OUT = path.join(REPO, 'out', 'screenshots');
const DOCS = path.join(REPO, 'docs', 'images');
const load = (name: string): Report => Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', name), 'utf8')));
const importError = () => load('import-error-python.json');
const raising = () => load('raising-calls-python.json');

/** The import-error report as a syntax error would have it: the error's file and line, no module to install. */
function syntaxError(): Report {
  const r = importError();
  const file = '/home/dev/shop/missing_module.py';
  const message = "missing_module.py:4: invalid syntax: def handler(:";
  return {
    ...r,
    headline: `Not measured: ${message}.`,
    error: { kind: 'syntax-error', message, detail: null, file, line: 4 },
    runs: r.runs.map((run) => ({ ...run, error: { kind: 'syntax-error', message: `not measured: ${message}`, detail: null } })),
  };
}

let browser: Browser;
let closeBrowser: () => Promise<void>;
let served: Awaited<ReturnType<typeof serveWebview>>;
let work: string;

before(async () => {
  work = tmpDir('looplag-errors-ui-');
  fs.mkdirSync(OUT, { recursive: true });
  ({ browser, close: closeBrowser } = await launchChromium());
  served = await serveWebview();
});

after(async () => {
  await served?.close();
  await closeBrowser?.();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function openWebview(report: Report, width = 1000): Promise<Page> {
  const page = await openPanelPage(browser, served.origin, { width, height: 700 });
  await page.evaluate((m) => window.postMessage(m, '*'), { type: 'state', currentId: 'a', current: report, compare: null, history: [], running: null, options: { lagBudgetMs: 100, host: 'vscode' } });
  await page.waitForSelector('body[data-rendered="true"] [data-testid="target-name"]');
  return page;
}

const posted = (page: Page) => page.evaluate(() => (window as unknown as { __posted: Record<string, unknown>[] }).__posted.filter((m) => m.type !== 'ready'));

/** Everything a test asserts about the error parts of a page. */
const errorParts = (page: Page) => page.evaluate(() => ({
  cards: document.querySelectorAll('[data-testid="error-card"]').length,
  cause: document.querySelector('[data-testid="error-cause"]')?.textContent ?? null,
  interpreter: document.querySelector('[data-testid="error-interpreter"]')?.textContent ?? null,
  buttons: Array.from(document.querySelectorAll('[data-testid="error-card"] button')).map((b) => [b.getAttribute('data-action'), b.textContent]),
  detailOpen: (document.querySelector('[data-testid="error-detail"]') as HTMLDetailsElement | null)?.open ?? null,
  detail: document.querySelector('[data-testid="error-detail"] pre')?.textContent ?? null,
  summaryTables: document.querySelectorAll('table[data-testid="summary"]').length,
  verdicts: document.querySelectorAll('.verdicts').length,
  headlines: document.querySelectorAll('[data-testid="headline"]').length,
  banners: document.querySelectorAll('.banner.error').length,
  runErrors: document.querySelectorAll('[data-testid="run-error"]').length,
  otherSkips: Array.from(document.querySelectorAll('[data-testid="other-skips"] li')).map((li) => li.textContent),
  // How many times the error's message is on the page.
  text: document.getElementById('app')!.textContent ?? '',
  csp: (window as unknown as { __cspViolations: unknown[] }).__cspViolations,
}));

describe('nothing measured: one error card', () => {
  test('an import error: the headline once, the interpreter that ran, Select Python Interpreter posts its message, no mode table', async () => {
    const report = importError();
    const page = await openWebview(report);
    try {
      const parts = await errorParts(page);
      assert.equal(parts.cards, 1);
      assert.equal(await page.textContent('[data-testid="error-card"] h2'), ' Import error');
      // Which interpreter ran it is said once, on its own line, not also in the cause.
      assert.equal(parts.cause!, "Not measured: importing missing_module.py raised ModuleNotFoundError: No module named 'looplag_errorcard_not_installed'.");
      assert.equal(parts.interpreter, `CPython 3.11.7 at ${report.runtime!.executable} ran it: install the module for that interpreter, or choose the one your code runs with.`);
      assert.deepEqual(parts.buttons, [['select-interpreter', 'Select Python Interpreter'], ['open-error', 'Open missing_module.py:2']]);
      assert.equal(parts.summaryTables, 0, 'no table of dashes');
      assert.equal(parts.verdicts, 0);
      assert.equal(parts.headlines, 0, 'the card says the headline; the header does not repeat it');
      assert.equal(parts.banners, 0);
      assert.equal(parts.runErrors, 0, 'no per-mode repeat of the run\'s error');
      assert.deepEqual(parts.otherSkips, [], 'every mode was skipped for the run\'s own error');
      assert.equal(parts.text.split("No module named 'looplag_errorcard_not_installed'").length - 1, 2, 'the message in the cause and the folded traceback only');
      // The traceback is folded, without the sidecar's and the import system's frames.
      assert.equal(parts.detailOpen, false);
      assert.doesNotMatch(parts.detail!, /looplag_sidecar|<frozen/);
      assert.match(parts.detail!, /File "\/home\/dev\/shop\/missing_module\.py", line 2, in <module>\n    import looplag_errorcard_not_installed/);
      assert.match((await page.textContent('[data-testid="error-detail"] .notes'))!, /^3 frames of Loop Lag/);
      assert.deepEqual(parts.csp, []);

      // The card is the screenshot in the README's report panel section.
      const card = page.locator('[data-testid="error-card"]');
      await card.screenshot({ path: path.join(OUT, 'error-card.png') });
      fs.mkdirSync(DOCS, { recursive: true });
      fs.copyFileSync(path.join(OUT, 'error-card.png'), path.join(DOCS, 'error-card.png'));
      assert.ok(fs.statSync(path.join(DOCS, 'error-card.png')).size < 150_000);

      await page.click('button[data-action="select-interpreter"]');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      assert.deepEqual(await posted(page), [
        { type: 'selectInterpreter' },
        { type: 'openLocation', file: '/home/dev/shop/missing_module.py', line: 2, column: 'current' },
      ]);
    } finally {
      await page.close();
    }
  });

  test('a syntax error: Open FILE:LINE is the action; a mode skipped for its own reason is one line', async () => {
    const r = syntaxError();
    const report: Report = { ...r, runs: r.runs.map((run) => (run.mode === 'interpreter'
      ? { ...run, error: { kind: 'unsupported-mode', message: 'InterpreterPoolExecutor needs Python 3.14 or newer (this is 3.11)', detail: null } } : run)) };
    const page = await openWebview(report);
    try {
      const parts = await errorParts(page);
      assert.equal(parts.cards, 1);
      assert.equal(parts.cause, report.headline);
      assert.deepEqual(parts.buttons, [['open-error', 'Open missing_module.py:4']]);
      assert.equal(await page.getAttribute('button[data-action="open-error"]', 'class'), 'primary');
      assert.equal(parts.interpreter, null, 'no interpreter to change for a syntax error');
      assert.deepEqual(parts.otherSkips, ['interpreter: InterpreterPoolExecutor needs Python 3.14 or newer (this is 3.11)']);
      assert.equal(parts.summaryTables, 0);
      await page.click('button[data-action="open-error"]');
      assert.deepEqual(await posted(page), [{ type: 'openLocation', file: '/home/dev/shop/missing_module.py', line: 4, column: 'current' }]);
    } finally {
      await page.close();
    }
  });

  test('a Node package not found: the npm install hint and its copy button; the standalone page has no host buttons', async () => {
    const r = importError();
    const message = "importing app.mjs raised Error: Cannot find package 'left-pad' imported from /home/dev/shop/app.mjs";
    const report: Report = { ...r, headline: `Not measured: ${message} (install it in the project: npm install).`, error: { kind: 'import-error', message, detail: null } };
    const page = await openWebview(report);
    try {
      const parts = await errorParts(page);
      assert.equal(parts.cards, 1);
      assert.equal(await page.textContent('[data-testid="error-npm"]'), 'Install it in the project: npm install left-pad');
      assert.deepEqual(parts.buttons, [['copy-npm', 'Copy npm install left-pad']]);
    } finally {
      await page.close();
    }
    const file = path.join(work, 'standalone.html');
    fs.writeFileSync(file, standaloneHtml(importError(), {
      js: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'main.js'), 'utf8'),
      css: fs.readFileSync(path.join(REPO, 'dist', 'webview', 'standalone.css'), 'utf8'),
    }));
    const standalone = await browser.newPage();
    try {
      await standalone.addInitScript(SECURITY_PROBE);
      await standalone.goto(`file://${file}`);
      await standalone.waitForSelector('body[data-rendered="true"]');
      const parts = await errorParts(standalone);
      assert.equal(parts.cards, 1);
      assert.deepEqual(parts.buttons, [], 'nothing to select or open outside VS Code');
      assert.match(parts.interpreter!, /^CPython 3\.11\.7 at /);
      assert.deepEqual(parts.csp, []);
    } finally {
      await standalone.close();
    }
  });
});

describe('calls that raised', () => {
  test('one grouped line across modes, one traceback without tool frames, the user\'s line a link', async () => {
    const report = raising();
    const page = await openWebview(report);
    try {
      assert.equal(await page.$$eval('[data-testid="error-card"]', (c) => c.length), 0, 'the modes were measured: no card');
      assert.deepEqual(await page.$$eval('[data-testid="raised-line"]', (ps) => ps.map((p) => p.textContent)),
        [' inline, thread, process: 10 calls raised the same error: ValueError: bad 3']);
      const tracebacks = await page.$$eval('[data-testid="raised-traceback"]', (ps) => ps.map((p) => p.textContent!));
      assert.equal(tracebacks.length, 1);
      assert.doesNotMatch(tracebacks[0], /looplag_sidecar|concurrent[/]futures|asyncio/);
      assert.equal(tracebacks[0], [
        'Traceback (most recent call last):',
        '  File "/home/dev/shop/raising.py", line 5, in parse',
        '    return check(n)',
        '           ^^^^^^^^',
        '  File "/home/dev/shop/raising.py", line 9, in check',
        '    raise ValueError(f"bad {n}")',
        'ValueError: bad 3',
        '',
      ].join('\n'));
      // The table is still there (the modes ran), and the details no longer list raw tracebacks per mode.
      assert.equal(await page.$$eval('table[data-testid="summary"]', (t) => t.length), 1);
      assert.equal(await page.$$eval('.details pre', (ps) => ps.filter((p) => /ValueError/.test(p.textContent ?? '')).length), 0);
      assert.equal(await page.textContent('[data-testid="raised-at"]'), 'raising.py:9');
      await page.click('[data-testid="raised-at"]');
      assert.deepEqual(await posted(page), [{ type: 'openLocation', file: '/home/dev/shop/raising.py', line: 9, column: 'current' }]);
    } finally {
      await page.close();
    }
  });

  test('different counts per mode are separate lines; the same error\'s traceback is shown once', async () => {
    const r = raising();
    // Thread mode: only 4 of its 10 calls raised.
    const report: Report = { ...r, runs: r.runs.map((run) => (run.mode === 'thread'
      ? { ...run, tasks: run.tasks.map((t, i) => (i < 6 ? { ...t, error: null, status: 'ok' as const } : t)) } : run)) };
    const page = await openWebview(report);
    try {
      assert.deepEqual(await page.$$eval('[data-testid="raised-line"]', (ps) => ps.map((p) => p.textContent)), [
        ' inline, process: 10 calls raised the same error: ValueError: bad 3',
        ' thread: 4 of 10 calls raised the same error: ValueError: bad 3',
      ]);
      assert.equal(await page.$$eval('[data-testid="raised-traceback"]', (ps) => ps.length), 1);
    } finally {
      await page.close();
    }
  });
});
