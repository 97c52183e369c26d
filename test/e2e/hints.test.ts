/// <reference lib="dom" />
/**
 * The hints before any measurement in a real VS Code (issue 15): code-server with the
 * packaged extension on test/fixtures/e2e/hints. A Python `async def` calling `time.sleep`
 * gets an Information hint (the Problems view, with its ruff rule); a JS Express-style
 * handler calling `fs.readFileSync` gets one too, whose quick fix (Ctrl+.) rewrites the call
 * as its awaited twin; "Measure this call" on `render(2000, "x")` in the `async def` opens
 * the argument prompt pre-filled with `2000, "x"`, and the run's report shows `render`.
 * In Restricted Mode the hints still show (no code runs for them), and the Measure actions
 * are shown disabled.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { useWorkbench } from '../support/e2e';
import { FIXTURES, REPO, tmpDir } from '../support/helpers';
import { goToLine, openFile, reloadWithWorkspaceTrust, runCommand, statusBarText, visibleEditorLines, waitUntil, webviewFrame } from '../support/workbench';
import { historyDir, newestReport } from '../support/history';

const VSIX = path.join(REPO, 'looplag.vsix');
const WORKSPACE = path.join(FIXTURES, 'e2e', 'hints');
const EXTENSION_ID = 'looplag.looplag';
const RUN_TIMEOUT_MS = 90_000;
/** 1-based lines of the fixtures. */
const PY_SLEEP_LINE = 8;
const PY_RENDER_LINE = 9;
const JS_READ_LINE = 6;

const QUICK_INPUT = '.quick-input-widget';
const INPUT_BOX = `${QUICK_INPUT} .quick-input-box input`;

/**
 * VS Code lists a disabled code action (faded, with its reason) only when actions of a kind
 * are asked for: Loop Lag's kind bound to a key, as a user would (README says how).
 */
const LOOPLAG_ACTIONS_KEY = 'Control+Shift+Alt+M';
const KEYBINDINGS = [{ key: 'ctrl+shift+alt+m', command: 'editor.action.codeAction', args: { kind: 'quickfix.looplag', apply: 'never' }, when: 'editorTextFocus' }];

const skip = !fs.existsSync(VSIX) && 'no looplag.vsix: run `npm run package`';

