/**
 * Crashes named by their cause, on real sidecars: V8 running out of heap (inline, worker
 * threads, child processes), a SIGKILL told apart from the kernel's out-of-memory killer
 * by its counters, other signals and exit codes in plain words; an unhandled promise
 * rejection is the running call's error in every Node mode. Also: `--args` evaluated the
 * documented number of times, 10 MB of argument text in every mode (no E2BIG), and a
 * target file deleted during the run named as such.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { readOomKills } from '../../src/engine/oomKills';
import { runSession } from '../../src/engine/runSession';
import { defaultNodeSidecarDir, defaultPythonSidecarDir } from '../../src/engine/runtimes';
import { checkCallArgs } from '../../src/engine/languageTools';
import type { Report } from '../../src/shared/protocol';
import { reportOf, run, runCli, scratchFolders } from '../support/helpers';

const FAST = ['--concurrency', '2', '--workers', '2', '--no-gil-probe', '--timeout', '60', '--json'];
const scratch = scratchFolders();

/** The OOM-kill counters are readable here (Linux): a SIGKILL's sender can be told. */
const OOM_READABLE = readOomKills().length > 0;
const NOT_OOM_KILLED = OOM_READABLE
  ? /was killed by SIGKILL from another process or itself, not by the kernel's out-of-memory killer \(\S+ oom_kill unchanged\)/
  : /was killed by SIGKILL, from another process, itself, or the kernel's out-of-memory killer \(Loop Lag cannot tell which on this platform\)/;

const PY_DIE = `import os, signal

def die(how):
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif how == "term":
        os.kill(os.getpid(), signal.SIGTERM)
    elif how == "abort":
        os.abort()
    else:
        os._exit(3)
`;

const JS_DIE = `exports.die = function die(how) {
  if (how === 'oom') {
    const hold = [];
    for (;;) hold.push(new Array(1e5).fill(hold.length));
  }
  if (how === 'kill') process.kill(process.pid, 'SIGKILL');
  if (how === 'term') process.kill(process.pid, 'SIGTERM');
  if (how === 'abort') process.abort();
  process.exit(3);
};
exports.reject = async function reject() {
  // Nobody handles this one: Node's default ends the process on it.
  Promise.reject(new Error('left unhandled'));
  await new Promise((r) => setTimeout(r, 5));
};
`;

function write(name: string, source: string): string {
  const file = path.join(scratch.dir(), name);
  fs.writeFileSync(file, source);
  return file;
}

/** The error a mode's run shows: its own, or the sidecar's crash ("not measured: …"). */
function errorOf(report: Report, mode: string): string {
  const r = run(report, mode);
  assert.notEqual(r.status, 'ok', `${mode} measured: ${JSON.stringify(r.taskStats)}`);
  return r.error?.message ?? '';
}

/** A small heap, so running out of it takes a second, not a minute (workers follow it too). */
const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=48' };

