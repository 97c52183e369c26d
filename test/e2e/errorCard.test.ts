/// <reference lib="dom" />
/**
 * Errors as the verdict in a real VS Code (code-server, Debian's Chromium; issue 16):
 * Measure Function on a module that imports what the interpreter lacks shows one error
 * card, and its Select Python Interpreter button opens Loop Lag's picker; on a function
 * whose calls raise, the grouped line's "Raised at raising.py:9" opens that line in the
 * editor.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { useWorkbench } from '../support/e2e';
import { FIXTURES, REPO, tmpDir } from '../support/helpers';
import { activeEditor, answerInputBox, cursorPosition, goToLine, openFile, runCommand, waitForPanelReport, waitUntil } from '../support/workbench';

const VSIX = path.join(REPO, 'looplag.vsix');
const RUN_TIMEOUT_MS = 90_000;
const skip = !fs.existsSync(VSIX) ? 'no looplag.vsix: run `npm run package`' : false;

describe('The report panel: the error card and calls that raised', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-errorcard-');
    fs.cpSync(path.join(FIXTURES, 'python', 'errorcard'), folder, { recursive: true });
    return { folder, vsix: VSIX, userSettings: { 'looplag.concurrency': 3, 'looplag.python.modes': ['inline', 'thread'] } };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('an import error: one card, no table, and its Select Python Interpreter button opens the picker', async () => {
    const { page } = session;
    await openFile(page, 'missing_module.py');
    await goToLine(page, 6);
    const since = Date.now();
    await runCommand(page, 'Loop Lag: Measure Function');
    const frame = await waitForPanelReport(page, 'handler', since, (f) => f.$('[data-testid="error-card"]').then(Boolean), RUN_TIMEOUT_MS);
    const parts = await frame.evaluate(() => ({
      cards: document.querySelectorAll('[data-testid="error-card"]').length,
      tables: document.querySelectorAll('table[data-testid="summary"]').length,
      cause: document.querySelector('[data-testid="error-cause"]')?.textContent ?? '',
    }));
    assert.deepEqual({ cards: parts.cards, tables: parts.tables }, { cards: 1, tables: 0 });
    assert.equal(parts.cause, "Not measured: importing missing_module.py raised ModuleNotFoundError: No module named 'looplag_errorcard_not_installed'.");
    await frame.click('button[data-action="select-interpreter"]');
    const title = page.locator('.quick-input-widget .quick-input-title');
    await waitUntil(async () => (await title.isVisible()) && (await title.textContent()) === 'Loop Lag: Select Python Interpreter', 'Loop Lag\'s interpreter picker');
    await page.keyboard.press('Escape');
  });

  test('calls that raised: one grouped line, and Raised at raising.py:9 opens that line', async () => {
    const { page } = session;
    // The previous test clicked in the panel, so its group is the active one: a file opened
    // there would hide the panel (and detach its frame). Files open in the first group.
    await runCommand(page, 'View: Focus First Editor Group');
    await openFile(page, 'raising.py');
    await goToLine(page, 5);
    const since = Date.now();
    await runCommand(page, 'Loop Lag: Measure Function');
    await answerInputBox(page, '3');
    const frame = await waitForPanelReport(page, 'parse', since, (f) => f.$('[data-testid="raised-line"]').then(Boolean), RUN_TIMEOUT_MS);
    assert.deepEqual(await frame.$$eval('[data-testid="raised-line"]', (ps) => ps.map((p) => p.textContent)),
      [' inline, thread: 3 calls raised the same error: ValueError: bad 3']);
    assert.doesNotMatch((await frame.textContent('[data-testid="raised-traceback"]'))!, /looplag_sidecar|concurrent/);
    // Another editor first, so the link has to open raising.py.
    await runCommand(page, 'View: Focus First Editor Group');
    await openFile(page, 'missing_module.py');
    await frame.click('[data-testid="raised-at"]');
    await activeEditor(page, 'raising.py').waitFor({ state: 'visible', timeout: 30_000 });
    await waitUntil(async () => (await cursorPosition(page))?.line === 9, 'the cursor on raising.py:9');
  });
});
