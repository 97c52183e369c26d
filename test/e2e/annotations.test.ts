/// <reference lib="dom" />
/**
 * The blocking lines annotated in a real VS Code (issue 13): code-server with the
 * packaged extension and real measurements of loops.py's quick() (inline and thread),
 * whose reports name the line that blocked. The annotation is drawn as the report says
 * (the text computed from the report in the history), hovered (figures, the advice about
 * the line, its fix), turned off and on by the setting, follows an inserted line, goes
 * with an edit on its line, is replaced by the next run and removed by Loop Lag: Clear
 * Annotations. Then a report picked from the panel's history, given hostile blockers and
 * advice (a library frame, a file outside the folder, a line whose text changed, HTML):
 * only the user's lines are annotated, and the hover shows the HTML as text.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { adviceFor, lineAnnotations, sourceMatches } from '../../src/report/annotationText';
import { Advice, Blocker, Report } from '../../src/shared/protocol';
import type { CodeServer } from '../support/codeServer';
import { useWorkbench } from '../support/e2e';
import { FIXTURES, REPO, tmpDir } from '../support/helpers';
import { goToLine, openFile, runCommand, waitUntil, webviewFrame } from '../support/workbench';
import { historyDir } from '../support/history';

const VSIX = path.join(REPO, 'looplag.vsix');
const WORKSPACE = path.join(FIXTURES, 'e2e', 'workspace');
const EXTENSION_ID = 'looplag.looplag';
const RUN_TIMEOUT_MS = 90_000;
/** loops.py: crunch's and quick's `return pow(…)` lines (1-based). */
const CRUNCH_POW = { line: 7, source: 'return pow(base, exponent).bit_length()' };
const QUICK_POW = { line: 11, source: 'return pow(365, exponent).bit_length()' };
const HOSTILE_TITLE = 'quick holds the loop <b>hard</b>';

const skip = !fs.existsSync(VSIX) && 'no looplag.vsix: run `npm run package`';

