/**
 * Every fix snippet the tool can emit runs. Reports of each target shape (sync/async,
 * with and without arguments, keyword arguments, a static method; CommonJS, ESM,
 * TypeScript) go through the real advice engine and the sweep's recommendation code;
 * each distinct snippet is written beside a real target in a temp folder and executed
 * with python3 / node, and must return what the function returns when called directly.
 * Issue 10 found, among others: `run_in_executor(pool, an_async_def)`, `to_thread(f, ...)`
 * passing Ellipsis, a worker posting a Promise, `require` in an ESM project, a FastAPI
 * block without `FastAPI` imported, repeated three times in one report.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { advise } from '../../src/advice/advise';
import { codeFor } from '../../src/advice/sweep';
import type { LagStats, ModeRun, Report } from '../../src/shared/protocol';
import { REPO, tmpDir } from '../support/helpers';

/** Debian's interpreter: has fastapi and starlette (the FastAPI snippets need them). */
const PY = '/usr/bin/python3';
const RUN_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------
// synthetic reports that make every fix-bearing rule fire

function lag(p99: number, max: number, stalls = max >= 50 ? 1 : 0): LagStats {
  return { p50Ms: p99 / 2, p90Ms: p99, p99Ms: p99, maxMs: max, meanMs: p99 / 2, stallCount: stalls, stalledMs: stalls * max, stalledFrac: stalls ? 0.5 : 0, sampleCount: 100, expectedSampleCount: 100, samples: [] };
}

function run(mode: string, o: { wallMs: number; p99: number; max: number; workers?: number; runP50?: number; speedup?: number; parallelism?: number; transfer?: ModeRun['transfer']; gilEnabled?: boolean }): ModeRun {
  const calls = 10;
  const runP50 = o.runP50 ?? 100;
  return {
    mode: mode as ModeRun['mode'], status: 'ok', error: null, wallMs: o.wallMs, startupMs: mode === 'inline' ? null : 60, workers: mode === 'inline' ? 1 : o.workers ?? 2,
    tasks: Array.from({ length: calls }, (_, id) => ({ id, queuedMs: 0, startMs: id, endMs: id + runP50, worker: `w${id % 2}`, cpuMs: null, error: null })),
    taskStats: { okCount: calls, errorCount: 0, queueP50Ms: 0, queueMaxMs: 0, runP50Ms: runP50, runMaxMs: runP50, runSumMs: runP50 * calls },
    lag: lag(o.p99, o.max), gilWait: null, cpu: { userMs: o.wallMs, systemMs: 0, parallelism: o.parallelism ?? 1 },
    throughputPerS: calls / (o.wallMs / 1000), speedup: o.speedup ?? null, backgroundCpuFrac: 0.01,
    output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 },
    ...(o.transfer ? { transfer: o.transfer } : {}),
    ...(o.gilEnabled !== undefined ? { gilEnabled: o.gilEnabled, interpreter: 'python3.13t' } : {}),
  };
}

/** `lines`: a line-range target (no function name): the snippet says to wrap the lines in `work()`, done here in the target. */
interface Shape { fn: string; args: string; isAsync: boolean; lines?: { start: number; end: number } }

function reportOf(shape: Shape, target: Partial<Report['target']>, runs: ModeRun[], diag?: { callMs: number; p50: number; max: number }): Report {
  const language = target.language ?? 'python';
  const node = language !== 'python';
  return {
    schema: 'looplag.report/1', tool: { name: 'looplag', version: 't' }, createdAt: '2026-01-01T00:00:00Z', status: 'complete', error: null,
    target: { file: 'x', qualname: shape.lines ? null : shape.fn, lines: shape.lines ?? null, line: 1, language, args: shape.args, isAsync: shape.isAsync, ...target },
    runtime: { name: node ? 'node' : 'python', version: 'x', executable: 'x', implementation: 'x', gilEnabled: !node, cpuCount: 2, platform: 'linux', switchIntervalS: 0.005 },
    settings: { concurrency: 10, workers: null, switchIntervalS: node ? null : 0.005, heartbeatMs: 1, stallMs: 50, gilProbe: !node, modes: runs.map((r) => r.mode), timeoutS: 60, lagBudgetMs: 100, plannedMode: null },
    quality: { backgroundCpuFrac: 0.01, trustworthy: true, notes: [] },
    baseline: null,
    diagnostic: diag ? { lag: { ...lag(diag.max, diag.max, 0), p50Ms: diag.p50 }, gilWait: null, wallMs: diag.callMs, callMs: diag.callMs, cpuMs: null } : null,
    runs, advice: [],
  };
}

