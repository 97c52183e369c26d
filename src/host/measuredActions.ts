/**
 * Quick fixes on measured diagnostics, chosen by what was measured (report/measuredCalls.ts
 * `pythonFixes`): `asyncio.to_thread`, the module's process pool, a FastAPI endpoint made a
 * plain `def`; each a WorkspaceEdit from the src/fixes builders (imports added once, one undo
 * step), the one the measurement dictates `isPreferred`. For a JS/TS call that worker threads
 * kept within budget (`nodeFixes`): a worker pool module created beside the function's module
 * (reused when it exists) and the call awaited through it. Beside them, "Measure `fn()` again"
 * and "Show report". A builder that declines says why in the log, not in the menu.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { workerPoolModule } from '../advice/snippets/node';
import { nodeWorkerPool, type PoolModule } from '../fixes/editsNodePool';
import { fastapiAsyncToDef, pythonProcessPool, pythonToThread } from '../fixes/editsPython';
import { eolOf, type FixResult, type TextEdit } from '../fixes/text';
import type { MeasuredFix } from '../report/measuredCalls';
import { COMMANDS, commandLink } from './ids';
import { MEASURED_CODE, toVsRange, type MeasuredDiagnostics } from './measuredDiagnostics';
import { jsFileFormat, readBounded, tsWorkerProblem } from './nodeProject';

const TITLES: { [F in MeasuredFix]: (fn: string) => string } = {
  'to-thread': (fn) => `Await ${fn} in a thread (asyncio.to_thread)`,
  'process-pool': (fn) => `Await ${fn} in a process pool (run_in_executor)`,
  'fastapi-def': () => 'Make the endpoint a plain def (FastAPI runs it in its threadpool)',
  'worker-pool': (fn) => `Await ${fn} in a worker pool module (worker_threads)`,
};

type Built = FixResult & { pool?: { file: string; module: PoolModule } };

async function build(fix: MeasuredFix, doc: vscode.TextDocument, text: string, range: vscode.Range, fnFile: string, qualname: string): Promise<Built> {
  const call = { start: { line: range.start.line, character: range.start.character }, end: { line: range.end.line, character: range.end.character } };
  switch (fix) {
    case 'worker-pool': {
      // The function's module as the editor has it (unsaved edits included), else from disk.
      const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === fnFile);
      const moduleText = open ? open.getText() : await readBounded(fnFile);
      if (moduleText === undefined) return { notOffered: `${fnFile} could not be read` };
      const [moduleFormat, callerFormat, tsNotLoadable] = await Promise.all([jsFileFormat(fnFile), jsFileFormat(doc.fileName), tsWorkerProblem(fnFile)]);
      return nodeWorkerPool(text, call, doc.fileName, { file: fnFile, qualname, moduleText, moduleFormat, tsNotLoadable }, callerFormat);
    }
    case 'to-thread':
      return pythonToThread(text, call);
    case 'process-pool':
      return pythonProcessPool(text, call);
    case 'fastapi-def':
      return fastapiAsyncToDef(text, call.start);
  }
}

/** The pool file as the editor has it (open, perhaps unsaved), else from disk; undefined when neither has it. */
async function readPool(file: string): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === file);
  return open ? open.getText() : readBounded(file);
}

function toVsEdit(e: TextEdit): vscode.TextEdit {
  return new vscode.TextEdit(toVsRange(e.range), e.newText);
}

export class MeasuredCodeActions implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  constructor(private readonly diagnostics: Pick<MeasuredDiagnostics, 'lookup'>, private readonly log: vscode.LogOutputChannel) {}

  async provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext, token?: vscode.CancellationToken): Promise<vscode.CodeAction[]> {
    const out: vscode.CodeAction[] = [];
    // Files are read between here and the answer: a cancelled request or an edited document gets none (its ranges are stale).
    const version = doc.version;
    const stale = () => Boolean(token?.isCancellationRequested) || doc.version !== version;
    for (const d of context.diagnostics) {
      const code = typeof d.code === 'object' ? d.code.value : d.code;
      if (code !== MEASURED_CODE) continue;
      const entry = this.diagnostics.lookup(doc.uri, d);
      if (!entry) continue;
      const fn = `${entry.site.callee}()`;
      // An offloaded call is the pool's already: no rewrite of the call is the measurement's here.
      const fixes = entry.site.mode === 'inline' ? entry.judgement.fixes : [];
      for (const { fix, preferred } of fixes) {
        const result = await build(fix, doc, doc.getText(), d.range, entry.summary.file, entry.summary.qualname);
        if (stale()) return [];
        if ('notOffered' in result) {
          this.log.info(`measured diagnostics: "${TITLES[fix](fn)}" not offered at ${vscode.workspace.asRelativePath(doc.uri)}:${d.range.start.line + 1}: ${result.notOffered}`);
          continue;
        }
        const action = new vscode.CodeAction(TITLES[fix](fn), vscode.CodeActionKind.QuickFix);
        action.diagnostics = [d];
        action.isPreferred = preferred;
        action.edit = new vscode.WorkspaceEdit();
        // One undo step: the pool module created (kept as it is when it exists: only the call's edits) and the call rewritten.
        if (result.pool) {
          const existing = await readPool(result.pool.file);
          if (stale()) return [];
          const stem = path.basename(entry.summary.file, path.extname(entry.summary.file));
          if (existing !== undefined && !existing.includes(`./${stem}.`)) {
            this.log.info(`measured diagnostics: "${TITLES[fix](fn)}" not offered at ${vscode.workspace.asRelativePath(doc.uri)}:${d.range.start.line + 1}: ${result.pool.file} exists and does not import ${path.basename(entry.summary.file)}`);
            continue;
          }
          if (existing === undefined) {
            const pool = vscode.Uri.file(result.pool.file);
            action.edit.createFile(pool, { ignoreIfExists: false });
            action.edit.insert(pool, new vscode.Position(0, 0), workerPoolModule(result.pool.module).replace(/\r?\n/g, eolOf(doc.getText())));
          }
        }
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
    return stale() ? [] : out;
  }
}
