/**
 * The CLI's errors that both runtimes have, written once: each table row holds the
 * Python input and expected message beside the Node one, and `sharedErrorTests(runtime)`
 * registers the row's test for that runtime. test/sidecar/errors.test.ts (Python) and
 * nodeErrors.test.ts (Node) each call it, and keep their runtime's own cases.
 *
 * Also the shapes both files' timeout and interrupt tests share: a run that must time
 * out (exit 124) and a run that must stop on SIGINT (exit 130), with no process left.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Report } from '../../src/shared/protocol';
import { cancelledMessage, hasFigures, measuredWhole } from '../../src/report/cancelText';
import {
  assertNoProcessLeft, assertOneLineError, CliResult, FIXTURES, newTag, processesWithTag, reportOf, run, runCli, scratchFolders, waitFor, writePy,
} from './helpers';

export type ErrorRuntime = 'python' | 'node';

const PY_ERRORS = path.join(FIXTURES, 'python', 'errors');
const NODE_ERRORS = path.join(FIXTURES, 'node', 'errors');

/** Each runtime's fixtures and the flags that keep a run short. */
export const ERROR_FIXTURES = {
  python: {
    targets: path.join(PY_ERRORS, 'targets.py'),
    workers: path.join(PY_ERRORS, 'workers.py'),
    /** A small pool, no GIL probe. */
    fast: ['--concurrency', '2', '--workers', '2', '--no-gil-probe'],
  },
  node: {
    targets: path.join(NODE_ERRORS, 'workers.cjs'),
    workers: path.join(NODE_ERRORS, 'workers.cjs'),
    /** Two calls on a pool of two. */
    fast: ['--concurrency', '2', '--workers', '2'],
  },
} as const;

const BUSY = path.join(FIXTURES, 'node', 'measure', 'loop.cjs');

/** Where a row's target is: a fixture, or a module written for the test. */
interface Where {
  /** Writes a module into a scratch folder and returns its path. */
  write(source: string): string;
}

// --------------------------------------------------------------------------- the target cannot be loaded

interface LoadFailure {
  /** `FILE` of `FILE::FUNCTION`. */
  file(where: Where): string;
  fn: string;
  modes: string;
  /** The one stderr line. */
  message: RegExp;
  /** Also on stderr (after the one line's start), when the message goes on. */
  alsoOnStderr?: RegExp;
  /** The report's error.line and error.file, when the error has a place. */
  line?: number;
  detail?: RegExp;
  placed?: boolean;
}

