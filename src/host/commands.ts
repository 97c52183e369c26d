/**
 * The commands: from the editor (or a CodeLens) to a RunRequest. Every refusal is a
 * specific message, shown before anything runs.
 */
import * as vscode from 'vscode';
import { readSettings, sweepWorkerCounts } from './config';
import { CommandHandlers, COMMANDS, registerCommands } from './ids';
import { candidatesFor, hostRuntime, offerInterpreterFix, resolveRuntime } from './interpreter';
import { revealLine } from './reveal';
import { checkCallArgs, Language, languageOfDocument, outlineFile, OutlineFunction, runtimeNoun, ToolRuntime } from '../engine/languageTools';
import type { EditorAnnotations } from './annotations';
import type { RunController, RunRequest } from './runController';
import { argsPromptText, checkMeasurable, pickTarget, requiredParams, signatureText } from './targetPicker';
import { EndpointCommand } from './serveCommand';
import { ensureSaved, requireTrust } from './guards';
import type { InterpreterStatusBar } from './interpreterStatus';

/** The walkthrough's example (shipped in the VSIX: .vscodeignore). */
export const EXAMPLE = { file: ['examples', 'python', 'cpu_bound.py'], qualname: 'cpu_bound_task' } as const;

/** The argument prompt's text to start from, and a range of it to select. */
interface InitialArgs {
  text: string;
  selection?: [number, number];
}

type Target = { qualname: string; fn: OutlineFunction; lines: null } | { qualname: null; fn: null; lines: { start: number; end: number } };

/** What to do with the target: measure it in every mode, or sweep the pool sizes (with these counts). */
type Action = { kind: 'measure' } | { kind: 'sweep'; workers: number[] };

