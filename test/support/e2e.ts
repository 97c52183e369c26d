/**
 * One end-to-end session per `describe`: code-server on a folder, Debian's Chromium and
 * a workbench page, stopped after the suite; a failed test leaves a screenshot and
 * code-server's logs in out/e2e/ for the post-mortem.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser';
import { CodeServer, CodeServerOptions, startCodeServer } from './codeServer';
import { newTag, REPO } from './helpers';
import { openWorkbench } from './workbench';

export const E2E_OUT = path.join(REPO, 'out', 'e2e');

export interface WorkbenchSession {
  server: CodeServer;
  browser: Browser;
  page: Page;
  /** LOOPLAG_TEST_TAG in the environment of code-server and all it starts (see processesWithTag). */
  tag: string;
  /** From spawning code-server until it answered HTTP. */
  startMs: number;
  /** From then until the workbench showed the folder. */
  workbenchMs: number;
}

/**
 * Register the hooks of a session inside a `describe`; `options` is called in `before`
 * (so it can create the folder). The returned object is filled in by then.
 */
export function useWorkbench(options: () => CodeServerOptions): WorkbenchSession {
  const session = { tag: newTag() } as WorkbenchSession;
  let closeBrowser: (() => Promise<void>) | undefined;
  before(async () => {
    const opts = options();
    ({ browser: session.browser, close: closeBrowser } = await launchChromium());
    const t0 = Date.now();
    session.server = await startCodeServer({ ...opts, env: { ...opts.env, LOOPLAG_TEST_TAG: session.tag } });
    session.startMs = Date.now() - t0;
    session.page = await openWorkbench(session.browser, session.server.url, opts.folder);
    session.workbenchMs = Date.now() - t0 - session.startMs;
  });
  afterEach(async (t) => {
    // TestContext.passed exists since Node 20.13; @types/node 20.19 does not declare it.
    if ((t as { passed?: boolean }).passed === false && session.server) await saveArtifacts(t.name, session);
  });
  after(async () => {
    await closeBrowser?.();
    await session.server?.stop();
  });
  return session;
}

async function saveArtifacts(testName: string, session: WorkbenchSession): Promise<void> {
  const dir = path.join(E2E_OUT, testName.replace(/[^\w.-]+/g, '-').slice(0, 80));
  fs.mkdirSync(dir, { recursive: true });
  if (session.page && !session.page.isClosed()) {
    await session.page.screenshot({ path: path.join(dir, 'workbench.png') }).catch(() => undefined);
  }
  for (const [from, to] of [[session.server.serverLog, 'code-server.log'], [session.server.logsDir, 'logs']]) {
    if (fs.existsSync(from)) fs.cpSync(from, path.join(dir, to), { recursive: true });
  }
  console.error(`e2e: screenshot and logs of "${testName}" in ${dir}`);
}
