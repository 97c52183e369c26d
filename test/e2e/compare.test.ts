/// <reference lib="dom" />
/**
 * Compare in a real VS Code (code-server, Debian's Chromium; issue 16): the same function
 * measured twice, 2,000,000 loop steps then 2,000, and the first picked with the history's
 * Compare. The panel shows one comparison: the verdict line, the older run as before, the
 * inline lag max fallen (▼, better: a call of ~100 ms and more on the loop against one of
 * well under a millisecond), and each mode's chart with both runs on one y scale.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Frame, Page } from 'playwright-core';
import { useWorkbench } from '../support/e2e';
import { FIXTURES, REPO, tmpDir } from '../support/helpers';
import { historyReports } from '../support/history';
import { answerInputBox, goToLine, openFile, runCommand, waitUntil, webviewFrame } from '../support/workbench';

const VSIX = path.join(REPO, 'looplag.vsix');
const EXTENSION_ID = 'looplag.looplag';
const RUN_TIMEOUT_MS = 120_000;
const skip = !fs.existsSync(VSIX) ? 'no looplag.vsix: run `npm run package`' : false;

describe('The report panel: compare two runs from the history', { skip }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-compare-');
    fs.cpSync(path.join(FIXTURES, 'python', 'compare'), folder, { recursive: true });
    return { folder, vsix: VSIX, userSettings: { 'looplag.concurrency': 2, 'looplag.python.modes': ['inline', 'thread'] } };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('Compare shows the deltas and both runs on the same axes', async () => {
    const { page, server } = session;
    await openFile(page, 'crunch.py');
    for (const n of ['2_000_000', '2_000']) {
      await goToLine(page, 4);
      const since = Date.now();
      await runCommand(page, 'Loop Lag: Measure Function');
      await answerInputBox(page, n);
      await waitForRun(page, since);
    }
    const [heavy, light] = historyReports(server).slice(-2);
    assert.match(heavy.target.args, /2_000_000/);
    const frame = await webviewFrame(page, { extensionId: EXTENSION_ID });
    // The history lists both; the older one's Compare button.
    await frame.click('section.history li:not(.current) button.small');
    await waitUntil(() => frame.$$eval('figure[data-chart^="compare-lag-"][data-y-max]', (f) => f.length === 2), 'the compare charts', 30_000);
    const seen = await frame.evaluate(() => {
      const row = document.querySelector('table[data-testid="deltas"] tr[data-mode="inline"][data-metric="max"]');
      return {
        verdict: document.querySelector('[data-testid="verdict-change"]')?.textContent ?? '',
        before: document.querySelector('[data-testid="headline-before"]')?.textContent ?? '',
        after: document.querySelector('[data-testid="headline-after"]')?.textContent ?? '',
        arrow: row?.querySelector('td.delta')?.getAttribute('data-arrow'),
        judgement: row?.querySelector('td.delta')?.getAttribute('data-judgement'),
        charts: Array.from(document.querySelectorAll('figure[data-chart^="compare-lag-"]')).map((f) => ({ yMax: f.getAttribute('data-y-max'), runs: f.getAttribute('data-runs') })),
        summaries: document.querySelectorAll('table[data-testid="summary"]').length,
      };
    });
    assert.match(seen.verdict, /^ Verdict (changed|unchanged): /);
    assert.equal(seen.before, heavy.headline);
    assert.equal(seen.after, light.headline);
    const heavyMax = heavy.runs.find((r) => r.mode === 'inline')!.lag.maxMs;
    const lightMax = light.runs.find((r) => r.mode === 'inline')!.lag.maxMs;
    assert.ok(heavyMax > 50 && lightMax < heavyMax / 5, `the two runs differ as their sizes do: inline lag max ${heavyMax} ms, then ${lightMax} ms`);
    assert.deepEqual([seen.arrow, seen.judgement], ['▼', 'better'], `inline lag max ${heavyMax} → ${lightMax} ms`);
    assert.equal(seen.summaries, 0, 'one comparison, not two reports side by side');
    assert.equal(new Set(seen.charts.map((c) => c.yMax)).size, 1, `one y scale: ${JSON.stringify(seen.charts)}`);
    assert.ok(seen.charts.every((c) => c.runs === '2'));
    await frame.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(REPO, 'out', 'screenshots', 'compare-e2e.png') });
  });
});

/** Waits until the panel shows a finished report made after `since`. */
async function waitForRun(page: Page, since: number): Promise<Frame> {
  let found: Frame | undefined;
  await waitUntil(async () => {
    try {
      const f = await webviewFrame(page, { extensionId: EXTENSION_ID, timeoutMs: 2_000 });
      const done = await f.evaluate((t) => {
        const created = document.querySelector('header time')?.getAttribute('datetime');
        return document.querySelector('[data-testid="running"]') === null && Boolean(created) && Date.parse(created!) >= t
          && document.querySelectorAll('figure[data-chart] canvas').length > 0;
      }, since);
      if (done) found = f;
      return done;
    } catch {
      return false;
    }
  }, 'a finished report in the panel', RUN_TIMEOUT_MS);
  return found!;
}