describe('Loop Lag in VS Code: hints before any measurement, their quick fix, Measure this call', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-hints-');
    fs.cpSync(WORKSPACE, folder, { recursive: true });
    // A short run: 3 calls, inline only.
    return { folder, vsix: VSIX, userSettings: { 'looplag.concurrency': 3, 'looplag.python.modes': ['inline'] }, userKeybindings: KEYBINDINGS };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('a blocking call in an async def: an Information hint in the Problems view, with its ruff rule; none on the workspace helper', async () => {
    const { page } = session;
    await openFile(page, 'handler.py');
    const rows = await problemRows(page, (r) => r.some((t) => t.includes('time.sleep')));
    const sleep = rows.find((t) => t.includes('time.sleep'))!;
    assert.match(sleep, /`?time\.sleep`? may block the loop — Measure/);
    assert.match(sleep, /Loop Lag/);
    assert.match(sleep, /ASYNC251/);
    assert.match(sleep, new RegExp(`\\b${PY_SLEEP_LINE}\\b`), `on line ${PY_SLEEP_LINE}: ${sleep}`);
    assert.ok(!rows.some((t) => /render/.test(t)), `no hint on render(): ${JSON.stringify(rows)}`);
    // An information squiggle in the editor, not a warning.
    const squiggles = (kind: string) => page.locator(`.editor-group-container.active .monaco-editor .squiggly-${kind}`).count();
    await waitUntil(async () => (await squiggles('info')) > 0, 'an info squiggle');
    assert.equal(await squiggles('warning'), 0);
  });

  test('the hint\'s actions on the Python call: Measure `handler()`', async () => {
    const { page } = session;
    await focusEditor(page, 'handler.py');
    await goToLine(page, PY_SLEEP_LINE);
    await page.keyboard.press('End');
    const rows = await quickFixRows(page, (r) => r.some((x) => x.title.includes('Measure `handler()`')));
    assert.deepEqual(rows.filter((r) => r.title.includes('Measure')).map((r) => [r.title, r.disabled]), [['Loop Lag: Measure `handler()`', false]]);
    await page.keyboard.press('Escape');
  });

  test('readFileSync in an Express-style handler: the hint, and its quick fix rewrites the call as the awaited readFile', async () => {
    const { page } = session;
    await openFile(page, 'server.js');
    const problems = await problemRows(page, (r) => r.some((t) => t.includes('readFileSync')));
    const hint = problems.find((t) => t.includes('readFileSync'))!;
    assert.match(hint, /fs\.readFileSync`? may block the loop — Measure/);
    assert.match(hint, /n\/no-sync/);
    await focusEditor(page, 'server.js');
    await goToLine(page, JS_READ_LINE);
    await page.keyboard.press('End');
    const fix = 'Loop Lag: Use the asynchronous fs.readFile (awaited)';
    // The handler is passed inline to app.get: Measure `handler()` is disabled (no name to call it
    // by), and VS Code lists a disabled action only when no other is valid: the fix stands alone.
    const rows = await quickFixRows(page, (r) => r.some((x) => x.title === fix));
    assert.deepEqual(rows.map((r) => r.title).filter((t) => t.startsWith('Loop Lag')), [fix]);
    await page.locator('.action-widget .monaco-list-row.action', { hasText: fix }).first().click();
    await waitUntil(async () => (await visibleEditorLines(page)).some((l) => l.includes('await readFile(')), 'the call rewritten');
    const lines = (await visibleEditorLines(page)).map((l) => l.trim());
    assert.ok(lines.includes("const { readFile } = require('fs/promises');"), `the import added in the file's style: ${JSON.stringify(lines)}`);
    assert.ok(lines.includes("app.get('/page', async (req, res) => {"), 'the handler made async');
    assert.ok(lines.includes("const page = await readFile('page.html', 'utf8')"), 'the call awaited');
    // The hint is gone with the blocking call.
    await waitUntil(async () => !(await problemRows(page, () => true, 5_000).catch(() => [] as string[])).some((t) => t.includes('readFileSync')), 'the hint gone');
    await runCommand(page, 'File: Revert File');
  });

  test('Measure this call on render(2000, "x") in the async def: the prompt pre-filled with 2000, "x"; the report shows render measured', async () => {
    const { page, server } = session;
    await focusEditor(page, 'handler.py');
    await goToLine(page, PY_RENDER_LINE);
    await page.keyboard.press('End');
    const action = 'Loop Lag: Measure this call: render(2000, "x")';
    await quickFixTitles(page, (t) => t.includes(action));
    const since = Date.now();
    await page.locator('.action-widget .monaco-list-row.action', { hasText: action }).first().click();
    const input = page.locator(INPUT_BOX);
    await waitUntil(async () => (await page.locator(`${QUICK_INPUT} .quick-input-message`).textContent().catch(() => ''))?.includes('inside the call') ?? false, 'the argument prompt');
    assert.match(await page.locator(`${QUICK_INPUT} .quick-input-title`).innerText(), /arguments for render\(n, text\)/);
    assert.equal(await input.inputValue(), '2000, "x"', 'pre-filled with the call\'s own arguments');
    await input.press('Enter');
    let frameText = '';
    await waitUntil(async () => {
      const frame = await webviewFrame(page, { extensionId: EXTENSION_ID, timeoutMs: 2_000 }).catch(() => undefined);
      const state = await frame?.evaluate(() => ({
        fn: document.querySelector('[data-testid="target-name"]')?.textContent ?? null,
        createdAt: document.querySelector('header time')?.getAttribute('datetime') ?? null,
        done: document.querySelector('[data-testid="running"]') === null && document.querySelector('table[data-testid="summary"]') !== null,
      })).catch(() => undefined);
      frameText = JSON.stringify(state);
      return state?.fn === 'render' && Date.parse(state.createdAt ?? '') >= since - 1_000 && state.done;
    }, 'the report panel to show render measured', RUN_TIMEOUT_MS).catch((e) => assert.fail(`${(e as Error).message}; last seen ${frameText}`));
    const report = newestReport(server);
    assert.equal(report.target.qualname, 'render');
    assert.equal(report.target.args, '2000, "x"');
    assert.equal(path.basename(report.target.file), 'render.py', 'the callee\'s file, not the caller\'s');
    assert.equal(report.runs.find((r) => r.mode === 'inline')?.status, 'ok');
  });
});

