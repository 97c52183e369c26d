/**
 * TypeScript without the user's build step: `ts.transpileModule` (syntax only, no type
 * check) from the TypeScript compiler shipped in the package as plain JavaScript, so it
 * works on every platform. The compiler (3.6 MB) loads lazily, only for .ts files, and
 * each output is cached on disk keyed by path, mtime and options: pool workers and
 * children then read the parent's output instead of loading the compiler again.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

type TS = typeof import('typescript');

export const TS_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx'];

export function isTypeScript(file: string): boolean {
  return TS_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

/** A syntax error in the user's source, with its 1-based line. */
export class SourceSyntaxError extends Error {
  override name = 'SourceSyntaxError';
  constructor(message: string, readonly file: string, readonly line: number | null) {
    super(message);
  }
}

let compiler: TS | undefined;

/** The bundled compiler, next to this file in dist/sidecars/node (or the dev install). */
export function loadTypeScript(baseDir: string): TS {
  if (compiler) return compiler;
  const req = createRequire(path.join(baseDir, 'noop.js'));
  const bundled = path.join(baseDir, 'typescript.js');
  compiler = (fs.existsSync(bundled) ? req(bundled) : req('typescript')) as TS;
  return compiler;
}

export interface TranspileRequest {
  file: string;
  source: string;
  /** 'commonjs': import/export become require/exports; 'esm': kept. */
  format: 'commonjs' | 'esm';
  baseDir: string;
  cacheDir: string | null;
}

/** The JavaScript for a TypeScript source, with an inline source map back to the .ts lines. */
export function transpile(req: TranspileRequest): string {
  const key = req.cacheDir ? cacheKey(req) : null;
  if (key && req.cacheDir) {
    try {
      return fs.readFileSync(path.join(req.cacheDir, key + '.js'), 'utf8');
    } catch {
      // miss
    }
  }
  const ts = loadTypeScript(req.baseDir);
  const options = projectOptions(ts, req.file);
  const out = ts.transpileModule(req.source, {
    fileName: req.file,
    reportDiagnostics: true,
    compilerOptions: {
      ...options,
      module: req.format === 'esm' ? ts.ModuleKind.ESNext : ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      sourceMap: false,
      inlineSourceMap: true,
      inlineSources: false,
      declaration: false,
      noEmit: false,
      verbatimModuleSyntax: false,
      isolatedModules: true,
      esModuleInterop: options.esModuleInterop ?? true,
      jsx: options.jsx ?? ts.JsxEmit.React,
    },
  });
  const error = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (error) {
    const message = ts.flattenDiagnosticMessageText(error.messageText, '\n');
    const line = error.file && error.start !== undefined ? error.file.getLineAndCharacterOfPosition(error.start).line + 1 : null;
    throw new SourceSyntaxError(message, req.file, line);
  }
  if (key && req.cacheDir) writeAtomic(path.join(req.cacheDir, key + '.js'), out.outputText);
  return out.outputText;
}

function cacheKey(req: TranspileRequest): string {
  const h = createHash('sha256');
  // The compiler that wrote it (a new version may emit differently) and the file.
  h.update(`${compilerStamp(req.baseDir)}\0${req.file}\0${req.format}\0`);
  h.update(req.source);
  const tsconfig = findUp(path.dirname(req.file), 'tsconfig.json');
  if (tsconfig) {
    try {
      const st = fs.statSync(tsconfig);
      h.update(`\0${tsconfig}\0${st.mtimeMs}\0${st.size}`);
    } catch {
      // gone: key without it
    }
  }
  return h.digest('hex').slice(0, 40);
}

let stamp: string | undefined;

/** Size and mtime of the bundled compiler: changes with every Loop Lag build that ships a new one. */
function compilerStamp(baseDir: string): string {
  if (stamp === undefined) {
    try {
      const st = fs.statSync(path.join(baseDir, 'typescript.js'));
      stamp = `${st.size}:${st.mtimeMs}`;
    } catch {
      stamp = 'dev';
    }
  }
  return stamp;
}

function writeAtomic(file: string, text: string): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.floor(performance.now() * 1000)}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch {
    // a cache that cannot be written only costs time
  }
}

/** The project's own options that change emitted code (decorators, JSX, interop). */
function projectOptions(ts: TS, file: string): import('typescript').CompilerOptions {
  const tsconfig = findUp(path.dirname(file), 'tsconfig.json');
  if (!tsconfig) return {};
  const read = ts.readConfigFile(tsconfig, (p) => ts.sys.readFile(p));
  if (read.error || !read.config) return {};
  const raw = (read.config as { compilerOptions?: unknown }).compilerOptions ?? {};
  const { options } = ts.convertCompilerOptionsFromJson(raw, path.dirname(tsconfig));
  const keep: (keyof import('typescript').CompilerOptions)[] = [
    'experimentalDecorators', 'emitDecoratorMetadata', 'useDefineForClassFields', 'esModuleInterop',
    'jsx', 'jsxFactory', 'jsxFragmentFactory', 'jsxImportSource', 'preserveConstEnums', 'importHelpers',
  ];
  const picked: import('typescript').CompilerOptions = {};
  for (const k of keep) if (options[k] !== undefined) picked[k] = options[k] as never;
  // importHelpers would need tslib installed in the user's project; inline helpers always work.
  picked.importHelpers = false;
  return picked;
}

export function findUp(dir: string, name: string): string | null {
  for (let d = dir; ; d = path.dirname(d)) {
    const p = path.join(d, name);
    if (fs.existsSync(p)) return p;
    if (path.dirname(d) === d) return null;
  }
}

/** The module format Node gives a file: by extension, else the nearest package.json "type". */
export function moduleFormat(file: string): 'commonjs' | 'esm' {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.mjs' || ext === '.mts') return 'esm';
  if (ext === '.cjs' || ext === '.cts') return 'commonjs';
  const pkg = findUp(path.dirname(file), 'package.json');
  if (!pkg) return 'commonjs';
  try {
    return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { type?: string }).type === 'module' ? 'esm' : 'commonjs';
  } catch {
    return 'commonjs';
  }
}

const CACHE_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/**
 * The transpile cache folder in the temp directory, or null when it cannot be trusted.
 * Cached files are executed, so the folder must be ours alone: created 0700, and an
 * existing one must belong to this user and not be writable by others (another user
 * could otherwise plant code under a predictable name). Entries older than a week go.
 */
export function defaultCacheDir(): string | null {
  let user = 'user';
  try {
    user = String(os.userInfo().uid >= 0 ? os.userInfo().uid : os.userInfo().username);
  } catch {
    // no user info (containers): one shared name, still checked below
  }
  const dir = path.join(os.tmpdir(), `looplag-ts-cache-${user}`);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    const uid = typeof process.getuid === 'function' ? process.getuid() : null;
    if (!st.isDirectory() || (uid !== null && st.uid !== uid)) return null;
    // Ours: make it private (an older version, or mkdir under a loose umask, left it readable).
    if (uid !== null && (st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
    const now = Date.now();
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      try {
        if (now - fs.statSync(p).mtimeMs > CACHE_MAX_AGE_MS) fs.unlinkSync(p);
      } catch {
        // another sidecar removed it first
      }
    }
    return dir;
  } catch {
    return null;
  }
}
