/**
 * The code actions before any measurement (issue 15):
 *  - on a "may block the loop" hint: the Node `…Sync` call's awaited twin (preferred: it
 *    returns the same value), and "Loop Lag: Measure `caller()`", the function the call sits
 *    in — or, when that cannot be measured on its own, the same action disabled with why;
 *  - "Loop Lag: Measure this call" on a call, in code that runs on the loop, to a function of
 *    the workspace not measured yet: Measure Function on the callee's definition with the
 *    argument prompt pre-filled with the call's own arguments (src/fixes/callArgs.ts).
 * Both are `quickfix` kinds: VS Code shows the lightbulb at a cursor (an empty selection)
 * for quick fixes only, and the Measure actions belong where the user looks at the call.
 * The menu is judged from the text (bounded like the hints); the run's own checks decide.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { nodeSyncToAsync, type Finding, type ModuleFormat } from '../fixes';
import { callSiteAt, definitionAt, enclosingFunction, parseSource, type CallSite, type ParsedSource } from '../fixes/callSite';
import { resolveCallee, type Definition, type ReadFile } from '../fixes/resolveCallee';
import { languageOfDocument } from '../engine/languageTools';
import type { LanguageName } from '../shared/modes';
import { BlockingHints, MAX_HINT_CHARS, MAX_HINT_LINES } from './hints';
import { COMMANDS, commandLink } from './ids';

/** What "Measure this call" needs of the run controller: whether a function was measured. */
export interface MeasuredLookup {
  headlineFor(file: string, qualname: string): unknown;
}

const KIND = vscode.CodeActionKind.QuickFix.append('looplag');
const UNTRUSTED = 'Loop Lag runs your code to measure it: trust this workspace first (Manage Workspace Trust)';
/** The call's text in a title is cut to this many characters. */
const TITLE_CALL_CHARS = 48;

/** Callee resolutions kept (document version × callee); all dropped when full. */
const RESOLVED_KEPT = 200;

