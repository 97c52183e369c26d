/**
 * Nothing outlives a CLI that dies hard. The CLI is killed (SIGKILL: no handler, no
 * 'exit' hook) or hung up on (SIGHUP: the terminal closed) while user code blocks the
 * runtime that would otherwise notice: a Python call holding the GIL (every thread of
 * the sidecar stops, its stdin reader and pool children's parent watch included) and a
 * Node sync loop (the main thread's loop never turns, so stdin EOF and IPC 'disconnect'
 * never fire). Within 2 s of the signal no process carrying the run's tag may be alive.
 *
 * Each case repeats: a leftover that shows up one time in ten is still a leftover.
 * The signal is sent as soon as the target says its call runs (a marker file per
 * process and thread), not after a sleep.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { Report } from '../../src/shared/protocol';
import { CliResult, FIXTURES, killTagged, newTag, processesWithTag, runCli, tmpDir, waitFor } from '../support/helpers';

const PY = path.join(FIXTURES, 'python', 'orphans', 'busy.py');
const JS = path.join(FIXTURES, 'node', 'orphans', 'busy.cjs');
// Fewer when checking the test against an old build (each leftover there costs 2 s).
const REPETITIONS = Number(process.env.LOOPLAG_ORPHAN_REPETITIONS) || 10;
/** What the issue allows: every process of the run gone this long after the signal. */
const GONE_WITHIN_MS = 2000;

interface Case {
  what: string;
  target: string;
  modes: string;
  /** Calls that must be running (one marker each) before the signal. */
  busy: number;
  /**
   * Pool modes: SIGKILL reaches the sidecar too, at once (`kill -9` on both, the OOM
   * killer), so no sidecar is left to end the children: each must end itself. (With
   * the sidecar alive, its loop is free and it kills its pool when its stdin closes.)
   */
  killSidecarToo: boolean;
}

const CASES: Case[] = [
  { what: 'a Python thread-mode call holding the GIL', target: `${PY}::hold_gil`, modes: 'thread', busy: 1, killSidecarToo: false },
  { what: 'a Node inline sync loop', target: `${JS}::spin`, modes: 'inline', busy: 1, killSidecarToo: false },
  { what: 'two Python process-pool children in a GIL-holding call', target: `${PY}::hold_gil`, modes: 'process', busy: 2, killSidecarToo: true },
  { what: 'two Node process-pool children in a sync loop', target: `${JS}::spin`, modes: 'process', busy: 2, killSidecarToo: true },
];