describe('crash causes', () => {
  test('Node out of heap: inline, a worker thread and a child process each say so, with the limit and how to raise it', async () => {
    const r = await runCli(['run', `${write('die.js', JS_DIE)}::die`, '--args', '"oom"', '--modes', 'inline,worker,process', ...FAST], { env: SMALL_HEAP });
    const report = reportOf(r);
    const inline = errorOf(report, 'inline');
    assert.match(inline, /the Node sidecar, while measuring, ran out of JavaScript heap memory \(V8's heap limit here is \d+ MB; raise it with NODE_OPTIONS=--max-old-space-size=MB\)/);
    assert.match(errorOf(report, 'worker'), /worker \d+ ran out of JavaScript heap memory \(V8's heap limit here is \d+ MB; a worker thread's limit follows --max-old-space-size, or Worker resourceLimits\.maxOldGenerationSizeMb\)/);
    assert.match(errorOf(report, 'process'), /pid \d+ ran out of JavaScript heap memory \(V8's heap limit here is \d+ MB; raise it with NODE_OPTIONS=--max-old-space-size=MB\)/);
    for (const mode of ['inline', 'worker', 'process']) assert.doesNotMatch(errorOf(report, mode), /SIGABRT|process\.exit/, mode);
  });

  test('a self-inflicted SIGKILL is not called out of memory (Python: inline, thread, process)', async () => {
    const r = await runCli(['run', `${write('die.py', PY_DIE)}::die`, '--args', '"kill"', '--modes', 'inline,thread,process', ...FAST]);
    const report = reportOf(r);
    assert.match(errorOf(report, 'inline'), /the Python sidecar, while measuring, /);
    for (const mode of ['inline', 'thread', 'process']) {
      assert.match(errorOf(report, mode), NOT_OOM_KILLED, mode);
      assert.doesNotMatch(errorOf(report, mode), /possibly out of memory/, mode);
    }
    assert.match(errorOf(report, 'process'), /a process worker died while running the target \(its unmeasured warm-up call\): pid \d+ was killed by SIGKILL/);
  });

  test('a self-inflicted SIGKILL is not called out of memory (Node: inline, process)', async () => {
    const r = await runCli(['run', `${write('die.js', JS_DIE)}::die`, '--args', '"kill"', '--modes', 'inline,process', ...FAST]);
    const report = reportOf(r);
    assert.match(errorOf(report, 'inline'), /the Node sidecar, while measuring, /);
    assert.match(errorOf(report, 'process'), /pid \d+ was killed by SIGKILL/);
    for (const mode of ['inline', 'process']) assert.match(errorOf(report, mode), NOT_OOM_KILLED, mode);
  });

  test('abort(), a SIGTERM sent by user code and os._exit(n) each get their own words (Python)', async () => {
    const file = write('die.py', PY_DIE);
    const abort = reportOf(await runCli(['run', `${file}::die`, '--args', '"abort"', '--modes', 'inline,process', ...FAST]));
    for (const mode of ['inline', 'process']) {
      assert.match(errorOf(abort, mode), /was aborted \(SIGABRT\): abort\(\) was called, by user code \(os\.abort\(\), process\.abort\(\)\)/, mode);
    }
    const term = reportOf(await runCli(['run', `${file}::die`, '--args', '"term"', '--modes', 'inline', ...FAST]));
    assert.match(errorOf(term, 'inline'), /the Python sidecar, while measuring, was stopped by SIGTERM, sent by user code \(os\.kill, process\.kill\) or another process: Loop Lag sends none while measuring/);
    const exit = reportOf(await runCli(['run', `${file}::die`, '--args', '"exit"', '--modes', 'process', ...FAST]));
    assert.match(errorOf(exit, 'process'), /pid \d+ exited with code 3 \(user code may have called os\._exit\(3\)\)/);
  });

  test('process.abort() and process.exit(n) in Node pools each get their own words', async () => {
    const file = write('die.js', JS_DIE);
    const abort = reportOf(await runCli(['run', `${file}::die`, '--args', '"abort"', '--modes', 'process', ...FAST]));
    assert.match(errorOf(abort, 'process'), /pid \d+ was aborted \(SIGABRT\)/);
    const exit = reportOf(await runCli(['run', `${file}::die`, '--args', '"exit"', '--modes', 'worker', ...FAST]));
    assert.match(errorOf(exit, 'worker'), /a worker pool member died in the target's unmeasured warm-up call: worker \d+ exited with code 3 \(user code may have called process\.exit\(3\)\)/);
  });

  test('an unhandled rejection is the call\'s error in every Node mode (inline, worker, process): calls-raised, exit 4', async () => {
    const r = await runCli(['run', `${write('die.js', JS_DIE)}::reject`, '--modes', 'inline,worker,process', ...FAST]);
    const report = reportOf(r);
    assert.equal(r.code, 4, r.stderr);
    for (const mode of ['inline', 'worker', 'process']) {
      const m = run(report, mode);
      assert.equal(m.status, 'ok', `${mode}: ${JSON.stringify(m.error)}`);
      assert.equal(m.taskStats.errorCount, 2, mode);
      assert.equal(m.taskStats.okCount, 0, mode);
      const e = m.tasks[0].error!;
      assert.equal(e.type, 'UnhandledRejection', mode);
      assert.match(e.message, /^Error: left unhandled \(a promise rejected with no handler; Node 15\+ ends the process on one by default, --unhandled-rejections=throw\)/, mode);
      assert.match(e.traceback ?? '', /die\.js:\d+/, mode);
    }
    assert.ok(report.advice.some((a) => a.id === 'calls-raised'), report.advice.map((a) => a.id).join(', '));
  });
});

describe('--args is evaluated once per window that runs calls, plus once for the warm-up calls, in the sidecar', () => {
  const PY_COUNT = `import os
LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "evaluations.log")

def counted():
    with open(LOG, "a") as f:
        f.write("%d\\n" % os.getpid())
    return [1, 2, 3]

def f(xs):
    xs.append(4)
    return len(xs)
`;
  const JS_COUNT = `const fs = require('node:fs');
const path = require('node:path');
const LOG = path.join(__dirname, 'evaluations.log');
function counted() {
  fs.appendFileSync(LOG, process.pid + '\\n');
  return [1, 2, 3];
}
exports.f = function f(xs) {
  xs.push(4);
  return xs.length;
};
`;

  /** Runs the CLI on a fresh copy of the module; the pids that evaluated the arguments, in order. */
  async function evaluations(name: string, source: string, modes: string, extra: string[]): Promise<{ pids: number[]; report: Report }> {
    const file = write(name, source);
    const r = await runCli(['run', `${file}::f`, '--args', 'counted()', '--modes', modes, ...FAST, ...extra]);
    assert.equal(r.code, 0, r.stderr);
    const log = path.join(path.dirname(file), 'evaluations.log');
    return { pids: fs.readFileSync(log, 'utf8').trim().split('\n').map(Number), report: reportOf(r) };
  }

  // Python: inline = warm-up + window; thread = warm-up + diagnostic + window; process = warm-up + window.
  test('Python, inline + thread + process: 7 evaluations (4 with --no-warmup), in each mode\'s sidecar', async () => {
    for (const [extra, expected] of [[[], 2 + 3 + 2], [['--no-warmup'], 1 + 2 + 1]] as const) {
      const { pids, report } = await evaluations('count.py', PY_COUNT, 'inline,thread,process', [...extra]);
      assert.equal(pids.length, expected, `${extra.join(' ')}: evaluations by pid: ${pids.join(' ')}`);
      // Each mode's sidecar evaluates them (pool members get copies, as their calls do).
      assert.equal(new Set(pids).size, 3, `${extra.join(' ')}: evaluations by pid: ${pids.join(' ')}`);
      for (const mode of ['inline', 'thread', 'process']) assert.equal(run(report, mode).taskStats.errorCount, 0, mode);
    }
  });

  test('Node, inline + worker + process: 6 evaluations (3 with --no-warmup), in each mode\'s sidecar', async () => {
    for (const [extra, expected] of [[[], 2 + 2 + 2], [['--no-warmup'], 1 + 1 + 1]] as const) {
      const { pids, report } = await evaluations('count.js', JS_COUNT, 'inline,worker,process', [...extra]);
      assert.equal(pids.length, expected, `${extra.join(' ')}: evaluations by pid: ${pids.join(' ')}`);
      assert.equal(new Set(pids).size, 3, `${extra.join(' ')}: evaluations by pid: ${pids.join(' ')}`);
      for (const mode of ['inline', 'worker', 'process']) assert.equal(run(report, mode).taskStats.errorCount, 0, mode);
    }
  });
});

describe('10 MB of argument text', () => {
  const TEN_MB = 10 * 1024 * 1024;
  const text = `"${'a'.repeat(TEN_MB)}"`;

  const LANGUAGES = [
    ['python', 'size.py', 'def size(s):\n    return len(s)\n', ['inline', 'thread', 'process']],
    ['javascript', 'size.js', 'exports.size = function size(s) { return s.length; };\n', ['inline', 'worker', 'process']],
  ] as const;

  test('every mode of both languages measures it: none goes through argv or the environment', async () => {
    for (const [language, name, source, modes] of LANGUAGES) {
      const file = write(name, source);
      const report = await runSession({
        target: { file, qualname: 'size', lines: null, args: text, language, workspaceRoot: path.dirname(file) },
        settings: { concurrency: 2, workers: 2, switchIntervalS: null, heartbeatMs: 1, stallMs: 50, gilProbe: false, modes: [...modes], timeoutS: 120 },
        freeThreaded: 'off',
      });
      assert.equal(report.error, null, `${language}: ${JSON.stringify(report.error)?.slice(0, 300)}`);
      for (const mode of modes) {
        const m = run(report, mode);
        assert.equal(m.status, 'ok', `${language} ${mode}: ${JSON.stringify(m.error)?.slice(0, 300)}`);
        assert.equal(m.taskStats.errorCount, 0, `${language} ${mode}`);
      }
    }
  });

  test('the editor\'s argument check takes it too, in both languages', async () => {
    for (const [language] of LANGUAGES) {
      const runtime = { command: language === 'python' ? 'python3' : process.execPath };
      const problem = await checkCallArgs(language, runtime, { python: defaultPythonSidecarDir(), node: defaultNodeSidecarDir() }, text);
      assert.equal(problem, null, language);
    }
  });
});

describe('a target file deleted during the run', () => {
  const PY_GONE = `import os

def gone():
    """Evaluated by --args: after the sidecar loaded this module, before its pool starts."""
    try:
        os.remove(__file__)
    except FileNotFoundError:
        pass
    return 1

def f(x):
    return x

def delete_me():
    try:
        os.remove(__file__)
    except FileNotFoundError:
        pass

def delete_and_exit():
    """Deletes this file and ends the sidecar (thread mode): the next mode cannot load it."""
    delete_me()
    os._exit(3)
`;
  const JS_GONE = `const fs = require('node:fs');
function gone() {
  try { fs.unlinkSync(__filename); } catch {}
  return 1;
}
exports.f = function f(x) { return x; };
`;

  test('Python process pool: the file was moved or deleted, not "the pool broke while starting"', async () => {
    const file = write('gone.py', PY_GONE);
    const report = reportOf(await runCli(['run', `${file}::f`, '--args', 'gone()', '--modes', 'process', ...FAST]));
    const m = run(report, 'process');
    assert.equal(m.error?.kind, 'target-not-found');
    assert.match(m.error!.message, new RegExp(`the target file ${escape(file)} was moved or deleted during the run: the process pool's workers could not load it`));
  });

  test('after a crash in thread mode, the next mode\'s "moved or deleted" is what the session says, not the crash', async () => {
    const file = write('gone.py', PY_GONE);
    const r = await runCli(['run', `${file}::delete_and_exit`, '--modes', 'thread,process', '--no-warmup', ...FAST]);
    const report = reportOf(r);
    assert.equal(run(report, 'thread').error?.kind, 'crashed', 'the crash stays on its mode');
    assert.equal(report.error?.kind, 'target-not-found', JSON.stringify(report.error));
    assert.match(report.error!.message, /was moved or deleted during the run/);
    assert.equal(r.code, 1, r.stderr);
  });

  test('Python, a later mode\'s sidecar: the file was moved or deleted during the run', async () => {
    const file = write('gone.py', PY_GONE);
    const r = await runCli(['run', `${file}::delete_me`, '--modes', 'inline,thread', ...FAST]);
    const report = reportOf(r);
    assert.equal(run(report, 'inline').status, 'ok');
    assert.match(report.error?.message ?? '', new RegExp(`the target file ${escape(file)} was moved or deleted during the run \\(an earlier mode had loaded it\\)`));
  });

  for (const mode of ['worker', 'process']) {
    test(`Node ${mode} pool: the file was moved or deleted during the run`, async () => {
      const file = write('gone.js', JS_GONE);
      const report = reportOf(await runCli(['run', `${file}::f`, '--args', 'gone()', '--modes', mode, ...FAST]));
      const m = run(report, mode);
      assert.equal(m.error?.kind, 'target-not-found', JSON.stringify(m.error));
      assert.match(m.error!.message, new RegExp(`the target file ${escape(file)} was moved or deleted during the run: the ${mode} pool's members could not load it`));
    });
  }
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
