/// <reference lib="dom" />
/**
 * Choosing the interpreter in a real VS Code (code-server, Debian's Chromium), as a
 * newcomer would: the Get Started walkthrough opened from the Welcome page lists its
 * steps; its first button opens Select Python Interpreter; picking `/usr/bin/python3`
 * (Debian's 3.11.2, while `python3` on PATH is pyenv's 3.11.7) changes the status bar
 * and the interpreter of the next run, as its report's header says; its second button
 * measures the bundled example; the interpreter
 * setting is listed in the User tab of the settings editor (code-server is a remote
 * window).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { CodeServer } from '../support/codeServer';
import { useWorkbench } from '../support/e2e';
import { FIXTURES, REPO, tmpDir } from '../support/helpers';
import { goToLine, openFile, pickQuickPickItem, runCommand, statusBarText, waitForPanelReport, waitUntil } from '../support/workbench';

const VSIX = path.join(REPO, 'looplag.vsix');
const WORKSPACE = path.join(FIXTURES, 'e2e', 'workspace');
const INTERPRETER_ITEM = 'looplag.looplag.looplag.interpreter';
const SYSTEM_PYTHON = '/usr/bin/python3';
/** loops.py: a line inside quick(), whose arguments all have defaults (no prompt). */
const QUICK_LINE = 11;
const RUN_TIMEOUT_MS = 90_000;

