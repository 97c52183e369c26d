/**
 * The Node quick fix: a core `…Sync` call → its asynchronous twin, awaited, with the import it
 * needs added once in the file's module format. Two shapes, one table:
 *  - `fs.readFileSync(…)` → `await readFile(…)` from `node:fs/promises` (same arguments, same result);
 *  - `pbkdf2Sync(…)` → `await promisify(pbkdf2)(…)` (crypto, zlib: callback APIs, same arguments).
 * child_process is not in the table: `promisify(exec)` resolves to `{ stdout, stderr }`, not
 * what `execSync` returned, so a mechanical rewrite would change the program.
 */
import { parseJs } from './jsSource';
import { jsBindings, jsFunctionAt } from './jsSource';
import { boundNames, detectModuleFormat, jsInsertImports, jsRefersTo, type ModuleFormat, type NamedImport } from './nodeImports';
import { syncApiOf } from './scanJs';
import { LineIndex, type FixResult, type Range, type TextEdit } from './text';

type AsyncTwin = { via: 'promises'; module: 'fs/promises'; name: string } | { via: 'promisify'; module: string; name: string };

const FS_PROMISES = ['readFile', 'writeFile', 'appendFile', 'readdir', 'stat', 'lstat', 'mkdir', 'mkdtemp', 'rm', 'rmdir', 'unlink', 'rename', 'copyFile', 'access', 'realpath', 'readlink', 'chmod', 'truncate'];
const PROMISIFY: { readonly [module: string]: readonly string[] } = {
  crypto: ['pbkdf2', 'scrypt', 'generateKeyPair', 'hkdf'],
  zlib: ['gzip', 'gunzip', 'deflate', 'inflate', 'deflateRaw', 'inflateRaw', 'unzip', 'brotliCompress', 'brotliDecompress'],
};

/** `fs.readFileSync` → its awaited twin; undefined when there is none that returns the same value. */
export const ASYNC_TWINS: { readonly [api: string]: AsyncTwin } = {
  ...Object.fromEntries(FS_PROMISES.map((name) => [`fs.${name}Sync`, { via: 'promises', module: 'fs/promises', name }])),
  ...Object.fromEntries(Object.entries(PROMISIFY).flatMap(([module, names]) => names.map((name) => [`${module}.${name}Sync`, { via: 'promisify', module, name }]))),
};

/**
 * Rewrite the core `…Sync` call at `call` (the hint's range) as its awaited twin. In an async
 * function only; in a route handler that is not async, `async ` is added to the handler too.
 * `format` overrides the module format read from the file (pass package.json's "type" for .js).
 */
export function nodeSyncToAsync(text: string, call: Range, fileName: string, format?: ModuleFormat): FixResult {
  const source = parseJs(text);
  const index = new LineIndex(text);
  const start = index.offset(call.start);
  const end = index.offset(call.end);
  const site = source.calls.find((c) => c.start === start && c.end === end);
  if (!site) return { notOffered: 'no call at the range' };
  if (site.awaited) return { notOffered: 'the call is awaited already' };
  const api = syncApiOf(site.callee, jsBindings(source));
  if (!api) return { notOffered: `\`${site.callee}\` is not a core …Sync function` };
  const twin = ASYNC_TWINS[api];
  if (!twin) return { notOffered: `\`${api}\` has no asynchronous twin returning the same value` };
  const fn = jsFunctionAt(source, start);
  if (!fn || fn.kind === 'sync') return { notOffered: 'the call is not in an async function or a route handler (await is valid only there)' };

  const adds: (NamedImport & { local: string })[] = [];
  const taken = boundNames(source);
  const nameFor = (module: string, name: string): string => {
    const ref = jsRefersTo(source, module, name);
    if (ref) return ref;
    const local = taken.has(name) ? `${name}Async` : name;
    adds.push({ module, name, local });
    taken.add(local);
    return local;
  };
  // A namespace call (`crypto.pbkdf2Sync`) keeps its namespace: `crypto.pbkdf2`.
  const member = site.callee.includes('.') ? `${site.callee.slice(0, site.callee.lastIndexOf('.'))}.${twin.name}` : undefined;
  let callee: string;
  if (twin.via === 'promises') callee = nameFor('fs/promises', twin.name);
  else callee = `${nameFor('util', 'promisify')}(${member ?? nameFor(twin.module, twin.name)})`;

  const needsParens = ['.', '?.', '(', '['].includes(source.tokens[site.closeIndex + 1]?.text ?? '');
  const edits: TextEdit[] = [];
  if (fn.kind === 'handler') edits.push({ range: index.range(fn.start, fn.start), newText: 'async ' });
  edits.push({ range: index.range(site.start, site.calleeEnd), newText: `${needsParens ? '(' : ''}await ${callee}` });
  if (needsParens) edits.push({ range: index.range(site.end, site.end), newText: ')' });
  return { edits: [...jsInsertImports(source, format ?? detectModuleFormat(source, fileName), adds), ...edits] };
}
