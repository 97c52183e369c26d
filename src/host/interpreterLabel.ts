/**
 * The words for a Python interpreter (pure: no vscode, no process): the status bar's text
 * and tooltip, and the picker's items.
 */
import type { FoundPython, PythonPlace } from './pythonDiscovery';
import { unsupportedReason, VersionAnswer } from './pythonVersion';

/** Where the interpreter the next run uses was chosen (interpreter.ts's `source`). */
export type PythonSource = 'looplag.python.path' | 'python extension' | 'PATH';

/** The interpreter the next run of a Python file uses, as the status bar shows it. */
export interface NextPython {
  /** The file (a PATH name resolved); undefined: nothing on PATH. */
  file: string | undefined;
  /** What runs when no file was found: `python3/python (PATH)`. */
  command: string;
  source: PythonSource;
  /** looplag.python.path only: the settings it was read from (`workspace folder settings`). */
  settingScope?: string;
  place: PythonPlace;
  /** null: not asked (Restricted Mode runs nothing, not even `--version`). */
  answer: VersionAnswer | null;
}

/** `3.13.0t` for a free-threaded build. */
function versionText(answer: VersionAnswer & { ok: true }): string {
  return `${answer.version.version}${answer.version.freeThreaded ? 't' : ''}`;
}

/** The status bar's text: `Python 3.11.7 (pyenv)`, `.venv (3.12.1)`, `Python 3.11.2`; a warning when it cannot run. */
export function statusText(next: NextPython): string {
  if (!next.file) return '$(warning) Python: not found';
  if (!next.answer) return 'Python';
  if (!next.answer.ok || unsupportedReason(next.answer.version)) return `$(warning) Python: ${baseName(next.file)}`;
  const v = versionText(next.answer);
  if (next.place?.kind === 'venv') return `${next.place.name} (${v})`;
  if (next.place?.kind === 'pyenv') return `Python ${v} (pyenv)`;
  return `Python ${v}`;
}

/** Where the choice came from, in the tooltip's words. */
export function sourceText(next: Pick<NextPython, 'source' | 'settingScope' | 'command'>): string {
  switch (next.source) {
    case 'looplag.python.path': return `set by looplag.python.path${next.settingScope ? ` (${next.settingScope})` : ''}`;
    case 'python extension': return 'the Python extension\'s interpreter for this file (looplag.python.path is empty)';
    case 'PATH': return `the first of ${next.command} (looplag.python.path is empty)`;
  }
}

/** The tooltip: the full path, its version, where the choice came from, the click. */
export function statusTooltip(next: NextPython): string {
  const lines = [`Loop Lag runs this Python file with ${next.file ?? next.command}`];
  if (next.answer?.ok) lines.push(`Python ${next.answer.version.full}`);
  const problem = !next.file ? 'not found on PATH' : next.answer && (next.answer.ok ? unsupportedReason(next.answer.version) : next.answer.reason);
  if (problem) lines.push(`⚠ ${problem}`);
  if (!next.answer && next.file) lines.push('Restricted Mode: Loop Lag runs nothing in this workspace');
  lines.push(`Chosen: ${sourceText(next)}`, '', 'Click to select another interpreter');
  return lines.join('\n');
}

/** A picker item's description: where it was found. */
export function foundDescription(found: FoundPython): string {
  switch (found.kind) {
    case 'venv': return `virtual environment ${found.name}`;
    case 'path': return `${found.name} on PATH`;
    case 'pyenv': return `pyenv ${found.name}`;
    case 'system': return 'system';
  }
}

/** A picker item's label: the version once known (`Python 3.13.0t (free-threaded)`), else the file's name. */
export function foundLabel(found: Pick<FoundPython, 'path' | 'freeThreadedName'>, answer: VersionAnswer | undefined): string {
  if (!answer) return `$(loading~spin) ${baseName(found.path)}`;
  if (!answer.ok) return `$(warning) ${baseName(found.path)}: ${answer.reason}`;
  const ft = answer.version.freeThreaded || found.freeThreadedName;
  const old = unsupportedReason(answer.version);
  return `${old ? '$(warning) ' : ''}Python ${answer.version.version}${ft ? 't (free-threaded)' : ''}${old ? ' (needs 3.9+)' : ''}`;
}

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() || file;
}
