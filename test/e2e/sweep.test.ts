/// <reference lib="dom" />
/**
 * Loop Lag: Sweep Worker Counts in a real VS Code (code-server driven by Debian's
 * Chromium), installed from looplag.vsix: the palette command on a Python function, the
 * sweep filling in live in the report panel, the table checked against the sweep the
 * panel's Export JSON saves, the output channel's summary, a measurement afterwards
 * going back to the report view with the report's headline as the CodeLens, and a second
 * sweep joining the history beside that report (issue 16): both listed and selectable,
 * the status bar showing the sweep, Save as HTML writing a page that opens.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { resultHint } from '../../src/host/lensText';
import { fmtMs } from '../../src/shared/format';
import { Sweep } from '../../src/shared/protocol';
import { findLogFile } from '../support/codeServer';
import { useWorkbench } from '../support/e2e';
import { FIXTURES, REPO, tmpDir } from '../support/helpers';
import { activeEditor, clickCodeLens, codeLensTitles, goToLine, openFile, runCommand, statusBarText, waitForLog, waitUntil, webviewFrame } from '../support/workbench';
import { historySweeps, newestReport } from '../support/history';

const VSIX = path.join(REPO, 'looplag.vsix');
const WORKSPACE = path.join(FIXTURES, 'e2e', 'workspace');
const EXTENSION_ID = 'looplag.looplag';
const STATUS_ITEM = 'looplag.looplag.looplag.status';
const SWEEP = 'Loop Lag: Sweep Worker Counts';
/** pool.py: a line inside digest(rounds=200_000), ~40-60 ms of GIL-releasing PBKDF2 per call. */
const DIGEST_LINE = 8;
const WORKERS = [1, 2, 4];
const MODES = ['thread', 'process'];
/** 6 windows of 4 calls and two pool start-ups: ~2 s alone, more on a shared machine. */
const SWEEP_TIMEOUT_MS = 90_000;

const skip = !fs.existsSync(VSIX) && 'no looplag.vsix: run `npm run package`';

