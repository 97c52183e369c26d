/**
 * Bounded resources and clear errors before measuring (issue 11, sections 4 and 5),
 * through the real CLI and real python3 / node sidecars.
 *
 * Pool members are counted by the target itself: its module records the process (and
 * Node worker thread) that loaded it, or was forked with it, in a folder named by
 * LOOPLAG_TEST_LOADS, so a pool member that started and never got a call still counts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { assertOneLineError, BIN, CliResult, REPO, reportOf, run, runCli, scratchFolders } from '../support/helpers';

const scratch = scratchFolders();

const scratchDir = scratch.dir;

/** Each load of the target: `pid ppid threadId` (threadId 0 on a main thread). */
interface Load {
  pid: number;
  ppid: number;
  threadId: number;
}

function loadsIn(dir: string): Load[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.load')).map((f) => {
    const [pid, ppid, threadId] = fs.readFileSync(path.join(dir, f), 'utf8').trim().split(' ').map(Number);
    return { pid, ppid, threadId };
  });
}

/** Loads by a child of another loader: the members of a process pool. */
function poolProcesses(loads: Load[]): number {
  const pids = new Set(loads.map((l) => l.pid));
  return new Set(loads.filter((l) => l.threadId === 0 && pids.has(l.ppid)).map((l) => l.pid)).size;
}

// Python pools fork on Linux: a child inherits the loaded module without running it
// again, so the module also records every fork.
const PY_TARGET = `import os

_dir = os.environ.get("LOOPLAG_TEST_LOADS")


def _record():
    if _dir:
        with open(os.path.join(_dir, "%d-0.load" % os.getpid()), "w") as f:
            f.write("%d %d 0" % (os.getpid(), os.getppid()))


_record()
os.register_at_fork(after_in_child=_record)


def work():
    return sum(range(20000))
`;

const JS_TARGET = `const fs = require('node:fs');
const path = require('node:path');
const { threadId } = require('node:worker_threads');
const dir = process.env.LOOPLAG_TEST_LOADS;
if (dir) fs.writeFileSync(path.join(dir, \`\${process.pid}-\${threadId}.load\`), \`\${process.pid} \${process.ppid} \${threadId}\`);
function work() {
  let s = 0;
  for (let i = 0; i < 20000; i++) s += i;
  return s;
}
module.exports = { work };
`;

