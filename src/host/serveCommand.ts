/**
 * Loop Lag: Measure Endpoint… (palette, editor context menu, the endpoint CodeLens): the
 * app of the file, a one-time confirmation per workspace, the app's routes as its server
 * reports them (started until it listens, then stopped), the endpoints picked with their
 * path parameters and bodies, then the session (serveRun.ts). Every refusal is said
 * before anything runs.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { UsageError } from '../engine/options';
import { Language, languageOfDocument } from '../engine/languageTools';
import { parseApp, parseEndpoint } from '../serve/appSpec';
import type { LoadTarget } from '../serve/load/types';
import { listRoutes } from '../serve/routes';
import type { ServeApp, ServeRoute } from '../shared/protocol/serve';
import { readSettings } from './config';
import { ensureSaved, requireTrust } from './guards';
import { describeRuntime, hostRuntime, resolveRuntime } from './interpreter';
import type { RunController } from './runController';
import { readServeSettings } from './serveConfig';
import { askBody, askOtherEndpoint, askPathParams, endpointItems, EndpointItem, OTHER_LABEL } from './servePrompts';
import { explainServeFailure, requestVariants, runServeInEditor } from './serveRun';
import { findAsgiApps, pythonModuleOf, RouteSite, scanRoutes } from './serveSource';

/** workspaceState: the user agreed that Loop Lag starts their app in this workspace. */
export const SERVE_CONFIRMED_KEY = 'looplag.serve.confirmed';

export class EndpointCommand {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly runs: RunController,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async measureEndpoint(uri?: vscode.Uri, endpoint?: string): Promise<void> {
    if (!requireTrust()) return;
    // Refused up front, before the prompts, while anything runs (and again below: listing starts the app).
    if (!(await this.runs.free())) return;
    const doc = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    const language = doc && languageOfDocument(doc.languageId);
    if (!doc || !language) {
      void vscode.window.showWarningMessage('Loop Lag: open the Python file that defines your ASGI app (FastAPI, Starlette) or your Node server script, then run Measure Endpoint.');
      return;
    }
    if (!(await ensureSaved(doc))) return;
    const root = vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.fsPath ?? path.dirname(doc.uri.fsPath);
    const app = await this.pickApp(doc, language, root);
    if (!app) return;
    const label = app.type === 'asgi' ? app.target : vscode.workspace.asRelativePath(app.script);
    const host = readServeSettings(doc.uri);
    const interpreter = await resolveRuntime(doc.uri, language, readSettings(doc.uri, language), this.log);
    const variants = requestVariants({ app, host });
    const seconds = Math.ceil(variants.length * (host.settings.warmupS + host.settings.durationS));
    if (!(await this.confirm(label, describeRuntime(language, interpreter), seconds))) return;

