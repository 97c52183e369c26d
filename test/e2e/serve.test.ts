/// <reference lib="dom" />
/**
 * Loop Lag: Measure Endpoint… in a real VS Code (code-server driven by Debian's Chromium),
 * installed from looplag.vsix: a small FastAPI app under Debian's Python (uvicorn,
 * fastapi), run from the endpoint CodeLens above a route, the one-time confirmation
 * answered, the route the lens points at preselected among the app's routes, another
 * picked, the path parameter asked; then the session's document (kept as the workspace's
 * last serve report), the output channel's summary and the status bar; a second run does
 * not ask again; Cancel Run under load keeps what was measured and leaves no server.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { ServeReport } from '../../src/shared/protocol/serveReport';
import { findLogFile } from '../support/codeServer';
import { useWorkbench } from '../support/e2e';
import { FIXTURES, REPO, processesWithTag, tmpDir } from '../support/helpers';
import { answerInputBox, clickCodeLens, codeLensTitles, openFile, reloadWithWorkspaceTrust, runCommand, statusBarText, waitForLog, waitForNotification, waitUntil, webviewFrame } from '../support/workbench';

const VSIX = path.join(REPO, 'looplag.vsix');
const APP_DIR = path.join(FIXTURES, 'e2e', 'serve');
const EXTENSION_ID = 'looplag.looplag';
const STATUS_ITEM = 'looplag.looplag.looplag.status';
const LENS = '▶ Measure endpoint under load';
const DEBIAN_PYTHON = '/usr/bin/python3';
/** Listing the routes, then 0.5 s of warm-up and 2 s measured, the server's start and stop: ~5 s alone. */
const SERVE_TIMEOUT_MS = 90_000;

const skip = !fs.existsSync(VSIX) ? 'no looplag.vsix: run `npm run package`'
  : !fs.existsSync(DEBIAN_PYTHON) ? `${DEBIAN_PYTHON} (Debian's, with uvicorn and fastapi) not found` : false;

