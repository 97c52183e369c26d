/**
 * The busy-machine check leaves out the editor's own processes (issue 16): a real process
 * spinning under a stand-in "editor" root is counted as background load when no root is
 * named (as the CLI runs), and not when the host names that root (LOOPLAG_EDITOR_PID),
 * in both sidecars; each window says when it started on the wall clock (runs[].t0EpochMs).
 * Linux only (/proc).
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { editorRootPid, EDITOR_PID_ENV } from '../../src/engine/editorProcess';
import { runSession } from '../../src/engine/runSession';
import type { Language } from '../../src/shared/protocol';
import { EDITOR_PID_ENV as NODE_SIDECAR_ENV } from '../../src/sidecars/node/editorCpu';
import { REPO, tmpDir } from '../support/helpers';

const LINUX = process.platform === 'linux';
const TICKS_PER_S = 100;
const ATTEMPTS = 3;

/** user+system seconds of one process (/proc/PID/stat fields 14 and 15). */
function cpuS(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return (f[11] + f[12]) / TICKS_PER_S;
}

/** A stand-in editor: a root process whose child spins a core. Resolves once the child runs. */
async function startEditor(spinner: 'editor' | 'shell' = 'editor'): Promise<{ root: ChildProcess; spinnerPid: number; stop(): void }> {
  // 'shell': the spinner is another program (a shell in the editor's terminal), which is the user's load.
  const command = spinner === 'editor' ? `process.execPath, ['-e', 'for (;;) {}']` : `'/bin/sh', ['-c', 'while :; do :; done']`;
  const root = spawn(process.execPath, ['-e', `
    const { spawn } = require('node:child_process');
    const child = spawn(${command}, { stdio: 'ignore' });
    console.log(child.pid);
    process.on('SIGTERM', () => { child.kill('SIGKILL'); process.exit(0); });
    setInterval(() => {}, 1000);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const spinnerPid = await new Promise<number>((resolve, reject) => {
    root.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    root.once('exit', () => reject(new Error('the stand-in editor exited')));
  });
  return { root, spinnerPid, stop: () => root.kill('SIGTERM') };
}

const TARGETS: Record<'python' | 'javascript', { file: string; source: string }> = {
  python: { file: 'idle_target.py', source: 'import asyncio\n\nasync def idle():\n    await asyncio.sleep(1.2)\n' },
  javascript: { file: 'idle_target.js', source: 'exports.idle = () => new Promise((resolve) => setTimeout(resolve, 1200));\n' },
};

/** One inline window of an idle call; its background figure, and the spinner's share of the machine meanwhile. */
async function measure(language: 'python' | 'javascript', file: string, spinnerPid: number, editorPid: number | 'self' | null): Promise<{ background: number; spinner: number }> {
  const cores = os.cpus().length || 1;
  const cpu0 = cpuS(spinnerPid);
  const t0 = process.hrtime.bigint();
  const startedAt = Date.now();
  const report = await runSession({
    target: { file, qualname: 'idle', lines: null, args: '', language: language as Language, workspaceRoot: path.dirname(file) },
    settings: { concurrency: 1, workers: 1, switchIntervalS: null, heartbeatMs: 5, stallMs: 50, gilProbe: false, modes: ['inline'], timeoutS: 60 },
    freeThreaded: 'off',
    diagnostic: false,
    editorPid,
  });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const run = report.runs.find((r) => r.mode === 'inline');
  assert.equal(run?.status, 'ok', JSON.stringify(report.error ?? run?.error));
  assert.notEqual(run!.backgroundCpuFrac, null, 'measured on Linux');
  // The window on the wall clock (runs[].t0EpochMs), to line it up with load measured apart: inside the run.
  const endedAt = Date.now();
  assert.ok(run!.t0EpochMs! >= startedAt && run!.t0EpochMs! + run!.wallMs <= endedAt + 1,
    `${language}: the window ${run!.t0EpochMs}+${run!.wallMs} ms lies within the run ${startedAt}-${endedAt}`);
  return { background: run!.backgroundCpuFrac!, spinner: (cpuS(spinnerPid) - cpu0) / (wallS * cores) };
}

// Python names the stand-in root's pid; Node says 'self' as the extension host does (the
// root above this test process, which the stand-in editor is under).
for (const [language, named] of [['python', 'root'], ['javascript', 'self']] as const) {
  test(`${language}: a busy process under the named editor root (${named}) is not background load; unnamed, it is`, { skip: !LINUX && 'needs Linux /proc' }, async (t) => {
    const dir = tmpDir('looplag-editor-cpu-');
    const file = path.join(dir, TARGETS[language].file);
    fs.writeFileSync(file, TARGETS[language].source);
    const editor = await startEditor();
    const seen: string[] = [];
    let starved = 0;
    try {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const counted = await measure(language, file, editor.spinnerPid, null);
        const excluded = await measure(language, file, editor.spinnerPid, named === 'self' ? 'self' : editor.root.pid!);
        seen.push(`unnamed ${counted.background.toFixed(2)} (spinner ${counted.spinner.toFixed(2)}), named ${excluded.background.toFixed(2)} (spinner ${excluded.spinner.toFixed(2)})`);
        // The spinner must have had a fair share of a core for the difference to show.
        if (counted.spinner < 0.15 || excluded.spinner < 0.15) {
          starved++;
          continue;
        }
        // Counted: the background holds most of the spinner. Excluded: at least half of it is gone.
        if (counted.background >= 0.6 * counted.spinner && excluded.background <= counted.background - 0.5 * counted.spinner) {
          console.log(`# ${language}: ${seen[seen.length - 1]}`);
          return;
        }
      }
      if (starved === ATTEMPTS) return t.skip(`the spinner got too little CPU to tell (load ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores): ${seen.join('; ')}`);
      assert.fail(`background with the spinner counted and excluded, ${ATTEMPTS} times: ${seen.join('; ')}`);
    } finally {
      editor.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a busy program that is not the editor\'s (a shell under it, as in its terminal) still counts when the root is named', { skip: !LINUX && 'needs Linux /proc' }, async (t) => {
  const dir = tmpDir('looplag-editor-cpu-');
  const file = path.join(dir, TARGETS.javascript.file);
  fs.writeFileSync(file, TARGETS.javascript.source);
  const editor = await startEditor('shell');
  const seen: string[] = [];
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const named = await measure('javascript', file, editor.spinnerPid, editor.root.pid!);
      seen.push(`named ${named.background.toFixed(2)} (spinner ${named.spinner.toFixed(2)})`);
      if (named.spinner < 0.15) continue;
      // Counted: the background holds most of the spinner's share.
      if (named.background >= 0.6 * named.spinner) return;
    }
    if (seen.every((x) => Number(/spinner ([\d.]+)/.exec(x)![1]) < 0.15)) return t.skip(`the spinner got too little CPU to tell (load ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores): ${seen.join('; ')}`);
    assert.fail(`a shell's spinning under the named root was left out of the background: ${seen.join('; ')}`);
  } finally {
    editor.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the host finds its root: the top-most ancestor running the same program (here the test runner itself or a node above it)', { skip: !LINUX && 'needs Linux /proc' }, () => {
  const root = editorRootPid();
  assert.ok(root !== null);
  const exe = fs.readlinkSync('/proc/self/exe');
  assert.equal(fs.readlinkSync(`/proc/${root}/exe`), exe);
  const parentOfRoot = Number(fs.readFileSync(`/proc/${root}/stat`, 'latin1').split(') ')[1].split(' ')[1]);
  assert.ok(parentOfRoot <= 1 || fs.readlinkSync(`/proc/${parentOfRoot}/exe`) !== exe, 'its parent runs another program');
});

test('the host and both sidecars name the variable alike', () => {
  assert.equal(NODE_SIDECAR_ENV, EDITOR_PID_ENV);
  const py = fs.readFileSync(path.join(REPO, 'src', 'sidecars', 'python', 'looplag_sidecar', 'probes.py'), 'utf8');
  assert.match(py, new RegExp(`EDITOR_PID_ENV = "${EDITOR_PID_ENV}"`));
});
