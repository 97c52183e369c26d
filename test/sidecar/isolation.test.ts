/**
 * Measurements that do not disturb what they measure (issue 10, points 3 and 4), on
 * real python3 through the real CLI: each mode starts from a clean sidecar, one
 * unmeasured warm-up call keeps one-time costs out of the window, no GIL-probe thread
 * competes in a window whose lag is reported, and targets import as `python -m` would.
 *
 * Timing checks are ratios against the same machine in the same test, best of a few
 * interleaved runs; the one that needs our threads to get a core when they ask (thread
 * lag against an independent harness) measures the other processes' load during each
 * run, both ours and the harness's, measures again once, and skips, saying how busy the
 * machine was, when no attempt was quiet.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { BUSY_MACHINE_FRAC } from '../../src/report/quality';
import type { ModeRun, Report } from '../../src/shared/protocol';
import { lagStats } from '../../src/stats/lagStats';
import { REPO, reportOf, run, runCli, tmpDir, withBackgroundLoad } from '../support/helpers';

const ISOLATION = 'test/fixtures/python/isolation.py';
const HARNESS = path.join(REPO, 'test/fixtures/python/call_later_harness.py');
const WORKLOADS = path.join(REPO, 'test/fixtures/python/workloads.py');
/** Debian's Python with markdown (scripts/test.sh installs it in CI). */
const SYSTEM_PYTHON = '/usr/bin/python3';
const COMMON = ['--free-threaded', 'off', '--timeout', '90'];
/**
 * The harness's repeats on a quiet machine agree well within this factor (plus 1 ms); wider
 * apart, load came and went during them, and a comparison with them says nothing.
 */
const HARNESS_SPREAD = 1.5;

async function report(args: string[], exitCode = 0): Promise<Report> {
  const r = await runCli(['run', ...args, ...COMMON, '--json']);
  assert.equal(r.code, exitCode, r.stderr);
  return reportOf(r);
}

function runMs(r: ModeRun): number[] {
  return r.tasks.flatMap((t) => (t.startMs !== null && t.endMs !== null ? [t.endMs - t.startMs] : []));
}

describe('each mode starts from the same clean state', () => {
  test('sys.stdout.close() in an inline call does not break the thread and process calls after it', async () => {
    // Inline's own calls after the first print to the closed stdout and raise (exit 4, calls raised).
    const rep = await report([`${ISOLATION}::close_stdout_on_loop`, '--modes', 'inline,thread,process', '--concurrency', '2', '--workers', '2'], 4);
    assert.equal(rep.settings.isolatedModes, true);
    assert.ok(run(rep, 'inline').taskStats.errorCount > 0, 'inline broke itself');
    for (const mode of ['thread', 'process']) {
      const r = run(rep, mode);
      assert.equal(r.status, 'ok', JSON.stringify(r.error));
      assert.equal(r.taskStats.errorCount, 0, `${mode}: ${JSON.stringify(r.tasks.find((t) => t.error)?.error)}`);
      assert.match(r.output.stdout, /report line/);
    }
  });

  test('memory grown by earlier modes does not slow process mode\'s pool start-up (fork)', async () => {
    // 100 MB kept per call: after 4 inline and 4 thread calls, a shared sidecar forks
    // its pool from ~800 MB (the issue: 206 ms instead of 64 ms at 650–800 MB).
    const args = [`${ISOLATION}::grow`, '--args', '100', '--concurrency', '4', '--workers', '2'];
    const after: number[] = [];
    const alone: number[] = [];
    for (let i = 0; i < 3; i++) {
      after.push(run(await report([...args, '--modes', 'inline,thread,process']), 'process').startupMs!);
      alone.push(run(await report([...args, '--modes', 'process']), 'process').startupMs!);
    }
    const [a, b] = [Math.min(...after), Math.min(...alone)];
    // Fork time grows with the parent's memory; scheduling noise only adds: best of three.
    assert.ok(a <= 1.4 * b + 15, `process start-up after inline+thread ${after.map(Math.round).join('/')} ms vs alone ${alone.map(Math.round).join('/')} ms`);
  });
});