/** A module that cannot be loaded: exit 1, one line, the kind in the report, every mode asked for skipped. */
const LOAD_FAILURES: { what: string; kind: string; python: LoadFailure; node: LoadFailure }[] = [
  {
    what: 'syntax-error names its line',
    kind: 'syntax-error',
    python: {
      file: (w) => w.write('def ok():\n    return 1\n\n\ndef broken(:\n    pass\n'), fn: 'ok', modes: 'inline',
      message: /line 5\b/, line: 5, placed: true, detail: /def broken\(:/,
    },
    node: { file: () => path.join(NODE_ERRORS, 'syntax.js'), fn: 'ok', modes: 'inline,worker', message: /\(line 6\)/, line: 6, placed: true },
  },
  {
    what: 'import-error: the module imports a package that is not installed',
    kind: 'import-error',
    python: {
      file: (w) => w.write('import looplag_no_such_package_xyz\n\n\ndef f():\n    pass\n'), fn: 'f', modes: 'inline',
      message: /ModuleNotFoundError: No module named 'looplag_no_such_package_xyz'/, line: 1,
    },
    node: { file: () => path.join(NODE_ERRORS, 'missing.cjs'), fn: 'f', modes: 'inline', message: /cannot load missing\.cjs: Cannot find module 'looplag-no-such-package-xyz'/ },
  },
  {
    what: 'target-not-found lists the top-level functions',
    kind: 'target-not-found',
    python: {
      file: () => ERROR_FIXTURES.python.targets, fn: 'gamma', modes: 'inline',
      message: /`gamma` not found in targets\.py/, alsoOnStderr: /module-level functions: say, describe, alpha, beta, outer, fetch, /,
    },
    node: {
      file: () => ERROR_FIXTURES.node.targets, fn: 'nope', modes: 'inline',
      message: /no `nope` at the top level of workers\.cjs \(top-level functions here: returnsFunction, take, /,
    },
  },
];

// --------------------------------------------------------------------------- bad arguments

/** Call arguments that cannot be used: exit 1, nothing runs in any mode. Each runtime's target and modes, then the rows. */
const BAD_ARGUMENT_TARGETS = {
  python: { target: `${ERROR_FIXTURES.python.targets}::beta`, modes: 'inline,thread' },
  node: { target: `${BUSY}::busy`, modes: 'inline,worker' },
} as const;

/** [args, the one stderr line] per runtime; null where the runtime has no such case. */
const BAD_ARGUMENTS: { what: Record<ErrorRuntime, string>; python: [string, RegExp] | null; node: [string, RegExp] | null }[] = [
  {
    what: { python: 'unparsable text', node: 'an empty argument' },
    python: ['1,,2', /arguments `1,,2` are not valid call syntax/],
    // Valid inside an array literal (a hole; closing it early), never as a call's arguments.
    node: ['1,,2', /the call arguments are not valid: /],
  },
  {
    what: { python: 'text that escapes the parentheses', node: 'text that escapes the parentheses' },
    python: ['1) + (2', /are not valid call syntax/],
    node: ['1) + (2', /the call arguments are not valid: /],
  },
  { what: { python: '', node: 'text that closes a bracket' }, python: null, node: ['5], extra: [6', /the call arguments are not valid: /] },
  {
    what: { python: 'arguments that raise', node: 'an expression that throws' },
    python: ['1 / 0', /evaluating arguments `1 \/ 0` raised ZeroDivisionError: division by zero/],
    node: ['JSON.parse("{")', /evaluating the arguments \(JSON\.parse\("\{"\)\) threw SyntaxError: /],
  },
  {
    what: { python: 'an unknown name', node: 'an unknown name' },
    python: ['undefined_name', /raised NameError: name 'undefined_name' is not defined/],
    node: ['undefinedName', /threw ReferenceError: undefinedName is not defined/],
  },
  { what: { python: 'too few for the signature', node: '' }, python: ['1', /beta\(a, b\) cannot be called with \(1\): missing a required argument: 'b'/], node: null },
  { what: { python: 'too many for the signature', node: '' }, python: ['1, 2, 3', /beta\(a, b\) cannot be called with \(1, 2, 3\): too many positional arguments/], node: null },
  { what: { python: 'an unknown keyword', node: '' }, python: ['a=1, b=2, c=3', /got an unexpected keyword argument 'c'/], node: null },
];

// --------------------------------------------------------------------------- the runtime cannot start

/** The runtime flag naming a file that does not exist: exit 1, one line, no runtime in the report. */
const RUNTIME_NOT_FOUND = {
  python: { args: [`${ERROR_FIXTURES.python.targets}::alpha`, '--python', '/nonexistent/python3'], message: /cannot start Python interpreter `\/nonexistent\/python3`/ },
  node: { args: [`${BUSY}::busy`, '--args', '1', '--node', '/nonexistent'], message: /cannot start Node `\/nonexistent`/ },
} as const;

// --------------------------------------------------------------------------- values that cannot cross to a pool

/**
 * Arguments or a return value that cannot be sent to another thread or process: only the
 * pool runs fail (with this kind); the others are measured, and the run exits 0.
 */
const NOT_SENDABLE_MODES = {
  python: { kind: 'not-picklable', measured: ['inline', 'thread'], failed: ['process'] },
  node: { kind: 'not-transferable', measured: ['inline'], failed: ['worker', 'process'] },
} as const;

/** [function, args, the failed run's message] per runtime. */
const NOT_SENDABLE: { what: Record<ErrorRuntime, string>; python: [string, string, RegExp] | null; node: [string, string, RegExp] | null }[] = [
  {
    what: { python: 'a lambda argument', node: 'a function as argument' },
    python: ['take', 'lambda: 1', /the call arguments can't be sent to another process: PicklingError/],
    // Named by type and place (issue 10), not by V8's "… could not be cloned".
    node: ['take', '() => 1', /the call arguments can't be sent to a (worker thread|child process): `arguments\[0\]` is an anonymous function, which cannot be copied/],
  },
  {
    what: { python: 'a threading.Lock argument', node: '' },
    python: ['take', 'threading.Lock()', /the call arguments can't be sent to another process: TypeError: cannot pickle '_thread\.lock' object/],
    node: null,
  },
  {
    what: { python: 'a threading.Lock return value', node: 'a function as result' },
    python: ['return_lock', '', /the return value can't be sent back from the process: cannot pickle '_thread\.lock' object/],
    node: ['returnsFunction', '', /the return value can't be sent back from the (worker thread|child process): `result` is (an anonymous function|a function `\w+`), which cannot be copied/],
  },
];

// --------------------------------------------------------------------------- calls that raise

/** Every call of boom(42) raises: a per-task error in every mode, not a failed run (exit 4). */
const RAISING = {
  python: {
    what: 'a raising task is a per-task error, not a failed run (exit 4: calls failed)',
    modes: ['inline', 'thread', 'process'], type: 'ValueError',
    traceback: /workers\.py", line \d+, in boom\n[\s\S]*ValueError: task boom 42/,
    /** The text view (no --json) says so too, without turning it into a failure. */
    textView: {
      stderr: /^looplag: calls raised in inline \(2 of 2: ValueError: task boom 42 \(workers\.py:\d+\)\)$/m,
      stdout: /inline: 2 of 2 calls raised ValueError: task boom 42/,
    },
  },
  node: {
    what: 'a throwing call is a per-task error that keeps its message, not a failed run (exit 4: calls failed)',
    modes: ['inline', 'worker', 'process'], type: 'RangeError',
    traceback: /RangeError: task boom 42\n\s+at boom \(.*workers\.cjs:\d+:\d+\)/,
    textView: null,
  },
} as const;

// --------------------------------------------------------------------------- the tests

/**
 * Registers the shared error cases for `runtime`. Call at the top level of the runtime's
 * error test file.
 */
export function sharedErrorTests(runtime: ErrorRuntime): void {
  const { fast, workers } = ERROR_FIXTURES[runtime];
  const scratch = scratchFolders();
  const where: Where = {
    write: (source) => {
      const file = writePy(source);
      scratch.keep(path.dirname(file));
      return file;
    },
  };

  describe(`${runtime}: the target cannot be loaded: exit 1, one line, and the kind in the report`, () => {
    for (const row of LOAD_FAILURES) {
      const c = row[runtime];
      test(row.what, async () => {
        const file = c.file(where);
        const modes = c.modes.split(',');
        const r = await runCli(['run', `${file}::${c.fn}`, '--modes', c.modes, ...fast, '--json']);
        assertOneLineError(r, row.kind, c.message);
        if (c.alsoOnStderr) assert.match(r.stderr, c.alsoOnStderr);
        const report = reportOf(r);
        assert.equal(report.status, 'failed');
        assert.equal(report.error?.kind, row.kind);
        if (c.line !== undefined) assert.equal(report.error?.line, c.line);
        if (c.placed) assert.equal(report.error?.file, file);
        if (c.detail) assert.match(report.error?.detail ?? '', c.detail);
        assert.deepEqual(report.runs.map((x) => [x.mode, x.status]), modes.map((m) => [m, 'skipped']));
      });
    }
  });

  describe(`${runtime}: bad-arguments: nothing runs, in any mode`, () => {
    const { target, modes } = BAD_ARGUMENT_TARGETS[runtime];
    for (const row of BAD_ARGUMENTS) {
      const c = row[runtime];
      if (!c) continue;
      const [args, message] = c;
      test(row.what[runtime], async () => {
        const r = await runCli(['run', target, '--args', args, '--modes', modes, ...fast, '--json']);
        assertOneLineError(r, 'bad-arguments', message);
        const report = reportOf(r);
        assert.equal(report.error?.kind, 'bad-arguments');
        // Nothing ran, and the report says so for every mode asked for.
        assert.deepEqual(report.runs.map((x) => [x.mode, x.status]), modes.split(',').map((m) => [m, 'skipped']));
      });
    }
  });

  test(`${runtime}: interpreter-not-found: --${runtime} pointing nowhere`, async () => {
    const c = RUNTIME_NOT_FOUND[runtime];
    const r = await runCli(['run', ...c.args, ...fast, '--json']);
    assertOneLineError(r, 'interpreter-not-found', c.message);
    assert.equal(reportOf(r).status, 'failed');
    assert.equal(reportOf(r).runtime, null);
  });

  const sendable = NOT_SENDABLE_MODES[runtime];
  describe(`${runtime}: ${sendable.kind}: only the pool runs fail; the others are measured (exit 0)`, () => {
    for (const row of NOT_SENDABLE) {
      const c = row[runtime];
      if (!c) continue;
      const [fn, args, message] = c;
      test(row.what[runtime], async () => {
        const r = await runCli(['run', `${workers}::${fn}`, '--args', args, '--modes', [...sendable.measured, ...sendable.failed].join(','), ...fast, '--json']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, '');
        const report = reportOf(r);
        assert.equal(report.error, null);
        for (const mode of sendable.measured) {
          assert.equal(run(report, mode).status, 'ok', mode);
          assert.equal(run(report, mode).taskStats.okCount, 2, mode);
        }
        for (const mode of sendable.failed) {
          const m = run(report, mode);
          assert.equal(m.status, 'failed', mode);
          assert.equal(m.error?.kind, sendable.kind, mode);
          assert.match(m.error!.message, message, mode);
        }
        assert.match(r.stdout, new RegExp(`"kind":"${sendable.kind}"`));
      });
    }
  });

  const raising = RAISING[runtime];
  test(`${runtime}: ${raising.what}`, async () => {
    const r = await runCli(['run', `${workers}::boom`, '--args', '42', '--modes', raising.modes.join(','), ...fast, '--json']);
    // Issue 10: calls that raised exit 4 (was 0), so a CI gate sees them.
    assert.equal(r.code, 4, r.stderr);
    const report = reportOf(r);
    assert.equal(report.status, 'complete');
    assert.equal(report.error, null);
    for (const mode of raising.modes) {
      const m = run(report, mode);
      assert.equal(m.status, 'ok', mode);
      assert.equal(m.error, null, mode);
      assert.equal(m.taskStats.errorCount, 2, mode);
      for (const t of m.tasks) {
        assert.equal(t.error?.type, raising.type, mode);
        assert.equal(t.error?.message, 'task boom 42', mode);
        assert.match(t.error?.traceback ?? '', raising.traceback, mode);
      }
    }
    if (raising.textView) {
      const text = await runCli(['run', `${workers}::boom`, '--args', '42', '--modes', 'inline', ...fast]);
      assert.equal(text.code, 4, text.stderr);
      assert.match(text.stderr, raising.textView.stderr);
      assert.match(text.stdout, raising.textView.stdout);
    }
  });
}

// --------------------------------------------------------------------------- timeouts and interrupts

/**
 * A run that must give up at --timeout: exit 124, one stderr line counting the modes
 * measured before, well before a hang would end, and no process left. The report
 * (from --json, or from `out` when given).
 */
export async function expectTimeout(args: string[], timeoutS: number, measured: number, out?: string): Promise<Report> {
  const tag = newTag();
  const t0 = Date.now();
  // --call-timeout far past --timeout: this is the session timeout's path (its default,
  // derived from --timeout, would cut these calls first).
  const r = await runCli(['run', ...args, '--timeout', String(timeoutS), '--call-timeout', '600', ...(out ? ['--out', out] : ['--json'])], {
    env: { LOOPLAG_TEST_TAG: tag },
  });
  const elapsedMs = Date.now() - t0;
  assert.equal(r.code, 124, r.stderr);
  assert.match(r.stderr, new RegExp(`^looplag: error \\[timeout\\]: gave up after ${timeoutS} s(?: [^\\n]+)? \\(${measured} mode\\(s\\) measured\\)\\n$`));
  // The deadline, the 1 s grace before the kill, and process start-up; not a hang.
  assert.ok(elapsedMs < timeoutS * 1000 + 4000, `took ${elapsedMs} ms`);
  await assertNoProcessLeft(tag);
  const report = out ? Report.parse(JSON.parse(fs.readFileSync(out, 'utf8'))) : reportOf(r);
  assert.equal(report.error?.kind, 'timeout');
  return report;
}

/**
 * Starts a tagged run (`--json`) and resolves once its target has written `marker`, with
 * the CLI's pid; the CLI and the sidecar carry the tag, so a leftover check is not vacuous.
 */
export async function startUntilMarker(args: string[], marker: string, what: string, onStderr?: (text: string) => void) {
  const tag = newTag();
  let cliPid = 0;
  const running = runCli(['run', ...args, '--json'], { env: { LOOPLAG_TEST_TAG: tag }, onStart: (pid) => (cliPid = pid), onStderr });
  await waitFor(() => fs.existsSync(marker), what);
  assert.ok(processesWithTag(tag).length >= 2, 'tagged processes while running');
  return { running, cliPid, tag };
}

/**
 * A run stopped by one SIGINT once its target has started: exit 130 within a couple of
 * seconds, the two stderr lines, nothing left running. The report.
 */
export async function expectInterrupted(args: string[], marker: string, what: string, measured: number): Promise<Report> {
  const { running, cliPid, tag } = await startUntilMarker(args, marker, what);
  const t0 = Date.now();
  process.kill(cliPid, 'SIGINT');
  const r: CliResult = await running;
  const elapsedMs = Date.now() - t0;
  assert.equal(r.code, 130, r.stderr);
  assert.ok(elapsedMs < 3000, `took ${elapsedMs} ms after SIGINT`);
  await assertNoProcessLeft(tag);
  const report = reportOf(r);
  assert.equal(report.error?.kind, 'cancelled');
  // The CLI's line is the report's error, which names what the report holds (cancelText.ts):
  // `measured` modes whole, and any cut short by the cancel.
  assert.equal(r.stderr, 'looplag: interrupted; stopping (interrupt again to stop at once)\n' +
    `looplag: error [cancelled]: ${cancelledMessage(report.runs)}\n`);
  assert.equal(report.runs.filter((run) => hasFigures(run) && measuredWhole(run)).length, measured, report.error!.message);
  return report;
}