describe('Loop Lag: Sweep Worker Counts in VS Code', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-sweep-');
    fs.cpSync(WORKSPACE, folder, { recursive: true });
    // The folder's settings, as a user would write them: three pool sizes, four calls.
    fs.mkdirSync(path.join(folder, '.vscode'));
    fs.writeFileSync(path.join(folder, '.vscode', 'settings.json'), JSON.stringify({
      'looplag.sweep.workers': WORKERS.map(String),
      'looplag.concurrency': 4,
    }, null, 2));
    return { folder, vsix: VSIX };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('the sweep runs from the palette, fills the panel live, and its table is the sweep Export JSON saves', async (t) => {
    const { page, server } = session;
    // The panel open beforehand (empty: nothing measured yet), so its first view loading
    // does not hide the sweep's progress.
    await openFile(page, 'pool.py');
    await runCommand(page, 'Loop Lag: Show Report');
    await webviewFrame(page, { extensionId: EXTENSION_ID });
    await focusEditorTab(page, 'pool.py');
    await goToLine(page, DIGEST_LINE);
    const since = Date.now();
    await runCommand(page, SWEEP);
    // digest(rounds=200_000) needs no arguments: no prompt, straight to the sweep.
    const { frame, seen } = await waitForSweep(page, 'digest', since);
    const tookMs = Date.now() - since;
    t.diagnostic(`sweep on screen, finished, ${tookMs} ms after the command; views seen while it ran: ${seen.join(' → ')}`);
    assert.ok(seen.some((s) => s.startsWith('running')), `the panel showed the sweep while it ran: ${seen.join(' → ')}`);

    // The sweep as the host has it: Export JSON in the panel, the save dialog's default name.
    await frame.click('[data-action="export-json"]');
    const saved = path.join(folder, 'looplag-sweep-digest.json');
    await acceptSaveDialog(page, 'looplag-sweep-digest.json');
    await waitUntil(() => fs.existsSync(saved), `${saved} to be written`);
    const sweep = Sweep.parse(JSON.parse(fs.readFileSync(saved, 'utf8')));
    assert.equal(sweep.status, 'complete', sweep.error?.message);
    assert.equal(sweep.target.qualname, 'digest');
    assert.deepEqual(sweep.settings.modes, MODES);
    assert.deepEqual(sweep.settings.workers, WORKERS, 'looplag.sweep.workers');
    assert.equal(sweep.settings.concurrency, 4, 'looplag.concurrency');
    assert.equal(sweep.settings.lagBudgetMs, 100, 'looplag.lagBudgetMs');

    // A row per mode × pool size, each showing that point's numbers.
    const rows = await sweepRows(frame);
    assert.deepEqual(rows.map((r) => `${r.mode} ${r.workers}`), MODES.flatMap((m) => WORKERS.map((w) => `${m} ${w}`)));
    assert.deepEqual(sweep.points.map((p) => `${p.mode} ${p.workers}`), rows.map((r) => `${r.mode} ${r.workers}`));
    for (const p of sweep.points) {
      const row = rows.find((r) => r.mode === p.mode && r.workers === String(p.workers))!;
      assert.equal(p.status, 'ok', `${p.mode} W=${p.workers}: ${p.error?.message}`);
      assert.equal(row.throughput, p.throughputPerS!.toFixed(1), `${p.mode} W=${p.workers} calls/s`);
      assert.equal(row.p99, fmtMs(p.lag.p99Ms), `${p.mode} W=${p.workers} lag p99`);
      assert.equal(row.max, fmtMs(p.lag.maxMs), `${p.mode} W=${p.workers} lag max`);
      t.diagnostic(`${p.mode} W=${p.workers}: ${p.throughputPerS} calls/s, lag p99 ${p.lag.p99Ms} ms, max ${p.lag.maxMs} ms, wall ${p.wallMs} ms`);
    }
    // Each recommendation with a W is shown (and starred in the table); one without says so.
    for (const r of sweep.recommendations) {
      const shown = await frame.$(`[data-testid="recommended-${r.mode}"]`);
      if (r.workers === null) {
        assert.equal(shown, null, `${r.mode}: no W shown (${r.reason})`);
        continue;
      }
      assert.equal((await shown?.textContent())?.trim(), `W = ${r.workers}`, r.mode);
      assert.deepEqual(rows.filter((row) => row.mode === r.mode && row.recommended).map((row) => row.workers), [String(r.workers)], `${r.mode}: the starred row`);
    }
    assert.ok(sweep.recommendations.some((r) => r.workers !== null), `GIL-releasing work has a W within budget: ${sweep.headline}`);
    assert.equal((await frame.textContent('[data-testid="sweep-headline"]'))?.trim(), sweep.headline);
    t.diagnostic(`headline: ${sweep.headline}`);

    // The output channel: a line per point, the headline and the total time.
    const log = await waitForLog(() => findLogFile(server.logsDir, 'Loop Lag.log'), /sweep of digest: complete in [\d.]+ s/);
    assert.ok(log.includes(`— ${sweep.headline}`), 'the headline is logged');
    assert.match(log, /sweeping digest in .*pool\.py \(args: none\) .* modes thread,process, W 1,2,4, concurrency 4,/);
    for (const p of sweep.points) assert.ok(log.includes(`sweep ${p.mode} W=${p.workers}: ok, ${p.throughputPerS} calls/s`), `${p.mode} W=${p.workers} logged`);
    t.diagnostic(/sweep of digest: .*/.exec(log)![0]);
    // The status bar names the best pool.
    const best = sweep.best ? `${sweep.best.mode} W=${sweep.best.workers}` : 'no pool size within budget';
    await waitUntil(async () => ((await statusBarText(page, STATUS_ITEM)) ?? '').includes(`Loop Lag sweep: ${best}`), `"${best}" in the status bar`);
  });

  test('a measurement afterwards goes back to the report view, and the CodeLens shows the report\'s headline', async () => {
    const { page, server } = session;
    // The panel beside the editor has the focus (Export JSON was clicked): back to pool.py's tab.
    await focusEditorTab(page, 'pool.py');
    const since = Date.now();
    await clickCodeLens(page, '▶ Measure loop lag');
    let frame: Frame | undefined;
    await waitUntil(async () => {
      const f = await webviewFrame(page, { extensionId: EXTENSION_ID, timeoutMs: 2_000 }).catch(() => undefined);
      const state = await f?.evaluate(() => ({
        summary: document.querySelector('table[data-testid="summary"]') !== null,
        sweep: document.querySelector('table[data-testid="sweep-table"]') !== null,
        running: document.querySelector('[data-testid="running"]') !== null,
        createdAt: document.querySelector('header time')?.getAttribute('datetime') ?? '',
      })).catch(() => undefined);
      if (state?.summary && !state.sweep && !state.running && Date.parse(state.createdAt) >= since) frame = f;
      return frame !== undefined;
    }, 'the report of digest() in the panel', SWEEP_TIMEOUT_MS);
    const report = newestReport(server);
    assert.equal(report.target.qualname, 'digest');
    assert.ok(report.headline, 'the report has a headline');
    // A sync Python function: the headline answers for a thread pool (FastAPI's sync endpoints).
    assert.match(report.headline!, /^(Safe|Not safe) in a thread pool: with 4 concurrent calls/);
    const hint = resultHint(report);
    assert.ok(hint.title.length <= 120, hint.title);
    await waitUntil(async () => (await codeLensTitles(page)).includes(hint.title), `the CodeLens "${hint.title}"`);
  });

  test('a sweep after the run joins the history beside it: each selectable, the status bar shows the sweep, Save as HTML writes a page that opens', async (t) => {
    const { page, server, browser } = session;
    const report = newestReport(server);
    await focusEditorTab(page, 'pool.py');
    await goToLine(page, DIGEST_LINE);
    const since = Date.now();
    await runCommand(page, SWEEP);
    let { frame } = await waitForSweep(page, 'digest', since);
    const [first, sweep] = historySweeps(server);
    assert.ok(sweep && Date.parse(sweep.createdAt) >= since - 1_000, 'the second sweep is kept');
    // Right after the sweep: the sweep, and under it the history (newest first): it, the run, the first sweep.
    const items = await historyItems(frame);
    assert.deepEqual(items.map((i) => [i.kind, i.current]), [['sweep', true], ['report', false], ['sweep', false]]);
    const best = sweep.best ? `best ${sweep.best.mode} W=${sweep.best.workers}` : 'no pool size within budget';
    assert.ok(items[0].text.includes(`sweep · digest() · ${best} — ${sweep.headline}`), items[0].text);
    t.diagnostic(`history: ${items.map((i) => i.text).join(' | ')}`);

    // The run, one click away; then the first sweep.
    await frame.click('section.history li[data-kind="report"] button.link');
    frame = await waitForView(page, 'report', report.createdAt);
    assert.ok(await frame.$('section.history li[data-kind="sweep"] button.link'), 'the sweeps listed under the report');
    assert.equal(await frame.$('section.history li[data-kind="sweep"] button.small'), null, 'no Compare with a sweep');
    await frame.click('section.history li[data-kind="sweep"]:last-child button.link');
    await waitForView(page, 'sweep', first.createdAt);
    // Show Report: the run, not a sweep; the status bar: the sweep it names.
    await runCommand(page, 'Loop Lag: Show Report');
    await waitForView(page, 'report', report.createdAt);
    await page.locator(`.statusbar-item[id="${STATUS_ITEM}"]`).click();
    frame = await waitForView(page, 'sweep', sweep.createdAt);

    // Save as HTML: the standalone page of this sweep, which opens offline.
    await frame.click('[data-action="save-html"]');
    const saved = path.join(folder, 'looplag-sweep-digest.html');
    await acceptSaveDialog(page, 'looplag-sweep-digest.html');
    await waitUntil(() => fs.existsSync(saved), `${saved} to be written`);
    const standalone = await browser.newPage();
    try {
      await standalone.goto(`file://${saved}`);
      await standalone.waitForSelector('body[data-rendered="true"]');
      assert.equal(await standalone.getAttribute('header time', 'datetime'), sweep.createdAt);
      assert.equal((await standalone.textContent('[data-testid="sweep-headline"]'))?.trim(), sweep.headline);
      assert.equal(await standalone.locator('table[data-testid="sweep-table"] tbody tr').count(), sweep.points.length);
    } finally {
      await standalone.close();
    }
  });
});

