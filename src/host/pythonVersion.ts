/**
 * An interpreter's version, asked of the interpreter itself (no vscode): a short-lived
 * child process with a time limit, never waited on synchronously, and remembered per
 * file and modification time so the picker and the status bar ask once.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';

export interface PythonVersion {
  /** `3.11.7`. */
  version: string;
  major: number;
  minor: number;
  /** Built without the GIL (`Py_GIL_DISABLED`): a `t` build. */
  freeThreaded: boolean;
  /** `sys.version` on one line. */
  full: string;
}

/** What the sidecar needs (README: CPython 3.9+). */
export const MIN_PYTHON = { major: 3, minor: 9 } as const;

/** Long enough for a pyenv shim (a shell script) on a busy machine, short enough for a picker. */
export const VERSION_TIMEOUT_MS = 4000;

/** Runs on Python 2 as well, so an old interpreter is named rather than failing to parse. */
const SCRIPT = [
  'import sys',
  'try:',
  '    import sysconfig; ft = sysconfig.get_config_var("Py_GIL_DISABLED")',
  'except Exception:',
  '    ft = 0',
  'sys.stdout.write("%d.%d.%d\\n%d\\n%s\\n" % (sys.version_info[0], sys.version_info[1], sys.version_info[2], 1 if ft else 0, sys.version.replace("\\n", " ")))',
].join('\n');

/** The probe's output read; null when it is not ours (a program that is no Python). */
export function parseVersionOutput(stdout: string): PythonVersion | null {
  const [v, ft, full] = stdout.split('\n');
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v?.trim() ?? '');
  if (!m || !/^[01]$/.test(ft?.trim() ?? '')) return null;
  return { version: `${m[1]}.${m[2]}.${m[3]}`, major: Number(m[1]), minor: Number(m[2]), freeThreaded: ft.trim() === '1', full: (full ?? '').trim() };
}

/** Why an interpreter cannot run the sidecar, or null when it can. */
export function unsupportedReason(v: PythonVersion): string | null {
  const ok = v.major > MIN_PYTHON.major || (v.major === MIN_PYTHON.major && v.minor >= MIN_PYTHON.minor);
  return ok ? null : `Python ${v.version} is too old: Loop Lag needs Python ${MIN_PYTHON.major}.${MIN_PYTHON.minor} or newer`;
}

export type VersionAnswer = { ok: true; version: PythonVersion } | { ok: false; reason: string };

/** Asks one interpreter; never rejects. */
export function probeVersion(file: string, timeoutMs = VERSION_TIMEOUT_MS): Promise<VersionAnswer> {
  return new Promise((resolve) => {
    execFile(file, ['-c', SCRIPT], { timeout: timeoutMs, windowsHide: true, maxBuffer: 64 * 1024, env: { ...process.env, PYTHONIOENCODING: 'utf-8' } }, (err, stdout) => {
      const parsed = parseVersionOutput(String(stdout));
      if (parsed) return resolve({ ok: true, version: parsed });
      if (err && (err as NodeJS.ErrnoException & { killed?: boolean }).killed) return resolve({ ok: false, reason: `no answer within ${timeoutMs / 1000} s` });
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return resolve({ ok: false, reason: 'not found' });
      if (err && (err as NodeJS.ErrnoException).code === 'EACCES') return resolve({ ok: false, reason: 'not executable' });
      resolve({ ok: false, reason: err ? `did not run as Python (${err.message.split('\n')[0]})` : 'did not answer as Python does' });
    });
  });
}

/**
 * Versions remembered per file while its modification time (its target's, through
 * symlinks) stays the same; a timeout is not remembered (a busy moment is no answer).
 */
export class PythonVersions {
  private readonly known = new Map<string, { stamp: string; answer: Promise<VersionAnswer> }>();

  constructor(private readonly probe: (file: string) => Promise<VersionAnswer> = probeVersion) {}

  async get(file: string): Promise<VersionAnswer> {
    const st = await fs.stat(file).catch(() => null);
    if (!st) return { ok: false, reason: 'not found' };
    const stamp = `${st.mtimeMs}:${st.size}`;
    const hit = this.known.get(file);
    if (hit && hit.stamp === stamp) return hit.answer;
    const answer = this.probe(file);
    this.known.set(file, { stamp, answer });
    void answer.then((a) => {
      if (!a.ok && a.reason.startsWith('no answer') && this.known.get(file)?.answer === answer) this.known.delete(file);
    });
    return answer;
  }
}
