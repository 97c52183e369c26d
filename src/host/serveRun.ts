/**
 * A Measure Endpoint session in the editor: runServe (src/serve/session.ts) in the one
 * measurement slot (RunController.exclusive: trust, cancel, progress notification, the
 * `looplag.running` context), the panel fed live with the variants that ended and the one
 * under load (throttled), the finished looplag.serve/1 document on show, its errors
 * explained with their fix.
 */
import * as vscode from 'vscode';
import { buildServeReport } from '../serve/buildServeReport';
import type { ServeInputs, VariantInputs } from '../serve/inputs';
import type { LoadTarget } from '../serve/load/types';
import { runServe, serveVariants, ServeProgress } from '../serve/session';
import type { Language, RunError } from '../shared/protocol';
import type { ServeApp } from '../shared/protocol/serve';
import type { ServeReport } from '../shared/protocol/serveReport';
import type { ServeLive } from '../shared/webviewProtocol';
import { explainFailure } from './errorPrompts';
import { COMMANDS } from './ids';
import { editorRuntime, hostRuntime, Interpreter, offerInterpreterFix } from './interpreter';
import type { RunController } from './runController';
import type { ServeHostSettings } from './serveConfig';

/** Everything a session needs, gathered by the command (serveCommand.ts). */
export interface ServeRequest {
  /** The app's file (errors open their line in it). */
  uri: vscode.Uri;
  language: Language;
  app: ServeApp;
  /** `app.main:app`, `server.js`: how messages name the app. */
  label: string;
  endpoints: LoadTarget[];
  host: ServeHostSettings;
  interpreter: Interpreter;
  workspaceRoot: string | null;
}

/** Live posts to the panel at most this often (a post re-renders the serve view). */
export const LIVE_POST_MS = 250;

/** The variants a request runs: N processes (uvicorn workers, or node:cluster workers), threads only for Python (AnyIO's limiter). */
export function requestVariants(req: Pick<ServeRequest, 'app' | 'host'>) {
  return serveVariants(req.host.processes, req.app.type === 'asgi' ? req.host.threadTokens : null);
}

/** `as written: 6.2 s / 10 s, 124 sent`: the notification's and the status bar's words for progress. */
export function serveProgressText(p: ServeProgress, settings: { warmupS: number; durationS: number }): string {
  if (p.phase === 'warmup') return `${p.variant}: warming up ${(p.elapsedMs / 1000).toFixed(1)} s / ${settings.warmupS} s, ${p.sent} sent`;
  if (p.phase === 'measuring') return `${p.variant}: ${(p.elapsedMs / 1000).toFixed(1)} s / ${settings.durationS} s, ${p.sent} sent`;
  if (p.phase === 'draining') return `${p.variant}: last answers, ${p.completed} of ${p.sent}`;
  return `${p.variant}: ${p.phase}`;
}

/** The panel's live state from the session's progress: which variant of how many, its phase, the requests so far. */
export function serveLive(p: ServeProgress, variantIndex: number, variants: number, settings: { warmupS: number; durationS: number }): ServeLive {
  const durationMs = (p.phase === 'warmup' ? settings.warmupS : p.phase === 'measuring' ? settings.durationS : 0) * 1000;
  return { variant: p.variant, variantIndex, variants, phase: p.phase, elapsedMs: p.elapsedMs, durationMs, sent: p.sent, completed: p.completed };
}

/** The document so far: the variants that ended (buildServeReport is pure and takes any prefix of them). */
export function partialServeReport(base: ServeInputs, done: VariantInputs[]): ServeReport {
  return buildServeReport({ ...base, variants: done });
}

