/**
 * What the measured calls raised: the first exception of a mode, and where in the
 * user's code it came from. Pure (no node imports): the headline, the `calls-raised`
 * advice and the CLI's exit line all read it.
 */
import type { ModeRun, Report } from '../shared/protocol';

export interface CallError {
  type: string;
  message: string;
  /** The innermost frame in the user's code, as `dir/file.py:14`; null when the traceback shows none. */
  where: string | null;
  /** How many of the mode's calls raised, of how many that ended. */
  raised: number;
  calls: number;
}

/** The first exception a mode's calls raised, or null when none did. */
export function callErrorOf(run: ModeRun, target: Pick<Report['target'], 'file'>): CallError | null {
  const failed = run.tasks.filter((t) => t.error);
  if (run.status !== 'ok' || !failed.length) return null;
  const first = failed.reduce((a, b) => ((b.endMs ?? Infinity) < (a.endMs ?? Infinity) ? b : a));
  const e = first.error!;
  return {
    type: e.type,
    message: firstLine(e.message),
    where: userFrame(e.traceback, target.file),
    raised: failed.length,
    calls: run.taskStats.okCount + run.taskStats.errorCount,
  };
}

/** Every call of the mode raised: what was timed is the error path, not the work. */
export function allCallsRaised(run: ModeRun): boolean {
  return run.status === 'ok' && run.taskStats.errorCount > 0 && run.taskStats.okCount === 0;
}

interface Frame {
  file: string;
  line: number;
}

/** Python's `File "x.py", line 14, in f` and V8's `at f (file:///x.mjs:14:3)` / `at /x.js:14:3`. */
const PY_FRAME = /^\s*File "([^"]+)", line (\d+)/;
const JS_FRAME = /^\s*at (?:.*? \()?((?:file:\/\/)?[^()\s]+?):(\d+):\d+\)?\s*$/;

/**
 * Frames that are not the user's: the interpreter's own library, installed packages,
 * Node's internals, Loop Lag's sidecars, and code compiled from strings.
 */
const NOT_USER = [
  /[\\/]looplag_sidecar[\\/]/, /[\\/]sidecars[\\/](python|node)[\\/]/, /[\\/]run_sidecar\.py$/,
  /[\\/](site|dist)-packages[\\/]/, /[\\/]lib[\\/]python\d+(\.\d+)?[\\/]/i, /[\\/]node_modules[\\/]/,
  /^node:/, /^<.*>$/, /^internal[\\/]/,
];

/**
 * The innermost frame of the traceback in the user's code (outside the stdlib, installed
 * packages, Node's internals and Loop Lag), shown relative to the target's folder when it
 * is inside it (`services/auth.py:14`), else as its full path.
 */
export function userFrame(traceback: string | null, targetFile: string): string | null {
  const user = userFrames(traceback);
  const pick = user[0];
  if (!pick) return null;
  const home = homeOf(norm(targetFile), user);
  const inHome = (f: Frame) => home !== null && norm(f.file).startsWith(home + '/');
  const file = norm(pick.file);
  return `${inHome(pick) ? file.slice(home!.length + 1) : file}:${pick.line}`;
}

/** An ES module's `file:///C:/a%20b/x.mjs` as the path it names (`C:/a b/x.mjs`); any other text as is. */
export function pathOfFileUrl(file: string): string {
  if (!file.startsWith('file://')) return file;
  let p = file.slice('file://'.length);
  try {
    p = decodeURIComponent(p);
  } catch {
    // a malformed escape: the text as written
  }
  return /^\/[A-Za-z]:\//.test(p) ? p.slice(1) : p;
}

/** A traceback's frames, innermost first, with the line each starts on. */
function framesOf(traceback: string): (Frame & { at: number })[] {
  const frames: (Frame & { at: number })[] = [];
  const lines = traceback.split('\n');
  const js = lines.some((l) => JS_FRAME.test(l)) && !lines.some((l) => PY_FRAME.test(l));
  lines.forEach((l, at) => {
    const m = (js ? JS_FRAME : PY_FRAME).exec(l);
    if (m) frames.push({ file: pathOfFileUrl(m[1]), line: Number(m[2]), at });
  });
  // Python lists the innermost frame last; V8 first.
  return js ? frames : frames.reverse();
}

/** The traceback's frames in the user's code, innermost first. */
function userFrames(traceback: string | null): Frame[] {
  if (!traceback) return [];
  return framesOf(traceback).filter((f) => !NOT_USER.some((re) => re.test(f.file))).map(({ file, line }) => ({ file, line }));
}

/**
 * The innermost frame in the user's code as the traceback spells its file (a path to open,
 * where userFrame shortens it for reading), or null.
 */
export function userFrameLocation(traceback: string | null): { file: string; line: number } | null {
  return userFrames(traceback)[0] ?? null;
}

/**
 * Frames of the machinery around a call, not of the code called: Loop Lag's sidecars, the
 * pools and the event loop that ran it, the import system, Node's internals. The stdlib
 * the user's code called (json, re) stays: it can be where the error is.
 */
const TOOL = [
  /[\\/]looplag_sidecar[\\/]/, /[\\/]sidecars[\\/](python|node)[\\/]/, /[\\/]run_sidecar\.py$/,
  /[\\/](concurrent[\\/]futures|asyncio|multiprocessing)[\\/]/, /[\\/]threading\.py$/,
  /^<frozen /, /^node:internal[\\/]/, /^internal[\\/]/,
];

/**
 * The traceback without the tool's frames (each Python frame's own source and `^^^`
 * lines go with it), and how many frames were taken out.
 */
export function withoutToolFrames(traceback: string): { text: string; hidden: number } {
  const lines = traceback.split('\n');
  const frames = framesOf(traceback).sort((a, b) => a.at - b.at);
  const drop = new Set<number>();
  let hidden = 0;
  frames.forEach((f, i) => {
    if (!TOOL.some((re) => re.test(f.file))) return;
    hidden++;
    const indent = /^\s*/.exec(lines[f.at])![0].length;
    const end = frames[i + 1]?.at ?? lines.length;
    // A Python frame's source and marker lines are indented deeper than its `File` line.
    for (let n = f.at; n < end && (n === f.at || /^\s*/.exec(lines[n])![0].length > indent); n++) drop.add(n);
  });
  return { text: lines.filter((_, n) => !drop.has(n)).join('\n'), hidden };
}

/** `file` relative to the target's folder when it is inside it (`services/auth.py`), else as given. */
export function relativeToTarget(file: string, targetFile: string): string {
  const home = homeOf(norm(targetFile), [{ file, line: 0 }]);
  const f = norm(file);
  return home !== null && f.startsWith(home + '/') ? f.slice(home.length + 1) : f;
}

/** The target's folder as the traceback spells it (a relative target is found by its tail). */
function homeOf(target: string, frames: Frame[]): string | null {
  if (/^(\/|[A-Za-z]:\/)/.test(target)) return dirOf(target);
  const tail = '/' + target.replace(/^\.\//, '');
  const hit = frames.find((f) => norm(f.file).endsWith(tail));
  return hit ? norm(hit.file).slice(0, -tail.length) + dirOf(tail) : null;
}

function norm(p: string): string {
  return p.replace(/\\/g, '/');
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i > 0 ? p.slice(0, i) : i === 0 ? '' : '.';
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim()) ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** `AttributeError: 'FieldInfo' object has no attribute 'encode' (services/auth.py:14)` */
export function describeCallError(e: CallError): string {
  return `${e.type}${e.message ? `: ${e.message}` : ''}${e.where ? ` (${e.where})` : ''}`;
}
