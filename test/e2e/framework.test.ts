/// <reference lib="dom" />
/**
 * The verdict in the framework's words in a real VS Code (code-server, Debian's Chromium;
 * issue 16): Measure Function from the editor on a FastAPI `async def` endpoint, an
 * Express handler and a FastAPI `def` endpoint (test/fixtures/e2e/framework), each ~60 ms
 * of CPU work; the panel's headline names the route and says what the framework does with
 * it, and its header counts requests, not calls. The budget decides each verdict beyond doubt (20 ms against 60 ms calls on the loop:
 * not safe; 10 s: safe), so the machine's load cannot change the words under test.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { useWorkbench } from '../support/e2e';
import { FIXTURES, REPO, tmpDir } from '../support/helpers';
import { activeEditor, answerInputBox, goToLine, openFile, runCommand, waitForPanelReport, waitUntil } from '../support/workbench';

const VSIX = path.join(REPO, 'looplag.vsix');
/** Debian's python3 has fastapi (scripts/test.sh installs it in CI); the sidecar itself stays stdlib-only. */
const SYSTEM_PYTHON = '/usr/bin/python3';
const EXPRESS = path.join(REPO, 'node_modules', 'express');
/** A line inside each function of app.py and server.js. */
const LINE = { report: 21, login: 26, render: 16 } as const;
const RUN_TIMEOUT_MS = 90_000;
const skip = !fs.existsSync(VSIX) ? 'no looplag.vsix: run `npm run package`'
  : !fs.existsSync(SYSTEM_PYTHON) ? `no ${SYSTEM_PYTHON} (with fastapi)`
    : !fs.existsSync(EXPRESS) ? 'no express in node_modules'
      : false;

describe('The headline in the framework\'s words: FastAPI `async def` and `def` endpoints, an Express handler', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-fw-');
    fs.cpSync(path.join(FIXTURES, 'e2e', 'framework'), folder, { recursive: true });
    // server.js requires express as an app does, from a node_modules beside it: the repo's own.
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(folder, 'node_modules'), 'dir');
    return {
      folder, vsix: VSIX,
      userSettings: {
        'looplag.python.path': SYSTEM_PYTHON, 'looplag.concurrency': 3, 'looplag.lagBudgetMs': 20,
        'looplag.python.modes': ['inline', 'thread'], 'looplag.node.modes': ['inline'],
      },
    };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('a FastAPI `async def` endpoint: "Not safe as written: this `async def` endpoint (GET /login) blocks every other request …"', async () => {
    const { page } = session;
    await openFile(page, 'app.py');
    const text = await measure(page, 'login', LINE.login);
    assert.match(text, /^Not safe as written: this `async def` endpoint \(GET \/login\) blocks every other request for up to \d[\d.]* (ms|s) at 3 concurrent requests \(budget 20\.0 ms\)/);
  });

  test('an Express handler (express from the folder\'s node_modules): "this Express handler (GET /render) blocks every other request …"', async () => {
    const { page } = session;
    await openFile(page, 'server.js');
    const text = await measure(page, 'render', LINE.render, '{ query: { ms: 60 } }, { json() {} }');
    assert.match(text, /^Not safe as written: this Express handler \(GET \/render\) blocks every other request for up to \d[\d.]* (ms|s) at 3 concurrent requests \(budget 20\.0 ms\)/);
  });

  test('a FastAPI `def` endpoint: "Safe as written (GET /report): FastAPI runs `def` endpoints in its threadpool (40 threads)"', async () => {
    const { page } = session;
    await openFile(page, 'app.py');
    await writeFolderSettings(page, folder, { 'looplag.lagBudgetMs': 10_000 });
    const text = await measure(page, 'report', LINE.report);
    assert.match(text, /^Safe as written \(GET \/report\): FastAPI runs `def` endpoints in its threadpool \(40 threads\); with 3 concurrent requests the loop stayed responsive \(lag p99 .*budget 10\.00 s/);
  });
});

/**
 * Measure Function with the cursor on `line` (answering the argument prompt with `args`);
 * the panel's headline once that run is done, after checking its header counts requests.
 */
async function measure(page: Page, fn: string, line: number, args?: string): Promise<string> {
  await goToLine(page, line);
  const since = Date.now();
  await runCommand(page, 'Loop Lag: Measure Function');
  if (args !== undefined) await answerInputBox(page, args);
  // Finished with its headline drawn.
  const frame = await waitForPanelReport(page, fn, since, (f) => f.$('[data-testid="headline"]').then(Boolean), RUN_TIMEOUT_MS);
  assert.match(await frame.innerText('header .meta'), /\b3 concurrent requests · workers/, 'the header counts requests');
  return (await frame.textContent('[data-testid="headline"]')) ?? '';
}

/**
 * Write the folder's .vscode/settings.json and wait until the workbench applied it (as in
 * extension.test.ts: a ruler more each time, drawn once the workbench has the new
 * configuration, which reaches the extension host before any command run after that).
 */
async function writeFolderSettings(page: Page, folder: string, settings: Record<string, unknown>): Promise<void> {
  const file = path.join(folder, '.vscode', 'settings.json');
  const previous = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { 'editor.rulers'?: number[] }) : {};
  const rulers = [...(previous['editor.rulers'] ?? []), 60 + (previous['editor.rulers']?.length ?? 0) * 10];
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ ...settings, 'editor.rulers': rulers }, null, 2));
  const drawn = activeEditor(page).locator('.view-ruler');
  await waitUntil(async () => (await drawn.count()) === rulers.length, `${rulers.length} ruler(s): the workbench read ${file}`);
}
