/// <reference lib="dom" />
/**
 * The blocking lines annotated in a real VS Code (issue 13): code-server with the
 * packaged extension, a real measurement of loops.py, and its report picked from the
 * panel's history. Until the samplers land on this branch no real run yields blockers,
 * so the test adds them to a measured report in the history folder (as a later Loop Lag
 * writes them) and opens that report from the panel's history list, the path a user
 * takes to look at an older report. The annotation is drawn, hovered, follows an
 * inserted line, goes with an edit on its line, with the setting off (and back on),
 * with Loop Lag: Clear Annotations, and with the next run.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { Advice, Blocker, Report } from '../../src/shared/protocol';
import type { CodeServer } from '../support/codeServer';
import { useWorkbench } from '../support/e2e';
import { FIXTURES, REPO, tmpDir } from '../support/helpers';
import { goToLine, openFile, runCommand, waitUntil, webviewFrame } from '../support/workbench';

const VSIX = path.join(REPO, 'looplag.vsix');
const WORKSPACE = path.join(FIXTURES, 'e2e', 'workspace');
const EXTENSION_ID = 'looplag.looplag';
const RUN_TIMEOUT_MS = 90_000;
/** loops.py: crunch's and quick's `return pow(…)` lines (1-based), and a line of nap. */
const CRUNCH_POW = { line: 7, source: 'return pow(base, exponent).bit_length()' };
const QUICK_POW = { line: 11, source: 'return pow(365, exponent).bit_length()' };
const QUICK_TEXT = '▲ blocked the loop 1.15 s inline';
const CRUNCH_TEXT = '▲ blocked the loop 240.0 ms inline';

const skip = !fs.existsSync(VSIX) && 'no looplag.vsix: run `npm run package`';

describe('Loop Lag in VS Code: the blocking lines annotated in the editor', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-annotations-');
    fs.cpSync(WORKSPACE, folder, { recursive: true });
    // Inline only, two calls: a short run (its figures are not what this suite checks).
    return { folder, vsix: VSIX, userSettings: { 'looplag.concurrency': 2, 'looplag.python.modes': ['inline'] } };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('a report picked from the history annotates its blocking lines in the user\'s code, and only those', async () => {
    const { page, server } = session;
    await openFile(page, 'loops.py');
    await measureQuick(page, server, 1);
    await measureQuick(page, server, 2);
    // The older report gets blockers, as attribution writes them, and advice about a line.
    const [older] = historyFiles(server);
    const report = Report.parse(JSON.parse(fs.readFileSync(older, 'utf8')));
    fs.writeFileSync(older, JSON.stringify(withBlockers(report)));

    await pickFromHistory(page, 'older');
    await waitForAnnotations(page, [[CRUNCH_POW.source, CRUNCH_TEXT], [QUICK_POW.source, QUICK_TEXT]]);
  });

  test('hovering the line shows the figure, the advice about it with its fix, and user text as text', async () => {
    const { page } = session;
    const line = editorLine(page, QUICK_POW.source);
    await line.hover({ position: { x: 60, y: 5 } });
    const hover = page.locator('.monaco-hover:visible').filter({ hasText: 'Loop Lag' }).first();
    await hover.waitFor({ timeout: 15_000 });
    const text = await hover.innerText();
    assert.match(text, /quick blocked the loop 1\.15 s inline: 82% of the stalled time, in 3 stalls/);
    assert.match(text, /quick holds the loop <b>hard<\/b>/, 'the title, HTML shown as text');
    assert.match(text, /await asyncio\.to_thread\(quick\)/, 'the fix');
    assert.equal(await hover.locator('b:text("hard"), img').count(), 0, 'no HTML from the report is rendered');
    // A code block is tokenized in the report's language (a Python keyword is coloured apart).
    assert.equal(await hover.locator('.monaco-tokenized-source').innerText(), 'await asyncio.to_thread(quick)', 'the fix is a code block');
    assert.equal(await hover.locator('.monaco-tokenized-source span', { hasText: /^await$/ }).count(), 1, 'highlighted as Python');
    await page.keyboard.press('Escape');
    await page.mouse.move(0, 0);
  });

  test('looplag.annotations off removes them at once; on brings them back', async () => {
    const { page } = session;
    writeFolderSettings(folder, { 'looplag.annotations': false });
    await waitForAnnotations(page, []);
    writeFolderSettings(folder, { 'looplag.annotations': true });
    await waitForAnnotations(page, [[CRUNCH_POW.source, CRUNCH_TEXT], [QUICK_POW.source, QUICK_TEXT]]);
  });

  test('Loop Lag: Clear Annotations removes them; picking the report again brings them back', async () => {
    const { page } = session;
    await runCommand(page, 'Loop Lag: Clear Annotations');
    await waitForAnnotations(page, []);
    await pickFromHistory(page, 'current');
    await waitForAnnotations(page, [[CRUNCH_POW.source, CRUNCH_TEXT], [QUICK_POW.source, QUICK_TEXT]]);
  });

  test('an inserted line above moves the annotation with its line; typing on the line removes it', async () => {
    const { page } = session;
    await focusLoops(page);
    const before = await annotationLines(page);
    await goToLine(page, QUICK_POW.line - 1); // `def quick(…)`: a new line above it
    await page.keyboard.press('Home');
    await page.keyboard.press('Enter');
    await waitUntil(async () => {
      const now = await annotationLines(page);
      return now.length === 2 && now[1].top > before[1].top && now[0].top === before[0].top;
    }, 'the annotation of quick\'s line to move down a line, crunch\'s to stay');
    await waitForAnnotations(page, [[CRUNCH_POW.source, CRUNCH_TEXT], [QUICK_POW.source, QUICK_TEXT]]);
    await goToLine(page, QUICK_POW.line + 1);
    await page.keyboard.press('End');
    await page.keyboard.type('  # edited');
    await waitForAnnotations(page, [[CRUNCH_POW.source, CRUNCH_TEXT]]);
    await runCommand(page, 'File: Revert File');
    await waitUntil(async () => !(await editorText(page)).includes('# edited'), 'the file reverted');
  });

  test('the next run clears them (its report has no blockers)', async () => {
    const { page, server } = session;
    await pickFromHistory(page, 'older');
    await waitForAnnotations(page, [[CRUNCH_POW.source, CRUNCH_TEXT], [QUICK_POW.source, QUICK_TEXT]]);
    await focusLoops(page);
    await measureQuick(page, server, 3);
    await waitForAnnotations(page, []);
  });
});