describe('warm-up: one unmeasured call keeps one-time costs out of the window', () => {
  const SLOW_FIRST = `${ISOLATION}::slow_first_call`;

  test('inline: the slow first call is the warm-up, not a measured call; --no-warmup measures it', async () => {
    const warmReport = await report([SLOW_FIRST, '--modes', 'inline', '--concurrency', '4']);
    const warm = run(warmReport, 'inline');
    assert.equal(warm.warmupMs?.length, 1, 'one warm-up call in the sidecar');
    // A one-time cost before calls that do work (~1 ms here) is a note, not "cache hits".
    assert.ok(!warmReport.advice.some((a) => a.id === 'cached-calls' && a.severity !== 'info'), JSON.stringify(warmReport.advice.map((a) => [a.id, a.severity])));
    assert.doesNotMatch(warmReport.headline!, /cache/);
    assert.ok(warm.warmupMs![0] >= 290, `warm-up took ${warm.warmupMs![0]} ms`);
    assert.ok(Math.max(...runMs(warm)) < 250, `measured calls ${runMs(warm).map(Math.round).join(', ')} ms`);

    const cold = await report([SLOW_FIRST, '--modes', 'inline', '--concurrency', '4', '--no-warmup']);
    assert.equal(cold.settings.warmup, false);
    const r = run(cold, 'inline');
    assert.ok(!r.warmupMs, 'no warm-up ran');
    assert.ok(Math.max(...runMs(r)) >= 290, `the first call is in the window: ${runMs(r).map(Math.round).join(', ')} ms`);
  });

  test('thread and process: one warm-up per sidecar and per pool member', async () => {
    const rep = await report([SLOW_FIRST, '--modes', 'thread,process', '--concurrency', '4', '--workers', '2']);
    const thread = run(rep, 'thread');
    assert.equal(thread.warmupMs?.length, 1);
    assert.ok(Math.max(...runMs(thread)) < 250, `thread calls ${runMs(thread).map(Math.round).join(', ')} ms`);
    const proc = run(rep, 'process');
    assert.equal(proc.warmupMs?.length, 2, `one per worker: ${JSON.stringify(proc.warmupMs)}`);
    for (const ms of proc.warmupMs!) assert.ok(ms >= 290, `a worker's warm-up took ${ms} ms`);
    assert.ok(Math.max(...runMs(proc)) < 250, `process calls ${runMs(proc).map(Math.round).join(', ')} ms`);
  });
});

describe('the GIL-wait probe stays out of the window whose lag is reported', () => {
  /** The thread names the target saw alive during its thread-mode calls. */
  function threadsSeen(r: ModeRun): string[] {
    return [...new Set(r.output.stdout.split('\n').filter(Boolean).flatMap((l) => l.split(',')))];
  }

  test('by default no probe thread runs during thread mode\'s calls, and GIL waits come from the diagnostic', async () => {
    const rep = await report([`${ISOLATION}::threads_during_call`, '--modes', 'thread', '--concurrency', '4', '--workers', '2']);
    const r = run(rep, 'thread');
    assert.ok(!threadsSeen(r).includes('looplag-gil-probe'), `threads alive during the calls: ${threadsSeen(r).join(', ')}`);
    assert.equal(rep.settings.gilProbe, true);
    assert.equal(rep.settings.gilProbeInWindow, false);
    assert.ok(rep.diagnostic?.gilWait, 'the diagnostic window measured GIL waits');
    assert.equal(r.gilWaitSource, 'diagnostic');
    assert.deepEqual(r.gilWait, rep.diagnostic!.gilWait);

    const opted = await report([`${ISOLATION}::threads_during_call`, '--modes', 'thread', '--concurrency', '4', '--workers', '2', '--gil-probe-in-window']);
    const o = run(opted, 'thread');
    assert.ok(threadsSeen(o).includes('looplag-gil-probe'), 'the opt-in runs it in the window');
    assert.equal(o.gilWaitSource, 'window');
    assert.equal(opted.settings.gilProbeInWindow, true);
  });

  test('thread-mode lag of pure Python matches an independent call_later harness with no probe', async (t) => {
    // The same work, concurrency and pool size in a plain asyncio loop with a
    // loop.call_later heartbeat (test/fixtures/python/call_later_harness.py).
    const n = 600_000;
    const [calls, workers] = [8, 2];
    // p99 here rests on a few dozen beats (~ the max: noisy either way); the mean lag over
    // every beat is the stable figure, so it carries the claim and p99 is shown. Each
    // repeat keeps the other processes' share of the CPU while it ran.
    interface Repeat { mean: number; p99: number; load: number | null }
    interface Attempt { ours: Repeat[]; theirs: Repeat[] }

    /** Five interleaved repeats of Loop Lag's thread mode and of the harness. */
    async function attempt(): Promise<Attempt> {
      const a: Attempt = { ours: [], theirs: [] };
      for (let i = 0; i < REPEATS; i++) {
        const rep = await report([`${WORKLOADS}::spin`, '--args', String(n), '--modes', 'thread', '--concurrency', String(calls), '--workers', String(workers)]);
        const r = run(rep, 'thread');
        a.ours.push({ mean: r.lag.meanMs, p99: r.lag.p99Ms, load: r.backgroundCpuFrac });
        const h = withBackgroundLoad(() => spawnSync('python3', [HARNESS, WORKLOADS, 'spin', JSON.stringify([n]), String(calls), String(workers), '1'], { encoding: 'utf8' }));
        assert.equal(h.value.status, 0, h.value.stderr);
        const out = JSON.parse(h.value.stdout) as { samples: number[][]; wallMs: number };
        const l = lagStats(out.samples, { heartbeatMs: 1, stallMs: 50, wallMs: out.wallMs });
        a.theirs.push({ mean: l.meanMs, p99: l.p99Ms, load: h.backgroundCpuFrac });
      }
      return a;
    }
    // One repeat's mean lag ranges over ~2× on 2 cores for either side (7.6–24 ms seen):
    // the median of five, not a sum of three, so one slow repeat cannot decide.
    const REPEATS = 5;
    const sorted = (xs: Repeat[]) => xs.map((x) => x.mean).sort((p, q) => p - q);
    const median = (xs: Repeat[]) => sorted(xs)[Math.floor(xs.length / 2)];
    const pct = (x: number | null) => (x === null ? '?' : `${Math.round(x * 100)}%`);
    const show = (xs: Repeat[]) => xs.map((x) => `${x.mean.toFixed(1)} (p99 ${x.p99.toFixed(1)}, others ${pct(x.load)})`).join(' / ');
    const what = (a: Attempt) => `Loop Lag thread lag mean ${show(a.ours)} ms vs harness ${show(a.theirs)} ms`;
    // The probe thread inflated this 1.3–3.7×, a heartbeat task sleeping in asyncio.sleep
    // (two GIL acquisitions per beat) ~1.5–2×; a window with neither sees what the harness sees.
    const holds = (a: Attempt) => median(a.ours) <= 1.3 * median(a.theirs) + 1;
    /**
     * Why an attempt says nothing either way, or null when the machine was quiet. Others'
     * load in our windows inflates our lag (a false failure); in the harness's runs it
     * loosens the bound (a false pass). Load that comes and goes between the load readings
     * shows as harness repeats that disagree: the harness has nothing of ours in it.
     */
    const disturbed = (a: Attempt): string | null => {
      const loads = [...a.ours, ...a.theirs].map((x) => x.load);
      if (loads.some((x) => x === null)) return 'background CPU load cannot be measured here';
      const worst = Math.max(...(loads as number[]));
      if (worst >= BUSY_MACHINE_FRAC) return `other processes used up to ${pct(worst)} of the CPU (the report trusts < ${BUSY_MACHINE_FRAC * 100}%)`;
      // The harness's middle repeats (its outermost may be a stray): far apart, load came and went.
      const means = sorted(a.theirs);
      if (means[means.length - 2] > HARNESS_SPREAD * means[1] + 1) {
        return `the harness's own repeats disagree (mean ${means.map((m) => m.toFixed(1)).join(' / ')} ms, the middle ones more than ${HARNESS_SPREAD}× apart)`;
      }
      return null;
    };

    // Measured again once when the first attempt fails or the machine was busy; the
    // verdict comes from a quiet attempt only, so a busy machine skips, with the figures.
    const attempts = [await attempt()];
    t.diagnostic(what(attempts[0]));
    if (disturbed(attempts[0]) !== null || !holds(attempts[0])) {
      attempts.push(await attempt());
      t.diagnostic(`measured again: ${what(attempts[1])}`);
    }
    const quiet = attempts.filter((a) => disturbed(a) === null);
    if (!quiet.length) {
      t.skip(attempts.map((a, i) => `attempt ${i + 1}: ${disturbed(a)}: ${what(a)}`).join('; '));
      return;
    }
    // A quiet attempt that holds settles it; a quiet one that fails is a failure.
    const verdict = quiet.find(holds) ?? quiet[0];
    assert.ok(holds(verdict), what(verdict));
  });
});

