/// <reference lib="dom" />
/**
 * Playwright helpers for the VS Code workbench served by code-server (see codeServer.ts).
 * Selectors are the workbench's own DOM (VS Code 1.139); each helper waits with a
 * deadline for the state it needs instead of sleeping.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Browser, Frame, Locator, Page } from 'playwright-core';

const DEFAULT_TIMEOUT_MS = 30_000;

const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_BOX = `${QUICK_INPUT} .quick-input-box input`;
const QUICK_INPUT_ROWS = `${QUICK_INPUT} .quick-input-list .monaco-list-row`;

export interface Timeout {
  timeoutMs?: number;
}

/**
 * Open the workbench on `folder` in a new page and wait until it is usable: the status
 * bar is drawn and the explorer lists the folder. Extensions may still be starting:
 * `runCommand` waits for contributed commands itself.
 */
export async function openWorkbench(browser: Browser, url: string, folder: string, opts: Timeout = {}): Promise<Page> {
  const timeout = opts.timeoutMs ?? 60_000;
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(DEFAULT_TIMEOUT_MS);
  await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout });
  // The explorer shows the folder's files once the remote file system answered.
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout });
  return page;
}

/** The quick input's filter box, after opening it with `key` and waiting for it to take focus. */
async function openQuickInput(page: Page, key: string): Promise<Locator> {
  const input = page.locator(QUICK_INPUT_BOX);
  if (await input.isVisible()) await page.keyboard.press('Escape');
  await page.keyboard.press(key);
  await input.waitFor({ state: 'visible' });
  await page.waitForFunction((sel) => document.activeElement === document.querySelector(sel), QUICK_INPUT_BOX);
  return input;
}

/**
 * Rows of the quick input labelled exactly `label`; with `description`, only rows that
 * describe it so (quick open describes a file by its folder, "" for the root).
 */
function rowsLabelled(page: Page, label: string, description?: string): Locator {
  let rows = page.locator(QUICK_INPUT_ROWS).filter({ has: page.locator('.label-name', { hasText: exactly(label) }) });
  if (description === '') rows = rows.filter({ hasNot: page.locator('.label-description', { hasText: /\S/ }) });
  else if (description !== undefined) rows = rows.filter({ has: page.locator('.label-description', { hasText: new RegExp(`(^|/)${escapeRegExp(description)}$`) }) });
  return rows;
}

