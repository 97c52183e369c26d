import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Report } from '../shared/protocol';
import type { ServeReport } from '../shared/protocol/serveReport';
import { userFrameLocation } from '../stats/callErrors';

/** Open `uri` with the cursor at the start of 1-based `line`, centred (e.g. a syntax error). */
export async function revealLine(uri: vscode.Uri, line: number): Promise<void> {
  const editor = await vscode.window.showTextDocument(uri);
  const pos = new vscode.Position(Math.max(0, line - 1), 0);
  editor.selection = new vscode.Selection(pos, pos);
  editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenter);
}

/**
 * The folder a report's workspace-relative paths (its blockers' files) are relative to:
 * the workspace folder holding the measured file, else that file's folder, as the run
 * used (runController's workspaceRoot, runSession's cwd). Null when the report names no
 * absolute file and no folder is open.
 */
export function reportRoot(report: Pick<Report, 'target'>): string | null {
  const target = report.target.file;
  if (path.isAbsolute(target)) {
    return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(target))?.uri.fsPath ?? path.dirname(target);
  }
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? null;
}

/** Inside `root` (or `root` itself is not a file to open): no `..` out, no other drive. */
function inside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel);
}

/**
 * A report's file as a path to open, or why not. A report is data (a crafted one can
 * name any path), so only files inside its workspace open: the path as written must
 * stay inside, and so must the real file behind any symlink (the sidecar calls a frame
 * the user's only when its real path is under the workspace's, so this refuses nothing
 * it reported as the user's).
 */
export async function resolveReportFile(root: string, file: string): Promise<{ path: string } | { refused: string }> {
  const candidate = path.resolve(root, file);
  if (!inside(root, candidate)) return { refused: `it is outside the report's workspace (${root})` };
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([fs.promises.realpath(candidate), fs.promises.realpath(root)]);
  } catch {
    return { refused: `it was not found in ${root}` };
  }
  if (!inside(realRoot, real)) return { refused: `it leads outside the report's workspace (${realRoot})` };
  return { path: candidate };
}

/**
 * Whether the report names `file` at `line`: a blocker's line or a frame of its stack, the
 * place of the error that stopped the run, or the user's innermost frame of a call that
 * raised (stats/callErrors.ts). These are the lines the panel offers.
 */
export function reportNamesLine(report: Pick<Report, 'runs' | 'diagnostic'> & Partial<Pick<Report, 'error'>>, file: string, line: number): boolean {
  const blockers = [...report.runs.flatMap((r) => r.blockers ?? []), ...(report.diagnostic?.blockers ?? [])];
  if (blockers.some((b) => (b.file === file && b.line === line) || b.stack.some((f) => f.file === file && f.line === line))) return true;
  if (report.error?.file === file && report.error.line === line) return true;
  return report.runs.some((r) => r.tasks.some((t) => {
    const at = t.error ? userFrameLocation(t.error.traceback) : null;
    return at !== null && at.file === file && at.line === line;
  }));
}

/**
 * Open a report's line (the panel's `openLocation`): only a line its blockers name, inside
 * its workspace; a refusal is shown, not thrown.
 */
export async function openReportLocation(report: Pick<Report, 'target' | 'runs' | 'diagnostic' | 'error'>, file: string, line: number, log: (text: string) => void): Promise<boolean> {
  const root = reportRoot(report);
  const resolved = !reportNamesLine(report, file, line) ? { refused: 'the report names no such line' }
    : root === null ? { refused: 'the report names no workspace to open it in' } : await resolveReportFile(root, file);
  if ('refused' in resolved) {
    log(`openLocation ${file}:${line} refused: ${resolved.refused}`);
    void vscode.window.showWarningMessage(`Loop Lag: cannot open ${file}: ${resolved.refused}.`);
    return false;
  }
  await revealLine(vscode.Uri.file(resolved.path), Math.max(1, line));
  return true;
}

/** Whether a serve document's blockers (merged, per process, per handler) name `file` at `line`, as the blocker's line or in its stack. */
export function serveNamesLine(report: Pick<ServeReport, 'variants'>, file: string, line: number): boolean {
  const blockers = report.variants.flatMap((v) => [
    ...v.blockers, ...v.loop.processes.flatMap((p) => p.blockers), ...v.byHandler.flatMap((h) => (h.topBlocker ? [h.topBlocker] : [])),
  ]);
  return blockers.some((b) => (b.file === file && b.line === line) || b.stack.some((f) => f.file === file && f.line === line));
}

/**
 * Open a serve document's blocking line (the panel's `openLocation` on a serve view): only
 * a line its blockers name, inside the workspace it was measured in; a refusal is shown.
 */
export async function openServeLocation(report: Pick<ServeReport, 'variants' | 'workspaceRoot'>, file: string, line: number, log: (text: string) => void): Promise<boolean> {
  const root = report.workspaceRoot;
  const resolved = !serveNamesLine(report, file, line) ? { refused: 'the report names no blocking line there' }
    : root === null ? { refused: 'the report names no workspace to open it in' } : await resolveReportFile(root, file);
  if ('refused' in resolved) {
    log(`openLocation ${file}:${line} refused: ${resolved.refused}`);
    void vscode.window.showWarningMessage(`Loop Lag: cannot open ${file}: ${resolved.refused}.`);
    return false;
  }
  await revealLine(vscode.Uri.file(resolved.path), Math.max(1, line));
  return true;
}
