/** The status bar describes one run: its click shows that run, whatever was picked since (issue 16). */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import * as vscode from 'vscode';
import { ReportView } from '../../src/host/reportView';
import { HistoryStore } from '../../src/report/historyStore';
import { Report } from '../../src/shared/protocol';
import * as fake from '../support/fakeVscode';
import { FIXTURES } from '../support/helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-statusbar-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function load(name: string): Report {
  return Report.parse(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', name), 'utf8')));
}

test('showReport(id) puts that run of the history on show; without an id the panel stays as it is', async () => {
  const log = (fake.window as unknown as { createOutputChannel(): vscode.LogOutputChannel }).createOutputChannel();
  const view = new ReportView(vscode.Uri.file('/ext'), new HistoryStore(path.join(tmp, 'history')), log, {
    active: () => undefined, lagBudgetMs: () => 100, rerun: async () => undefined, cancel: () => undefined,
  });
  const first = load('numpy-matmul-threads.json');
  const second = load('cpu-bound-python.json');
  const firstId = await view.runFinished(first, 'first', 'h1');
  await view.runFinished(second, 'second', 'h2');
  assert.ok(firstId);
  assert.equal(view.shownReport?.target.qualname, second.target.qualname);
  await view.showReport();
  assert.equal(view.shownReport?.target.qualname, second.target.qualname, 'no id: as it is');
  await view.showReport(firstId!);
  assert.equal(view.shownReport?.target.qualname, first.target.qualname, 'the status bar\'s run');
  assert.notEqual(first.target.qualname, second.target.qualname);
});