describe('Loop Lag hints in an untrusted folder (Restricted Mode)', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-hints-');
    fs.cpSync(WORKSPACE, folder, { recursive: true });
    // startupPrompt "never": Restricted Mode without the modal "Do you trust the authors?".
    return {
      folder, vsix: VSIX, userKeybindings: KEYBINDINGS,
      userSettings: { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' },
    };
  });
  before(async () => {
    await reloadWithWorkspaceTrust(session.page);
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('the hints need no trust (no code runs); the actions that run code are shown disabled', async () => {
    const { page, server } = session;
    await waitUntil(async () => /Restricted Mode/.test((await statusBarText(page, 'status.workspaceTrust')) ?? ''), '"Restricted Mode" in the status bar');
    await openFile(page, 'handler.py');
    await problemRows(page, (r) => r.some((t) => t.includes('time.sleep') && t.includes('ASYNC251')));
    await focusEditor(page, 'handler.py');
    await goToLine(page, PY_SLEEP_LINE);
    await page.keyboard.press('End');
    const untrusted = /Measure `handler\(\)`|Measure this call|trust this workspace/;
    let rows = await loopLagRows(page, (r) => r.length > 0);
    assert.ok(rows.length && rows.every((r) => r.disabled && untrusted.test(r.title)), JSON.stringify(rows));
    await page.keyboard.press('Escape');
    await goToLine(page, PY_RENDER_LINE);
    await page.keyboard.press('End');
    rows = await loopLagRows(page, (r) => r.length > 0);
    assert.ok(rows.length && rows.every((r) => r.disabled && untrusted.test(r.title)), JSON.stringify(rows));
    await page.keyboard.press('Escape');
    assert.equal(historyDir(server), undefined, 'nothing was measured');
  });
});


/** Loop Lag's own actions at the cursor (the key above), disabled ones included. */
function loopLagRows(page: Page, ready: (rows: { title: string; disabled: boolean }[]) => boolean) {
  return quickFixRows(page, ready, LOOPLAG_ACTIONS_KEY);
}

/** The Problems view's rows (opened by its command), once `ready` holds for them. */
async function problemRows(page: Page, ready: (rows: string[]) => boolean, timeoutMs = 30_000): Promise<string[]> {
  await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)');
  let rows: string[] = [];
  await waitUntil(async () => {
    rows = await page.$$eval('.markers-panel .monaco-list-row', (els) => els.map((e) => `${e.getAttribute('aria-label') ?? ''} ${e.textContent ?? ''}`));
    return ready(rows);
  }, 'the Problems view', timeoutMs).catch((e) => assert.fail(`${(e as Error).message}; rows: ${JSON.stringify(rows)}`));
  return rows;
}

/** Bring a file's editor to the front with the keyboard focus in it. */
async function focusEditor(page: Page, name: string): Promise<void> {
  await page.locator('.tabs-container .tab').filter({ hasText: name }).first().click();
  await page.waitForSelector(`.editor-group-container.active .editor-instance .monaco-editor.focused[data-uri$="/${name}"]`, { timeout: 15_000 });
}

/** Open the quick fix menu (Ctrl+.) at the cursor until its titles satisfy `ready`; returns them. */
async function quickFixTitles(page: Page, ready: (titles: string[]) => boolean): Promise<string[]> {
  return (await quickFixRows(page, (rows) => ready(rows.map((r) => r.title)))).map((r) => r.title);
}

/** The quick fix menu's rows, each with whether it is shown disabled (an action's `disabled` reason). */
async function quickFixRows(page: Page, ready: (rows: { title: string; disabled: boolean }[]) => boolean, key = 'Control+.'): Promise<{ title: string; disabled: boolean }[]> {
  let rows: { title: string; disabled: boolean }[] = [];
  await waitUntil(async () => {
    if (!(await page.locator('.action-widget').isVisible().catch(() => false))) await page.keyboard.press(key);
    await page.locator('.action-widget .monaco-list-row.action').first().waitFor({ timeout: 3_000 }).catch(() => undefined);
    // Action rows (not group headers): the title span, without the keybinding shown beside it.
    rows = await page.$$eval('.action-widget .monaco-list-row.action', (els) => els.map((e) => ({
      title: (e.querySelector('.title')?.textContent ?? '').trim(),
      disabled: e.classList.contains('option-disabled') || e.getAttribute('aria-disabled') === 'true',
    })));
    if (ready(rows)) return true;
    // Not there yet (the extension still starting, a provider still answering): close and ask again.
    await page.keyboard.press('Escape');
    return false;
  }, 'the quick fix menu', 30_000).catch((e) => assert.fail(`${(e as Error).message}; rows: ${JSON.stringify(rows)}`));
  return rows;
}

