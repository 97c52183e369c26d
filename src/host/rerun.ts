/**
 * Re-run of a report on show: after a window reload (or when an older report is picked from
 * the history) the request that made it went with the old extension host, so its target and
 * arguments are measured again with today's settings and interpreter.
 */
import * as vscode from 'vscode';
import type { Report } from '../shared/protocol';
import { readSettings } from './config';
import { resolveRuntime } from './interpreter';
import type { RunRequest } from './runController';

/** The request measured this report's target with these arguments. */
export function sameTarget(request: RunRequest | undefined, report: Report): boolean {
  return Boolean(request && request.uri.fsPath === report.target.file && request.qualname === report.target.qualname &&
    JSON.stringify(request.lines) === JSON.stringify(report.target.lines) && request.args === report.target.args);
}

/** A request that measures a report's target again, with today's interpreter for its file. */
export async function requestFor(report: Report, log: vscode.LogOutputChannel): Promise<RunRequest> {
  const { file, language, qualname, lines, args } = report.target;
  const uri = vscode.Uri.file(file);
  const settings = readSettings(uri, language);
  return {
    uri, language, qualname, lines, args,
    label: qualname ?? `lines ${lines?.start}-${lines?.end}`,
    settings,
    interpreter: await resolveRuntime(uri, language, settings, log),
    workspaceRoot: vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? null,
  };
}
