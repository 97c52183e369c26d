/**
 * The headline and what it may call "Safe", on real runs through the CLI (issue 10,
 * points 1, 2 and 5): failing calls are never safe and exit 4; a FastAPI route's
 * marker defaults are refused before anything runs; one rule (lag max vs the budget)
 * decides; the GIL is not blamed when it was free. Each run is short: 2 calls, one mode
 * unless the assertion needs two.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test, TestContext } from 'node:test';
import { advise, classifyGil, headline } from '../../src/advice/advise';
import { exitCode } from '../../src/report/exitCode';
import type { Report } from '../../src/shared/protocol';
import { assertOneLineError, FIXTURES, reportOf, run, runCli } from '../support/helpers';

const PY = path.join(FIXTURES, 'python', 'verdicts');
const ROUTES = path.join(PY, 'routes.py');
const CALLS = path.join(PY, 'calls.py');
const NEEDS_THIS = path.join(FIXTURES, 'node', 'verdicts', 'needsThis.mjs');
/** Debian's python3 has fastapi and numpy; the sidecar itself stays stdlib-only. */
const DEBIAN_PYTHON = ['--python', '/usr/bin/python3'];
const FAST = ['--concurrency', '2', '--workers', '2', '--no-gil-probe', '--timeout', '60'];

/** The 1-based line numbers strictly between `# snippet:NAME:start` and `…:end`. */
function snippetLines(file: string, name: string): string {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.includes(`# snippet:${name}:start`)) + 2;
  const end = lines.findIndex((l) => l.includes(`# snippet:${name}:end`));
  assert.ok(start > 1 && end >= start, `snippet markers for ${name}`);
  return `${start}-${end}`;
}

/** A run whose calls all raised: exit 4 with the reason on one stderr line, the headline and the advice say so. */
async function assertCallsRaised(args: string[], mode: string, error: RegExp, where: string): Promise<Report> {
  const r = await runCli([...args, '--modes', mode, ...FAST, '--json']);
  assert.equal(r.code, 4, r.stderr);
  const report = reportOf(r);
  assert.equal(report.status, 'complete', 'calls that raise are per-task errors, not a failed session');
  const m = run(report, mode);
  assert.equal(m.taskStats.okCount, 0);
  assert.equal(m.taskStats.errorCount, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], new RegExp(`^looplag: calls raised in ${mode} \\(2 of 2: ${error.source}.* \\(${where.replace(/[.]/g, '\\.')}\\)\\)$`));
  assert.match(report.headline!, new RegExp(`^Every call .* raised ${error.source}.* \\(${where.replace(/[.]/g, '\\.')}\\): what was measured is the error path`));
  assert.doesNotMatch(report.headline!, /\bSafe\b/);
  const advice = report.advice.find((a) => a.id === 'calls-raised' && a.mode === mode);
  assert.equal(advice?.severity, 'critical', JSON.stringify(report.advice.map((a) => a.id)));
  assert.ok(!report.advice.some((a) => a.id === 'healthy'));
  return report;
}

describe('failing calls are never "Safe": exit 4, the headline first, calls-raised with the user\'s line', () => {
  test('a Python function raising inside a helper module names the helper\'s line, not the sidecar\'s', async () => {
    await assertCallsRaised(['run', `${ROUTES}::login_inner`, '--args', 'Body(...), get_db()', ...DEBIAN_PYTHON], 'thread',
      /AttributeError: 'Body' object has no attribute 'encode'/, 'services/auth.py:5');
  });

  test('a snippet using a parameter of its enclosing function (NameError)', async () => {
    await assertCallsRaised(['run', `${CALLS}:${snippetLines(CALLS, 'uses-parameter')}`], 'inline',
      /NameError: name 'values' is not defined/, `calls.py:${snippetLines(CALLS, 'uses-parameter').split('-')[0]}`);
  });

  test('a lazy import failing inside the call', async () => {
    await assertCallsRaised(['run', `${CALLS}::lazy_import`], 'inline', /ModuleNotFoundError: No module named 'looplag_no_such_module'/, 'calls.py:6');
  });

  test('a JS function that needs `this`; exit 4 wins over a budget that held', async () => {
    await assertCallsRaised(['run', `${NEEDS_THIS}::describe`, '--budget-ms', '100'], 'inline',
      /TypeError: Cannot read properties of undefined \(reading 'name'\)/, 'needsThis.mjs:4');
  });
});