// ------------------------------------------------------------------ helpers

/** The history list under the view: each entry's kind, whether it is on show, its text. */
async function historyItems(frame: Frame) {
  return frame.$$eval('section.history li', (lis) => lis.map((li) => ({
    kind: li.getAttribute('data-kind'), current: li.classList.contains('current'), text: (li.querySelector('button.link')?.textContent ?? '').trim(),
  })));
}

/** Wait until the panel shows the report or the sweep made at `createdAt`; returns its frame. */
async function waitForView(page: Page, kind: 'report' | 'sweep', createdAt: string): Promise<Frame> {
  let frame: Frame | undefined;
  let last = '';
  await waitUntil(async () => {
    const f = await webviewFrame(page, { extensionId: EXTENSION_ID, timeoutMs: 2_000 }).catch(() => undefined);
    const state = await f?.evaluate(() => ({
      sweep: document.querySelector('table[data-testid="sweep-table"]') !== null,
      report: document.querySelector('table[data-testid="summary"]') !== null,
      createdAt: document.querySelector('header time')?.getAttribute('datetime') ?? '',
    })).catch(() => undefined);
    last = JSON.stringify(state);
    if (state?.[kind] && state.createdAt === createdAt) frame = f;
    return frame !== undefined;
  }, `the ${kind} of ${createdAt} in the panel`).catch((e) => assert.fail(`${(e as Error).message}; last seen ${last}`));
  return frame!;
}

