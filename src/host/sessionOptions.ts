/** What the editor's runs and sweeps hand the engine besides the target's settings. */
import type * as vscode from 'vscode';
import type { SidecarDirs } from '../engine/languageTools';
import { hostRuntime } from './interpreter';
import type { RunRequest } from './runController';

/** Cancel: the sidecar gets half a second to stop politely, then its process tree is killed. */
const CANCEL_GRACE_MS = 500;

/** What a run and a sweep share: the target, the sidecar and its runtime, cancel and logs. */
export function sessionOptions(request: RunRequest, signal: AbortSignal, sidecarDirs: SidecarDirs, log: vscode.LogOutputChannel) {
  return {
    target: {
      file: request.uri.fsPath, qualname: request.qualname, lines: request.lines, args: request.args,
      language: request.language, workspaceRoot: request.workspaceRoot,
    },
    ...hostRuntime(request.language).choice(request.interpreter),
    // The engine's per-runtime options (RunOptions); the bench and the tests pass them too.
    sidecarDir: sidecarDirs.python,
    nodeSidecarDir: sidecarDirs.node,
    signal,
    cancelGraceMs: CANCEL_GRACE_MS,
    onSpawn: (cmd: string, args: string[]) => log.info(`sidecar: ${cmd} ${args.join(' ')}`),
    onStderr: (text: string) => log.warn(`sidecar stderr: ${text.trimEnd()}`),
    editorPid: 'self' as const, // the editor's processes (the panel drawing, this host) are not background load
  };
}
