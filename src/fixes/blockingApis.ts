/**
 * The well-known blocking APIs the static hints name, one table per language. A hint is a
 * guess until Loop Lag measures the call; the lists follow the linters users already know:
 * ruff's flake8-async rules (ASYNC210–ASYNC251, https://docs.astral.sh/ruff/rules/#flake8-async-async)
 * for Python, eslint-plugin-n's `no-sync` (https://github.com/eslint-community/eslint-plugin-n/blob/master/docs/rules/no-sync.md)
 * for Node. Each entry records the rule it mirrors; the few beyond those lists say why.
 */

/** Python: qualified name (through the file's imports) → the rule it mirrors. */
export const PYTHON_BLOCKING: { readonly [qualified: string]: string } = {
  // ASYNC210 blocking-http-call-in-async-function
  ...Object.fromEntries(['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'request'].flatMap((m) => [
    [`requests.${m}`, 'ASYNC210'],
    [`httpx.${m}`, 'ASYNC210'],
  ])),
  'urllib.request.urlopen': 'ASYNC210',
  'urllib3.request': 'ASYNC210',
  // ASYNC220 create-subprocess-in-async-function
  'subprocess.Popen': 'ASYNC220',
  'os.popen': 'ASYNC220',
  ...Object.fromEntries(['spawnl', 'spawnle', 'spawnlp', 'spawnlpe', 'spawnv', 'spawnve', 'spawnvp', 'spawnvpe', 'posix_spawn', 'posix_spawnp'].map((f) => [`os.${f}`, 'ASYNC220'])),
  // ASYNC221 run-process-in-async-function
  ...Object.fromEntries(['run', 'call', 'check_call', 'check_output', 'getoutput', 'getstatusoutput'].map((f) => [`subprocess.${f}`, 'ASYNC221'])),
  'os.system': 'ASYNC221',
  // ASYNC222 wait-for-process-in-async-function
  ...Object.fromEntries(['wait', 'wait3', 'wait4', 'waitid', 'waitpid'].map((f) => [`os.${f}`, 'ASYNC222'])),
  // ASYNC230 blocking-open-call-in-async-function
  open: 'ASYNC230',
  'io.open': 'ASYNC230',
  'io.open_code': 'ASYNC230',
  'codecs.open': 'ASYNC230',
  // ASYNC250 blocking-input-in-async-function
  input: 'ASYNC250',
  // ASYNC251 blocking-sleep-in-async-function
  'time.sleep': 'ASYNC251',
  // Beyond ruff: name resolution and connecting wait on the network (blockbuster lists them as
  // blocking). Methods of socket objects (`sock.recv`) cannot be told apart by name: left out.
  'socket.create_connection': 'blockbuster',
  'socket.getaddrinfo': 'blockbuster',
  'socket.gethostbyname': 'blockbuster',
  'socket.gethostbyname_ex': 'blockbuster',
  'socket.gethostbyaddr': 'blockbuster',
  'socket.getfqdn': 'blockbuster',
};

/** What a file object's read or write is called; `open(…).read()` is hinted as one call. */
export const PYTHON_FILE_IO = new Set(['read', 'readline', 'readlines', 'write', 'writelines']);

/**
 * Node core modules whose `…Sync` functions block (n/no-sync flags any `…Sync` member; the
 * hint keeps to core modules resolved through the file's imports, so a user's `cache.getSync()`
 * is not flagged).
 */
export const NODE_SYNC_MODULES = new Set(['fs', 'crypto', 'zlib', 'child_process']);

/** Express, Fastify and Koa (and its router) register handlers with these methods: each handler runs on the loop. */
export const ROUTE_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'del', 'head', 'options', 'all', 'use', 'route']);

/** `node:fs` → `fs`. */
export function coreModule(specifier: string): string {
  return specifier.replace(/^node:/, '');
}