describe('targets import the way `python -m` does', () => {
  const hasMarkdown = spawnSync(SYSTEM_PYTHON, ['-c', 'import markdown'], { encoding: 'utf8' }).status === 0;

  function writeApp(): string {
    const root = tmpDir('looplag-imports-');
    const files: Record<string, string> = {
      'app/__init__.py': '',
      'app/settings.py': 'SENDER = "noreply@example.com"\n',
      'app/notifications/__init__.py': '',
      // Named like the stdlib package it imports from.
      'app/notifications/email.py': [
        'from email.message import EmailMessage',
        'from ..settings import SENDER',
        '',
        'def build(subject="hi"):',
        '    msg = EmailMessage()',
        '    msg["From"] = SENDER',
        '    msg["Subject"] = subject',
        '    return msg.as_string()',
        '',
      ].join('\n'),
      // Beside email.py: markdown's extension lookup imports importlib.metadata, which imports the stdlib email.
      'app/notifications/docs.py': [
        'import markdown',
        'from .email import build',
        '',
        'def render():',
        '    build("docs")',
        '    return markdown.markdown("|a|b|\\n|-|-|\\n|1|2|", extensions=["tables"])',
        '',
      ].join('\n'),
    };
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), text);
    }
    return root;
  }

  test('a package module named email.py imports the stdlib email, and markdown works beside it', { skip: !hasMarkdown && `${SYSTEM_PYTHON} has no markdown` }, async () => {
    const root = writeApp();
    for (const target of ['app/notifications/email.py::build', 'app/notifications/docs.py::render']) {
      const r = await runCli(['run', path.join(root, target), '--python', SYSTEM_PYTHON, '--workspace', root,
        '--modes', 'inline,process', '--concurrency', '2', '--workers', '2', ...COMMON, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const rep = reportOf(r);
      for (const mode of ['inline', 'process']) {
        const m = run(rep, mode);
        assert.equal(m.status, 'ok', `${target} ${mode}: ${JSON.stringify(m.error)}`);
        assert.equal(m.taskStats.errorCount, 0, `${target} ${mode}: ${JSON.stringify(m.tasks.find((x) => x.error)?.error)}`);
      }
    }
  });
});
