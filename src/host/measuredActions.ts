/**
 * Quick fixes on measured diagnostics, chosen by what was measured (report/measuredCalls.ts
 * `pythonFixes`): `asyncio.to_thread`, the module's process pool, a FastAPI endpoint made a
 * plain `def`; each a WorkspaceEdit from the src/fixes builders (imports added once, one undo
 * step), the one the measurement dictates `isPreferred`. Beside them, "Measure `fn()` again"
 * and "Show report". A builder that declines says why in the log, not in the menu.
 */
import * as vscode from 'vscode';
import { fastapiAsyncToDef, pythonProcessPool, pythonToThread } from '../fixes/editsPython';
import type { FixResult, TextEdit } from '../fixes/text';
import type { MeasuredFix } from '../report/measuredCalls';
import { COMMANDS, commandLink } from './ids';
import { MEASURED_CODE, toVsRange, type MeasuredDiagnostics } from './measuredDiagnostics';

const TITLES: { [F in MeasuredFix]: (fn: string) => string } = {
  'to-thread': (fn) => `Await ${fn} in a thread (asyncio.to_thread)`,
  'process-pool': (fn) => `Await ${fn} in a process pool (run_in_executor)`,
  'fastapi-def': () => 'Make the endpoint a plain def (FastAPI runs it in its threadpool)',
};

function build(fix: MeasuredFix, text: string, range: vscode.Range): FixResult {
  const call = { start: { line: range.start.line, character: range.start.character }, end: { line: range.end.line, character: range.end.character } };
  switch (fix) {
    case 'to-thread':
      return pythonToThread(text, call);
    case 'process-pool':
      return pythonProcessPool(text, call);
    case 'fastapi-def':
      return fastapiAsyncToDef(text, call.start);
  }
}

function toVsEdit(e: TextEdit): vscode.TextEdit {
  return new vscode.TextEdit(toVsRange(e.range), e.newText);
}

export class MeasuredCodeActions implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  constructor(private readonly diagnostics: Pick<MeasuredDiagnostics, 'lookup'>, private readonly log: vscode.LogOutputChannel) {}

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of context.diagnostics) {
      const code = typeof d.code === 'object' ? d.code.value : d.code;
      if (code !== MEASURED_CODE) continue;
      const entry = this.diagnostics.lookup(doc.uri, d);
      if (!entry) continue;
      const fn = `${entry.site.callee}()`;
      // An offloaded call is the pool's already: no rewrite of the call is the measurement's here.
      const fixes = entry.site.mode === 'inline' ? entry.judgement.fixes : [];
      for (const { fix, preferred } of fixes) {
        const result = build(fix, doc.getText(), d.range);
        if ('notOffered' in result) {
          this.log.info(`measured diagnostics: "${TITLES[fix](fn)}" not offered at ${vscode.workspace.asRelativePath(doc.uri)}:${d.range.start.line + 1}: ${result.notOffered}`);
          continue;
        }
        const action = new vscode.CodeAction(TITLES[fix](fn), vscode.CodeActionKind.QuickFix);
        action.diagnostics = [d];
        action.isPreferred = preferred;
        action.edit = new vscode.WorkspaceEdit();
        action.edit.set(doc.uri, result.edits.map(toVsEdit));
        out.push(action);
      }
      const s = entry.summary;
      const again = new vscode.CodeAction(`Measure ${s.qualname}() again`, vscode.CodeActionKind.QuickFix);
      again.diagnostics = [d];
      again.command = commandLink(COMMANDS.measureFunction, `Measure ${s.qualname}() again`, [vscode.Uri.file(s.file), s.qualname]);
      const show = new vscode.CodeAction('Show Loop Lag report', vscode.CodeActionKind.QuickFix);
      show.diagnostics = [d];
      show.command = commandLink(COMMANDS.showReport, 'Show Loop Lag report', []);
      out.push(again, show);
    }
    return out;
  }
}