const scratch: string[] = [];
after(() => {
  for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs `one(0…REPETITIONS-1)` in LANES concurrent lanes, each its own run with its own
 * tag: the file stays near a minute and a half (one lane takes two and a half).
 */
const LANES = 2;
async function repeat(one: (i: number) => Promise<void>): Promise<void> {
  const lane = async (first: number) => {
    for (let i = first; i < REPETITIONS; i += LANES) await one(i);
  };
  await Promise.all(Array.from({ length: LANES }, (_, k) => lane(k)));
}

/** Processes of `tag` still alive when `deadline` passes (killed then, so none leaks into the next run). */
async function leftAt(tag: string, deadline: number): Promise<string[]> {
  while (processesWithTag(tag).length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return killTagged(tag);
}

function parentOf(pid: number): number {
  try {
    // After the `(comm)` field, which may hold spaces: state, then the parent pid.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** One run of `c`, signalled once its calls are running: the CLI's result and what was left. */
async function signalDuringCall(c: Case, signal: 'SIGKILL' | 'SIGHUP' | 'SIGTERM+SIGHUP', out: string): Promise<{ r: CliResult; left: string[]; goneMs: number }> {
  const tag = newTag();
  const markers = tmpDir('looplag-orphans-');
  scratch.push(markers);
  let cliPid = 0;
  const running = runCli(
    ['run', c.target, '--args', JSON.stringify(markers), '--modes', c.modes, '--concurrency', '2', '--workers', '2',
      '--no-gil-probe', '--free-threaded', 'off', '--timeout', '60', '--out', out],
    { env: { LOOPLAG_TEST_TAG: tag }, onStart: (pid) => (cliPid = pid) },
  );
  try {
    await waitFor(() => fs.readdirSync(markers).length >= c.busy, `${c.busy} call(s) to run`, 30_000);
  } catch (e) {
    process.kill(cliPid, 'SIGKILL');
    await leftAt(tag, Date.now());
    throw new Error(`${(e as Error).message}\n${(await running).stderr}`);
  }
  // The CLI, the sidecar and (pool modes) its children carry the tag: the check below is not vacuous.
  assert.ok(processesWithTag(tag).length >= 1 + c.busy, 'tagged processes while running');
  const sidecars = signal === 'SIGKILL' && c.killSidecarToo ? processesWithTag(tag).filter((p) => parentOf(p) === cliPid) : [];
  assert.equal(sidecars.length, c.killSidecarToo && signal === 'SIGKILL' ? 1 : 0, 'the sidecar to kill with the CLI');
  const sentAt = Date.now();
  if (signal === 'SIGTERM+SIGHUP') {
    // A session ending sends both, back to back: still one polite stop, report written.
    process.kill(cliPid, 'SIGTERM');
    process.kill(cliPid, 'SIGHUP');
  } else {
    process.kill(cliPid, signal);
  }
  for (const p of sidecars) process.kill(p, 'SIGKILL');
  const r = await running;
  const left = await leftAt(tag, sentAt + GONE_WITHIN_MS);
  return { r, left, goneMs: Date.now() - sentAt };
}

test('SIGTERM then SIGHUP at once (a session ending): one polite stop, the partial report written, exit 130', async () => {
  const dir = tmpDir();
  scratch.push(dir);
  const out = path.join(dir, 'r.json');
  const { r, left } = await signalDuringCall(CASES[0], 'SIGTERM+SIGHUP', out);
  assert.equal(r.code, 130, `exit ${r.code} signal ${r.signal}\n${r.stderr}`);
  assert.deepEqual(left, []);
  assert.equal(Report.parse(JSON.parse(fs.readFileSync(out, 'utf8'))).error?.kind, 'cancelled');
});

describe('a CLI that dies hard leaves no process behind', () => {
  for (const c of CASES) {
    test(`SIGKILL to the CLI${c.killSidecarToo ? ' and its sidecar' : ''} during ${c.what}: nothing alive 2 s later (${REPETITIONS} runs)`, async (t) => {
      const dir = tmpDir();
      scratch.push(dir);
      const failures: string[] = [];
      const goneMs: number[] = [];
      await repeat(async (i) => {
        const { r, left, goneMs: ms } = await signalDuringCall(c, 'SIGKILL', path.join(dir, `r${i}.json`));
        assert.equal(r.signal, 'SIGKILL', r.stderr);
        if (left.length) failures.push(`run ${i + 1}:\n  ${left.join('\n  ')}`);
        else goneMs.push(ms);
      });
      t.diagnostic(`all gone after ${goneMs.join(', ')} ms`);
      assert.deepEqual(failures, [], `processes left ${GONE_WITHIN_MS} ms after SIGKILL`);
    });

    test(`SIGHUP during ${c.what}: a partial report, nothing alive 2 s later (${REPETITIONS} runs)`, async (t) => {
      const dir = tmpDir();
      scratch.push(dir);
      const failures: string[] = [];
      const goneMs: number[] = [];
      await repeat(async (i) => {
        const out = path.join(dir, `r${i}.json`);
        const { r, left, goneMs: ms } = await signalDuringCall(c, 'SIGHUP', out);
        if (left.length) failures.push(`run ${i + 1}:\n  ${left.join('\n  ')}`);
        else goneMs.push(ms);
        // Ended like SIGTERM: interrupted, with the report of what was measured written.
        assert.equal(r.code, 130, `run ${i + 1}: exit ${r.code} signal ${r.signal}\n${r.stderr}`);
        assert.ok(fs.existsSync(out), `run ${i + 1}: no --out report\n${r.stderr}`);
        const report = Report.parse(JSON.parse(fs.readFileSync(out, 'utf8')));
        assert.equal(report.error?.kind, 'cancelled', JSON.stringify(report.error));
        assert.ok(report.runs.some((run) => run.mode === c.modes.split(',')[0]), 'the interrupted mode is in the report');
      });
      t.diagnostic(`all gone after ${goneMs.join(', ')} ms`);
      assert.deepEqual(failures, [], `processes left ${GONE_WITHIN_MS} ms after SIGHUP`);
    });
  }
});
