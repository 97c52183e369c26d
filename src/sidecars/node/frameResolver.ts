/**
 * What a profiled frame is, for the report: whose it is (the user's workspace, a package
 * in node_modules, Node's runtime, or the sidecar's own and left out), its file as the
 * report shows it, its line in the file the user wrote (TypeScript through the source
 * map the loader's transpiler inlined) and that line's text.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawFrame } from '../../shared/protocol';
import type { CallFrame } from './profileSamples';
import { isTypeScript } from './transpile';

/** The line text sent, at most (the protocol's limit). */
const SOURCE_MAX_CHARS = 200;

/** The part of Node's `module.SourceMap` used here (`findEntry`: 0-based lines and columns). */
interface SourceMapLike {
  findEntry(line: number, column: number): object;
}

export interface FrameResolverOptions {
  /** The user's workspace: files under it are `user`, shown relative to it. */
  workspaceRoot: string | null;
  /** The sidecar's folder (its bundles): frames there are the tool's. */
  toolDir: string;
  /** `module.findSourceMap`; absent on a Node without it. */
  findSourceMap?: (file: string) => SourceMapLike | undefined;
}

/**
 * Resolves profile frames (see FrameResolver in profileSamples.ts), caching the files it
 * reads and each frame it describes for one profile.
 */
export class Frames {
  private readonly root: string | null;
  private readonly toolDir: string;
  private readonly lines = new Map<string, string[] | null>();

  constructor(private readonly o: FrameResolverOptions) {
    this.root = o.workspaceRoot ? realpath(o.workspaceRoot) : null;
    this.toolDir = realpath(o.toolDir);
  }

  readonly resolve = (cf: CallFrame, line: number | null, isDefinition: boolean): RawFrame | null => {
    const fn = cf.functionName || '(anonymous)';
    const url = cf.url;
    const def = isDefinition && line !== null ? { lineIsDefinition: true } : {};
    // The profiler's own nodes ((program), (garbage collector)), the regex engine
    // (`RegExp: …`), native code: no script.
    if (!url) return { file: null, line: null, function: fn, kind: 'runtime' };
    if (url.startsWith('node:') || url.startsWith('internal/')) return { file: url, line, function: fn, kind: 'runtime', ...def };
    let file: string;
    try {
      file = url.startsWith('file:') ? fileURLToPath(url) : url;
    } catch {
      return { file: url, line, function: fn, kind: 'runtime', ...def };
    }
    if (!path.isAbsolute(file)) return { file: url, line, function: fn, kind: 'runtime', ...def };
    if (isInside(file, this.toolDir)) return null;
    let at = line;
    if (line !== null && isTypeScript(file)) {
      const mapped = this.mapped(file, url, line, isDefinition ? cf.columnNumber : 0);
      if (mapped) {
        file = mapped.file;
        at = mapped.line;
      }
    }
    const source = at === null ? null : this.lineText(file, at);
    const nm = file.split(/[\\/]node_modules[\\/]/);
    if (nm.length > 1) return { file: toPosix(nm[nm.length - 1]), line: at, function: fn, kind: 'library', source, ...def };
    // Outside the workspace (or without one), a file of the user's is shown by its full path.
    const shown = this.root && isInside(file, this.root) ? path.relative(this.root, file) : file;
    return { file: toPosix(shown), line: at, function: fn, kind: 'user', source, ...def };
  };

  /** The `.ts` line of a transpiled line (1-based), through the inline source map. */
  private mapped(file: string, url: string, line: number, column: number): { file: string; line: number } | null {
    const map = this.o.findSourceMap?.(file) ?? this.o.findSourceMap?.(url);
    if (!map) return null;
    const at = (col: number) => {
      const e = map.findEntry(line - 1, col) as { generatedLine?: number; originalSource?: string; originalLine?: number };
      return e && e.originalSource !== undefined && e.originalLine !== undefined && e.generatedLine === line - 1 ? e : null;
    };
    // A tick's line has no column: the first mapping on it, else its last (an indented
    // line has none at column 0, and the entry found would be the line above's).
    const e = at(Math.max(0, column)) ?? at(Number.MAX_SAFE_INTEGER);
    if (!e) return null;
    let original = e.originalSource!;
    try {
      if (original.startsWith('file:')) original = fileURLToPath(original);
    } catch {
      return null;
    }
    if (!path.isAbsolute(original)) original = path.resolve(path.dirname(file), original);
    return { file: original, line: e.originalLine! + 1 };
  }

  private lineText(file: string, line: number): string | null {
    let lines = this.lines.get(file);
    if (lines === undefined) {
      try {
        lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
      } catch {
        lines = null;
      }
      this.lines.set(file, lines);
    }
    const text = lines?.[line - 1];
    return text === undefined ? null : text.trim().slice(0, SOURCE_MAX_CHARS);
  }
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function isInside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}
