/// <reference lib="dom" />
/**
 * Measured diagnostics and their quick fixes in a real VS Code (issue 15's "Done when"):
 * code-server with the packaged extension measures blocking.py's render() (pow() on big ints,
 * holding the GIL); the call in `async def handler()` and the one in views.py's
 * `async def page()` get a diagnostic in the Problems panel worded from the report, the one
 * in a plain def none; the quick fix the measurement prefers rewrites the call; the file still
 * imports, and handler() measured again keeps the loop within budget where it blocked it before.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { judgeCall, pythonFixes, summarize } from '../../src/report/measuredCalls';
import { Report } from '../../src/shared/protocol';
import type { CodeServer } from '../support/codeServer';
import { useWorkbench } from '../support/e2e';
import { FIXTURES, REPO, tmpDir } from '../support/helpers';
import { goToLine, openFile, runCommand, waitUntil } from '../support/workbench';
import { historyReports } from '../support/history';

const VSIX = path.join(REPO, 'looplag.vsix');
const WORKSPACE = path.join(FIXTURES, 'e2e', 'diagnostics');
const RUN_TIMEOUT_MS = 90_000;
const BUDGET_MS = 100;
/** blocking.py: a line in render(), the call in handler() (1-based line, column), a line in handler(). */
const RENDER_LINE = 6;
const CALL = { line: 10, column: 14, indent: 4 };
const HANDLER_LINE = 11;
const SCREENSHOTS = path.join(REPO, 'out', 'screenshots');
const ATTEMPTS_ON_BUSY_MACHINE = 3;

const skip = !fs.existsSync(VSIX) && 'no looplag.vsix: run `npm run package`';

