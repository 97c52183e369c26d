/**
 * The bench's runtimes, one row each: how a session of the real engine is started on
 * its bench target, how the same function is timed without Loop Lag, and what the
 * shared measurements (measurements.ts) call things in that runtime.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULTS } from '../../src/engine/options';
import { RunOptions, runSession } from '../../src/engine/runSession';
import { Language, Mode, ModeRun, Report, RunSettings } from '../../src/shared/protocol';
import { REPO } from './format';

export const PYTHON = process.env.LOOPLAG_BENCH_PYTHON ?? 'python3';
export const NODE = process.env.LOOPLAG_BENCH_NODE ?? 'node';
export const SIDECAR_DIR = path.join(REPO, 'src', 'sidecars', 'python');
export const TARGETS = path.join(REPO, 'test', 'fixtures', 'python', 'bench', 'bench_targets.py');
export const NODE_TARGETS = path.join(REPO, 'test', 'fixtures', 'node', 'bench', 'bench_targets.cjs');
const NODE_SIDECAR_DIR = path.join(REPO, 'dist', 'sidecars', 'node');

export interface Timed {
  report: Report;
  /** From calling runSession to the first progress message / first finished mode / the end, ms. */
  firstProgressMs: number | null;
  firstRunMs: number | null;
  totalMs: number;
  stderr: string;
}

export interface SessionInput {
  file?: string;
  qualname: string;
  args?: string;
  modes: Mode[];
  concurrency: number;
  workers?: number | null;
  /** Python's GIL probe (default: on for Python; Node has none). */
  gilProbe?: boolean;
  /** The probe in the measured windows too (default off, as the engine's default). */
  gilProbeInWindow?: boolean;
  baselineMs?: number;
}

export interface BenchRuntime {
  /** Prefixed to the progress lines on stderr ('' for Python, the first runtime benched). */
  progressPrefix: string;
  /** Why this runtime cannot be benched (its sidecar not built), or null. */
  unavailable(): string | null;
  language: Language;
  /** The bench target file, and where runSession finds the runtime and its sidecar. */
  targets: string;
  engine: Pick<RunOptions, 'python' | 'sidecarDir' | 'node' | 'nodeSidecarDir'>;
  /** The GIL probe's default: only Python has one. */
  gilProbe: boolean;
  /** The pool mode that runs calls on another thread of the same process. */
  threadMode: Mode;
  /** The bench target's functions: no work, a busy wait of a given ms, a fixed amount of work. */
  fns: { noop: string; busyWait: (ms: number) => { qualname: string; args: string }; work: string };
  /** Times `fn` without Loop Lag (a bare interpreter, no event loop): ms per call, after one warm-up call. */
  plainTimes(fn: string, calls: number): number[];
}

export const BENCH_RUNTIMES: { python: BenchRuntime; node: BenchRuntime } = {
  python: {
    progressPrefix: '',
    unavailable: () => null,
    language: 'python',
    targets: TARGETS,
    engine: { python: PYTHON, sidecarDir: SIDECAR_DIR },
    gilProbe: true,
    threadMode: 'thread',
    fns: { noop: 'noop', busyWait: (n) => ({ qualname: 'busy_wait', args: `ms=${n}` }), work: 'py_work' },
    plainTimes: plainPythonTimes,
  },
  node: {
    progressPrefix: 'node: ',
    unavailable: () => (fs.existsSync(path.join(NODE_SIDECAR_DIR, 'sidecar.js')) ? null : 'not built: run `node esbuild.mjs` first'),
    language: 'javascript',
    targets: NODE_TARGETS,
    engine: { node: NODE, nodeSidecarDir: NODE_SIDECAR_DIR },
    gilProbe: false,
    threadMode: 'worker',
    fns: { noop: 'noop', busyWait: (n) => ({ qualname: 'busyWait', args: String(n) }), work: 'jsWork' },
    plainTimes: plainNodeTimes,
  },
};

/** One session of the real engine on `rt`'s bench target (runSession, as the CLI and the extension use it). */
export async function session(rt: BenchRuntime, input: SessionInput): Promise<Timed> {
  const settings: RunSettings = {
    modes: input.modes,
    concurrency: input.concurrency,
    workers: input.workers ?? null,
    switchIntervalS: null,
    heartbeatMs: DEFAULTS.heartbeatMs,
    stallMs: DEFAULTS.stallMs,
    gilProbe: input.gilProbe ?? rt.gilProbe,
    gilProbeInWindow: input.gilProbeInWindow ?? false,
    timeoutS: 30,
  };
  let firstProgressMs: number | null = null;
  let firstRunMs: number | null = null;
  let stderr = '';
  const t0 = performance.now();
  const report = await runSession({
    target: { file: input.file ?? rt.targets, qualname: input.qualname, lines: null, args: input.args ?? '', language: rt.language, workspaceRoot: null },
    settings,
    ...rt.engine,
    baselineMs: input.baselineMs,
    onProgress: () => (firstProgressMs ??= performance.now() - t0),
    onRun: () => (firstRunMs ??= performance.now() - t0),
    onStderr: (text) => (stderr += text),
  });
  return { report, firstProgressMs, firstRunMs, totalMs: performance.now() - t0, stderr };
}

function plainPythonTimes(fn: string, calls: number): number[] {
  const code = [
    'import json, sys, time',
    `sys.path.insert(0, ${JSON.stringify(path.dirname(TARGETS))})`,
    'import bench_targets as b',
    `f = b.${fn}`,
    'f()  # warm-up, as the sidecar has imported and resolved the target before its window',
    'out = []',
    `for _ in range(${calls}):`,
    '    t = time.perf_counter(); f(); out.append((time.perf_counter() - t) * 1000.0)',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-B', '-c', code], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`plain ${PYTHON} failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout) as number[];
}

function plainNodeTimes(fn: string, calls: number): number[] {
  const code = [
    `const b = require(${JSON.stringify(NODE_TARGETS)});`,
    `b.${fn}();`,
    'const out = [];',
    `for (let i = 0; i < ${calls}; i++) { const t = performance.now(); b.${fn}(); out.push(performance.now() - t); }`,
    'console.log(JSON.stringify(out));',
  ].join('\n');
  const r = spawnSync(NODE, ['-e', code], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`plain ${NODE} failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout) as number[];
}

/** The mode's run when it was measured; otherwise undefined and a note says why. */
export function okRun(report: Report, mode: Mode): ModeRun | undefined {
  return report.runs.find((r) => r.mode === mode && r.status === 'ok');
}

export function whyMissing(report: Report, mode: Mode): string {
  const r = report.runs.find((x) => x.mode === mode);
  const err = r?.error ?? report.error;
  return `${mode} not measured${r ? ` (${r.status})` : ''}${err ? `: [${err.kind}] ${err.message}` : ''}`;
}

/** Other processes' share of the machine's CPU during a run's window. */
export function busy(run: ModeRun): string {
  return run.backgroundCpuFrac === null ? 'background CPU unknown' : `others used ${(run.backgroundCpuFrac * 100).toFixed(0)}% CPU`;
}

export function taskRunTimes(run: ModeRun | undefined): number[] {
  if (!run) return [];
  return run.tasks.filter((t) => !t.error && t.startMs !== null && t.endMs !== null).map((t) => t.endMs! - t.startMs!);
}