const STALLED = run('inline', { wallMs: 1500, p99: 1500, max: 1500, parallelism: 1, runP50: 150 });
const NATIVE = { callMs: 150, p50: 150, max: 150 };
const PURE = { callMs: 120, p50: 5.2, max: 11 };
const RELEASED = { callMs: 80, p50: 0.08, max: 4 };

/** Python reports that between them fire every rule with a fix: each GIL signature, pools, free-threading. */
function pythonReports(shape: Shape, module: string): Report[] {
  const t = { file: `${module}.py`, module, language: 'python' as const };
  const thread = (o: Partial<Parameters<typeof run>[1]> = {}) => run('thread', { wallMs: 1400, p99: 300, max: 400, workers: 4, speedup: 1.05, ...o });
  return [
    reportOf(shape, t, [STALLED, thread(), run('process', { wallMs: 3000, p99: 80, max: 120 })], NATIVE),
    reportOf(shape, t, [STALLED, thread()], PURE),
    reportOf(shape, t, [STALLED, thread({ p99: 2, max: 4, speedup: 1.9 })], RELEASED),
    reportOf(shape, t, [thread({ p99: 70, max: 120, workers: 6 })], RELEASED),
    reportOf(shape, t, [thread(), run('free-threaded', { wallMs: 700, p99: 10, max: 14, workers: 4, parallelism: 1.88, gilEnabled: false })], PURE),
  ];
}

function transfer(argsKind: string, resultKind: string, argsMs: number, resultMs: number): ModeRun['transfer'] {
  return { argsBytesMean: 1 << 20, resultBytesMean: 1 << 20, loopMs: argsMs + resultMs, workerMs: 1, argsMs, resultMs, argsKind, resultKind };
}

/** Node reports: blocking inline, a worker pool, transfers of each kind on each side. */
function nodeReports(shape: Shape, target: Partial<Report['target']>, transferKinds: [string, string][]): Report[] {
  const out = [
    reportOf(shape, target, [STALLED, run('worker', { wallMs: 800, p99: 2, max: 4, speedup: 1.9 }), run('process', { wallMs: 3000, p99: 80, max: 120 })]),
  ];
  for (const [a, r] of transferKinds) {
    out.push(reportOf(shape, target, [run('worker', { wallMs: 800, p99: 2, max: 4, transfer: transfer(a, r, 200, 2) }), run('process', { wallMs: 800, p99: 2, max: 4, transfer: transfer(a, r, 2, 200) })]));
  }
  return out;
}

/** Every distinct fix the advice and the sweep give for these reports, with where it came from. */
function fixesOf(reports: Report[], sweepModes: string[]): Map<string, string> {
  const fixes = new Map<string, string>();
  for (const r of reports) {
    for (const a of advise(r)) if (a.fix && !fixes.has(a.fix)) fixes.set(a.fix, `${a.id}/${a.mode}`);
    for (const mode of sweepModes) {
      const code = codeFor(mode as ModeRun['mode'], 2, r);
      if (!fixes.has(code)) fixes.set(code, `sweep ${mode}`);
    }
  }
  return fixes;
}

// ---------------------------------------------------------------------------
// Python

const PY_TARGET = `import asyncio


def total(n, scale=1):
    return sum(range(n)) * scale


def nothing():
    return 42


async def total_async(n, scale=1):
    await asyncio.sleep(0)
    return sum(range(n)) * scale


async def nothing_async():
    await asyncio.sleep(0)
    return 7


class Calc:
    @staticmethod
    def twice(x):
        return 2 * x


def work():  # lines 3-4 of a snippet target, wrapped as the snippet asks
    return 5
`;

/**
 * Imports each snippet module in turn and calls it the way a server would: a FastAPI app
 * through ASGI (lifespan startup, GET /work, shutdown; no httpx here, so by hand), a
 * module with `handler()` by awaiting it, a comment-only note by importing it.
 */
