/**
 * The end-to-end harness against a real workbench (code-server, Debian's Chromium):
 * start and stop, quick open, the palette, go to line, webviews, and, when
 * looplag.vsix has been built (`npm run package`), that the packaged extension installs
 * and its report panel opens. Loop Lag's own features are tested elsewhere.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { findLogFile } from '../support/codeServer';
import { useWorkbench, WorkbenchSession } from '../support/e2e';
import { processesWithTag, REPO, tmpDir } from '../support/helpers';
import {
  activeEditor, cursorPosition, editorTabs, goToLine, openFile, runCommand, visibleEditorLines, waitForLog, waitUntil, webviewFrame,
} from '../support/workbench';

const VSIX = path.join(REPO, 'looplag.vsix');

/** The last test of a suite: stop() ends code-server and all it started, and cleans up. */
function stopsCleanly(session: WorkbenchSession): void {
  test('stop() ends code-server and every process it started', async () => {
    assert.ok(processesWithTag(session.tag).length > 0, 'the tag reached code-server and its children');
    await session.page.close();
    await session.server.stop();
    assert.deepEqual(processesWithTag(session.tag), []);
    assert.equal(fs.existsSync(session.server.root), !!process.env.LOOPLAG_E2E_KEEP);
  });
}

describe('the workbench (built-in features only)', () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-');
    fs.mkdirSync(path.join(folder, 'pkg'));
    fs.writeFileSync(path.join(folder, 'demo.py'), [
      'def double(x):', '    return x * 2', '', '', 'print(double(2))',
      `# ${'a long comment '.repeat(40)}`, '',
    ].join('\n'));
    fs.writeFileSync(path.join(folder, 'pkg', 'demo.py'), 'VALUE = 1\n');
    fs.writeFileSync(path.join(folder, 'README.md'), '# Hello harness\n\nA paragraph.\n');
    return { folder };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('code-server starts quickly', (t) => {
    t.diagnostic(`code-server answered after ${session.startMs} ms; the workbench was ready ${session.workbenchMs} ms later`);
    assert.ok(session.startMs < 15_000, `started in ${session.startMs} ms`);
  });

  test('quick open opens a file by its path, also when another file has the same name', async () => {
    const { page } = session;
    await openFile(page, 'pkg/demo.py');
    await openFile(page, 'demo.py');
    const uri = await activeEditor(page).getAttribute('data-uri');
    assert.ok(uri?.endsWith(`${folder}/demo.py`), uri ?? 'no editor');
    assert.ok((await editorTabs(page)).includes('*demo.py'));
    assert.deepEqual((await visibleEditorLines(page)).slice(0, 2), ['def double(x):', '    return x * 2']);
  });

  test('go to line moves the cursor, and a built-in command runs from the palette', async () => {
    const { page } = session;
    await goToLine(page, 5);
    assert.deepEqual(await cursorPosition(page), { line: 5, column: 1 });
    // Word wrap splits the long comment over several view lines.
    const viewLines = async () => (await visibleEditorLines(page)).length;
    const before = await viewLines();
    await runCommand(page, 'View: Toggle Word Wrap');
    await waitUntil(async () => (await viewLines()) > before, 'the long line to wrap');
  });

  test('webviewFrame reaches the content of a built-in webview (Markdown preview)', async () => {
    const { page } = session;
    await openFile(page, 'README.md');
    await runCommand(page, 'Markdown: Open Preview to the Side');
    const frame = await webviewFrame(page, { extensionId: 'vscode.markdown-language-features', contains: 'Hello harness' });
    assert.equal((await frame.textContent('h1'))?.trim(), 'Hello harness');
  });

  stopsCleanly(session);
});

describe('Loop Lag installed from looplag.vsix', { skip: !fs.existsSync(VSIX) && 'no looplag.vsix: run `npm run package`' }, () => {
  let folder: string;
  const session = useWorkbench(() => {
    folder = tmpDir('looplag-e2e-');
    fs.cpSync(path.join(REPO, 'examples'), folder, { recursive: true });
    return { folder, vsix: VSIX };
  });
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('the extension is installed in the fresh extensions dir', () => {
    const installed = fs.readdirSync(session.server.extensionsDir);
    assert.ok(installed.some((d) => d.startsWith('looplag.looplag-')), JSON.stringify(installed));
  });

  test('"Loop Lag: Show Report" is in the palette and opens the empty report panel', async () => {
    const { page } = session;
    await runCommand(page, 'Loop Lag: Show Report');
    const frame = await webviewFrame(page, { extensionId: 'looplag.looplag', contains: 'No report yet' });
    assert.ok(await frame.$('.empty'), 'the report UI rendered its empty state');
  });

  test('the "Loop Lag" log channel is readable on disk under logsDir', async () => {
    // The command above activated the extension, which logs that it did.
    const file = () => findLogFile(session.server.logsDir, 'Loop Lag.log');
    const text = await waitForLog(file, /activated/);
    assert.match(file()!, /[/]exthost\d+[/]looplag\.looplag[/]Loop Lag\.log$/);
    assert.match(text, /\[info\] Loop Lag [\d.]+ activated/);
  });

  stopsCleanly(session);
});