describe('a pool never has more members than calls in flight', () => {
  for (const [language, mode, source, name] of [
    ['python', 'process', PY_TARGET, 'pool_loads.py'],
    ['python', 'thread', PY_TARGET, 'pool_loads.py'],
    ['node', 'process', JS_TARGET, 'pool_loads.cjs'],
    ['node', 'worker', JS_TARGET, 'pool_loads.cjs'],
  ] as const) {
    test(`${language} ${mode}: --workers 64 --concurrency 2 starts 2, and the report says W was capped`, async () => {
      const dir = scratchDir();
      const loads = scratchDir();
      const file = path.join(dir, name);
      fs.writeFileSync(file, source);
      const r = await runCli(['run', `${file}::work`, '--modes', mode, '--workers', '64', '--concurrency', '2',
        '--no-gil-probe', '--free-threaded', 'off', '--timeout', '60', '--json'], { env: { LOOPLAG_TEST_LOADS: loads } });
      assert.equal(r.code, 0, r.stderr);
      const m = run(reportOf(r), mode);
      assert.equal(m.status, 'ok');
      assert.equal(m.workers, 2);
      assert.equal(m.workersRequested, 64);
      assert.ok(m.notes?.some((n) => /not the 64 asked for/.test(n)), `a note says so: ${JSON.stringify(m.notes)}`);
      assert.ok(new Set(m.tasks.map((t) => t.worker)).size <= 2, 'tasks ran on at most 2 workers');
      if (mode === 'process') assert.equal(poolProcesses(loadsIn(loads)), 2, `pool processes: ${JSON.stringify(loadsIn(loads))}`);
      if (mode === 'worker') assert.equal(loadsIn(loads).filter((l) => l.threadId !== 0).length, 2, 'worker threads that loaded the target');
    });
  }

  test('a pool no larger than the calls in flight is not marked', async () => {
    const dir = scratchDir();
    const file = path.join(dir, 'pool_loads.py');
    fs.writeFileSync(file, PY_TARGET);
    const r = await runCli(['run', `${file}::work`, '--modes', 'process', '--workers', '2', '--concurrency', '4',
      '--no-gil-probe', '--free-threaded', 'off', '--timeout', '60', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const m = run(reportOf(r), 'process');
    assert.equal(m.workers, 2);
    assert.equal(m.workersRequested, undefined);
  });
});

/** A target whose module leaves `ran` in its folder when any sidecar loads it. */
function markingTarget(): { file: string; marker: string } {
  const dir = scratchDir();
  const file = path.join(dir, 'marks.py');
  fs.writeFileSync(file, 'import os\n\nopen(os.path.join(os.path.dirname(__file__), "ran"), "w").close()\n\n\ndef work():\n    return 1\n');
  return { file, marker: path.join(dir, 'ran') };
}

/** Exit 2 with the usage line first, and nothing measured (the target never loaded). */
function assertUsageBeforeMeasuring(r: { code: number | null; stderr: string; stdout: string }, marker: string, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0], /^looplag: /);
  assert.match(lines[0], pattern);
  assert.ok(lines.length <= 2 && (lines.length === 1 || /looplag --help/.test(lines[1])), `one clear line:\n${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.ok(!fs.existsSync(marker), 'no sidecar loaded the target');
}

describe('output paths are checked before anything runs', () => {
  for (const flag of ['--out', '--html'] as const) {
    test(`${flag} naming a folder: exit 2 at once, nothing measured, no temp file`, async () => {
      const { file, marker } = markingTarget();
      const outDir = scratchDir();
      const r = await runCli(['run', `${file}::work`, '--modes', 'inline', flag, outDir, '--no-gil-probe']);
      assertUsageBeforeMeasuring(r, marker, new RegExp(`${flag} .* is a folder`));
      assert.deepEqual(fs.readdirSync(outDir), []);
      assert.deepEqual(fs.readdirSync(path.dirname(outDir)).filter((f) => f.startsWith(path.basename(outDir)) && f.endsWith('.tmp')), [], 'no temp file beside it');
    });
  }

  test('sweep --out naming a folder: exit 2 before the sweep', async () => {
    const { file, marker } = markingTarget();
    const outDir = scratchDir();
    const r = await runCli(['sweep', `${file}::work`, '--workers', '1,2', '--out', outDir]);
    assertUsageBeforeMeasuring(r, marker, /--out .* is a folder/);
  });

  test('--out and --html naming one file: exit 2', async () => {
    const { file, marker } = markingTarget();
    const out = path.join(scratchDir(), 'r.json');
    const r = await runCli(['run', `${file}::work`, '--out', out, '--html', out]);
    assertUsageBeforeMeasuring(r, marker, /same file/);
  });

  test('--out and --html naming one file through a symlinked folder: exit 2', async () => {
    const { file, marker } = markingTarget();
    const dir = scratchDir();
    const link = `${dir}-link`;
    fs.symlinkSync(dir, link);
    try {
      const r = await runCli(['run', `${file}::work`, '--out', path.join(dir, 'r.json'), '--html', path.join(link, 'r.json')]);
      assertUsageBeforeMeasuring(r, marker, /same file/);
    } finally {
      fs.unlinkSync(link);
    }
  });

  test('--out and --html both written after a run; no temp files left', async () => {
    const { file } = markingTarget();
    const dir = scratchDir();
    const r = await runCli(['run', `${file}::work`, '--modes', 'inline', '--concurrency', '2', '--no-gil-probe', '--free-threaded', 'off',
      '--out', path.join(dir, 'r.json'), '--html', path.join(dir, 'r.html')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['r.html', 'r.json']);
  });
});

/**
 * The CLI as another user than root (root reads any file, so "unreadable" needs one):
 * uid 65534 (nobody) when the tests run as root, else the current user.
 */
function runCliUnprivileged(args: string[]): Promise<CliResult> {
  const asRoot = process.getuid?.() === 0;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, report: null, pid: child.pid! }));
  });
}

describe('bad input gets a specific message before anything is measured', () => {
  test('a folder as the target: says it is a folder (not "file not found")', async () => {
    const dir = scratchDir();
    const pkg = path.join(dir, 'pkg.py'); // a folder named like a module: not an unsupported type either
    fs.mkdirSync(pkg);
    for (const target of [pkg, dir]) {
      const r = await runCli(['run', `${target}::f`, '--json']);
      assertOneLineError(r, 'target-not-found', /is a folder, not a file/);
      assert.equal(r.stdout, '');
    }
  });

  test('a .pyw file is measured as Python', async () => {
    const file = path.join(scratchDir(), 'gui_task.pyw');
    fs.writeFileSync(file, 'def work():\n    return sum(range(1000))\n');
    const r = await runCli(['run', `${file}::work`, '--modes', 'inline', '--concurrency', '2', '--no-gil-probe', '--free-threaded', 'off', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(run(reportOf(r), 'inline').status, 'ok');
    assert.equal(reportOf(r).target.language, 'python');
  });

  test('an unreadable file: "cannot read …: permission denied"', async () => {
    const dir = scratchDir();
    fs.chmodSync(dir, 0o755);
    const file = path.join(dir, 'secret.py');
    fs.writeFileSync(file, 'open(__file__ + ".ran", "w").close()\n\n\ndef work():\n    return 1\n');
    fs.chmodSync(file, 0o000);
    const r = await runCliUnprivileged(['run', `${file}::work`, '--modes', 'inline', '--no-gil-probe', '--free-threaded', 'off']);
    assertOneLineError(r, 'target-not-found', /cannot read .*secret\.py: permission denied/);
    assert.ok(!fs.existsSync(file + '.ran'));
  });

  test('random bytes in a .py: "not Python source", never "(line None)"', async () => {
    const file = path.join(scratchDir(), 'noise.py');
    // Fixed bytes, as random ones would be: a NUL among invalid UTF-8.
    fs.writeFileSync(file, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0xff, 0xfe, 0x13, 0x37]));
    const r = await runCli(['run', `${file}::work`, '--modes', 'inline', '--no-gil-probe', '--free-threaded', 'off', '--json']);
    assertOneLineError(r, 'syntax-error', /noise\.py is not Python source: it contains NUL bytes/);
    assert.doesNotMatch(r.stderr, /line None/);
    const report = reportOf(r);
    assert.equal(report.status, 'failed');
    assert.ok(report.runs.every((m) => m.status !== 'ok'), 'nothing measured');
  });

  for (const [flag, value, message] of [
    ['--concurrency', '-1', /^looplag: --concurrency must be a whole number from 1 to \d+, got "-1"$/],
    ['--workers', '-4', /^looplag: --workers must be a whole number from 0 to \d+, got "-4"$/],
    ['--timeout', '-.5', /^looplag: --timeout must be a number from /],
  ] as const) {
    test(`${flag} ${value}: the option's range, not "argument is ambiguous"`, async () => {
      const { file, marker } = markingTarget();
      const r = await runCli(['run', `${file}::work`, flag, value]);
      assertUsageBeforeMeasuring(r, marker, message);
      assert.doesNotMatch(r.stderr, /ambiguous/);
    });
  }
});

