/** Shared test helpers: run the real CLI, find leftover processes. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { processesWithEnv } from '../../src/engine/killTree';
import { Report } from '../../src/shared/protocol';

/** The repository root: the nearest folder above the bundled test with a package.json. */
export const REPO = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})();
export const BIN = path.join(REPO, 'bin', 'looplag.js');
export const FIXTURES = path.join(REPO, 'test', 'fixtures');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The parsed (and validated) report when `--json` was used. */
  report: Report | null;
  pid: number;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called once the CLI process has started (e.g. to send it SIGINT later). */
  onStart?(pid: number): void;
  /** Called on each stderr chunk (e.g. to wait for a progress line). */
  onStderr?(text: string, pid: number): void;
}

/** Run `node bin/looplag.js …` and collect its output; a `--json` report is validated. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      options.onStderr?.(d.toString('utf8'), child.pid!);
    });
    child.on('error', reject);
    options.onStart?.(child.pid!);
    child.on('close', (code, signal) => {
      let report: Report | null = null;
      if (args.includes('--json') && stdout.trim()) report = Report.parse(JSON.parse(stdout));
      resolve({ code, signal, stdout, stderr, report, pid: child.pid! });
    });
  });
}

/** A unique tag to put in a run's environment, inherited by every process it starts. */
export function newTag(): string {
  return `looplag-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
}

/** PIDs of live processes whose environment carries `LOOPLAG_TEST_TAG=tag` (Linux /proc). */
export function processesWithTag(tag: string): number[] {
  return processesWithEnv('LOOPLAG_TEST_TAG', tag);
}

export function tmpDir(prefix = 'looplag-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Write a Python module into a fresh temp folder and return its path. */
export function writePy(source: string, name = 'target_mod.py'): string {
  const dir = tmpDir();
  const file = path.join(dir, name);
  fs.writeFileSync(file, source);
  return file;
}

/** Exit 1 means "one clear line on stderr": exactly one, naming the error kind. */
export function assertOneLineError(r: CliResult, kind: string, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0], new RegExp(`^looplag: error \\[${kind}\\]: `));
  assert.match(lines[0], pattern);
}

/** The validated `--json` report of a CLI run, which must have printed one. */
export function reportOf(r: CliResult): Report {
  assert.ok(r.report, `no --json report on stdout\nstderr: ${r.stderr}`);
  return r.report;
}

/**
 * One mode of one target through `looplag run --json`, which must have measured it
 * with every call succeeding: the report and that mode's run.
 */
export async function measureMode(target: string, mode: string, options: string[]): Promise<{ report: Report; run: ReturnType<typeof run> }> {
  const cli = await runCli(['run', target, '--modes', mode, '--timeout', '60', ...options, '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const report = cli.report!;
  const r = run(report, mode);
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.equal(r.taskStats.errorCount, 0, JSON.stringify(r.tasks.find((task) => task.error)?.error));
  assert.equal(r.tasks.filter((task) => task.endMs !== null).length, report.settings.concurrency);
  return { report, run: r };
}

export function run(report: Report, mode: string) {
  const r = report.runs.find((x) => x.mode === mode);
  if (!r) throw new Error(`no ${mode} run in report (${report.runs.map((x) => x.mode).join(', ')})`);
  return r;
}

/** Poll `ready` until true or the deadline passes (a wait on an event, not a sleep). */
export async function waitFor(ready: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Throws, listing them (and killing them, so they cannot leak into the next test), when
 * processes carrying `tag` outlive the CLI. SIGKILL is asynchronous: polls briefly first.
 */
export async function assertNoProcessLeft(tag: string): Promise<void> {
  try {
    await waitFor(() => processesWithTag(tag).length === 0, 'tagged processes to end', 3000);
  } catch {
    assert.fail(`processes left behind:\n${killTagged(tag).join('\n')}`);
  }
}

/**
 * Kills every process carrying `tag` (so none leaks into the next test) and says what
 * each was: `pid: command line`.
 */
export function killTagged(tag: string): string[] {
  const pids = processesWithTag(tag);
  const cmds = pids.map((p) => {
    try {
      return `${p}: ${fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 300)}`;
    } catch {
      return `${p}: (gone)`;
    }
  });
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return cmds;
}

/**
 * Temporary folders for one test file, removed after it: `dir()` makes one, `keep(path)`
 * adopts one made elsewhere. Call at the top level of the test file.
 */
export function scratchFolders(): { dir(): string; keep(folder: string): void } {
  const folders: string[] = [];
  after(() => {
    for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
  });
  return {
    dir: () => {
      const folder = tmpDir();
      folders.push(folder);
      return folder;
    },
    keep: (folder) => void folders.push(folder),
  };
}
