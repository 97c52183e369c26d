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
  /** The parsed (and validated) report when `--json` was used (not for `looplag serve`). */
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
      // `looplag serve --json` prints a looplag.serve/1 document: its tests parse it themselves.
      if (args.includes('--json') && args[0] !== 'serve' && stdout.trim()) report = Report.parse(JSON.parse(stdout));
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

/** Linux's USER_HZ: /proc/stat and /proc/self/stat count CPU time in these ticks. */
const CLOCK_TICKS_PER_S = 100;

/** Busy CPU seconds of the whole machine, and of this process with its waited-for children (Linux), or null. */
function cpuSeconds(): { machine: number; ours: number } | null {
  try {
    // user nice system idle iowait irq softirq steal (guest time is already in user/nice)
    const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const self = fs.readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name: state is field 3; utime, stime, cutime, cstime are 14-17.
    const f = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
    const busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] || 0);
    return { machine: busy / CLOCK_TICKS_PER_S, ours: (f[11] + f[12] + f[13] + f[14]) / CLOCK_TICKS_PER_S };
  } catch {
    return null;
  }
}

/**
 * Runs `work` (synchronous: a child it starts must have been waited for by the end) and
 * measures what other processes used of the machine meanwhile, as the sidecar's
 * `backgroundCpuFrac` does for a window: the machine's busy CPU time minus ours and our
 * children's, over the wall time × cores. Null where it cannot be measured (not Linux,
 * or too short for the 10 ms ticks to mean anything).
 */
export function withBackgroundLoad<T>(work: () => T): { value: T; backgroundCpuFrac: number | null } {
  const cores = os.cpus().length || 1;
  const start = cpuSeconds();
  const t0 = process.hrtime.bigint();
  const value = work();
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const end = cpuSeconds();
  if (!start || !end || wallS * cores * CLOCK_TICKS_PER_S < 20) return { value, backgroundCpuFrac: null };
  const others = (end.machine - start.machine) - (end.ours - start.ours);
  return { value, backgroundCpuFrac: Math.min(1, Math.max(0, others / (wallS * cores))) };
}

/**
 * As withBackgroundLoad, for asynchronous work (e.g. a CLI run): every child the work
 * started must have been waited for when its promise settles.
 */
export async function withBackgroundLoadAsync<T>(work: () => Promise<T>): Promise<{ value: T; backgroundCpuFrac: number | null }> {
  const cores = os.cpus().length || 1;
  const start = cpuSeconds();
  const t0 = process.hrtime.bigint();
  const value = await work();
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const end = cpuSeconds();
  if (!start || !end || wallS * cores * CLOCK_TICKS_PER_S < 20) return { value, backgroundCpuFrac: null };
  const others = (end.machine - start.machine) - (end.ours - start.ours);
  return { value, backgroundCpuFrac: Math.min(1, Math.max(0, others / (wallS * cores))) };
}

/**
 * Ctrl+C under load: runs `looplag ARGS` with a marker file the test app appends a line to
 * per request (LOOPLAG_TEST_MARKER, in `dir`), sends SIGINT once it holds more than `lines`
 * lines, and asserts what every such test needs: nothing of the run left (checked first, so a
 * failed assertion leaves nothing behind), exit 130 within 10 s of the signal, and the CLI,
 * the server and the load generator tagged at that moment (so the check is not vacuous).
 */
export async function interruptUnderLoad(args: string[], dir: string, lines: number, what: string, timeoutMs: number): Promise<CliResult> {
  const tag = newTag();
  const marker = path.join(dir, 'requests');
  let tagged = 0;
  let sentAt = 0;
  let ended = false;
  let notUnderLoad: Error | null = null;
  const cli = await runCli(args, {
    env: { LOOPLAG_TEST_TAG: tag, LOOPLAG_TEST_MARKER: marker },
    onStart: (pid) => {
      const underLoad = () => fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').split('\n').length > lines;
      waitFor(() => ended || underLoad(), what, timeoutMs).then(() => {
        if (ended) return;
        tagged = processesWithTag(tag).length;
        sentAt = Date.now();
        process.kill(pid, 'SIGINT');
      }, (e: Error) => {
        notUnderLoad = e;
        process.kill(pid, 'SIGKILL');
      });
    },
  });
  ended = true;
  await assertNoProcessLeft(tag);
  assert.equal(notUnderLoad, null);
  assert.ok(sentAt > 0, `the run ended (exit ${cli.code}) before ${what}: ${cli.stderr.trim().split('\n').pop()}`);
  assert.equal(cli.code, 130, cli.stderr);
  assert.ok(Date.now() - sentAt < 10_000, `ended ${Date.now() - sentAt} ms after SIGINT`);
  assert.ok(tagged >= 3, `${tagged} tagged processes under load`);
  return cli;
}