describe('Loop Lag: Measure Endpoint in VS Code', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-serve-');
    fs.cpSync(APP_DIR, folder, { recursive: true });
    // The folder's settings, as a user would write them: Debian's Python, a short run.
    fs.mkdirSync(path.join(folder, '.vscode'));
    fs.writeFileSync(path.join(folder, '.vscode', 'settings.json'), JSON.stringify({
      'looplag.python.path': DEBIAN_PYTHON,
      'looplag.serve.duration': 2,
      'looplag.serve.warmup': 0.5,
      'looplag.serve.rate': 10,
      // The /report handler spins ~16-20 ms on a quiet machine: under the default 50 ms stall
      // threshold, its stalls (and blocking line) would go unseen there.
      'looplag.stallThresholdMs': 8,
    }, null, 2));
    return { folder, vsix: VSIX };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('the CodeLens above a route runs it under load after the confirmation, with the app\'s routes to pick from', async (t) => {
    const { page, server, tag } = session;
    await openFile(page, 'shop.py');
    // One lens per route, above its decorator.
    await waitUntil(async () => (await codeLensTitles(page)).filter((x) => x === LENS).length === 2, 'two endpoint lenses in shop.py');
    const since = Date.now();
    await clickCodeLens(page, LENS, { index: 1 }); // GET /items/{item_id}
    // The one-time confirmation: what starts, with what, where, for how long.
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 30_000 });
    const said = (await dialog.textContent()) ?? '';
    assert.match(said, /Loop Lag will start your app \(shop:app\) with \/usr\/bin\/python3 .* on 127\.0\.0\.1 and send it requests for about 3 s/);
    await dialog.locator('.monaco-button', { hasText: /^Run$/ }).click();

    // The app's routes, as its server reported them; the lens's route picked already.
    const rows = await quickPickRows(page, 'GET /report');
    t.diagnostic(`endpoints offered: ${rows.map((r) => `${r.picked ? '☑' : '☐'} ${r.label}`).join(', ')}`);
    assert.deepEqual(rows.filter((r) => r.picked).map((r) => r.label), ['GET /items/{item_id}']);
    assert.ok(rows.some((r) => r.label === 'GET /report'), 'the other route is offered');
    await toggleRow(page, 'GET /report');
    await page.locator('.quick-input-widget .quick-input-box input').press('Enter');
    await answerInputBox(page, '7', { prompt: '{item_id}' });

    const report = await waitForServeReport(server.userDataDir, since);
    t.diagnostic(`headline: ${report.headline}`);
    assert.equal(report.status, 'complete', report.error?.message);
    assert.deepEqual(report.app, { type: 'asgi', target: 'shop:app', appDir: folder, lifespan: 'auto' });
    assert.deepEqual(report.settings.endpoints.map((e) => e.name).sort(), ['GET /items/7', 'GET /report']);
    assert.equal(report.settings.durationS, 2, 'looplag.serve.duration');
    assert.equal(report.settings.ratePerS, 10, 'looplag.serve.rate');
    assert.equal(report.variants.length, 1, 'as written only (looplag.serve.workers and threads are 0)');
    const v = report.variants[0];
    const items = v.endpoints.find((e) => e.name === 'GET /items/7');
    assert.ok(items && items.completed > 0 && items.statusCodes['200'] === items.completed, `GET /items/7 answered 200: ${JSON.stringify(items?.statusCodes)}`);
    assert.ok(report.headline.length > 0);
    // The stalling handler's line is where the loop was blocked.
    const top = v.blockers[0];
    t.diagnostic(`top blocker: ${top ? `${top.file}:${top.line} ${top.source ?? ''}` : 'none'}`);
    assert.ok(v.blockers.some((b) => b.file === 'shop.py'), 'a line of shop.py blocked the loop');

    // The panel shows it: the headline first, the blocking line of shop.py in its table.
    const frame = await webviewFrame(page, { extensionId: EXTENSION_ID, contains: report.headline.slice(0, 60), timeoutMs: 30_000 });
    const shown = await frame.evaluate(() => document.body.innerText);
    assert.ok(shown.indexOf(report.headline.slice(0, 60)) < shown.indexOf('shop.py'), 'the headline above the blocking lines');
    assert.match(shown, /shop\.py:\d+/);

    const log = await waitForLog(() => findLogFile(server.logsDir, 'Loop Lag.log'), /serve shop:app: complete — /);
    assert.ok(log.includes(`serve shop:app: complete — ${report.headline}`), 'the headline is logged');
    await waitUntil(async () => ((await statusBarText(page, STATUS_ITEM)) ?? '').length > 0 && !((await statusBarText(page, STATUS_ITEM)) ?? '').includes('Loop Lag:'), 'the status bar to show the result');
    await waitUntil(() => processesWithTag(tag).filter((pid) => isServer(pid)).length === 0, 'no server harness left', 10_000);
  });

  test('a second run from the lens asks nothing more than the endpoints', async () => {
    const { page, server } = session;
    const since = Date.now();
    await clickCodeLens(page, LENS, { index: 0 }); // GET /report
    const rows = await quickPickRows(page, 'GET /report');
    assert.deepEqual(rows.filter((r) => r.picked).map((r) => r.label), ['GET /report']);
    assert.equal(await page.locator('.monaco-dialog-box').count(), 0, 'no confirmation the second time');
    await page.locator('.quick-input-widget .quick-input-box input').press('Enter');
    const report = await waitForServeReport(server.userDataDir, since);
    assert.deepEqual(report.settings.endpoints.map((e) => e.name), ['GET /report']);
    assert.notEqual(report.status, 'failed', report.error?.message);
  });

  test('Cancel Run mid-load keeps what was measured, says so, and leaves no server running', async (t) => {
    const { page, server, tag } = session;
    // A long run this time: the folder's settings changed as a user would (read on every run).
    const settingsFile = path.join(folder, '.vscode', 'settings.json');
    const settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(settingsFile, JSON.stringify({ ...settings, 'looplag.serve.duration': 60 }, null, 2));
    // The lens's tooltip names the duration: once it says 60 s, the editor has the new settings.
    const lens = page.locator('.codelens-decoration a', { hasText: LENS }).first();
    await waitUntil(async () => ((await lens.getAttribute('title').catch(() => null)) ?? '').includes('for 60 s'), 'the lens to say 60 s', 30_000);
    await clickCodeLens(page, LENS, { index: 0 });
    await quickPickRows(page, 'GET /report');
    const since = Date.now();
    await page.locator('.quick-input-widget .quick-input-box input').press('Enter');
    // Under load (the notification counts the measured seconds), then cancelled.
    await waitForNotification(page, /as written: \d+\.\d s \/ 60 s/, { timeoutMs: SERVE_TIMEOUT_MS });
    await runCommand(page, 'Loop Lag: Cancel Run');
    const report = await waitForServeReport(server.userDataDir, since);
    t.diagnostic(`after cancel: ${report.status}, ${report.headline}`);
    assert.equal(report.error?.kind, 'cancelled');
    assert.equal(report.settings.durationS, 60, 'the changed setting was read');
    const measured = report.variants[0].endpoints.find((e) => e.name === 'GET /report');
    assert.ok(measured && measured.sent > 0, 'the requests up to the cut are kept');
    await waitForNotification(page, /cancelled; what was measured before it is in the report/);
    await waitUntil(() => processesWithTag(tag).filter((pid) => isServer(pid)).length === 0, 'no server harness left after the cancel', 10_000);
  });
});