/** Measure quick() from the palette (no prompt: its argument has a default) and wait for report number `n` in the history. */
async function measureQuick(page: Page, server: CodeServer, n: number): Promise<void> {
  await focusLoops(page);
  await goToLine(page, QUICK_POW.line);
  await runCommand(page, 'Loop Lag: Measure Function');
  await waitUntil(() => historyFiles(server).length >= n, `report ${n} in the history`, RUN_TIMEOUT_MS);
  // The panel lists the history from two reports on: wait for this one there too.
  if (n >= 2) await waitUntil(async () => (await historyButtons(page)).length >= n, `the panel's history of ${n}`, 30_000);
}

/** Bring loops.py's editor to the front with the keyboard focus in it (clicking the webview moves both away), scrolled to its top. */
async function focusLoops(page: Page): Promise<void> {
  // Its tab, not quick open: that would open it in the panel's group when that is the active one.
  await page.locator('.tabs-container .tab').filter({ hasText: 'loops.py' }).first().click();
  await page.mouse.move(0, 0);
  await page.waitForSelector('.editor-group-container.active .editor-instance .monaco-editor.focused[data-uri$="/loops.py"]', { timeout: 15_000 });
  await goToLine(page, 1);
}

function loopsEditor(page: Page) {
  return page.locator('.editor-instance .monaco-editor[data-uri$="/loops.py"]').first();
}

function editorLine(page: Page, text: string) {
  return loopsEditor(page).locator('.view-lines .view-line').filter({ hasText: text }).first();
}

async function editorText(page: Page): Promise<string> {
  return (await loopsEditor(page).locator('.view-lines').innerText()).replace(/\u00a0/g, ' ');
}

/**
 * Each annotated line of loops.py, top to bottom: its text and the annotation (an `after`
 * decoration: VS Code draws its text as the CSS content of a span's ::after).
 */
async function annotationLines(page: Page): Promise<{ top: number; line: string; text: string }[]> {
  const rows = await loopsEditor(page).locator('.view-lines .view-line').evaluateAll((els) => els.map((e) => {
    const texts = Array.from(e.querySelectorAll('span'), (s) => getComputedStyle(s, '::after').content)
      .filter((c) => c && c !== 'none' && c !== 'normal');
    return { top: parseFloat((e as HTMLElement).style.top) || 0, line: (e.textContent ?? '').replace(/\u00a0/g, ' ').trim(), text: texts.join('') };
  }));
  return rows.filter((r) => r.text).sort((a, b) => a.top - b.top).map((r) => ({ ...r, text: JSON.parse(r.text) as string }));
}

