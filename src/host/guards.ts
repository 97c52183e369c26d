/**
 * What every command that runs user code checks first: workspace trust, and the file on
 * disk being the file in the editor.
 */
import * as vscode from 'vscode';
import { readSettings } from './config';
import { SECTION } from './ids';

/** Untrusted code never runs: the command explains why instead (`why`: the command's own reason). */
export function requireTrust(why = 'Loop Lag runs your code to measure it, so it only runs in a trusted workspace.'): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(why, 'Manage Workspace Trust').then((pick) => pick && vscode.commands.executeCommand('workbench.trust.manage'));
  return false;
}

/** The sidecar (or the server) reads the file from disk: unsaved edits must be saved (or the run skipped). */
export async function ensureSaved(doc: vscode.TextDocument): Promise<boolean> {
  if (doc.isUntitled) {
    void vscode.window.showWarningMessage('Loop Lag: save the file first; the measurement runs the file on disk.');
    return false;
  }
  if (!doc.isDirty) return true;
  if (readSettings(doc.uri).saveBeforeRun === 'always') return doc.save();
  const pick = await vscode.window.showWarningMessage(
    `${vscode.workspace.asRelativePath(doc.uri)} has unsaved changes; Loop Lag measures the file on disk.`,
    'Save & Measure', 'Always Save',
  );
  if (pick === 'Always Save') await vscode.workspace.getConfiguration(SECTION, doc.uri).update('saveBeforeRun', 'always', vscode.ConfigurationTarget.Global);
  return pick ? doc.save() : false;
}