describe('Measure Endpoint in an untrusted folder (Restricted Mode)', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-serve-untrusted-');
    fs.cpSync(APP_DIR, folder, { recursive: true });
    // startupPrompt "never": Restricted Mode without the modal "Do you trust the authors?".
    return { folder, vsix: VSIX, userSettings: { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' } };
  });
  before(async () => {
    await reloadWithWorkspaceTrust(session.page);
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('no endpoint lens, and the command explains why it starts nothing', async () => {
    const { page, tag } = session;
    await waitUntil(async () => /Restricted Mode/.test((await statusBarText(page, 'status.workspaceTrust')) ?? ''), '"Restricted Mode" in the status bar');
    await openFile(page, 'shop.py');
    await runCommand(page, 'Loop Lag: Measure Endpoint…');
    await waitForNotification(page, 'only runs in a trusted workspace');
    assert.deepEqual(await codeLensTitles(page), []);
    assert.equal(await page.locator('.monaco-dialog-box').count(), 0, 'no confirmation: nothing is offered to run');
    assert.deepEqual(processesWithTag(tag).filter((pid) => isServer(pid)), [], 'no server harness started');
  });
});

// ------------------------------------------------------------------ helpers

/**
 * The rows of the endpoint quick pick once it is on screen with `label` among them: label
 * and checked state (a hidden quick input keeps its last rows: its title and visibility
 * tell this one from the last).
 */
async function quickPickRows(page: Page, label: string): Promise<{ label: string; picked: boolean }[]> {
  let rows: { label: string; picked: boolean }[] = [];
  await waitUntil(async () => {
    const open = await page.evaluate(() => {
      const w = document.querySelector<HTMLElement>('.quick-input-widget');
      return !!w && w.style.display !== 'none' && (w.querySelector('.quick-input-title')?.textContent ?? '').includes('endpoints of');
    });
    if (!open) return false;
    rows = await page.$$eval('.quick-input-widget .quick-input-list .monaco-list-row', (els) => els.map((el) => ({
      label: (el.querySelector('.label-name')?.textContent ?? el.getAttribute('aria-label') ?? '').trim(),
      picked: el.getAttribute('aria-checked') === 'true' || (el.querySelector('input[type=checkbox]') as HTMLInputElement | null)?.checked === true,
    }))).catch(() => []);
    return rows.some((r) => r.label === label);
  }, `a quick pick offering ${label}`, SERVE_TIMEOUT_MS);
  return rows;
}

/** Check (or uncheck) a row of a multi-select quick pick by clicking its checkbox. */
async function toggleRow(page: Page, label: string): Promise<void> {
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: label }).first();
  const box = row.locator('input[type=checkbox], .quick-input-list-checkbox, .monaco-custom-toggle').first();
  await ((await box.count()) ? box : row).click();
}

/** The workspace's last serve report (`<storageUri>/history/serve/last.json`) once one created at or after `since` is there. */
async function waitForServeReport(userDataDir: string, since: number): Promise<ServeReport> {
  const root = path.join(userDataDir, 'User', 'workspaceStorage');
  let found: ServeReport | undefined;
  await waitUntil(() => {
    const file = fs.existsSync(root) ? fs.readdirSync(root).map((id) => path.join(root, id, EXTENSION_ID, 'history', 'serve', 'last.json')).find((f) => fs.existsSync(f)) : undefined;
    if (!file) return false;
    const r = ServeReport.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (Date.parse(r.createdAt) < since - 1_000) return false;
    found = r;
    return true;
  }, 'the serve report', SERVE_TIMEOUT_MS);
  return found!;
}

/** Whether a process is one of Loop Lag's server harnesses (its command line names run_serve.py). */
function isServer(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('run_serve.py');
  } catch {
    return false;
  }
}