async function waitForAnnotations(page: Page, want: [line: string, text: string][]): Promise<void> {
  let seen: unknown = null;
  await waitUntil(async () => {
    const got = (await annotationLines(page)).map((a) => [a.line, a.text]);
    seen = got;
    return JSON.stringify(got) === JSON.stringify(want);
  }, `annotations ${JSON.stringify(want)}`, 30_000).catch((e) => assert.fail(`${(e as Error).message}; last seen: ${JSON.stringify(seen)}`));
}

async function panel(page: Page): Promise<Frame> {
  return webviewFrame(page, { extensionId: EXTENSION_ID, contains: 'History' });
}

async function historyButtons(page: Page): Promise<string[]> {
  try {
    const frame = await webviewFrame(page, { extensionId: EXTENSION_ID, timeoutMs: 2_000 });
    return await frame.$$eval('section.history li button.link', (bs) => bs.map((b) => b.textContent ?? ''));
  } catch {
    return [];
  }
}

/** Click a report in the panel's history list: the older of the two first runs, or the one on show. */
async function pickFromHistory(page: Page, which: 'older' | 'current'): Promise<void> {
  const frame = await panel(page);
  const rows = frame.locator('section.history li');
  const row = which === 'current' ? rows.locator('button.link[aria-current="true"]') : rows.nth((await rows.count()) - 1).locator('button.link');
  await row.click();
}

function historyDir(server: CodeServer): string | undefined {
  const root = path.join(server.userDataDir, 'User', 'workspaceStorage');
  if (!fs.existsSync(root)) return undefined;
  return fs.readdirSync(root).map((id) => path.join(root, id, EXTENSION_ID, 'history', 'reports')).find((d) => fs.existsSync(d));
}

/** The history's report files, oldest first. */
function historyFiles(server: CodeServer): string[] {
  const dir = historyDir(server);
  if (!dir) return [];
  const created = (f: string) => Date.parse((JSON.parse(fs.readFileSync(f, 'utf8')) as Report).createdAt);
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f)).sort((a, b) => created(a) - created(b));
}

/** The folder's .vscode/settings.json (VS Code watches it and applies it at once). */
function writeFolderSettings(folder: string, settings: Record<string, unknown>): void {
  fs.mkdirSync(path.join(folder, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(folder, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
}

/**
 * The report with what attribution would have found in loops.py: quick's and crunch's
 * `pow` lines on the loop, plus lines that must not be annotated (a library frame, a
 * line whose text is not the measured one, a file outside the folder), and advice
 * about quick's line whose text holds HTML.
 */
function withBlockers(report: Report): Report {
  const user = (line: number, fn: string) => [{ file: 'loops.py', line, function: fn, kind: 'user' as const }];
  const b = (over: Partial<Blocker>): Blocker => ({
    file: 'loops.py', line: 1, function: 'quick', source: null, thread: 'loop', step: 'call',
    stalledMs: 1, share: 0, samples: 1, stalls: 1, stack: [], library: null, ...over,
  });
  const blockers: Blocker[] = [
    b({ line: QUICK_POW.line, source: QUICK_POW.source, stalledMs: 1150, share: 0.82, samples: 40, stalls: 3, stack: user(QUICK_POW.line, 'quick') }),
    b({ line: CRUNCH_POW.line, function: 'crunch', source: CRUNCH_POW.source, stalledMs: 240, share: 0.17, stack: user(CRUNCH_POW.line, 'crunch') }),
    b({ line: 16, function: 'nap', source: 'time.sleep(999)', stack: user(16, 'nap') }),
    b({ file: 'asyncio/events.py', line: 80, function: '_run', stack: [{ file: 'asyncio/events.py', line: 80, function: '_run', kind: 'stdlib' }] }),
    b({ file: '../outside.py', line: 2, stack: [{ file: '../outside.py', line: 2, function: 'quick', kind: 'user' }] }),
  ];
  const advice: Advice = {
    id: 'inline-blocks-loop', severity: 'critical', mode: 'inline', title: 'quick holds the loop <b>hard</b>',
    detail: '`pow(365, exponent)` at loops.py:11 held the loop <img src=x onerror=alert(1)>',
    fix: 'await asyncio.to_thread(quick)', docs: null, at: { file: 'loops.py', line: QUICK_POW.line },
  };
  return { ...report, runs: report.runs.map((r) => (r.mode === 'inline' ? { ...r, blockers } : r)), advice: [advice, ...report.advice] };
}