const PY_DRIVER = `import asyncio, importlib, json, sys

import shapes_target


async def asgi(app):
    life_in, life_out = asyncio.Queue(), asyncio.Queue()
    await life_in.put({"type": "lifespan.startup"})
    life = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, life_in.get, life_out.put))
    started = await life_out.get()
    assert started["type"] == "lifespan.startup.complete", started
    status, body = [], []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(m):
        if m["type"] == "http.response.start":
            status.append(m["status"])
        elif m["type"] == "http.response.body":
            body.append(m.get("body", b""))

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/work", "raw_path": b"/work", "root_path": "", "query_string": b"", "headers": [(b"host", b"t")],
             "client": ("127.0.0.1", 1), "server": ("t", 80), "state": {}}
    await app(scope, receive, send)
    await life_in.put({"type": "lifespan.shutdown"})
    stopped = await life_out.get()
    assert stopped["type"] == "lifespan.shutdown.complete", stopped
    await life
    assert status == [200], (status, b"".join(body))
    return json.loads(b"".join(body))


def expected(call):
    value = eval(call, vars(shapes_target))
    return asyncio.run(value) if asyncio.iscoroutine(value) else value


out = {}
call = sys.argv[1]
for name in sys.argv[2:]:
    mod = importlib.import_module(name)
    if hasattr(mod, "app"):
        got = asyncio.run(asgi(mod.app))
    elif hasattr(mod, "handler"):
        got = asyncio.run(mod.handler())
    else:
        got = "note"
    out[name] = got
print(json.dumps({"expected": expected(call), "got": out}))
`;

const PY_SHAPES: Shape[] = [
  { fn: 'total', args: '1000', isAsync: false },
  { fn: 'total', args: '1000, scale=3', isAsync: false },
  { fn: 'nothing', args: '', isAsync: false },
  { fn: 'total_async', args: '1000, scale=2', isAsync: true },
  { fn: 'nothing_async', args: '', isAsync: true },
  { fn: 'Calc.twice', args: '21', isAsync: false },
  { fn: 'work', args: '', isAsync: false, lines: { start: 3, end: 4 } },
];