export class Commands {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly runs: RunController,
    private readonly log: vscode.LogOutputChannel,
    private readonly annotations: Pick<EditorAnnotations, 'clear'>,
    private readonly interpreters: Pick<InterpreterStatusBar, 'select'>,
  ) {
    this.endpoints = new EndpointCommand(context, runs, log);
  }

  private readonly endpoints: EndpointCommand;

  /** Every command's handler, typed by its arguments (ids.ts `CommandTypes`). */
  handlers(): CommandHandlers {
    return {
      [COMMANDS.measure]: () => this.measureFromEditor(),
      [COMMANDS.sweep]: () => this.sweepFromEditor(),
      [COMMANDS.showSweep]: (...[id]) => this.runs.showSweep(typeof id === 'string' ? id : undefined),
      [COMMANDS.measureFunction]: (uri, qualname) => this.measureFunction(uri, qualname),
      // Optional (rest) argument: the palette runs it with none, the status bar with its run's id.
      [COMMANDS.showReport]: (...[id]) => this.runs.showReport(typeof id === 'string' ? id : undefined),
      [COMMANDS.openSettings]: () => vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${this.context.extension.id}`),
      [COMMANDS.cancel]: () => this.runs.cancel('cancelled by the user'),
      [COMMANDS.clearAnnotations]: () => this.annotations.clear(),
      // Both arguments optional (the palette passes none, a CodeLens both): no required parameter.
      [COMMANDS.measureEndpoint]: (...args) => this.endpoints.measureEndpoint(...args),
      [COMMANDS.showServe]: async () => (await this.runs.reportView.showServe()) || this.runs.showReport(),
      [COMMANDS.measureCall]: (uri, qualname, args, selection) => this.measureFunction(uri, qualname, { text: args, selection }),
      [COMMANDS.selectPythonInterpreter]: () => this.interpreters.select(),
      [COMMANDS.measureExample]: () => this.measureExample(),
    };
  }

  register(): vscode.Disposable[] {
    return registerCommands(this.handlers());
  }

  private trusted(): boolean {
    return requireTrust();
  }

  measureFromEditor(): Promise<void> {
    return this.fromEditor(() => ({ kind: 'measure' }));
  }

  /**
   * Loop Lag: Sweep Worker Counts: the target is picked as for Measure Function; a bad
   * `looplag.sweep.workers` entry is said (with the setting to fix it) before anything else.
   */
  sweepFromEditor(): Promise<void> {
    return this.fromEditor((uri) => {
      const workers = sweepWorkerCounts(readSettings(uri));
      if ('counts' in workers) return { kind: 'sweep', workers: workers.counts };
      void vscode.window.showErrorMessage(`Loop Lag: looplag.sweep.workers: ${workers.error}. Nothing was run.`, 'Open Settings')
        .then((pick) => pick && vscode.commands.executeCommand('workbench.action.openSettings', 'looplag.sweep.workers'));
      return undefined;
    });
  }

  private async fromEditor(action: (uri: vscode.Uri) => Action | undefined): Promise<void> {
    if (!this.trusted()) return;
    const editor = vscode.window.activeTextEditor;
    const language = editor && languageOfDocument(editor.document.languageId);
    if (!editor || !language) {
      void vscode.window.showWarningMessage('Loop Lag: open a Python, JavaScript or TypeScript file and put the cursor in a function (or select the lines to measure).');
      return;
    }
    const doc = editor.document;
    const what = action(doc.uri);
    if (!what) return;
    if (!(await this.ensureSaved(doc))) return;
    const sel = editor.selection;
    // A selection that ends at column 0 of a line does not include that line.
    const endLine = sel.end.line + (sel.end.character === 0 && sel.end.line > sel.start.line ? 0 : 1);
    const context = await this.prepare(doc.uri, language);
    if (!context) return;
    const picked = pickTarget(context.functions, { startLine: sel.start.line + 1, endLine, empty: sel.isEmpty, cursorLine: sel.active.line + 1 }, language);
    if (picked.kind === 'refused') {
      void vscode.window.showWarningMessage(`Loop Lag: ${picked.message}`);
      return;
    }
    const target: Target = picked.kind === 'function'
      ? { qualname: picked.fn.qualname, fn: picked.fn, lines: null }
      : { qualname: null, fn: null, lines: { start: picked.start, end: picked.end } };
    await this.start(doc.uri, target, context, what);
  }

  /**
   * The walkthrough's example: the bundled `examples/python/cpu_bound.py` shown at
   * `cpu_bound_task` and measured like its CodeLens would (Restricted Mode: explained).
   */
  async measureExample(): Promise<void> {
    if (!this.trusted()) return;
    const uri = vscode.Uri.joinPath(this.context.extensionUri, ...EXAMPLE.file);
    const doc = await vscode.workspace.openTextDocument(uri);
    const line = doc.getText().split(/\r?\n/).findIndex((l) => l.startsWith(`def ${EXAMPLE.qualname}(`));
    const at = new vscode.Position(Math.max(0, line), 0);
    await vscode.window.showTextDocument(doc, { selection: new vscode.Selection(at, at), preview: false });
    await this.measureFunction(uri, EXAMPLE.qualname);
  }

  /**
   * Measure a function by file and qualname (the CodeLens, the hints' actions); `initial`:
   * "Measure this call" opens the argument prompt with the call's own arguments instead of
   * last time's, even when no parameter is required, so what will run is seen first.
   */
  async measureFunction(uri: vscode.Uri, qualname: string, initial?: InitialArgs): Promise<void> {
    if (!this.trusted()) return;
    const doc = await vscode.workspace.openTextDocument(uri);
    const language = languageOfDocument(doc.languageId);
    if (!language) {
      void vscode.window.showWarningMessage(`Loop Lag: ${vscode.workspace.asRelativePath(uri)} is not a Python, JavaScript or TypeScript file.`);
      return;
    }
    if (!(await this.ensureSaved(doc))) return;
    const context = await this.prepare(uri, language);
    if (!context) return;
    // A JS default import is called by the name it is exported as (`default`): the outline lists it as an alias.
    const fn = context.functions.find((f) => f.qualname === qualname) ?? context.functions.find((f) => f.aliases?.includes(qualname));
    if (!fn) {
      void vscode.window.showWarningMessage(`Loop Lag: \`${qualname}\` is no longer in ${vscode.workspace.asRelativePath(uri)}.`);
      return;
    }
    if (initial) {
      // The action's menu judged from the text; the outline decides (an instance method, a generator).
      const picked = checkMeasurable(fn, context.functions, language);
      if (picked.kind === 'refused') {
        void vscode.window.showWarningMessage(`Loop Lag: ${picked.message}`);
        return;
      }
    }
    await this.start(uri, { qualname: fn.qualname, fn, lines: null }, context, { kind: 'measure' }, initial);
  }

  /**
   * Runtime and outline; a clear error (with its fix) when either is missing. The outline
   * tries the runtimes in the order the run will (the same resolution for both).
   */
  private async prepare(uri: vscode.Uri, language: Language) {
    const settings = readSettings(uri, language);
    const interpreter = await resolveRuntime(uri, language, settings, this.log);
    const candidates = candidatesFor(language, interpreter);
    for (const candidate of candidates) {
      try {
        const outline = await outlineFile(language, candidate, this.runs.sidecarDirs, uri.fsPath);
        if (!outline.ok) {
          const line = outline.error.line;
          // A syntax error points at its line; anything else (a too-old Python, an unreadable file) is not one.
          const what = outline.error.kind === 'syntax-error' ? 'has a syntax error' : 'cannot be measured';
          const pick = await vscode.window.showErrorMessage(`Loop Lag: ${vscode.workspace.asRelativePath(uri)} ${what}: ${outline.error.message}`, ...(line ? ['Go to Line'] : []));
          if (pick && line) await revealLine(uri, line);
          return undefined;
        }
        // Python's run uses the interpreter that worked; Node's repeats the engine's order
        // itself (`node`, then the editor's own runtime with its environment): see HOST_RUNTIMES.
        const resolved = interpreter.path || !hostRuntime(language).pinsWorkingCandidate ? interpreter : { ...interpreter, path: candidate.command };
        return { language, settings, interpreter: resolved, functions: outline.functions, tool: candidate };
      } catch (e) {
        this.log.warn(`could not run ${candidate.label ?? candidate.command}: ${(e as Error).message}`);
        if (candidate.explicit) break;
      }
    }
    const tried = candidates.map((c) => c.label ?? c.command).join(', ');
    await offerInterpreterFix(hostRuntime(language).noneWorks(tried, runtimeNoun(language).setting), language);
    return undefined;
  }

  private async start(uri: vscode.Uri, target: Target, context: NonNullable<Awaited<ReturnType<Commands['prepare']>>>, action: Action, initial?: InitialArgs): Promise<void> {
    let args = '';
    if (target.fn) {
      const required = requiredParams(target.fn);
      const key = `looplag.args:${uri.fsPath}::${target.qualname}`;
      const last = this.context.workspaceState.get<string>(key);
      if (required.length || initial?.text) {
        const answer = await this.askArgs(target.fn, initial ?? { text: last ?? '' }, context.language, context.tool);
        if (answer === undefined) return;
        args = answer;
        await this.context.workspaceState.update(key, args);
      } else {
        args = initial ? initial.text : last ?? '';
      }
    }
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    const request: RunRequest = {
      uri,
      language: context.language,
      qualname: target.qualname,
      lines: target.lines,
      args,
      label: target.qualname ?? `lines ${target.lines!.start}-${target.lines!.end}`,
      settings: context.settings,
      interpreter: context.interpreter,
      workspaceRoot: folder?.uri.fsPath ?? null,
    };
    if (action.kind === 'sweep') await this.runs.sweep(request, action.workers);
    else await this.runs.run(request);
  }

  /** The argument prompt: pre-filled with last time's text (or the call's); syntax checked before anything runs. */
  private askArgs(fn: OutlineFunction, value: InitialArgs, language: Language, tool: ToolRuntime): Promise<string | undefined> {
    return new Promise((resolve) => {
      const box = vscode.window.createInputBox();
      box.title = `Loop Lag: arguments for ${signatureText(fn)}`;
      const text = argsPromptText(fn, language);
      box.prompt = text.prompt;
      box.placeholder = text.placeholder;
      box.value = value.text;
      // A placeholder for an argument that is not a literal: selected, so typing replaces it.
      if (value.selection) box.valueSelection = value.selection;
      box.ignoreFocusOut = true;
      let done = false;
      box.onDidChangeValue(() => (box.validationMessage = undefined));
      box.onDidAccept(async () => {
        const text = box.value;
        if (!text.trim() && requiredParams(fn).length) {
          box.validationMessage = `${signatureText(fn)} needs: ${requiredParams(fn).join(', ')}`;
          return;
        }
        box.busy = true;
        const problem = await checkCallArgs(language, tool, this.runs.sidecarDirs, text).catch(() => null);
        box.busy = false;
        if (problem) {
          box.validationMessage = `These arguments are ${problem}`;
          return;
        }
        done = true;
        box.hide();
        resolve(text);
      });
      box.onDidHide(() => {
        box.dispose();
        if (!done) resolve(undefined);
      });
      box.show();
    });
  }

  private ensureSaved(doc: vscode.TextDocument): Promise<boolean> {
    return ensureSaved(doc);
  }
}
