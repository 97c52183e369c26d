/**
 * The panel's Export JSON and Save HTML: a save dialog in the workspace, then the same
 * atomic write the CLI uses.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../report/export';
import type { Report } from '../shared/protocol';

export type ExportKind = 'json' | 'html' | 'sweep' | 'sweepHtml' | 'serve' | 'serveHtml';

const FILTERS: { [K in ExportKind]: Record<string, string[]> } = {
  json: { 'Loop Lag report': ['json'] },
  html: { 'HTML page': ['html'] },
  sweep: { 'Loop Lag worker sweep': ['json'] },
  sweepHtml: { 'HTML page': ['html'] },
  serve: { 'Loop Lag service report': ['json'] },
  serveHtml: { 'HTML page': ['html'] },
};

/** `looplag-<function>.json`, `.html`, `looplag-sweep-<function>.json`, `.html`, `looplag-serve-<app>.json`, `looplag-serve-<app>.html` */
export function exportFileName(target: Pick<Report['target'], 'qualname'>, kind: ExportKind): string {
  const name = (target.qualname ?? 'snippet').replace(/[^\w.-]+/g, '_');
  if (kind === 'sweep' || kind === 'serve') return `looplag-${kind}-${name}.json`;
  if (kind === 'serveHtml') return `looplag-serve-${name}.html`;
  if (kind === 'sweepHtml') return `looplag-sweep-${name}.html`;
  return `looplag-${name}.${kind}`;
}

/** Asks where, then writes `data` there atomically; the path written, or undefined when the user cancelled. */
export async function saveDocument(target: Pick<Report['target'], 'file' | 'qualname'>, kind: ExportKind, data: string): Promise<string | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(path.dirname(target.file));
  const saved = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(folder, exportFileName(target, kind)), filters: FILTERS[kind] });
  if (!saved) return undefined;
  await writeFileAtomic(saved.fsPath, data);
  return saved.fsPath;
}