function exactly(text: string): RegExp {
  return new RegExp(`^${escapeRegExp(text)}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function visibleRowLabels(page: Page): Promise<string[]> {
  return page.$$eval(QUICK_INPUT_ROWS, (rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
}

/**
 * Type `query` into the open quick input until a row labelled `label` shows, then click
 * it (a click accepts the row). Retypes the query now and then: entries contributed by
 * extensions appear only once the extension host has registered them, and an open list
 * does not refresh by itself.
 */
async function pickRow(page: Page, input: Locator, query: string, label: string, description: string | undefined, timeoutMs: number, retypeMs = 1_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const row = rowsLabelled(page, label, description).first();
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) await input.fill(query.slice(0, 1)); // a different value forces a new query
    await input.fill(query);
    const wait = Math.max(0, Math.min(deadline - Date.now(), retypeMs * (1 + attempt / 2)));
    if (await row.waitFor({ state: 'visible', timeout: wait }).then(() => true, () => false)) {
      await row.click({ timeout: Math.max(1_000, deadline - Date.now()) });
      return;
    }
    if (Date.now() >= deadline) {
      const seen = await visibleRowLabels(page);
      await page.keyboard.press('Escape');
      throw new Error(`no "${label}"${description ? ` in ${description}` : ''} in the quick input after ${timeoutMs} ms for "${query}"; rows: ${JSON.stringify(seen)}`);
    }
  }
}

/**
 * Run a command by its palette title, with its category, e.g. "View: Toggle Word Wrap"
 * or "Loop Lag: Show Report". Retries until the command is listed (extensions register
 * their commands a few seconds after the workbench loads) or the deadline passes.
 */
export async function runCommand(page: Page, title: string, opts: Timeout = {}): Promise<void> {
  const input = await openQuickInput(page, 'F1');
  await pickRow(page, input, `>${title}`, title, undefined, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
}

/**
 * Open a file of the workspace (a path relative to the folder, with `/`) with quick open
 * (Ctrl+P) and wait until its editor is active and focused.
 */
export async function openFile(page: Page, relPath: string, opts: Timeout = {}): Promise<void> {
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const parts = relPath.split('/');
  const base = parts.pop()!;
  const input = await openQuickInput(page, 'Control+P');
  // Files at the root have no description; others show their folder ("pkg", "a/b").
  // File results arrive by themselves once the search ran (slow the first time): retyping
  // would restart it, so only retype rarely.
  await pickRow(page, input, relPath, base, parts.join('/'), timeout, 5_000);
  await activeEditor(page, relPath).waitFor({ state: 'visible', timeout });
  await page.waitForSelector('.editor-group-container.active .editor-instance .monaco-editor.focused', { timeout });
}

/** The folder the workbench page was opened on (its `?folder=`). */
export function workbenchFolder(page: Page): string {
  const folder = new URL(page.url()).searchParams.get('folder');
  if (!folder) throw new Error(`no ?folder= in ${page.url()}`);
  return folder;
}

/**
 * The active editor group's text editor; with `relPath`, only when it shows that file of
 * the folder (editors carry their resource as `data-uri`, e.g. vscode-remote://host/dir/file.py).
 */
export function activeEditor(page: Page, relPath?: string): Locator {
  const editors = '.editor-group-container.active .editor-instance .monaco-editor';
  if (!relPath) return page.locator(`${editors}[data-uri]`).first();
  // The URI's path ends with the whole absolute path, so this is exact (for paths whose
  // characters encodeURI encodes as VS Code does: letters, digits, -_./ and spaces).
  const wanted = encodeURI(`${workbenchFolder(page).replace(/\/$/, '')}/${relPath}`);
  return page.locator(`${editors}[data-uri$=${JSON.stringify(wanted)}]`).first();
}

/**
 * The text the active editor renders, one entry per view line (a wrapped line gives
 * several; lines scrolled out of view are absent: Monaco renders only what is visible).
 */
export async function visibleEditorLines(page: Page): Promise<string[]> {
  const lines = await activeEditor(page).locator('.view-lines .view-line').evaluateAll((els) =>
    els.map((e) => ({ top: parseFloat((e as HTMLElement).style.top) || 0, text: e.textContent ?? '' })));
  // Rendered lines are absolutely positioned and not in document order; Monaco uses U+00A0 for spaces.
  return lines.sort((a, b) => a.top - b.top).map((l) => l.text.replace(/\u00a0/g, ' '));
}

/** The titles of the CodeLenses the active editor shows, top to bottom (a line's lenses left to right). */
export async function codeLensTitles(page: Page): Promise<string[]> {
  const lenses = await activeEditor(page).locator('.codelens-decoration').evaluateAll((els) =>
    els.map((e) => ({ top: parseFloat((e as HTMLElement).style.top) || 0, titles: Array.from(e.querySelectorAll('a'), (a) => a.textContent ?? '') })));
  return lenses.sort((a, b) => a.top - b.top).flatMap((l) => l.titles);
}

/** Click the `index`-th CodeLens (top to bottom) titled `title` in the active editor, once it shows. */
export async function clickCodeLens(page: Page, title: string | RegExp, opts: Timeout & { index?: number } = {}): Promise<void> {
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const lenses = activeEditor(page).locator('.codelens-decoration a', { hasText: typeof title === 'string' ? exactly(title) : title });
  let order: { top: number; i: number }[] = [];
  await waitUntil(async () => {
    if ((await lenses.count()) <= (opts.index ?? 0)) return false;
    // Lenses re-render when a provider refreshes (after a run): one caught detached has
    // no parent, so look again rather than fail.
    const tops = await lenses.evaluateAll((els) => els.map((a) => (a.parentElement ? parseFloat(a.parentElement.style.top) || 0 : null)));
    if (tops.length <= (opts.index ?? 0) || tops.some((top) => top === null)) return false;
    order = tops.map((top, i) => ({ top: top!, i })).sort((a, b) => a.top - b.top);
    return true;
  }, `a CodeLens "${title}"`, timeout);
  await lenses.nth(order[opts.index ?? 0].i).click({ timeout });
}

/** The text of a status bar item by its id (an extension's item: `<publisher>.<name>.<item id>`). */
export async function statusBarText(page: Page, id: string): Promise<string | undefined> {
  const item = page.locator(`.statusbar-item[id=${JSON.stringify(id)}]`);
  return (await item.count()) ? (await item.first().textContent())?.trim() : undefined;
}

/** The line and column of the active editor's cursor, from the status bar ("Ln 5, Col 1"). */
export async function cursorPosition(page: Page): Promise<{ line: number; column: number } | undefined> {
  const m = /Ln (\d+), Col (\d+)/.exec((await statusBarText(page, 'status.editor.selection')) ?? '');
  return m ? { line: Number(m[1]), column: Number(m[2]) } : undefined;
}

/** Move the active editor's cursor to line `n` (Ctrl+G) and wait until the status bar says so. */
export async function goToLine(page: Page, n: number, opts: Timeout = {}): Promise<void> {
  const input = await openQuickInput(page, 'Control+G');
  await input.fill(`:${n}`);
  await input.press('Enter');
  await waitUntil(async () => (await cursorPosition(page))?.line === n, `the cursor on line ${n}`, opts.timeoutMs);
}

/**
 * Answer a `showInputBox` (or a free-text quick input): wait for it (with `prompt` in its
 * message when given), type `text`, press Enter, and wait until it closed or moved on to
 * a next step. Still open with `text` means the extension's validation refused it.
 */
export async function answerInputBox(page: Page, text: string, opts: Timeout & { prompt?: string | RegExp } = {}): Promise<void> {
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const prompt = opts.prompt instanceof RegExp ? { source: opts.prompt.source, flags: opts.prompt.flags } : opts.prompt ?? null;
  await waitUntil(() => page.evaluate(([widgetSel, inputSel, wanted]) => {
    const widget = document.querySelector<HTMLElement>(widgetSel);
    const input = document.querySelector<HTMLInputElement>(inputSel);
    if (!widget || !input || widget.style.display === 'none' || input.offsetParent === null) return false;
    if (input.value.startsWith('>')) return false; // still the command palette
    if (wanted === null) return true;
    const message = widget.querySelector('.quick-input-message')?.textContent ?? '';
    return typeof wanted === 'string' ? message.includes(wanted) : new RegExp(wanted.source, wanted.flags).test(message);
  }, [QUICK_INPUT, QUICK_INPUT_BOX, prompt] as const),
  `an input box${opts.prompt ? ` saying ${opts.prompt}` : ''}`, timeout);
  const input = page.locator(QUICK_INPUT_BOX);
  await input.fill(text);
  await input.press('Enter');
  try {
    await waitUntil(async () => !(await input.isVisible()) || (await input.inputValue().catch(() => '')) !== text,
      `the input box to take "${text}"`, timeout);
  } catch (err) {
    const message = await page.locator(`${QUICK_INPUT} .quick-input-message`).textContent().catch(() => '');
    throw new Error(`${(err as Error).message}; it says: ${message}`);
  }
}

/** Choose the item labelled `label` in an open quick pick (e.g. from `showQuickPick`). */
export async function pickQuickPickItem(page: Page, label: string, opts: Timeout = {}): Promise<void> {
  const input = page.locator(QUICK_INPUT_BOX);
  await input.waitFor({ state: 'visible', timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  await pickRow(page, input, label, label, undefined, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
}

/** The messages of the notification toasts now on screen. */
export async function notifications(page: Page): Promise<string[]> {
  return page.$$eval('.notifications-toasts .notification-toast .notification-list-item-message',
    (els) => els.filter((e) => (e as HTMLElement).offsetParent !== null).map((e) => e.textContent?.trim() ?? ''));
}

/** Wait for a notification toast whose message matches; returns its text. */
export async function waitForNotification(page: Page, match: string | RegExp, opts: Timeout = {}): Promise<string> {
  let found: string | undefined;
  await waitUntil(async () => {
    found = (await notifications(page)).find((t) => (typeof match === 'string' ? t.includes(match) : match.test(t)));
    return found !== undefined;
  }, `a notification matching ${match}`, opts.timeoutMs);
  return found!;
}

/** Click a button (e.g. "Save & Measure") on the toast whose message matches. */
export async function clickNotificationButton(page: Page, match: string | RegExp, button: string): Promise<void> {
  const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: match });
  await toast.locator('.monaco-button', { hasText: button }).first().click();
}

/**
 * The content frame of a webview (the extension's HTML). Webviews are not inside the
 * editor: each is an `iframe.webview` (class `ready` once loaded) in an overlay over the
 * editor area, whose `src` carries `extensionId=<publisher>.<name>`; the extension's page
 * is that frame's `iframe#active-frame`. Returns the first match that is visible (or,
 * with `contains`, whose text includes it). Waits until one exists. A Frame is replaced
 * when the webview's html is set again: call this again after that.
 */
export async function webviewFrame(page: Page, opts: Timeout & { contains?: string; extensionId?: string } = {}): Promise<Frame> {
  const selector = `iframe.webview.ready${opts.extensionId ? `[src*="extensionId=${opts.extensionId}&"]` : ''}`;
  let frame: Frame | undefined;
  await waitUntil(async () => {
    for (const outer of await page.$$(selector)) {
      if (!opts.contains && !(await outer.isVisible())) continue;
      const host = await outer.contentFrame();
      const inner = await (await host?.$('iframe#active-frame'))?.contentFrame();
      if (!inner) continue;
      const text = await inner.evaluate(() => document.body?.innerText ?? '').catch(() => null);
      if (text === null) continue; // navigating
      if (!opts.contains || text.includes(opts.contains)) {
        frame = inner;
        return true;
      }
    }
    return false;
  }, `a webview${opts.extensionId ? ` of ${opts.extensionId}` : ''} ${opts.contains ? `showing "${opts.contains}"` : 'on screen'}`, opts.timeoutMs);
  return frame!;
}

/** Titles of the editor tabs ("demo.py", "Loop Lag"), the active tab of each group marked with a leading "*". */
export async function editorTabs(page: Page): Promise<string[]> {
  return page.$$eval('.tabs-container .tab', (tabs) => tabs.map((t) => `${t.classList.contains('active') ? '*' : ''}${t.getAttribute('aria-label') ?? ''}`));
}

/**
 * The text of a LogOutputChannel's file once it matches `match`; find the file with
 * `findLogFile(server.logsDir, 'Loop Lag.log')` (codeServer.ts).
 */
export async function waitForLog(file: () => string | undefined, match: string | RegExp, opts: Timeout = {}): Promise<string> {
  let text = '';
  await waitUntil(() => {
    const f = file();
    text = f && fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
    return typeof match === 'string' ? text.includes(match) : match.test(text);
  }, `the log to match ${match}`, opts.timeoutMs);
  return text;
}

/** Poll `condition` until it holds, failing with `what` after the deadline. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 25; !(await condition()); delay = Math.min(delay * 2, 250)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * code-server is started with --disable-workspace-trust (codeServer.ts), which reaches the
 * workbench as `enableWorkspaceTrust: false` in its web configuration: then every folder
 * is trusted whatever the settings say. Reload the page with that field turned on, as a
 * code-server without the flag would serve it. (Rewriting the page with page.route broke
 * the workbench's WebSocket; the configuration element is read with getAttribute.)
 */
export async function reloadWithWorkspaceTrust(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const getAttribute = Element.prototype.getAttribute;
    Element.prototype.getAttribute = function (this: Element, name: string): string | null {
      const value = getAttribute.call(this, name);
      if (this.id !== 'vscode-workbench-web-configuration' || name !== 'data-settings' || value === null) return value;
      return JSON.stringify({ ...JSON.parse(value), enableWorkspaceTrust: true });
    };
  });
  await page.reload();
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
}

/**
 * The report panel's frame once it shows `fn`'s report, made after `since`, finished, and
 * `ready` says it is the one looked for (the frame is re-created as the panel is shown again).
 */
export async function waitForPanelReport(page: Page, fn: string, since: number, ready: (f: Frame) => Promise<boolean>, timeoutMs: number): Promise<Frame> {
  let seen = '';
  let found: Frame | undefined;
  await waitUntil(async () => {
    try {
      const f = await webviewFrame(page, { extensionId: 'looplag.looplag', timeoutMs: 2_000 });
      const state = await f.evaluate(() => ({
        fn: document.querySelector('[data-testid="target-name"]')?.textContent ?? null,
        createdAt: document.querySelector('header time')?.getAttribute('datetime') ?? null,
        running: document.querySelector('[data-testid="running"]') !== null,
      }));
      seen = JSON.stringify(state);
      const done = state.fn === fn && Date.parse(state.createdAt ?? '') >= since && !state.running && await ready(f);
      if (done) found = f;
      return done;
    } catch {
      return false;
    }
  }, `the report of ${fn}() in the panel`, timeoutMs).catch((e) => assert.fail(`${(e as Error).message}; last seen: ${seen}`));
  return found!;
}