/**
 * Wait until the panel shows a finished sweep of `fn` started at or after `since`; returns
 * its frame and the views seen on the way (`running: N rows` while it ran).
 */
async function waitForSweep(page: Page, fn: string, since: number): Promise<{ frame: Frame; seen: string[] }> {
  let frame: Frame | undefined;
  const seen: string[] = [];
  await waitUntil(async () => {
    try {
      const f = await webviewFrame(page, { extensionId: EXTENSION_ID, timeoutMs: 2_000 });
      const state = await f.evaluate(() => ({
        fn: document.querySelector('[data-testid="target-name"]')?.textContent ?? null,
        createdAt: document.querySelector('header time')?.getAttribute('datetime') ?? null,
        headline: document.querySelector('[data-testid="sweep-headline"]')?.textContent ?? null,
        running: document.querySelector('[data-testid="running"]') !== null,
        rows: document.querySelectorAll('table[data-testid="sweep-table"] tbody tr').length,
      }));
      if (state.headline === null || state.fn !== fn) return false;
      const view = `${state.running ? 'running' : 'done'}: ${state.rows} rows`;
      if (seen.at(-1) !== view) seen.push(view);
      const done = !state.running && Date.parse(state.createdAt ?? '') >= since - 1_000 && state.rows === MODES.length * WORKERS.length;
      if (done) frame = f;
      return done;
    } catch {
      return false; // no panel yet, or its frame is navigating
    }
  }, `the sweep of ${fn}() in the panel`, SWEEP_TIMEOUT_MS).catch((e) => assert.fail(`${(e as Error).message}; seen: ${seen.join(' → ')}`));
  return { frame: frame!, seen };
}

/** The sweep table's rows: mode, W, the ★, and the metric cells (the ▲ over-budget mark dropped). */
async function sweepRows(frame: Frame) {
  return frame.$$eval('table[data-testid="sweep-table"] tbody tr', (trs) => trs.map((tr) => {
    const cell = (metric: string) => (tr.querySelector(`td[data-metric="${metric}"]`)?.textContent ?? '').replace(/^▲\s*/, '').trim();
    return {
      mode: tr.getAttribute('data-mode') ?? '',
      workers: tr.getAttribute('data-workers') ?? '',
      recommended: tr.classList.contains('recommended'),
      throughput: cell('throughput'),
      p99: cell('p99'),
      max: cell('max'),
    };
  }));
}

/**
 * The save dialog VS Code shows in a browser (its own file dialog, a quick input holding
 * the path): wait until it offers `name`, and accept it.
 */
async function acceptSaveDialog(page: Page, name: string): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await waitUntil(async () => (await input.isVisible()) && (await input.inputValue()).endsWith(`/${name}`), `a save dialog offering ${name}`);
  await input.focus();
  await input.press('Enter');
}

/** Click an editor's tab (in whichever group has it), as a user would, and wait for its editor. */
async function focusEditorTab(page: Page, relPath: string): Promise<void> {
  await page.locator('.tabs-container .tab').filter({ hasText: path.basename(relPath) }).first().click();
  await activeEditor(page, relPath).waitFor();
}

