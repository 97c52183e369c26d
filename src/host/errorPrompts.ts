/**
 * A failed run (or sweep) says what went wrong and offers the fix where there is one:
 * the line of a syntax error, the interpreter setting, the time limit.
 */
import * as vscode from 'vscode';
import type { RunError } from '../shared/protocol';
import { offerInterpreterFix } from './interpreter';
import type { Language } from '../shared/protocol';
import { revealLine } from './reveal';

/**
 * `cancelled` is the sentence for a cancel (what was measured before it). `uri` is the
 * measured file, opened at the error's line when the error names no other file.
 */
export async function explainFailure(
  err: RunError, request: { uri: vscode.Uri; language: Language }, cancelled: string, log: vscode.LogOutputChannel,
): Promise<void> {
  const text = `Loop Lag: ${err.message}`;
  switch (err.kind) {
    case 'cancelled':
      return void vscode.window.showInformationMessage(`Loop Lag: ${cancelled}.`);
    case 'interpreter-not-found':
      return offerInterpreterFix(text, request.language);
    case 'syntax-error':
    case 'import-error': {
      const pick = await vscode.window.showErrorMessage(text, ...(err.line ? ['Go to Line'] : []), 'Show Output');
      if (pick === 'Go to Line' && err.line) await revealLine(err.file ? vscode.Uri.file(err.file) : request.uri, err.line);
      if (pick === 'Show Output') log.show(true);
      if (err.detail) log.error(err.detail);
      return;
    }
    case 'timeout': {
      const pick = await vscode.window.showWarningMessage(`${text}. Raise looplag.timeoutSeconds for longer runs.`, 'Open Settings');
      if (pick) await vscode.commands.executeCommand('workbench.action.openSettings', 'looplag.timeoutSeconds');
      return;
    }
    default: {
      if (err.detail) log.error(err.detail);
      const pick = await vscode.window.showErrorMessage(text, 'Show Output');
      if (pick) log.show(true);
    }
  }
}
