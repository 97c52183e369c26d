/**
 * The Python interpreters Select Python Interpreter offers, found on disk (no vscode, no
 * process): the workspace folders' virtual environments, `python3`/`python` on PATH,
 * pyenv's versions and the system's `python3*`. Every look is one `readdir` or `stat`
 * of a known place (nothing recursive), so the list is quick on any machine.
 */
import { constants as fsc, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Where an interpreter was found; also the order of the picker's groups. */
export type PythonKind = 'venv' | 'path' | 'pyenv' | 'system';

export interface FoundPython {
  /** As found: what `looplag.python.path` is set to when it is picked. */
  path: string;
  /** Symlinks resolved: what two entries are compared by. */
  realPath: string;
  kind: PythonKind;
  /** venv: its folder's name (`.venv`); PATH: the command (`python3`); pyenv: the version's folder; system: the file's name. */
  name: string;
  /** A free-threaded build by its name (`python3.13t`); the version probe says for the others. */
  freeThreadedName: boolean;
}

/** The places looked at (tests pass a fake tree). */
export interface PythonPlaces {
  workspaceFolders: readonly string[];
  /** The PATH variable. */
  pathEnv: string;
  /** `$PYENV_ROOT`, else `~/.pyenv`. */
  pyenvRoot: string;
  /** `/usr/bin`, `/usr/local/bin`. */
  systemDirs: readonly string[];
  windows: boolean;
}

/** Virtual environments' usual folder names; any folder with a `pyvenv.cfg` one level down counts too. */
export const VENV_DIRS = ['.venv', 'venv', 'env', '.env'];

/** A system interpreter's file name: `python3`, `python3.11`, `python3.13t`. */
const SYSTEM_NAME = /^python3(?:\.\d+)?t?$/;

/** This machine's places for the given workspace folders. */
export function defaultPlaces(workspaceFolders: readonly string[], env: NodeJS.ProcessEnv = process.env): PythonPlaces {
  return {
    workspaceFolders,
    pathEnv: env.PATH ?? env.Path ?? '',
    pyenvRoot: env.PYENV_ROOT || path.join(os.homedir(), '.pyenv'),
    systemDirs: process.platform === 'win32' ? [] : ['/usr/bin', '/usr/local/bin'],
    windows: process.platform === 'win32',
  };
}

/** A venv's interpreter inside its folder. */
export function venvPython(dir: string, windows: boolean): string {
  return windows ? path.join(dir, 'Scripts', 'python.exe') : path.join(dir, 'bin', 'python');
}

/**
 * Every interpreter found, in the picker's order (venvs, PATH, pyenv, system), each real
 * file once: `/usr/bin/python3` and `/usr/bin/python3.11` are one entry (the first name
 * kept). A venv is always its own entry, though its `python` links to its base
 * interpreter: its packages are what differs.
 */
export async function discoverPythons(places: PythonPlaces): Promise<FoundPython[]> {
  const groups = await Promise.all([
    venvs(places),
    onPath(places),
    pyenvVersions(places),
    systemPythons(places),
  ]);
  const seen = new Set<string>();
  const out: FoundPython[] = [];
  for (const found of groups.flat()) {
    const key = found.kind === 'venv' ? `venv:${found.path}` : found.realPath;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(found);
  }
  return out;
}

/** The first of `names` on PATH, each name in PATH's order (what a run with no setting starts). */
export async function whichOnPath(names: readonly string[], pathEnv: string, windows: boolean): Promise<string | undefined> {
  for (const name of names) {
    for (const dir of pathEnv.split(path.delimiter).filter(Boolean)) {
      const file = path.join(dir, windows && !name.endsWith('.exe') ? `${name}.exe` : name);
      if (await isExecutable(file, windows)) return file;
    }
  }
  return undefined;
}

async function venvs(places: PythonPlaces): Promise<FoundPython[]> {
  const perFolder = await Promise.all(places.workspaceFolders.map(async (folder) => {
    const names = new Set(VENV_DIRS);
    for (const entry of await readdir(folder)) {
      if (entry.isDirectory() && !names.has(entry.name) && await exists(path.join(folder, entry.name, 'pyvenv.cfg'))) names.add(entry.name);
    }
    const found = await Promise.all([...names].map((name) => candidate(venvPython(path.join(folder, name), places.windows), 'venv', name, places.windows)));
    return found.filter((f): f is FoundPython => Boolean(f));
  }));
  return perFolder.flat();
}

async function onPath(places: PythonPlaces): Promise<FoundPython[]> {
  const found = await Promise.all(['python3', 'python'].map(async (name) => {
    const file = await whichOnPath([name], places.pathEnv, places.windows);
    return file ? candidate(file, 'path', name, places.windows) : undefined;
  }));
  return found.filter((f): f is FoundPython => Boolean(f));
}

async function pyenvVersions(places: PythonPlaces): Promise<FoundPython[]> {
  const versionsDir = path.join(places.pyenvRoot, 'versions');
  const dirs = (await readdir(versionsDir)).filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => e.name).sort(byVersion);
  const found = await Promise.all(dirs.map((name) => candidate(path.join(versionsDir, name, 'bin', 'python'), 'pyenv', name, places.windows)));
  return found.filter((f): f is FoundPython => Boolean(f));
}

async function systemPythons(places: PythonPlaces): Promise<FoundPython[]> {
  const perDir = await Promise.all(places.systemDirs.map(async (dir) => {
    const names = (await readdir(dir)).map((e) => e.name).filter((n) => SYSTEM_NAME.test(n)).sort(byVersion);
    const found = await Promise.all(names.map((name) => candidate(path.join(dir, name), 'system', name, places.windows)));
    return found.filter((f): f is FoundPython => Boolean(f));
  }));
  return perDir.flat();
}

async function candidate(file: string, kind: PythonKind, name: string, windows: boolean): Promise<FoundPython | undefined> {
  if (!(await isExecutable(file, windows))) return undefined;
  const realPath = await fs.realpath(file).catch(() => file);
  return { path: file, realPath, kind, name, freeThreadedName: /\d+t(\.exe)?$/.test(path.basename(realPath)) || /\d+t$/.test(name) };
}

/** Newest first, `python3` before `python3.11` (the plain name is the one a user types). */
function byVersion(a: string, b: string): number {
  const nums = (s: string) => (s.match(/\d+/g) ?? []).map(Number);
  const [x, y] = [nums(a), nums(b)];
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return y[i] - x[i];
  return a.localeCompare(b);
}

async function readdir(dir: string) {
  return fs.readdir(dir, { withFileTypes: true }).catch(() => []);
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(() => true, () => false);
}

async function isExecutable(file: string, windows: boolean): Promise<boolean> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) return false;
    if (!windows) await fs.access(file, fsc.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** What the status bar says about where an interpreter lives: a venv (by its folder's name) or pyenv. */
export type PythonPlace = { kind: 'venv'; name: string } | { kind: 'pyenv' } | null;

/** A venv's interpreter (its folder holds `pyvenv.cfg`), pyenv's (under its root), else null. */
export async function placeOf(file: string, pyenvRoot: string): Promise<PythonPlace> {
  const envDir = path.dirname(path.dirname(file));
  if (await exists(path.join(envDir, 'pyvenv.cfg'))) return { kind: 'venv', name: path.basename(envDir) };
  const rel = path.relative(pyenvRoot, file);
  if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return { kind: 'pyenv' };
  return null;
}