describe('Python fix snippets run beside a real target', () => {
  for (const shape of PY_SHAPES) {
    test(`${shape.isAsync ? 'async def' : 'def'} ${shape.fn}(${shape.args})`, () => {
      const fixes = fixesOf(pythonReports(shape, 'shapes_target'), ['thread', 'process']);
      const dir = tmpDir('looplag-snippets-');
      fs.writeFileSync(path.join(dir, 'shapes_target.py'), PY_TARGET);
      fs.writeFileSync(path.join(dir, 'drive.py'), PY_DRIVER);
      const names: string[] = [];
      for (const [code, from] of fixes) {
        assert.doesNotMatch(code, /\.\.\.|Ellipsis/, `${from}: a placeholder is not code:\n${code}`);
        const name = `fix_${names.length}`;
        fs.writeFileSync(path.join(dir, `${name}.py`), code);
        names.push(name);
      }
      // The process-pool setup (FastAPI lifespan), threads, bounded threads, a sized pool, the free-threaded note.
      assert.ok(names.length >= 4, [...fixes.values()].join(', '));
      assert.ok([...fixes.keys()].some((c) => /from fastapi import FastAPI/.test(c)), 'the FastAPI setup imports FastAPI');
      const call = `${shape.fn}(${shape.args})`;
      const r = spawnSync(PY, ['drive.py', call, ...names], { cwd: dir, encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
      assert.equal(r.status, 0, `${r.stderr}\n${names.map((n, i) => `--- ${n} (${[...fixes.values()][i]})\n${[...fixes.keys()][i]}`).join('\n')}`);
      const { expected, got } = JSON.parse(r.stdout) as { expected: unknown; got: Record<string, unknown> };
      for (const [i, name] of names.entries()) {
        const value = got[name];
        if (value === 'note') assert.match([...fixes.keys()][i], /^(#[^\n]*\n?)+$/, `${name} has no handler, so it must be a comment`);
        else assert.deepEqual(value, expected, `${[...fixes.values()][i]}:\n${[...fixes.keys()][i]}`);
      }
    });
  }

  test('one complete setup block per report: the others refer to it', () => {
    const shape = PY_SHAPES[0];
    const advice = advise(pythonReports(shape, 'shapes_target')[0]);
    const setups = advice.filter((a) => a.fix && /from fastapi import FastAPI/.test(a.fix));
    assert.equal(setups.length, 1, advice.map((a) => `${a.id}: ${a.fix}`).join('\n'));
    const refs = advice.filter((a) => a.fix?.startsWith('# The same setup as under'));
    assert.ok(refs.length >= 2, advice.map((a) => a.id).join(', '));
  });
});

// ---------------------------------------------------------------------------
// Node

const JS_BODY = {
  total: 'function total(n, scale = 1) {\n  let s = 0;\n  for (let i = 0; i < n; i++) s += i;\n  return s * scale;\n}',
  totalAsync: 'async function totalAsync(n) {\n  await new Promise((r) => setImmediate(r));\n  return total(n) + 1;\n}',
  nothing: 'function nothing() {\n  return 42;\n}',
  calc: 'const calc = {\n  twice(x) {\n    return 2 * x;\n  },\n};',
  scaleAll: 'function scaleAll(xs, k) {\n  return xs.map((x) => x * k);\n}',
};
const TS_BODY = {
  total: 'function total(n: number, scale = 1): number {\n  let s = 0;\n  for (let i = 0; i < n; i++) s += i;\n  return s * scale;\n}',
  totalAsync: 'async function totalAsync(n: number): Promise<number> {\n  await new Promise((r) => setImmediate(r));\n  return total(n) + 1;\n}',
  nothing: 'function nothing(): number {\n  return 42;\n}',
  calc: 'const calc = {\n  twice(x: number): number {\n    return 2 * x;\n  },\n};',
  scaleAll: 'function scaleAll(xs: Float64Array, k: number): Float64Array {\n  return xs.map((x) => x * k);\n}',
};
const NAMES = Object.keys(JS_BODY);

interface Flavour { name: string; language: 'javascript' | 'typescript'; moduleFormat: 'esm' | 'cjs'; file: string; type: 'module' | 'commonjs' }
const FLAVOURS: Flavour[] = [
  { name: 'CommonJS', language: 'javascript', moduleFormat: 'cjs', file: 'target.js', type: 'commonjs' },
  { name: 'ESM ("type": "module")', language: 'javascript', moduleFormat: 'esm', file: 'target.js', type: 'module' },
  { name: 'ESM .mjs', language: 'javascript', moduleFormat: 'esm', file: 'target.mjs', type: 'commonjs' },
  { name: 'TypeScript, ESM', language: 'typescript', moduleFormat: 'esm', file: 'target.ts', type: 'module' },
  { name: 'TypeScript, CommonJS', language: 'typescript', moduleFormat: 'cjs', file: 'target.ts', type: 'commonjs' },
];

const JS_SHAPES: (Shape & { kinds?: [string, string][] })[] = [
  { fn: 'total', args: '1000, 3', isAsync: false, kinds: [['plain-objects', 'string'], ['number-array', 'plain-objects']] },
  { fn: 'totalAsync', args: '1000', isAsync: true },
  { fn: 'nothing', args: '', isAsync: false },
  { fn: 'calc.twice', args: '21', isAsync: false },
  { fn: 'scaleAll', args: 'new Float64Array([1, 2, 3]), 2', isAsync: false, kinds: [['typed-array', 'typed-array']] },
];

function targetSource(f: Flavour): string {
  const body = Object.values(f.language === 'typescript' ? TS_BODY : JS_BODY).join('\n\n');
  return f.moduleFormat === 'cjs' && f.language === 'javascript'
    ? `${body}\n\nmodule.exports = { ${NAMES.join(', ')} };\n`
    : `${body}\n\nexport { ${NAMES.join(', ')} };\n`;
}

/** Compiles TypeScript the way `tsc` would for the flavour (each file on its own, imports kept; `x.ts` → `x.js`). */
function compileTs(dir: string, files: string[], f: Flavour): void {
  execFileSync(path.join(REPO, 'node_modules', '.bin', 'esbuild'), [...files, '--outdir=.', `--format=${f.moduleFormat}`, '--platform=node', '--log-level=warning'], { cwd: dir });
}

/** Type-checks the TypeScript snippets against the target under the project's own strictness. */
function typeCheck(dir: string, files: string[], f: Flavour): void {
  const r = spawnSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--target', 'es2022',
    '--module', f.moduleFormat === 'esm' ? 'nodenext' : 'commonjs', '--moduleResolution', f.moduleFormat === 'esm' ? 'nodenext' : 'node10',
    '--types', 'node', '--typeRoots', path.join(REPO, 'node_modules', '@types'), '--skipLibCheck', ...files], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc:\n${r.stdout}${r.stderr}\n${files.map((x) => `--- ${x}\n${fs.readFileSync(path.join(dir, x), 'utf8')}`).join('\n')}`);
}

describe('Node fix snippets run beside a real target, in its module format and language', () => {
  for (const f of FLAVOURS) {
    test(f.name, () => {
      const dir = tmpDir('looplag-snippets-');
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: f.type }));
      fs.writeFileSync(path.join(dir, f.file), targetSource(f));
      const ts = f.language === 'typescript';
      if (ts) compileTs(dir, [f.file], f);
      const ext = ts ? 'ts' : f.file.endsWith('.mjs') ? 'mjs' : 'js';
      const cases: { name: string; from: string; code: string; shape: Shape }[] = [];
      for (const shape of JS_SHAPES) {
        const reports = nodeReports(shape, { file: f.file, language: f.language, moduleFormat: f.moduleFormat }, shape.kinds ?? []);
        for (const [code, from] of fixesOf(reports, ['worker', 'process'])) {
          cases.push({ name: `fix_${cases.length}`, from, code, shape });
        }
      }
      for (const c of cases) {
        assert.doesNotMatch(c.code, /\.\.\.\s*\)|pool\.run\(args\)/, `${c.from}: a placeholder is not code:\n${c.code}`);
        if (f.moduleFormat === 'esm') assert.doesNotMatch(c.code, /\brequire\(/, `${c.from}: require in an ES module:\n${c.code}`);
        if (!ts) assert.doesNotMatch(c.code, /: (number|unknown|Worker)\b|<number, Job>/, `${c.from}: TypeScript in JavaScript`);
        fs.writeFileSync(path.join(dir, `${c.name}.${ext}`), c.code);
      }
      if (ts) {
        typeCheck(dir, cases.map((c) => `${c.name}.ts`), f);
        compileTs(dir, cases.map((c) => `${c.name}.ts`), f);
      }
      const kinds = new Set(cases.map((c) => c.from.split('/')[0]));
      // worker-recommended and async-def-blocks-loop show the same pool as inline-blocks-loop (one snippet, run once).
      for (const id of ['inline-blocks-loop', 'process-overhead', 'transfer-overhead', 'sweep worker', 'sweep process']) {
        assert.ok([...kinds].some((k) => k.startsWith(id)), `no ${id} snippet among ${[...kinds].join(', ')}`);
      }
      const runExt = f.file.endsWith('.mjs') ? 'mjs' : 'js';
      const targetJs = f.file.replace(/\.ts$/, '.js');
      // One driver per flavour runs every case in turn (a process per case took minutes on a
      // shared machine); it must exit by itself: idle pool members may not keep it alive.
      const roots = [...new Set(JS_SHAPES.map((sh) => sh.fn.split('.')[0]))];
      const driver = `import * as ns from './${targetJs}';
import { isDeepStrictEqual } from 'node:util';
const pick = (m, name) => (name in m ? m[name] : m.default[name]);
${roots.map((r) => `const ${r} = pick(ns, '${r}');`).join('\n')}
const out = {};
${cases.map((c) => `{
  const fixNs = await import('./${c.name}.${runExt}');
  const fix = 'handler' in fixNs ? fixNs : fixNs.default ?? {};
  const expected = await ${c.shape.fn}(${c.shape.args});
  if (typeof fix.handler !== 'function') out['${c.name}'] = { note: true };
  else {
    const got = await fix.handler();
    out['${c.name}'] = { ok: isDeepStrictEqual(got, expected), got: String(got), expected: String(expected) };
  }
}`).join('\n')}
console.log(JSON.stringify(out));
`;
      fs.writeFileSync(path.join(dir, 'drive.mjs'), driver);
      const r = spawnSync(process.execPath, ['drive.mjs'], { cwd: dir, encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
      assert.equal(r.status, 0, `${r.stderr}\n${cases.map((c) => `--- ${c.name} (${c.from})\n${c.code}`).join('\n')}`);
      const results = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, { ok?: boolean; note?: boolean; got?: string; expected?: string }>;
      for (const c of cases) {
        const out = results[c.name];
        if (out.note) assert.match(c.code, /^(\/\/[^\n]*\n?)+$/, `${c.from}: no handler, so it must be a comment`);
        else assert.ok(out.ok, `${c.from} (${c.shape.fn}): got ${out.got}, expected ${out.expected}\n${c.code}`);
      }
    });
  }
});
