/// <reference lib="dom" />
/**
 * The panel's header counts requests for a route (issue 16, "in the framework's words"):
 * with report target.framework set, the settings line says "3 concurrent requests";
 * without, "3 concurrent calls" as before. The real webview bundle in Chromium.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Framework, Report } from '../../src/shared/protocol';
import { panelHarness } from '../support/browser';
import { FIXTURES } from '../support/helpers';

const ROUTE: Framework = { name: 'fastapi', route: 'GET /report', runsIn: 'threadpool', threadpoolSize: 40 };
const harness = panelHarness({ before, after }, 'looplag-route-header-');

function fixture(framework?: Framework): Report {
  const r = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'cpu-bound-python.json'), 'utf8')));
  if (framework) r.target.framework = framework;
  return r;
}

/** The header's meta line of `report` drawn by the panel. */
async function headerMeta(report: Report): Promise<string> {
  const page = await harness.open({ width: 800, height: 1000 });
  try {
    await page.evaluate((m) => window.postMessage(m, '*'), {
      type: 'state', currentId: 'r1', current: report, compare: null, history: [], running: null, options: { lagBudgetMs: 100, host: 'vscode' },
    });
    await page.waitForSelector('header .meta');
    return await page.innerText('header .meta');
  } finally {
    await page.close();
  }
}

test('the panel\'s header: "concurrent requests" for a route, "concurrent calls" otherwise', async () => {
  const n = fixture().settings.concurrency;
  assert.match(await headerMeta(fixture(ROUTE)), new RegExp(`\\b${n} concurrent requests · workers`));
  const plain = await headerMeta(fixture());
  assert.match(plain, new RegExp(`\\b${n} concurrent calls · workers`));
  assert.doesNotMatch(plain, /requests/);
});