describe('Loop Lag in VS Code: measured diagnostics on call sites and their quick fixes', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-diagnostics-');
    fs.cpSync(WORKSPACE, folder, { recursive: true });
    // Three calls of ~150-200 ms, each holding the GIL longer than the budget: inline and in
    // threads they stall the loop over it, a process pool keeps it within.
    return {
      folder, vsix: VSIX,
      userSettings: { 'looplag.concurrency': 3, 'looplag.python.modes': ['inline', 'thread', 'process'], 'looplag.lagBudgetMs': BUDGET_MS, 'looplag.saveBeforeRun': 'always' },
    };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));
  let render: Report;

  test('measuring render() puts a diagnostic on its calls in async code, worded from the report, in the Problems panel', async (t) => {
    const { page, server } = session;
    await openFile(page, 'blocking.py');
    await measure(page, server, RENDER_LINE, 'render');
    render = newest(server, 'render');
    assert.match(render.target.sourceHash ?? '', /^[0-9a-f]{16}$/, 'the report names the measured source');
    const summary = summarize(render)!;
    const want = judgeCall(summary, { callee: 'render', mode: 'inline' }, BUDGET_MS, render.target.sourceHash);
    assert.ok(want, `inline stalled the loop: ${JSON.stringify(summary.runs)}`);
    assert.equal(want.severity, 'warning', `over the budget: ${JSON.stringify(summary.runs)}`);
    await page.keyboard.press('Control+Shift+M');
    const rows = await waitForProblems(page, (r) => r.filter((x) => x.includes('render()')).length >= 2);
    t.diagnostic(`Problems: ${JSON.stringify(rows)}`);
    assert.ok(rows.some((r) => r.includes(want.message.replace(/`/g, ''))), `"${want.message}" among ${JSON.stringify(rows)}`);
    assert.equal(rows.filter((r) => r.includes('render() blocked the loop')).length, 2, 'handler() in blocking.py and page() in views.py; not batch(), a plain def');
  });

  test('the quick fix the measurement prefers rewrites the call; the file still imports, and handler() keeps the loop within budget', async (t) => {
    const { page, server } = session;
    // Before: handler() called on the loop, measured inline alone.
    writeFolderSettings(folder, { 'looplag.python.modes': ['inline'] });
    await measure(page, server, HANDLER_LINE, 'handler');
    const before = inlineMax(newest(server, 'handler'));
    const preferred = pythonFixes(summarize(render)!, BUDGET_MS).find((f) => f.preferred);
    assert.ok(preferred, `the measurement dictates a fix: ${JSON.stringify(summarize(render))}`);
    const title = preferred.fix === 'process-pool' ? 'in a process pool' : preferred.fix === 'to-thread' ? 'in a thread' : 'plain def';

    await focusBlocking(page);
    await goToLine(page, CALL.line);
    await page.keyboard.press('Home'); // the line's first non-blank: `digits`
    for (let i = 0; i < CALL.column - CALL.indent - 1; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Control+.');
    const menu = page.locator('.action-widget');
    await menu.locator('.monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15_000 });
    const items = await menu.locator('.monaco-list-row').allInnerTexts();
    t.diagnostic(`quick fixes: ${JSON.stringify(items)}`);
    assert.ok(items.some((i) => /Measure render\(\) again/.test(i)) && items.some((i) => /Show Loop Lag report/.test(i)), JSON.stringify(items));
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'diagnostic-quickfix.png'), clip: await mainArea(page) });
    await menu.locator('.monaco-list-row', { hasText: title }).first().click();
    await page.keyboard.press('Control+S');
    const file = path.join(folder, 'blocking.py');
    await waitUntil(() => fs.readFileSync(file, 'utf8').includes('await '), 'the fix saved to blocking.py');
    const text = fs.readFileSync(file, 'utf8');
    t.diagnostic(text);
    if (preferred.fix === 'process-pool') {
      assert.match(text, /^_looplag_pool = concurrent\.futures\.ProcessPoolExecutor\(\)$/m);
      assert.match(text, /digits = await asyncio\.get_running_loop\(\)\.run_in_executor\(_looplag_pool, render, exponent\)/);
    } else {
      assert.match(text, /digits = await asyncio\.to_thread\(render, exponent\)/);
    }
    execFileSync('python3', ['-c', 'import asyncio, blocking; print(asyncio.run(blocking.handler(1000)))'], { cwd: folder });
    // The call's line was edited: its diagnostic went (views.py's stays).
    await waitForProblems(page, (r) => r.filter((x) => x.includes('render() blocked the loop')).length === 1);

    // After: handler() measured again, inline: the work is off the loop. Other processes can
    // stall any loop on this shared machine: over the budget, it is measured again, and when
    // every report says the machine was busy the check is skipped with the load as the reason.
    assert.ok(before > BUDGET_MS, `before the fix handler() blocked the loop: ${before} ms`);
    const handlerLine = text.split('\n').indexOf('    return digits') + 1;
    let after = Infinity;
    let busy: string[] = [];
    for (let attempt = 1; attempt <= ATTEMPTS_ON_BUSY_MACHINE && after > BUDGET_MS; attempt++) {
      await measure(page, server, handlerLine, 'handler', 1 + attempt);
      const report = newest(server, 'handler');
      after = inlineMax(report);
      t.diagnostic(`handler inline lag max: before ${before} ms, after ${after} ms (budget ${BUDGET_MS} ms; background ${report.quality.backgroundCpuFrac})`);
      busy = report.quality.trustworthy ? [] : [...busy, `${Math.round((report.quality.backgroundCpuFrac ?? 0) * 100)}%`];
    }
    if (after > BUDGET_MS && busy.length === ATTEMPTS_ON_BUSY_MACHINE) {
      t.skip(`other processes loaded the machine in each of ${ATTEMPTS_ON_BUSY_MACHINE} measurements of handler() (background ${busy.join(', ')}; the report trusts < 25%): the loop within budget after the fix is not checked`);
      return;
    }
    assert.ok(after <= BUDGET_MS, `after the fix the loop stays within budget: ${after} ms`);
  });

  test('an edit in render() makes its calls "measured before your last change", reverting brings the figures back; after a reload the history puts them back', async () => {
    const { page } = session;
    const blocked = (rows: string[]) => rows.filter((r) => r.includes('render() blocked the loop') && r.includes('[Ln 6, Col 12]'));
    await waitForProblems(page, (r) => blocked(r).length === 1);
    await focusBlocking(page);
    const lines = fs.readFileSync(path.join(folder, 'blocking.py'), 'utf8').split('\n');
    await goToLine(page, lines.findIndex((l) => l.includes('return pow(365')) + 1);
    await page.keyboard.press('End');
    await page.keyboard.type(' + 1');
    const stale = await waitForProblems(page, (r) => r.some((x) => x.includes('render() was measured before your last change — measure it again')) && !blocked(r).length);
    assert.ok(stale.every((r) => !/\d ms/.test(r)), `no figures once stale: ${JSON.stringify(stale)}`);
    await runCommand(page, 'File: Revert File');
    await waitForProblems(page, (r) => blocked(r).length === 1 && !r.some((x) => x.includes('before your last change')));

    await page.reload();
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });
    if (!(await page.locator('.markers-panel').count())) await page.keyboard.press('Control+Shift+M');
    await waitForProblems(page, (r) => blocked(r).length === 1);
  });
});

/** Put the cursor on `line` of blocking.py, run Measure Function and wait for the `n`-th report of `qualname`. */
async function measure(page: Page, server: CodeServer, line: number, qualname: string, n = 1): Promise<void> {
  await focusBlocking(page);
  await goToLine(page, line);
  await runCommand(page, 'Loop Lag: Measure Function');
  await waitUntil(() => historyReports(server).filter((r) => r.target.qualname === qualname).length >= n, `report ${n} of ${qualname} in the history`, RUN_TIMEOUT_MS);
}

async function focusBlocking(page: Page): Promise<void> {
  await page.locator('.tabs-container .tab').filter({ hasText: 'blocking.py' }).first().click();
  await page.waitForSelector('.editor-group-container.active .editor-instance .monaco-editor.focused[data-uri$="/blocking.py"]', { timeout: 15_000 });
}

/** The Problems panel's rows (message, source, file), once `done` holds for them. */
async function waitForProblems(page: Page, done: (rows: string[]) => boolean): Promise<string[]> {
  let rows: string[] = [];
  await waitUntil(async () => {
    rows = (await page.locator('.markers-panel .monaco-list-row').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').replace(/`/g, ''));
    return done(rows);
  }, 'the Problems panel', 60_000).catch((e) => assert.fail(`${(e as Error).message}; rows: ${JSON.stringify(rows)}`));
  return rows;
}

/** The editor and the panel below it (the Problems view), for the screenshot. */
async function mainArea(page: Page): Promise<{ x: number; y: number; width: number; height: number }> {
  const boxes = (await Promise.all(['.part.editor', '.part.panel'].map((s) => page.locator(s).first().boundingBox()))).filter((b) => b !== null);
  const x = Math.min(...boxes.map((b) => b.x));
  const y = Math.min(...boxes.map((b) => b.y));
  return { x, y, width: Math.max(...boxes.map((b) => b.x + b.width)) - x, height: Math.max(...boxes.map((b) => b.y + b.height)) - y };
}

function inlineMax(report: Report): number {
  const run = report.runs.find((r) => r.mode === 'inline' && r.status === 'ok');
  assert.ok(run, `an inline run: ${JSON.stringify(report.runs.map((r) => [r.mode, r.status]))}`);
  return run.lag.maxMs;
}

function newest(server: CodeServer, qualname: string): Report {
  const mine = historyReports(server).filter((r) => r.target.qualname === qualname);
  assert.ok(mine.length, `a report of ${qualname}`);
  return mine[mine.length - 1];
}

function writeFolderSettings(folder: string, settings: Record<string, unknown>): void {
  fs.mkdirSync(path.join(folder, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(folder, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
}
