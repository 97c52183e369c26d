/**
 * The extension's report history as code-server keeps it on disk, for the end-to-end tests:
 * storageUri is `<user-data-dir>/User/workspaceStorage/<workspace id>/looplag.looplag`.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Report, Sweep } from '../../src/shared/protocol';

const EXTENSION_ID = 'looplag.looplag';

/** The history's reports folder; undefined until a report was kept. */
export function historyDir(server: { userDataDir: string }): string | undefined {
  const root = path.join(server.userDataDir, 'User', 'workspaceStorage');
  if (!fs.existsSync(root)) return undefined;
  return fs.readdirSync(root).map((id) => path.join(root, id, EXTENSION_ID, 'history', 'reports')).find((d) => fs.existsSync(d));
}

/** Every report in the history, oldest first. */
export function historyReports(server: { userDataDir: string }): Report[] {
  const dir = historyDir(server);
  if (!dir) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
    .map((f) => Report.parse(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))))
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
}

/** The history's newest report. */
export function newestReport(server: { userDataDir: string }): Report {
  const reports = historyReports(server);
  assert.ok(reports.length, 'a report in the history');
  return reports[reports.length - 1];
}

/** Every worker sweep the history kept (its `sweeps` folder beside `reports`), oldest first. */
export function historySweeps(server: { userDataDir: string }): Sweep[] {
  const reports = historyDir(server);
  const dir = reports && path.join(path.dirname(reports), 'sweeps');
  if (!dir || !fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
    .map((f) => Sweep.parse(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))))
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
}
