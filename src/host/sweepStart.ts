/** A worker sweep's document before its first pool size is measured (the panel shows its plan at once). No state. */
import type * as vscode from 'vscode';
import { TOOL_VERSION } from '../report/buildReport';
import { SWEEP_SCHEMA } from '../shared/protocol';
import type { Language, Mode, Sweep } from '../shared/protocol';
import type { HostSettings } from './config';

/** The sweep view before the first pool size is measured: the target, the plan, no points yet. */
export function startingSweep(
  request: { uri: vscode.Uri; qualname: string | null; lines: { start: number; end: number } | null; language: Language; args: string },
  settings: HostSettings['report'] & { modes: Mode[]; lagBudgetMs: number }, workers: number[],
): Sweep {
  return {
    schema: SWEEP_SCHEMA,
    tool: { name: 'looplag', version: TOOL_VERSION },
    createdAt: new Date().toISOString(),
    status: 'partial',
    error: null,
    target: { file: request.uri.fsPath, qualname: request.qualname, lines: request.lines, language: request.language, args: request.args },
    runtime: null,
    settings: {
      modes: settings.modes, workers, concurrency: settings.concurrency, heartbeatMs: settings.heartbeatMs,
      stallMs: settings.stallMs, lagBudgetMs: settings.lagBudgetMs, timeoutS: settings.timeoutS,
    },
    quality: { backgroundCpuFrac: null, trustworthy: true, notes: [] },
    points: [],
    recommendations: [],
    best: null,
    headline: `Measuring ${settings.modes.join(' and ')} with W = ${workers.join(', ')}…`,
  };
}