export class HintActions implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [KIND] };

  /** The last document parsed, at its version: the lightbulb asks again at every cursor move. */
  private parsed: { uri: string; version: number; source: ParsedSource } | undefined;
  private readonly resolved = new Map<string, Promise<Definition | undefined>>();

  constructor(private readonly hints: BlockingHints, private readonly measured: MeasuredLookup, private readonly log: vscode.LogOutputChannel) {}

  /**
   * Where a callee is defined, once per document version and callee: the lightbulb asks at
   * every cursor move, and resolving parses this file and the modules it imports.
   */
  private resolve(doc: vscode.TextDocument, text: string, language: LanguageName, callee: string, roots: string[]): Promise<Definition | undefined> {
    const key = `${doc.uri.toString()}@${doc.version}:${callee}`;
    let found = this.resolved.get(key);
    if (!found) {
      if (this.resolved.size >= RESOLVED_KEPT) this.resolved.clear();
      found = resolveCallee(doc.uri.fsPath, text, language, callee, readFile, roots).catch(() => undefined);
      this.resolved.set(key, found);
    }
    return found;
  }

  private parse(doc: vscode.TextDocument, text: string, language: LanguageName): ParsedSource {
    const uri = doc.uri.toString();
    if (this.parsed?.uri !== uri || this.parsed.version !== doc.version) this.parsed = { uri, version: doc.version, source: parseSource(text, language) };
    return this.parsed.source;
  }

  async provideCodeActions(doc: vscode.TextDocument, range: vscode.Range, context: vscode.CodeActionContext, token: vscode.CancellationToken): Promise<vscode.CodeAction[]> {
    const language = languageOfDocument(doc.languageId);
    if (!language || doc.lineCount > MAX_HINT_LINES) return [];
    const text = doc.getText();
    if (text.length > MAX_HINT_CHARS) return [];
    const actions: vscode.CodeAction[] = [];
    const hinted: vscode.Range[] = [];
    for (const d of context.diagnostics) {
      if (!this.hints.isHint(d)) continue;
      const finding = this.hints.findingAt(doc, d.range);
      if (!finding) continue;
      hinted.push(d.range);
      if (language !== 'python') {
        const twin = this.asyncTwin(doc, text, finding, d, await packageFormat(doc.uri.fsPath));
        if (twin) actions.push(twin);
      }
      actions.push(this.measureCaller(doc, text, language, d, this.parse(doc, text, language)));
    }
    if (token.isCancellationRequested) return actions;
    const call = callSiteAt(text, language, doc.offsetAt(range.start), this.parse(doc, text, language));
    const callRange = call && new vscode.Range(call.range.start.line, call.range.start.character, call.range.end.line, call.range.end.character);
    // A hinted call is a library's: its own actions are above.
    if (call?.onLoop && callRange && !hinted.some((r) => r.isEqual(callRange))) {
      // The language server is asked only when the user asks (Ctrl+.), not at every cursor move.
      const action = await this.measureThisCall(doc, text, language, call, context.triggerKind === vscode.CodeActionTriggerKind.Invoke, token);
      if (action) actions.push(action);
    }
    return actions;
  }

  /** `fs.readFileSync(p)` → `await readFile(p)` with its import, when the call has such a twin. */
  private asyncTwin(doc: vscode.TextDocument, text: string, finding: Finding, d: vscode.Diagnostic, format: ModuleFormat | undefined): vscode.CodeAction | undefined {
    const result = nodeSyncToAsync(text, finding.range, doc.fileName, format);
    if ('notOffered' in result) {
      this.log.debug(`hints: no async twin for ${doc.getText(d.range)}: ${result.notOffered}`);
      return undefined;
    }
    const edit = new vscode.WorkspaceEdit();
    for (const e of result.edits) edit.replace(doc.uri, new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character), e.newText);
    // Named as the reference lists name it (`fs.readFileSync` → `fs.readFile`), whatever the file's alias.
    const action = new vscode.CodeAction(`Loop Lag: Use the asynchronous ${finding.api.replace(/Sync$/, '')} (awaited)`, KIND);
    action.edit = edit;
    action.diagnostics = [d];
    action.isPreferred = true;
    return action;
  }

  /** Measure the function the hinted call sits in, or say why it cannot be measured on its own. */
  private measureCaller(doc: vscode.TextDocument, text: string, language: LanguageName, d: vscode.Diagnostic, parsed: ParsedSource): vscode.CodeAction {
    const caller = enclosingFunction(text, language, doc.offsetAt(d.range.start), parsed);
    const action = new vscode.CodeAction(`Loop Lag: Measure \`${caller?.name ?? 'the caller'}()\``, KIND);
    action.diagnostics = [d];
    if (!caller || 'notMeasurable' in caller) action.disabled = { reason: caller?.notMeasurable ?? 'the call is in no function' };
    else if (!vscode.workspace.isTrusted) action.disabled = { reason: UNTRUSTED };
    else action.command = commandLink(COMMANDS.measureFunction, action.title, [doc.uri, caller.qualname]);
    return action;
  }

  private async measureThisCall(doc: vscode.TextDocument, text: string, language: LanguageName, call: CallSite, invoked: boolean, token: vscode.CancellationToken): Promise<vscode.CodeAction | undefined> {
    const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const def = (await this.resolve(doc, text, language, call.callee, roots))
      ?? (invoked ? await this.fromDefinitionProvider(doc, call, token) : undefined);
    if (!def || token.isCancellationRequested) return undefined;
    const target = vscode.Uri.file(def.file);
    // A function of the workspace (not a library's), in a language Loop Lag measures, not measured yet.
    if (!vscode.workspace.getWorkspaceFolder(target) || !measurableFile(def.file)) return undefined;
    if (this.measured.headlineFor(def.file, def.qualname) !== undefined) return undefined;
    const shown = `${call.callee}(${call.args.text})`;
    const action = new vscode.CodeAction(`Loop Lag: Measure this call: ${shown.length > TITLE_CALL_CHARS ? `${shown.slice(0, TITLE_CALL_CHARS - 1)}…` : shown}`, KIND);
    if (!vscode.workspace.isTrusted) action.disabled = { reason: UNTRUSTED };
    else {
      const { text: args, placeholder } = call.args;
      action.command = commandLink(COMMANDS.measureCall, action.title, placeholder ? [target, def.qualname, args, placeholder] : [target, def.qualname, args]);
    }
    return action;
  }

  /** A language server's answer (TypeScript's, Pylance's) when the imports alone did not say. */
  private async fromDefinitionProvider(doc: vscode.TextDocument, call: CallSite, token: vscode.CancellationToken): Promise<Definition | undefined> {
    // The callee's last name: `pkg.render` → on `render`.
    const at = doc.positionAt(doc.offsetAt(new vscode.Position(call.range.start.line, call.range.start.character)) + call.callee.length - 1);
    let found: (vscode.Location | vscode.LocationLink)[] | undefined;
    try {
      found = await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', doc.uri, at);
    } catch {
      return undefined;
    }
    const first = found?.[0];
    if (!first || token.isCancellationRequested) return undefined;
    const uri = 'targetUri' in first ? first.targetUri : first.uri;
    const pos = 'targetUri' in first ? (first.targetSelectionRange ?? first.targetRange).start : first.range.start;
    const language = languageOfFile(uri.fsPath);
    if (uri.scheme !== 'file' || !language) return undefined;
    const text = await readFile(uri.fsPath);
    if (text === undefined) return undefined;
    const lines = text.split('\n');
    const offset = lines.slice(0, pos.line).reduce((n, l) => n + l.length + 1, 0) + pos.character;
    const target = definitionAt(text, language, offset);
    return target && 'qualname' in target ? { file: uri.fsPath, qualname: target.qualname } : undefined;
  }
}

/** The editor's text of an open document (unsaved edits included), else the file on disk, bounded. */
const readFile: ReadFile = async (file) => {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === file);
  if (open) return open.getText();
  try {
    const stat = await fs.promises.stat(file);
    return stat.isFile() && stat.size <= MAX_HINT_CHARS ? await fs.promises.readFile(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
};

const FILE_LANGUAGES: { readonly [ext: string]: LanguageName } = {
  '.py': 'python', '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript', '.jsx': 'javascript',
  '.ts': 'typescript', '.mts': 'typescript', '.cts': 'typescript', '.tsx': 'typescript',
};

function languageOfFile(file: string): LanguageName | undefined {
  return FILE_LANGUAGES[path.extname(file).toLowerCase()];
}

function measurableFile(file: string): boolean {
  return languageOfFile(file) !== undefined && !file.split(path.sep).includes('node_modules') && !/[\\/]site-packages[\\/]/.test(file);
}

/** A `.js` file's module format from the nearest package.json's "type" (else the file's own imports decide). */
async function packageFormat(file: string): Promise<ModuleFormat | undefined> {
  if (path.extname(file) !== '.js') return undefined;
  for (let dir = path.dirname(file), i = 0; i < 32; dir = path.dirname(dir), i++) {
    const text = await readFile(path.join(dir, 'package.json'));
    if (text !== undefined) {
      try {
        return (JSON.parse(text) as { type?: unknown }).type === 'module' ? 'esm' : 'cjs';
      } catch {
        return undefined;
      }
    }
    if (path.dirname(dir) === dir) break;
  }
  return undefined;
}
