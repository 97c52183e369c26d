/// <reference lib="dom" />
/**
 * looplag.json's budgets in a real VS Code's Testing view (issue 15: "the Testing view runs
 * a looplag.json budget and shows pass/fail"): code-server with the packaged extension on a
 * folder holding a looplag.json of two budgets, a tiny function far within its budget and
 * an inline busy loop far over it. The view lists both under the file; Run All Tests runs
 * them for real (the Python sidecar on python3); the tree shows one passed and one failed;
 * the failure's message, on its entry in looplag.json, is what went over and the report's
 * headline (the report kept in the history, as a Measure Function run's). A looplag.json
 * written later is found by the watcher, and Cancel Test Run stops its running budget with
 * no process left. In Restricted Mode the budgets are listed, and running them starts nothing.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { CodeServer, findLogFile } from '../support/codeServer';
import { useWorkbench } from '../support/e2e';
import { FIXTURES, processesWithTag, REPO, tmpDir } from '../support/helpers';
import { openFile, reloadWithWorkspaceTrust, runCommand, statusBarText, waitUntil } from '../support/workbench';
import { historyDir, newestReport } from '../support/history';

const VSIX = path.join(REPO, 'looplag.vsix');
const WORKSPACE = path.join(FIXTURES, 'e2e', 'testing');
const RUN_TIMEOUT_MS = 90_000;
const SCREENSHOT = path.join(REPO, 'out', 'screenshots', 'testing-view.png');

const skip = !fs.existsSync(VSIX) && 'no looplag.vsix: run `npm run package`';

describe('Loop Lag in VS Code: looplag.json\'s budgets in the Testing view', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-testing-');
    fs.cpSync(WORKSPACE, folder, { recursive: true });
    // A failure opens its message in a peek on its entry when looplag.json is on show.
    return { folder, vsix: VSIX, userSettings: { 'testing.automaticallyOpenPeekView': 'failureInVisibleDocument' } };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('the Testing view lists looplag.json with its two budgets, each described by what it measures', async () => {
    const { page } = session;
    // The view is listed once the extension registered its controller (a busy machine starts the extension host late).
    await runCommand(page, 'View: Show Testing', { timeoutMs: RUN_TIMEOUT_MS });
    await waitUntil(async () => (await rowLabels(page)).some((l) => l.startsWith('looplag.json')), 'looplag.json in the Testing view', 60_000);
    await expandAll(page);
    await waitUntil(async () => {
      const labels = await rowLabels(page);
      return labels.some((l) => l.startsWith('quick sum')) && labels.some((l) => l.startsWith('spin 200 ms'));
    }, 'both budgets listed');
    const text = await page.locator('.test-explorer').innerText();
    assert.match(text, /budgets\.py::spin · inline/, `the budget's description: ${text}`);
  });

  test('Run All Tests: the budget within passes, the one over fails with the headline on its entry', async (t) => {
    const { page, server } = session;
    await openFile(page, 'looplag.json');
    await runCommand(page, 'Test: Run All Tests');
    await waitUntil(async () => {
      const labels = await rowLabels(page);
      return labels.some((l) => /^quick sum.*\| .*\(Passed\)/.test(l)) && labels.some((l) => /^spin 200 ms.*\| .*\(Failed\)/.test(l));
    }, 'one passed and one failed in the tree', RUN_TIMEOUT_MS).catch(async (e) => {
      throw new Error(`${(e as Error).message}; rows: ${JSON.stringify(await rowLabels(page))}`);
    });
    // The tree's icons say the same as its labels.
    assert.equal(await page.locator('.test-explorer .codicon-testing-passed-icon').count() >= 1, true, 'a passed icon');
    assert.equal(await page.locator('.test-explorer .codicon-testing-failed-icon').count() >= 1, true, 'a failed icon');
    // spin's report is the newest in the history; its headline is the failure's message.
    const report = newestReport(server);
    assert.equal(report.target.qualname, 'spin');
    const headline = report.headline ?? '';
    assert.ok(headline, 'the report has a headline');
    const peek = page.locator('.test-output-peek, .peekview-widget').filter({ hasText: headline.slice(0, 40) }).first();
    await peek.waitFor({ state: 'visible', timeout: 30_000 }).catch(async (e) => {
      throw new Error(`${(e as Error).message}; peek text: ${await page.locator('.peekview-widget').allInnerTexts().catch(() => [])}`);
    });
    const message = (await peek.innerText()).replace(/\s+/g, ' ');
    assert.match(message, /lag max [\d.]+ m?s > 50 ms/, `what went over: ${message}`);
    assert.ok(message.includes(headline.replace(/\s+/g, ' ')), `the report's headline "${headline}" in: ${message}`);
    t.diagnostic(`failure message: ${message.slice(0, 300)}`);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
  });

  test('a looplag.json written later is found; Cancel Test Run stops its budget with nothing left running, and it is skipped', async (t) => {
    const { page, tag } = session;
    // Twenty seconds of inline spinning: still running when cancelled.
    fs.mkdirSync(path.join(folder, 'slow'));
    fs.copyFileSync(path.join(folder, 'budgets.py'), path.join(folder, 'slow', 'budgets.py'));
    fs.writeFileSync(path.join(folder, 'slow', 'looplag.json'), JSON.stringify({
      version: 1, budgets: [{ name: 'slow spin', target: 'budgets.py::spin', args: '2000', modes: ['inline'], concurrency: 10, noGilProbe: true, budgetMs: 50 }],
    }, null, 2));
    await waitUntil(async () => (await rowLabels(page)).some((l) => l.startsWith('slow/looplag.json')), 'slow/looplag.json found by the watcher');
    const before = new Set(processesWithTag(tag));
    await openFile(page, 'slow/looplag.json');
    await runCommand(page, 'Test: Run Tests in Current File');
    let sidecars: number[] = [];
    await waitUntil(() => (sidecars = processesWithTag(tag).filter((pid) => !before.has(pid) && cmdline(pid).includes('run_sidecar.py'))).length > 0,
      'the budget\'s sidecar to start', RUN_TIMEOUT_MS);
    const started = Date.now();
    await runCommand(page, 'Test: Cancel Test Run');
    const clicked = Date.now();
    let left: number[] = [];
    await waitUntil(() => (left = processesWithTag(tag).filter((pid) => !before.has(pid) && cmdline(pid) !== '')).length === 0, 'every process of the run to end', 10_000)
      .catch((e) => assert.fail(`${(e as Error).message}; left: ${JSON.stringify(left.map((pid) => cmdline(pid)))}`));
    t.diagnostic(`sidecar ${sidecars.join(', ')} gone ${Date.now() - clicked} ms after Cancel Test Run (${clicked - started} ms to run the command)`);
    await expandAll(page);
    await waitUntil(async () => (await rowLabels(page)).some((l) => /^slow spin.*\| .*\(Skipped\)/.test(l)), 'slow spin skipped')
      .catch(async (e) => assert.fail(`${(e as Error).message}; rows: ${JSON.stringify(await rowLabels(page))}`));
  });
});

describe('Loop Lag in VS Code: looplag.json\'s budgets in Restricted Mode', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-testing-untrusted-');
    fs.cpSync(WORKSPACE, folder, { recursive: true });
    return {
      folder, vsix: VSIX,
      // startupPrompt "never": Restricted Mode without the modal "Do you trust the authors?".
      userSettings: {
        'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never',
      },
    };
  });
  before(async () => {
    await reloadWithWorkspaceTrust(session.page);
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('the budgets are listed; Run All Tests asks for trust first, and Cancel runs nothing', async () => {
    const { page, server, tag } = session;
    await waitUntil(async () => /Restricted Mode/.test((await statusBarText(page, 'status.workspaceTrust')) ?? ''), '"Restricted Mode" in the status bar');
    await runCommand(page, 'View: Show Testing', { timeoutMs: RUN_TIMEOUT_MS });
    await waitUntil(async () => (await rowLabels(page)).some((l) => l.startsWith('looplag.json')), 'looplag.json in the Testing view', 60_000);
    await expandAll(page);
    await waitUntil(async () => (await rowLabels(page)).some((l) => l.startsWith('spin 200 ms')), 'the budgets listed');
    // VS Code asks before running tests in Restricted Mode ("Running tests may execute code
    // in your workspace"); were it not to, the run profile errs each budget with the trust
    // message itself (test/unit/budgetTests.test.ts).
    await runCommand(page, 'Test: Run All Tests');
    const dialog = page.locator('.monaco-dialog-box').filter({ hasText: 'Running tests may execute code' });
    await dialog.waitFor({ state: 'visible', timeout: 30_000 });
    await dialog.locator('.monaco-button', { hasText: /^Cancel$/ }).click();
    await dialog.waitFor({ state: 'hidden' });
    // Nothing ran: no sidecar, no report, no result.
    assert.deepEqual(processesWithTag(tag).map(cmdline).filter((c) => c.includes('run_sidecar.py')), []);
    assert.equal(historyDir(server), undefined, 'no report in the history');
    assert.deepEqual((await rowLabels(page)).filter((l) => /\((Passed|Failed|Errored)\)/.test(l)), []);
    assert.doesNotMatch(logText(server), /budgets of /, 'the run profile was not reached');
  });
});

/** The Loop Lag output channel's text so far. */
function logText(server: CodeServer): string {
  const file = findLogFile(server.logsDir, 'Loop Lag.log');
  return file ? fs.readFileSync(file, 'utf8') : '';
}

/** A process's command line ('' once it is gone). */
function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * The Test Explorer's rows as `label description | aria label`: the row shows the item's
 * label and description; its aria label names its state once it ran (`… (Failed), in 2.0s`).
 */
async function rowLabels(page: Page): Promise<string[]> {
  return page.$$eval('.test-explorer .monaco-list-row', (rows) => rows.map((r) => {
    const shown = Array.from(r.querySelectorAll('.label-name, .label-description')).map((e) => e.textContent ?? '').join(' ');
    return `${shown || r.textContent} | ${r.getAttribute('aria-label') ?? ''}`;
  }));
}

/** Expand every collapsed row of the Test Explorer (the file's item starts collapsed). */
async function expandAll(page: Page): Promise<void> {
  await waitUntil(async () => {
    const collapsed = page.locator('.test-explorer .monaco-list-row[aria-expanded="false"]');
    if (!(await collapsed.count())) return true;
    await collapsed.first().locator('.monaco-tl-twistie').click();
    return false;
  }, 'the Test Explorer expanded');
}