describe('Loop Lag in VS Code: the blocking lines annotated in the editor', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-annotations-');
    fs.cpSync(WORKSPACE, folder, { recursive: true });
    // Three calls of ~40 ms each: inline they stall the loop for ~120 ms, in threads
    // pow() holds the GIL. Short runs; the figures vary, the text is read from the report.
    return { folder, vsix: VSIX, userSettings: { 'looplag.concurrency': 3, 'looplag.python.modes': ['inline', 'thread'] } };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));
  /** What the editor should show for a report: each line its text still holds, top to bottom, with its annotation. */
  const expected = (report: Report): [string, string][] => {
    const lines = fs.readFileSync(path.join(folder, 'loops.py'), 'utf8').split('\n');
    return lineAnnotations(report, folder).filter((a) => a.file === path.join(folder, 'loops.py') && sourceMatches(a.source, lines[a.line] ?? ''))
      .sort((a, b) => a.line - b.line).map((a) => [lines[a.line].trim(), a.text]);
  };
  let first: [string, string][] = [];

  test('a run annotates the line its report names, in the words of each mode', async (t) => {
    const { page, server } = session;
    await openFile(page, 'loops.py');
    await measureQuick(page, server, 1);
    first = expected(newestReport(server));
    assert.ok(first.some(([line, text]) => line === QUICK_POW.source && /^▲ blocked the loop [\d.]+ m?s inline\b/.test(text)),
      `the report puts quick's pow line on the loop: ${JSON.stringify(first)}`);
    await waitForAnnotations(page, first);
    t.diagnostic(`annotations: ${JSON.stringify(first)}`);
  });

  test('hovering the line shows its figures and the advice about it with the fix as a code block', async () => {
    const { page, server } = session;
    const report = newestReport(server);
    const advice = adviceFor(report, folder, path.join(folder, 'loops.py'), QUICK_POW.line, 'inline');
    assert.ok(advice, `advice for quick's line: ${JSON.stringify(report.advice.map((a) => [a.id, a.mode, a.at]))}`);
    const hover = await hoverLine(page, QUICK_POW.source);
    const text = await hover.innerText();
    assert.match(text, /quick blocked the loop [\d.]+ m?s inline: \d+% of the stalled time/);
    assert.ok(text.includes(advice.title.replace(/`/g, '')), `the advice's title "${advice.title}" in: ${text}`);
    if (advice.fix) {
      const code = await hover.locator('.monaco-tokenized-source').first().innerText();
      const firstLine = advice.fix.split('\n').find((l) => l.trim())!.trim();
      assert.ok(code.includes(firstLine), `the fix as a code block: ${code}`);
    }
    await page.keyboard.press('Escape');
    await page.mouse.move(0, 0);
  });

  test('looplag.annotations off removes them at once; on brings them back', async () => {
    const { page } = session;
    writeFolderSettings(folder, { 'looplag.annotations': false });
    await waitForAnnotations(page, []);
    writeFolderSettings(folder, { 'looplag.annotations': true });
    await waitForAnnotations(page, first);
  });

  test('an inserted line above moves the annotation with its line; typing on the line removes it', async () => {
    const { page } = session;
    await focusLoops(page);
    const top = async () => (await annotationLines(page)).find((a) => a.line === QUICK_POW.source)?.top;
    const before = await top();
    assert.ok(before !== undefined);
    await goToLine(page, QUICK_POW.line - 1); // `def quick(…)`: a new line above it
    await page.keyboard.press('Home');
    await page.keyboard.press('Enter');
    await waitUntil(async () => ((await top()) ?? 0) > before, 'the annotation of quick\'s line to move down with it');
    await waitForAnnotations(page, first);
    await goToLine(page, QUICK_POW.line + 1);
    await page.keyboard.press('End');
    await page.keyboard.type('  # edited');
    await waitForAnnotations(page, first.filter(([line]) => line !== QUICK_POW.source));
    await runCommand(page, 'File: Revert File');
    await waitUntil(async () => !(await editorText(page)).includes('# edited'), 'the file reverted');
  });

  test('the next run replaces them; Loop Lag: Clear Annotations removes them', async () => {
    const { page, server } = session;
    await measureQuick(page, server, 2);
    const second = expected(newestReport(server));
    assert.ok(second.length, 'the second report names a line too');
    await waitForAnnotations(page, second);
    await runCommand(page, 'Loop Lag: Clear Annotations');
    await waitForAnnotations(page, []);
  });

  test('a report picked from the history: only the user\'s own lines in the folder, still holding the measured text; HTML shown as text', async () => {
    const { page, server } = session;
    const [older] = historyFiles(server);
    const hostile = withHostileBlockers(Report.parse(JSON.parse(fs.readFileSync(older, 'utf8'))));
    fs.writeFileSync(older, JSON.stringify(hostile));
    await pickFromHistory(page, 'older');
    const want = expected(hostile);
    assert.deepEqual(want.map(([line]) => line), [CRUNCH_POW.source, QUICK_POW.source], 'not the stdlib frame, the file outside, nor the line whose text changed');
    await waitForAnnotations(page, want);
    const hover = await hoverLine(page, QUICK_POW.source);
    const text = await hover.innerText();
    assert.ok(text.includes(HOSTILE_TITLE), `the title, HTML as text: ${text}`);
    assert.equal(await hover.locator('b:text("hard"), img').count(), 0, 'no HTML from the report is rendered');
    assert.equal(await hover.locator('.monaco-tokenized-source span', { hasText: /^await$/ }).count(), 1, 'the fix highlighted as Python');
    await page.keyboard.press('Escape');
    await page.mouse.move(0, 0);
  });

  test('the next run replaces the picked report\'s annotations with its own', async () => {
    const { page, server } = session;
    await focusLoops(page);
    await measureQuick(page, server, 3);
    const third = expected(newestReport(server));
    assert.ok(!third.some(([line]) => line === CRUNCH_POW.source), 'quick\'s runs never name crunch\'s line');
    await waitForAnnotations(page, third);
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

function newestReport(server: CodeServer): Report {
  const files = historyFiles(server);
  assert.ok(files.length, 'a report in the history');
  return Report.parse(JSON.parse(fs.readFileSync(files[files.length - 1], 'utf8')));
}

/** Hover the text of a line of loops.py and wait for Loop Lag's hover. */
async function hoverLine(page: Page, text: string) {
  await editorLine(page, text).hover({ position: { x: 60, y: 5 } });
  const hover = page.locator('.monaco-hover:visible').filter({ hasText: 'Loop Lag' }).first();
  await hover.waitFor({ timeout: 15_000 });
  return hover;
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
 * A measured report whose inline run names, besides quick's line (with a figure of our
 * own), crunch's line, and lines that must not be annotated: a line whose text is not
 * the measured one, a stdlib frame, a file outside the folder; and advice about quick's
 * line whose title and detail hold HTML.
 */
function withHostileBlockers(report: Report): Report {
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
    id: 'inline-blocks-loop', severity: 'critical', mode: 'inline', title: HOSTILE_TITLE,
    detail: '`pow(365, exponent)` at loops.py:11 held the loop <img src=x onerror=alert(1)>',
    fix: 'await asyncio.to_thread(quick)', docs: null, at: { file: 'loops.py', line: QUICK_POW.line },
  };
  return { ...report, runs: report.runs.map((r) => (r.mode === 'inline' ? { ...r, blockers } : r)), advice: [advice, ...report.advice] };
}
