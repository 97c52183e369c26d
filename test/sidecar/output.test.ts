/**
 * Issue 11, output: whatever user code prints (1 GiB from the language, from "C" (a raw
 * write to fd 1), from pool members), memory and disk stay bounded by the capture cap, the
 * report keeps head + tail with the exact byte count; what was printed before a crash is
 * kept; user code writing to the descriptors the tool uses gets a specific message or has
 * no effect, never a parse error or a hang.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { assertNoProcessLeft, newTag, processesWithTag, reportOf, run, runCli, scratchFolders } from '../support/helpers';

const scratch = scratchFolders();
const GIB = 1 << 30;
const CAP = 64 * 1024; // DEFAULT_OUTPUT_CAP_BYTES
/** One call per window, no warm-up call: each window prints exactly what one call prints. */
const ONE_CALL = ['--concurrency', '1', '--workers', '1', '--no-warmup', '--no-gil-probe', '--timeout', '120'];
/**
 * Far above what any process of a run needs (Node ~60-100 MB, Python ~20 MB, a 1 MiB
 * chunk in flight), far below 1 GiB: a capture that kept the output whole, or a stream
 * that queued it, crosses it.
 */
const RSS_BOUND_BYTES = 300 * 1024 * 1024;
/** Any file a process of the run holds open and that grows past this is a capture on disk. */
const FILE_BOUND_BYTES = 16 * 1024 * 1024;

function write(name: string, source: string): string {
  const file = path.join(scratch.dir(), name);
  fs.writeFileSync(file, source);
  return file;
}

interface Peaks {
  /** The highest VmHWM (peak RSS) of any process of the run, and which. */
  rssBytes: number;
  rssWho: string;
  /** The largest regular file any of them held open. */
  fileBytes: number;
  fileWho: string;
}

/**
 * Runs the CLI with a tag and, while it runs, reads every tagged process's peak RSS
 * (VmHWM: a high-water mark, so polling cannot miss a peak of a live process) and the
 * size of every regular file it holds open (an unlinked temp file included).
 */