describe('a FastAPI route: marker defaults are not values', () => {
  test('without arguments for them: one bad-arguments line naming the parameters, nothing measured', async () => {
    const r = await runCli(['run', `${ROUTES}::login`, '--modes', 'thread', ...FAST, ...DEBIAN_PYTHON, '--json']);
    assertOneLineError(r, 'bad-arguments', /login: password \(Body\(\.\.\.\)\), db \(Depends\(\.\.\.\)\) default to FastAPI markers, which are not values.*--args "password=\.\.\., db=\.\.\."/);
    const report = reportOf(r);
    assert.equal(report.status, 'failed');
    assert.ok(report.runs.every((m) => m.status === 'skipped' && m.tasks.length === 0), 'nothing measured');
    assert.match(report.headline!, /^Not measured: login: password/);
    assert.equal(report.headline!.match(/not measured/gi)?.length, 1, `the reason is said once: ${report.headline}`);
  });

  test('one argument given, the other still a marker: it alone is named', async () => {
    const r = await runCli(['run', `${ROUTES}::login`, '--args', '"s3cret"', '--modes', 'thread', ...FAST, ...DEBIAN_PYTHON, '--json']);
    assertOneLineError(r, 'bad-arguments', /login: db \(Depends\(\.\.\.\)\) defaults to FastAPI markers/);
  });

  test('with arguments for them, the route is measured and the headline judges it', async () => {
    const r = await runCli(['run', `${ROUTES}::login`, '--args', 'password="s3cret", db=get_db()', '--modes', 'thread', ...FAST, ...DEBIAN_PYTHON, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = reportOf(r);
    assert.equal(run(report, 'thread').taskStats.errorCount, 0);
    assert.match(report.headline!, /^(Safe|Not safe) in a thread pool/);
  });
});

/** Measurements of a window outside what the test needs (load pushing lag past it) before skipping. */
const ATTEMPTS = 3;

describe('one rule decides "safe": lag max vs the budget', () => {
  test('a call stalling the loop ~60 ms is Safe under a 100 ms budget, with the stall shown, and Not safe judged at 40 ms', async (t: TestContext) => {
    let report: Report | null = null;
    const seen: string[] = [];
    for (let i = 0; i < ATTEMPTS; i++) {
      const r = await runCli(['run', `${CALLS}::busy`, '--args', '60', '--modes', 'inline', '--concurrency', '1', '--no-gil-probe', '--budget-ms', '100', '--json']);
      const candidate = reportOf(r);
      const m = run(candidate, 'inline');
      seen.push(`max lag ${m.lag.maxMs.toFixed(1)} ms (background CPU ${((m.backgroundCpuFrac ?? 0) * 100).toFixed(0)}%)`);
      // The case under test: a stall (≥ 50 ms) within the budget. Load only lengthens it.
      if (m.lag.maxMs >= 50 && m.lag.maxMs < 100) {
        assert.equal(r.code, 0, r.stderr);
        report = candidate;
        break;
      }
    }
    if (!report) {
      t.skip(`the 60 ms stall never measured between 50 and 100 ms in ${ATTEMPTS} runs (${seen.join('; ')}): the machine is too busy`);
      return;
    }
    const m = run(report, 'inline');
    t.diagnostic(seen.join('; '));
    assert.ok(m.lag.stallCount >= 1, 'the stall is counted');
    assert.match(report.headline!, /^Safe on the event loop \(called directly\): .*max \d\d\.\d ms, budget 100\.0 ms; 1 stall\(s\) ≥ 50\.0 ms, within the budget\)/);
    assert.ok(report.advice.some((a) => a.id === 'healthy'));
    assert.ok(report.advice.every((a) => a.severity !== 'warning' && a.severity !== 'critical'), JSON.stringify(report.advice.map((a) => [a.id, a.severity])));
    // The same run judged with a 40 ms budget.
    const strict: Report = { ...report, settings: { ...report.settings, lagBudgetMs: 40 } };
    strict.advice = advise(strict);
    assert.match(headline(strict), /^Not safe on the event loop \(called directly\): with 1 concurrent calls the loop stalled up to \d\d\.\d ms \(budget 40\.0 ms\)/);
    assert.equal(exitCode(strict, 40).code, 3);
    assert.ok(strict.advice.some((a) => a.id === 'inline-blocks-loop' && a.severity === 'critical'));
  });
});

describe('throughput and the GIL: numpy from Debian', () => {
  test('a GIL-releasing BLAS call: no-thread-speedup never blames the GIL, and no collapse is claimed without one', async (t: TestContext) => {
    const r = await runCli(['run', `${path.join(PY, 'numeric.py')}::matmul`, '--modes', 'inline,thread', '--concurrency', '4', '--workers', '4', ...DEBIAN_PYTHON, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = reportOf(r);
    const inline = run(report, 'inline');
    const thread = run(report, 'thread');
    const ratio = thread.wallMs / inline.wallMs;
    t.diagnostic(`GIL: ${classifyGil(report)?.kind}; inline ${inline.wallMs.toFixed(0)} ms (CPU/wall ${inline.cpu.parallelism}), ` +
      `4 threads ${thread.wallMs.toFixed(0)} ms (CPU/wall ${thread.cpu.parallelism}): ${ratio.toFixed(2)}× inline's wall`);
    if (classifyGil(report)?.kind !== 'released') {
      t.skip(`the diagnostic did not classify the matmul as GIL-releasing (${classifyGil(report)?.kind}): on a busy machine the loop waits for a core`);
      return;
    }
    const nts = report.advice.find((a) => a.id === 'no-thread-speedup');
    if (nts) assert.doesNotMatch(nts.detail, /The GIL lets one thread/);
    // Reference BLAS is single-threaded: nothing to oversubscribe.
    assert.ok(inline.cpu.parallelism < 1.3, `one call keeps one core: CPU/wall ${inline.cpu.parallelism}`);
    assert.ok(!report.advice.some((a) => a.id === 'native-oversubscription'));
    assert.equal(/slower than inline/.test(report.headline!), ratio >= 2, report.headline);
  });

  /**
   * Debian's numpy links libblas.so.3, the single-threaded reference BLAS unless a
   * multithreaded one is installed. LOOPLAG_TEST_BLAS_DIR names a folder holding a
   * multithreaded libblas.so.3 (e.g. libopenblas0-pthread's openblas-pthread folder,
   * unpacked with `apt-get download` + `dpkg-deb -x`), used for this run alone through
   * LD_LIBRARY_PATH, so nothing machine-wide changes.
   */
  test('OpenBLAS in 6 threads on few cores: a collapse is named native-oversubscription and weighed in the headline', async (t: TestContext) => {
    const blas = process.env.LOOPLAG_TEST_BLAS_DIR;
    if (!blas) {
      t.skip('LOOPLAG_TEST_BLAS_DIR is not set (a folder with a multithreaded libblas.so.3, e.g. OpenBLAS\'s)');
      return;
    }
    const r = await runCli(['run', `${path.join(PY, 'numeric.py')}::matmul`, '--args', '600', '--modes', 'inline,thread', '--concurrency', '6', '--workers', '6', ...DEBIAN_PYTHON, '--json'],
      { env: { LD_LIBRARY_PATH: blas } });
    assert.equal(r.code, 0, r.stderr);
    const report = reportOf(r);
    const inline = run(report, 'inline');
    const thread = run(report, 'thread');
    const cpu = (m: typeof inline) => m.cpu.userMs + m.cpu.systemMs;
    const figures = `inline ${inline.wallMs.toFixed(0)} ms (CPU/wall ${inline.cpu.parallelism}), 6 threads ${thread.wallMs.toFixed(0)} ms ` +
      `(CPU ${(cpu(thread) / cpu(inline)).toFixed(1)}× inline's), GIL ${classifyGil(report)?.kind}, background CPU ${((thread.backgroundCpuFrac ?? 0) * 100).toFixed(0)}%`;
    t.diagnostic(figures);
    const collapsed = thread.wallMs >= 2 * inline.wallMs && classifyGil(report)?.kind === 'released';
    if (!collapsed) {
      t.skip(`no collapse to judge on this machine now (${figures})`);
      return;
    }
    assert.match(report.headline!, /^Safe for the loop in a thread pool, but calls ran \d+(\.\d)?× slower than inline/);
    if (inline.cpu.parallelism >= 1.3 || cpu(thread) >= 2 * cpu(inline)) {
      const a = report.advice.find((x) => x.id === 'native-oversubscription');
      assert.ok(a, figures);
      assert.ok(!report.advice.some((x) => x.id === 'no-thread-speedup'));
    }
  });
});