export async function runServeInEditor(runs: RunController, req: ServeRequest, log: vscode.LogOutputChannel): Promise<ServeReport | undefined> {
  const view = runs.reportView;
  let started = false;
  const variants = requestVariants(req);
  const s = { ...req.host.settings, endpoints: req.endpoints };
  const base: ServeInputs = { app: req.app, runtime: null, settings: s, variants: [], error: null, createdAt: new Date().toISOString(), workspaceRoot: req.workspaceRoot };
  const done: VariantInputs[] = [];
  let live: ServeLive = { variant: 'as written', variantIndex: 0, variants: variants.length, phase: 'starting', elapsedMs: 0, durationMs: 0, sent: 0, completed: 0 };
  let lastPost = 0;
  let lastPhase = '';
  const inputs = await runs.exclusive({ label: req.label, concurrency: 0 }, 'serve', `Loop Lag: ${req.label} under load`, () => {
    started = true;
    runs.lastServeRequest = req; // the slot is won: Re-run repeats this session
    view.serveStarted(partialServeReport(base, done), live);
    log.info(`serve ${req.label} with ${req.interpreter.path ?? 'the runtime on PATH'} (${req.interpreter.source}): ${req.endpoints.map((e) => e.name).join(', ')}; ` +
      `${s.ratePerS} req/s, warm-up ${s.warmupS} s, ${s.durationS} s, probe ${s.probeRatePerS}/s, variants ${variants.map((v) => v.name).join(', ')}, budget ${s.budgetMs} ms`);
  }, (signal, progress) => {
    let reported = 0;
    const perVariantS = s.warmupS + s.durationS;
    return runServe({
      app: req.app,
      settings: s,
      processes: variants.find((v) => v.name === 'processes')?.processes ?? null,
      threadTokens: variants.find((v) => v.name === 'threads')?.threadTokens ?? null,
      workspaceRoot: req.workspaceRoot,
      startTimeoutS: req.host.startTimeoutS,
      ...hostRuntime(req.language).choice(req.interpreter),
      sidecarDir: runs.sidecarDirs.python,
      nodeSidecarDir: runs.sidecarDirs.node,
      // The load generator runs on the editor's own runtime: no Node install needed, never the server's loop.
      loadNodePath: editorRuntime().command,
      loadEnv: { ...process.env, ...editorRuntime().env },
      signal,
      onSpawn: (cmd, args) => log.info(`server harness: ${cmd} ${args.join(' ')}`),
      onStderr: (text) => log.warn(`server stderr: ${text.trimEnd()}`),
      onProgress: (p) => {
        const text = serveProgressText(p, s);
        live = serveLive(p, done.length, variants.length, s);
        runs.setStatus(`$(watch) Loop Lag: ${text}`, 'Cancel the Loop Lag run', COMMANDS.cancel);
        const elapsedS = done.length * perVariantS + (p.phase === 'measuring' ? s.warmupS : 0) + (p.phase === 'warmup' || p.phase === 'measuring' ? p.elapsedMs / 1000 : 0);
        const increment = Math.max(0, Math.min(100, (elapsedS / (variants.length * perVariantS)) * 100) - reported);
        reported += increment;
        progress.report({ message: text, increment });
        const now = Date.now();
        if (now - lastPost >= LIVE_POST_MS || p.phase !== lastPhase) {
          lastPost = now;
          lastPhase = p.phase;
          view.serveProgressed(partialServeReport(base, done), live);
        }
      },
      onVariant: (v) => {
        done.push(v);
        log.info(`serve ${req.label}, ${v.variant.name}: ${v.status}${v.error ? ` (${v.error.kind}: ${v.error.message})` : ''}`);
        view.serveProgressed(partialServeReport(base, done), live);
      },
    });
  });
  if (!inputs) {
    // Refused (another run holds the slot: its status item stays) or failed unexpectedly.
    if (started) {
      runs.setStatus(undefined);
      view.serveProgressed(partialServeReport(base, done), null);
    }
    view.refresh();
    return undefined;
  }
  const report = buildServeReport(inputs);
  await view.serveFinished(report);
  log.info(`serve ${req.label}: ${report.status} — ${report.headline}`);
  const short = report.headline.length > 60 ? report.headline.slice(0, 57) + '…' : report.headline;
  runs.setStatus(`$(pulse) ${short}`, `Loop Lag: ${req.label} under load\n${report.headline}`, COMMANDS.showServe);
  view.refresh();
  const failed = report.error ?? inputs.variants.find((v) => v.error && v.error.kind !== 'cancelled')?.error ?? null;
  if (failed) await explainServeFailure(failed, req, report, log);
  return report;
}

/**
 * A session's (or a variant's) error with its fix: a missing uvicorn names the interpreter
 * and offers another; a start-up timeout offers `looplag.serve.startTimeout`; the rest as
 * for runs (the line of an import error, the output).
 */
export async function explainServeFailure(err: RunError, req: Pick<ServeRequest, 'uri' | 'language'>, report: Pick<ServeReport, 'variants'> | null, log: vscode.LogOutputChannel): Promise<void> {
  if (err.kind === 'import-error' && /^uvicorn is not installed/.test(err.message)) {
    if (err.detail) log.error(err.detail);
    return offerInterpreterFix(`Loop Lag: ${err.message}`, 'python');
  }
  if (err.kind === 'timeout') {
    const startUp = /did not start listening/.test(err.message);
    const pick = await vscode.window.showWarningMessage(`Loop Lag: ${err.message}.${startUp ? ' Raise looplag.serve.startTimeout for a slow start.' : ''}`, ...(startUp ? ['Open Settings'] : []));
    if (pick) await vscode.commands.executeCommand('workbench.action.openSettings', 'looplag.serve.startTimeout');
    return;
  }
  const measured = report ? report.variants.filter((v) => v.status !== 'failed' && v.status !== 'skipped').length : 0;
  return explainFailure(err, req, `cancelled; what was measured before it is in the report (${measured} variant(s))`, log);
}