    const listed = await this.runs.prepare(label, (signal) => vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Loop Lag: starting ${label} to list its routes`, cancellable: true },
      (_progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        signal.addEventListener('abort', () => abort.abort(), { once: true });
        return listRoutes({
          app, workspaceRoot: root, startTimeoutS: host.startTimeoutS, signal: abort.signal,
          ...hostRuntime(language).choice(interpreter), sidecarDir: this.runs.sidecarDirs.python, nodeSidecarDir: this.runs.sidecarDirs.node,
          onSpawn: (cmd, args) => this.log.info(`listing routes: ${cmd} ${args.join(' ')}`),
          onStderr: (text) => this.log.warn(`server stderr: ${text.trimEnd()}`),
        });
      },
    ));
    if (!listed) return; // refused: something else runs
    if (!listed.ok) {
      if (listed.error.kind !== 'cancelled') await explainServeFailure(listed.error, { uri: doc.uri, language }, null, this.log);
      return;
    }
    this.log.info(`${label}: ${listed.routes.length} route(s) from ${listed.server}`);
    const sites = scanRoutes(doc.getText(), language === 'python' ? 'python' : language === 'typescript' ? 'typescript' : 'javascript');
    const endpoints = await this.pickEndpoints(label, listed.routes, sites, endpoint);
    if (!endpoints) return;
    await runServeInEditor(this.runs, { uri: doc.uri, language, app, label, endpoints, host, interpreter, workspaceRoot: root }, this.log);
  }

  /**
   * Python: `module:attribute` of the app the file defines (one `X = FastAPI(...)` or
   * `Starlette(...)` at module level, imported from the workspace folder); otherwise an
   * input box, pre-filled, checked as `looplag serve` checks APP. Node: the script itself.
   */
  private async pickApp(doc: vscode.TextDocument, language: Language, root: string): Promise<ServeApp | undefined> {
    if (language !== 'python') {
      try {
        return parseApp(doc.uri.fsPath, root, root);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        void vscode.window.showWarningMessage(`Loop Lag: ${e.message}.`);
        return undefined;
      }
    }
    const key = `looplag.serve.app:${doc.uri.fsPath}`;
    const apps = findAsgiApps(doc.getText());
    const module = pythonModuleOf(doc.uri.fsPath, root);
    if (apps.length === 1 && module) return parseApp(`${module}:${apps[0].name}`, root, root);
    const value = this.context.workspaceState.get<string>(key) ?? `${module ?? 'main'}:${apps[0]?.name ?? 'app'}`;
    const text = await vscode.window.showInputBox({
      title: 'Loop Lag: the ASGI app to run',
      prompt: apps.length > 1
        ? `${path.basename(doc.uri.fsPath)} defines ${apps.map((a) => a.name).join(', ')}: which one, as module:attribute (imported from ${root})`
        : `No FastAPI or Starlette app found in ${path.basename(doc.uri.fsPath)}: name it as module:attribute (imported from ${root})`,
      value,
      ignoreFocusOut: true,
      validateInput: (t) => appProblem(t, root),
    });
    if (text === undefined) return undefined;
    await this.context.workspaceState.update(key, text.trim());
    return parseApp(text.trim(), root, root);
  }

  /** The one-time confirmation per workspace: the user's server runs their code (database writes, e-mails). */
  private async confirm(label: string, runtime: string, seconds: number): Promise<boolean> {
    if (this.context.workspaceState.get<boolean>(SERVE_CONFIRMED_KEY)) return true;
    const pick = await vscode.window.showWarningMessage(
      `Loop Lag will start your app (${label}) with ${runtime} on 127.0.0.1 and send it requests for about ${seconds} s.`,
      { modal: true, detail: 'Your server runs your code as it would in production (database writes, e-mails). Asked once per workspace.' },
      'Run',
    );
    if (pick !== 'Run') return false;
    await this.context.workspaceState.update(SERVE_CONFIRMED_KEY, true);
    return true;
  }

  /** The QuickPick of the app's endpoints, then each one's path parameters and body; undefined when cancelled. */
  private async pickEndpoints(label: string, routes: ServeRoute[], sites: RouteSite[], preselect: string | undefined): Promise<LoadTarget[] | undefined> {
    const items = endpointItems(routes, sites, preselect);
    const picked = await new Promise<readonly EndpointItem[] | undefined>((resolve) => {
      const qp = vscode.window.createQuickPick<EndpointItem>();
      qp.title = `Loop Lag: endpoints of ${label} to load`;
      qp.placeholder = routes.length ? 'Pick the endpoints to send requests to' : 'The app reported no routes: pick what the file registers, or Other… to type METHOD /path';
      qp.canSelectMany = true;
      qp.ignoreFocusOut = true;
      qp.items = items;
      qp.selectedItems = items.filter((i) => i.picked);
      let accepted = false;
      qp.onDidAccept(() => {
        accepted = true;
        resolve(qp.selectedItems);
        qp.hide();
      });
      qp.onDidHide(() => {
        qp.dispose();
        if (!accepted) resolve(undefined);
      });
      qp.show();
    });
    if (!picked?.length) return undefined;
    const targets: LoadTarget[] = [];
    for (const item of picked) {
      const endpoint = item.label === OTHER_LABEL ? await askOtherEndpoint() : { method: item.method!, path: item.path! };
      if (!endpoint) return undefined;
      const concrete = await askPathParams(this.context.workspaceState, label, endpoint);
      if (concrete === undefined) return undefined;
      // Checked as `--endpoint` is, before anything starts (a route the app reported may need encoding fillPath could not give).
      let name: string;
      try {
        name = parseEndpoint(`${endpoint.method} ${concrete}`).name;
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        void vscode.window.showWarningMessage(`Loop Lag: ${e.message.replace(/^--endpoint /, '')}.`);
        return undefined;
      }
      if (targets.some((t) => t.name === name)) continue;
      const body = await askBody(this.context.workspaceState, label, endpoint.method, concrete);
      if (body === undefined) return undefined;
      targets.push({ name, method: endpoint.method, path: concrete, ...(body !== null ? { body } : {}) });
    }
    return targets;
  }
}

/** What is wrong with an APP typed in the box (as `looplag serve` says it), or null. */
export function appProblem(text: string, root: string): string | null {
  try {
    parseApp(text.trim(), root, root);
    return null;
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
}