/** The version an interpreter reports, e.g. 3.11.2 (what the status bar and the report must say). */
function versionOf(python: string): string | null {
  try {
    return execFileSync(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

const systemVersion = versionOf(SYSTEM_PYTHON);
const pathVersion = versionOf('python3');
const skip = !fs.existsSync(VSIX) ? 'no looplag.vsix: run `npm run package`'
  : !systemVersion ? `no ${SYSTEM_PYTHON}`
    : systemVersion === pathVersion ? `python3 on PATH is ${SYSTEM_PYTHON}'s version too: picking it would change nothing visible`
      : false;

describe('Choosing the interpreter: the walkthrough, Select Python Interpreter, the status bar, the next run', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-interp-');
    fs.cpSync(WORKSPACE, folder, { recursive: true });
    // One mode, three calls: the run only has to say which interpreter ran it.
    return { folder, vsix: VSIX, userSettings: { 'looplag.concurrency': 3, 'looplag.python.modes': ['inline'] } };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('the status bar names the interpreter of the next run: python3 on PATH (pyenv) before any pick', async () => {
    const { page } = session;
    await openFile(page, 'loops.py');
    await waitUntil(async () => ((await statusBarText(page, INTERPRETER_ITEM)) ?? '').includes(pathVersion ?? '?'),
      `the status bar to name python3 on PATH (${pathVersion})`);
  });

  test('the walkthrough opens from the Welcome page and lists its four steps', async () => {
    const { page } = session;
    await runCommand(page, 'Help: Welcome');
    const category = page.locator('.getting-started-category', { hasText: 'Get Started with Loop Lag' }).first();
    await category.waitFor({ state: 'visible', timeout: 30_000 });
    await category.click();
    const steps = page.locator('.getting-started-step .step-title');
    await waitUntil(async () => (await steps.count()) === 4, 'the four steps of the walkthrough');
    assert.deepEqual((await steps.allInnerTexts()).map((t) => t.trim()),
      ['Select the Python interpreter', 'Measure the bundled example', 'Read the report', 'Set your lag budget']);
  });

  test('its first button opens Select Python Interpreter; picking /usr/bin/python3 changes the status bar and the setting', async () => {
    const { page, server } = session;
    // The first step is expanded: its button runs the command.
    await page.locator('.getting-started-step.expanded .monaco-button', { hasText: 'Select Python Interpreter' }).first().click();
    await pickQuickPickItem(page, `Python ${systemVersion}`, { timeoutMs: 30_000 });
    const settingsFile = path.join(folder, '.vscode', 'settings.json');
    await waitUntil(() => fs.existsSync(settingsFile) && fs.readFileSync(settingsFile, 'utf8').includes(SYSTEM_PYTHON), `looplag.python.path in ${settingsFile}`);
    assert.equal(JSON.parse(fs.readFileSync(settingsFile, 'utf8'))['looplag.python.path'], SYSTEM_PYTHON, 'the workspace folder\'s settings');
    // The status bar shows only for a Python file.
    await openFile(page, 'shapes.ts');
    await waitUntil(async () => (await statusBarText(page, INTERPRETER_ITEM)) === undefined || !(await page.locator(`.statusbar-item[id="${INTERPRETER_ITEM}"]`).isVisible()),
      'no interpreter in the status bar for a TypeScript file');
    await openFile(page, 'loops.py');
    await waitUntil(async () => (await statusBarText(page, INTERPRETER_ITEM)) === `Python ${systemVersion}`, `the status bar to say Python ${systemVersion}`);
    assert.match(logText(server), /looplag\.python\.path set to \/usr\/bin\/python3 in the folder/);
  });

  test('the next Measure Function runs with it: the report header names CPython ' + systemVersion, async () => {
    const { page, server } = session;
    await goToLine(page, QUICK_LINE);
    const since = Date.now();
    await runCommand(page, 'Loop Lag: Measure Function');
    const frame = await waitForPanelReport(page, 'quick', since, async () => true, RUN_TIMEOUT_MS);
    assert.match(await frame.innerText('header'), new RegExp(`CPython ${systemVersion!.replace(/\./g, '\\.')}\\b`));
    assert.match(logText(server), new RegExp(`runtime: CPython ${systemVersion!.replace(/\./g, '\\.')} at ${SYSTEM_PYTHON}`));
  });

  test('the walkthrough\'s second button measures the bundled example (examples/python/cpu_bound.py, shipped in the VSIX)', async () => {
    const { page } = session;
    // Help: Welcome shows the walkthrough again where it was left (its page is still open).
    await runCommand(page, 'Help: Welcome');
    const step = page.locator('.getting-started-step', { hasText: 'Measure the bundled example' }).first();
    const category = page.locator('.getting-started-category', { hasText: 'Get Started with Loop Lag' }).first();
    await waitUntil(async () => (await step.isVisible()) || (await category.isVisible()), 'the Welcome page');
    if (!(await step.isVisible())) await category.click();
    await step.locator('.step-title').click();
    const since = Date.now();
    await step.locator('.monaco-button', { hasText: 'Measure the Example' }).first().click();
    const frame = await waitForPanelReport(page, 'cpu_bound_task', since, async () => true, RUN_TIMEOUT_MS);
    assert.match(await frame.innerText('header'), /CPython \d+\.\d+\.\d+/);
    assert.ok((await page.locator('.tabs-container .tab', { hasText: 'cpu_bound.py' }).count()) > 0, 'the example is open in an editor');
  });

  test('looplag.python.path is listed in the User tab of the settings editor', async () => {
    const { page } = session;
    await runCommand(page, 'Preferences: Open User Settings');
    // The settings editor opens with its search box focused.
    await page.locator('.settings-editor .settings-tabs-widget').waitFor({ state: 'visible' });
    await waitUntil(() => page.evaluate(() => Boolean(document.activeElement?.closest('.settings-editor'))), 'the settings search box focused');
    await page.keyboard.type('looplag.python.path');
    const tab = (await page.locator('.settings-editor .settings-tabs-widget .action-label.checked').first().innerText()).trim();
    assert.match(tab, /^User/, `the User tab is the one shown: ${tab}`);
    const row = page.locator('.settings-editor .setting-item-contents', { hasText: 'Select Python Interpreter' });
    await waitUntil(async () => (await row.count()) > 0 && (await row.first().isVisible()), 'the setting in the User tab');
    assert.equal(await page.locator('.settings-editor .no-results-message').isVisible().catch(() => false), false, 'no "No Settings Found"');
  });
});


function logText(server: CodeServer): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else if (e.name === 'Loop Lag.log') files.push(path.join(dir, e.name));
    }
  };
  if (fs.existsSync(server.logsDir)) walk(server.logsDir);
  return files.map((f) => fs.readFileSync(f, 'utf8')).join('');
}
