/**
 * Crash causes in words: the host's phrases (src/shared/crashCause.ts) and the Python
 * sidecar's mirror (crash.py) read the same fixture, so the two cannot drift; the
 * Node-only causes (V8's heap, an uncaught exception) and the OOM-kill counters' diff.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { oomEvidence } from '../../src/engine/oomKills';
import { describeExit, OomEvidence } from '../../src/shared/crashCause';
import { FIXTURES } from '../support/helpers';

interface Case {
  code: number | null;
  signal: string | null;
  oom: OomEvidence | null;
  expected: string;
}

test('each signal and exit code is phrased as the Python sidecar phrases it (shared fixture)', () => {
  const cases = fs.readFileSync(path.join(FIXTURES, 'crashes', 'exitPhrases.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Case);
  assert.ok(cases.length >= 8);
  for (const c of cases) assert.equal(describeExit({ code: c.code, signal: c.signal, oom: c.oom, runtime: 'python' }), c.expected);
});

test('a SIGKILL is the OOM killer\'s only when a counter moved, and a self-kill never reads "out of memory"', () => {
  const moved = describeExit({ code: null, signal: 'SIGKILL', runtime: 'node', oom: { source: '/proc/vmstat', before: 7, after: 8 } });
  assert.match(moved, /^was killed by the kernel's out-of-memory killer \(SIGKILL; \/proc\/vmstat oom_kill went from 7 to 8 while it ran\)/);
  const still = describeExit({ code: null, signal: 'SIGKILL', runtime: 'node', oom: { source: '/proc/vmstat', before: 7, after: 7 } });
  assert.match(still, /^was killed by SIGKILL from another process or itself, not by the kernel's out-of-memory killer/);
});

test('V8 out of heap: a process by its last words, a worker by ERR_WORKER_OUT_OF_MEMORY, with the limit and the flag', () => {
  const stderr = '<--- Last few GCs --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n';
  assert.equal(
    describeExit({ code: null, signal: 'SIGABRT', stderr, runtime: 'node', oom: null, heapLimitMb: 2096 }),
    'ran out of JavaScript heap memory (V8\'s heap limit here is 2096 MB; raise it with NODE_OPTIONS=--max-old-space-size=MB)',
  );
  assert.match(describeExit({ code: 1, signal: null, runtime: 'node', oom: null, heapLimitMb: 64, workerOutOfMemory: true }),
    /^ran out of JavaScript heap memory \(V8's heap limit here is 64 MB; a worker thread's limit follows --max-old-space-size, or Worker resourceLimits\.maxOldGenerationSizeMb\)$/);
  // The same words in a Python process's stderr are not V8's.
  assert.match(describeExit({ code: null, signal: 'SIGABRT', stderr, runtime: 'python', oom: null }), /^was aborted \(SIGABRT\)/);
});

test('Node exit 1 with a stack on stderr is an uncaught exception; without one, process.exit(1)', () => {
  const stack = 'Error: late\n    at Timeout._onTimeout (/w/t.js:3:9)\n    at listOnTimeout (node:internal/timers:573:17)\n';
  assert.match(describeExit({ code: 1, signal: null, stderr: stack, runtime: 'node', oom: null }), /^exited with code 1 on an uncaught exception/);
  assert.equal(describeExit({ code: 1, signal: null, stderr: '', runtime: 'node', oom: null }), 'exited with code 1 (user code may have called process.exit(1))');
});

test('OOM evidence: the counter that moved, else the first one read; none when nothing was readable', () => {
  const before = [{ source: '/proc/vmstat', kills: 3 }, { source: '/sys/fs/cgroup/memory.events', kills: 0 }];
  assert.deepEqual(oomEvidence(before, [{ source: '/proc/vmstat', kills: 3 }, { source: '/sys/fs/cgroup/memory.events', kills: 1 }]),
    { source: '/sys/fs/cgroup/memory.events', before: 0, after: 1 });
  assert.deepEqual(oomEvidence(before, before), { source: '/proc/vmstat', before: 3, after: 3 });
  assert.equal(oomEvidence([], []), null);
});