async function runWatched(args: string[]): Promise<{ r: Awaited<ReturnType<typeof runCli>>; peaks: Peaks }> {
  const tag = newTag();
  const peaks: Peaks = { rssBytes: 0, rssWho: '', fileBytes: 0, fileWho: '' };
  const look = () => {
    for (const pid of processesWithTag(tag)) {
      try {
        const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
        const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
        if (hwm > peaks.rssBytes) {
          peaks.rssBytes = hwm;
          peaks.rssWho = `pid ${pid} (${/Name:\s+(\S+)/.exec(status)?.[1]})`;
        }
        for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
          try {
            const st = fs.statSync(`/proc/${pid}/fd/${fd}`);
            if (st.isFile() && st.size > peaks.fileBytes) {
              peaks.fileBytes = st.size;
              peaks.fileWho = `pid ${pid} fd ${fd} -> ${fs.readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
            }
          } catch {
            // closed meanwhile
          }
        }
      } catch {
        // the process ended while we looked
      }
    }
  };
  let running = true;
  const poll = (async () => {
    while (running) {
      look();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    const r = await runCli(args, { env: { LOOPLAG_TEST_TAG: tag } });
    return { r, peaks };
  } finally {
    running = false;
    await poll;
    await assertNoProcessLeft(tag);
  }
}

function assertBounded(peaks: Peaks, what: string): void {
  console.log(`# ${what}: peak RSS ${(peaks.rssBytes / 2 ** 20).toFixed(0)} MiB (${peaks.rssWho}); largest open file ${(peaks.fileBytes / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(peaks.rssBytes > 0, `${what}: no process of the run was seen`);
  assert.ok(peaks.rssBytes < RSS_BOUND_BYTES, `${what}: peak RSS ${(peaks.rssBytes / 2 ** 20).toFixed(0)} MiB in ${peaks.rssWho}`);
  assert.ok(peaks.fileBytes < FILE_BOUND_BYTES, `${what}: an open file grew to ${(peaks.fileBytes / 2 ** 20).toFixed(0)} MiB: ${peaks.fileWho}`);
}

/** 1 GiB + 10 bytes on stdout: "HEAD\n", 1 GiB of x, "\nTAIL"; the output as the report must show it. */
function assertFlood(output: { stdout: string; stderr: string; truncated: boolean; stdoutBytes: number; stderrBytes: number }, what: string): void {
  assert.equal(output.stdoutBytes, GIB + 10, `${what}: every byte counted`);
  assert.equal(output.truncated, true, what);
  // (Boolean checks: a failed match would print 64 KiB of x.)
  assert.ok(output.stdout.length < CAP + 200, `${what}: kept ${output.stdout.length} chars`);
  assert.ok(output.stdout.startsWith('HEAD\nxxxx'), `${what}: the head is kept: ${JSON.stringify(output.stdout.slice(0, 40))}`);
  assert.ok(output.stdout.endsWith('xxxx\nTAIL'), `${what}: the tail is kept: ${JSON.stringify(output.stdout.slice(-40))}`);
  const omitted = Number(/\[(\d+) bytes omitted by Loop Lag\]/.exec(output.stdout)?.[1]);
  assert.equal(omitted, GIB + 10 - CAP, `${what}: the omitted count`);
  assert.equal(output.stderr, 'done\n', `${what}: stderr`);
}

describe('1 GiB printed: memory and disk stay bounded, head + tail and the byte count are exact', () => {
  test('Python: print() and os.write() inline, and in a process-pool child', async () => {
    const file = write('flood.py', [
      'import os, sys',
      'MB = b"x" * (1 << 20)',
      'TEXT = MB.decode()',
      'def flood():',
      '    print("HEAD")',
      '    for _ in range(512):',
      '        print(TEXT, end="")',
      '    sys.stdout.flush()',
      '    for _ in range(512):',  // what C code writing to fd 1 does
      '        view = memoryview(MB)',
      '        while view:',
      '            view = view[os.write(1, view):]',
      '    print("\\nTAIL", end="")',
      '    print("done", file=sys.stderr)',
      '',
    ].join('\n'));
    const { r, peaks } = await runWatched(['run', `${file}::flood`, '--modes', 'inline,process', ...ONE_CALL, '--json']);
    assertBounded(peaks, 'Python');
    assert.equal(r.code, 0, r.stderr);
    const report = reportOf(r);
    assertFlood(run(report, 'inline').output, 'inline');
    assertFlood(run(report, 'process').output, 'process');
  });

  test('Node: process.stdout.write and fs.writeSync(1) inline, in a worker thread and in a pool child', async () => {
    const file = write('flood.js', [
      "const fs = require('node:fs');",
      "const MB = Buffer.alloc(1 << 20, 'x');",
      "const TEXT = MB.toString();",
      'function rawWrite(buf) {', // what a native addon writing to fd 1 does
      '  let off = 0;',
      '  while (off < buf.length) {',
      '    try { off += fs.writeSync(1, buf, off); } catch (e) { if (e.code !== "EAGAIN") throw e; }',
      '  }',
      '}',
      'exports.flood = function flood() {',
      "  process.stdout.write('HEAD\\n');",
      // A synchronous loop: a stream that queued what it cannot write at once (each string
      // becomes a buffer of its own) would hold it all.
      '  for (let i = 0; i < 512; i++) process.stdout.write(TEXT);',
      '  for (let i = 0; i < 512; i++) rawWrite(MB);',
      "  process.stdout.write('\\nTAIL');",
      "  console.error('done');",
      '};',
      '',
    ].join('\n'));
    const { r, peaks } = await runWatched(['run', `${file}::flood`, '--modes', 'inline,worker,process', ...ONE_CALL, '--json']);
    assertBounded(peaks, 'Node');
    assert.equal(r.code, 0, r.stderr);
    const report = reportOf(r);
    for (const mode of ['inline', 'worker', 'process']) assertFlood(run(report, mode).output, mode);
  });
});

describe('what was printed before a crash is kept in the crashed mode\'s run', () => {
  test('Python: os._exit inline; the next mode is still measured', async () => {
    const file = write('crash.py', [
      'import os, sys',
      'def crash():',
      '    if not _in_thread():',
      '        print("printed before the crash")',
      '        print("and on stderr", file=sys.stderr)',
      '        sys.stdout.flush(); sys.stderr.flush()',
      '        os._exit(3)',
      'def _in_thread():',
      '    import threading',
      '    return threading.current_thread() is not threading.main_thread()',
      '',
    ].join('\n'));
    for (const modes of ['inline,thread', 'inline']) { // a sidecar per mode, and one for the session
      const r = await runCli(['run', `${file}::crash`, '--modes', modes, ...ONE_CALL, '--json']);
      const report = reportOf(r);
      const inline = run(report, 'inline');
      assert.equal(inline.error?.kind, 'crashed', JSON.stringify(inline.error));
      assert.equal(inline.output.stdout, 'printed before the crash\n', modes);
      assert.equal(inline.output.stderr, 'and on stderr\n', modes);
      assert.equal(inline.output.stdoutBytes, 'printed before the crash\n'.length, modes);
      if (modes !== 'inline') assert.equal(run(report, 'thread').status, 'ok', 'the next mode ran in a fresh sidecar');
    }
  });

  test('Node: process.exit inline', async () => {
    const file = write('crash.js', [
      "const { isMainThread } = require('node:worker_threads');",
      'exports.crash = function crash() {',
      '  if (!isMainThread) return;',
      "  console.log('printed before the crash');",
      "  console.error('and on stderr');",
      '  process.exit(3);',
      '};',
      '',
    ].join('\n'));
    const r = await runCli(['run', `${file}::crash`, '--modes', 'inline,worker', ...ONE_CALL, '--json']);
    const report = reportOf(r);
    const inline = run(report, 'inline');
    assert.equal(inline.error?.kind, 'crashed', JSON.stringify(inline.error));
    assert.equal(inline.output.stdout, 'printed before the crash\n');
    assert.equal(inline.output.stderr, 'and on stderr\n');
    assert.equal(run(report, 'worker').status, 'ok', 'the next mode ran in a fresh sidecar');
  });
});

describe('user code writing to the descriptors Loop Lag uses', () => {
  const GARBAGE = 'garbage\n{"type":"done"}\n{"type":"error","error":{"kind":"crashed","message":"fake","detail":null}}\n';

  test('Python: garbage and fake protocol lines on fds 3 to 10 have no effect (inline, thread, a process-pool child)', async () => {
    const file = write('fds.py', [
      'import os',
      `GARBAGE = ${JSON.stringify(GARBAGE)}.encode()`,
      'def scribble():',
      '    for fd in range(3, 11):',
      '        try:',
      '            os.write(fd, GARBAGE)',
      '        except OSError:',
      '            pass',
      '',
    ].join('\n'));
    // (A pool child's fds 3-10 were the pool's own pipes: garbage in the result pipe hung the run until --timeout.)
    const r = await runCli(['run', `${file}::scribble`, '--modes', 'inline,thread,process', ...ONE_CALL, '--timeout', '30', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = reportOf(r);
    assert.equal(report.error, null);
    for (const mode of ['inline', 'thread', 'process']) assert.equal(run(report, mode).status, 'ok', mode);
  });

  test('Python: a write to the protocol descriptor itself is named, with what was written', async () => {
    const file = write('proto.py', [
      'import os',
      'def scribble():',
      '    os.write(63, b"garbage\\n")',
      '',
    ].join('\n'));
    const r = await runCli(['run', `${file}::scribble`, '--modes', 'inline', ...ONE_CALL, '--timeout', '30', '--json']);
    const report = reportOf(r);
    assert.equal(report.error?.kind, 'protocol-error');
    assert.match(report.error?.message ?? '', /^your code wrote to file descriptor 63, which Loop Lag uses for its protocol: "garbage"$/);
  });

  test('Node: garbage and fake protocol lines on fd 3 (main thread, worker thread, pool child) have no effect', async () => {
    const file = write('fds.js', [
      "const fs = require('node:fs');",
      `const GARBAGE = ${JSON.stringify(GARBAGE)};`,
      'exports.scribble = function scribble() {',
      '  try { fs.writeSync(3, GARBAGE); } catch {}',
      '};',
      '',
    ].join('\n'));
    const r = await runCli(['run', `${file}::scribble`, '--modes', 'inline,worker,process', ...ONE_CALL, '--timeout', '30', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = reportOf(r);
    assert.equal(report.error, null);
    for (const mode of ['inline', 'worker', 'process']) assert.equal(run(report, mode).status, 'ok', mode);
  });

  test('Node: a write to the protocol descriptor itself is named (main thread and worker thread)', async () => {
    const file = write('proto.js', [
      "const fs = require('node:fs');",
      'exports.scribble = function scribble() {',
      "  fs.writeSync(63, 'garbage\\n');",
      '};',
      '',
    ].join('\n'));
    for (const mode of ['inline', 'worker']) {
      const r = await runCli(['run', `${file}::scribble`, '--modes', mode, ...ONE_CALL, '--timeout', '30', '--json']);
      const report = reportOf(r);
      assert.equal(report.error?.kind, 'protocol-error', mode);
      assert.match(report.error?.message ?? '', /^your code wrote to file descriptor 63, which Loop Lag uses for its protocol: "garbage"$/, mode);
    }
  });
});