describe('a long exception message is cut visibly and kept whole in the JSON', () => {
  const LONG = 5000;
  for (const [language, modes, source, name] of [
    ['python', ['inline', 'thread', 'process'], `def boom():\n    raise ValueError("start " + "x" * ${LONG - 10} + " end")\n`, 'long_error.py'],
    ['node', ['inline', 'worker', 'process'], `module.exports = { boom() { throw new RangeError('start ' + 'x'.repeat(${LONG - 10}) + ' end'); } };\n`, 'long_error.cjs'],
  ] as const) {
    test(`${language} ${modes.join(', ')}: "… [cut: N more characters]" in message, the whole text in fullMessage`, async () => {
      const file = path.join(scratchDir(), name);
      fs.writeFileSync(file, source);
      const r = await runCli(['run', `${file}::boom`, '--modes', modes.join(','), '--concurrency', '2', '--workers', '2',
        '--no-gil-probe', '--free-threaded', 'off', '--no-warmup', '--timeout', '60', '--json']);
      assert.equal(r.code, 4, r.stderr);
      const full = `start ${'x'.repeat(LONG - 10)} end`;
      for (const mode of modes) {
        const errors = run(reportOf(r), mode).tasks.map((t) => t.error);
        assert.ok(errors.length > 0 && errors.every((e) => e), `${mode}: every call raised`);
        for (const e of errors) {
          assert.equal(e!.message, `${full.slice(0, 2000)}… [cut: ${full.length - 2000} more characters]`, `${mode}: the cut is marked`);
          assert.equal(e!.fullMessage, full, `${mode}: the whole message is kept`);
        }
      }
    });
  }

  test('a short message has no fullMessage', async () => {
    const file = path.join(scratchDir(), 'short_error.py');
    fs.writeFileSync(file, 'def boom():\n    raise ValueError("short")\n');
    const r = await runCli(['run', `${file}::boom`, '--modes', 'inline', '--concurrency', '2', '--no-gil-probe', '--free-threaded', 'off', '--json']);
    const e = run(reportOf(r), 'inline').tasks[0].error!;
    assert.equal(e.message, 'short');
    assert.equal(e.fullMessage, undefined);
  });
});
