/**
 * Issue 12: a run in progress reaches the report panel by what changed (shared/liveReport.ts).
 * Real sidecars: each partial report the engine hands the host is rebuilt exactly from the
 * deltas, in both languages, and with inline measured after a pool mode (the one case
 * where earlier runs change).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runSession } from '../../src/engine/runSession';
import { applyLiveDelta, liveDelta } from '../../src/shared/liveReport';
import type { Mode, Report } from '../../src/shared/protocol';
import { ToWebview } from '../../src/shared/webviewProtocol';
import { tmpDir } from '../support/helpers';

async function partialsOf(file: string, language: 'python' | 'javascript', modes: Mode[]): Promise<{ partials: Report[]; report: Report }> {
  const partials: Report[] = [];
  const report = await runSession({
    target: { file, qualname: 'work', lines: null, args: '20000', language, workspaceRoot: path.dirname(file) },
    settings: { concurrency: 2, workers: 2, switchIntervalS: null, heartbeatMs: 1, stallMs: 50, gilProbe: false, modes, timeoutS: 120 },
    freeThreaded: 'off',
    onRun: (_run, partial) => partials.push(partial),
  });
  return { partials, report };
}

/** What the webview does with each update: validate the message, apply it to what it has. */
function replay(partials: Report[]): { sizes: { delta: number; whole: number; runs: number }[] } {
  let shown: Report | null = null;
  let base: Report | null = null;
  const sizes = [];
  for (const partial of partials) {
    const message = { type: 'liveDelta', ...liveDelta(base, partial), progress: null };
    const parsed = ToWebview.parse(JSON.parse(JSON.stringify(message)));
    assert.equal(parsed.type, 'liveDelta');
    shown = applyLiveDelta(shown, parsed as Extract<ToWebview, { type: 'liveDelta' }>);
    assert.deepEqual(shown, JSON.parse(JSON.stringify(partial)), `after ${partial.runs.map((r) => r.mode).join(',')}`);
    base = partial;
    sizes.push({ delta: JSON.stringify(message).length, whole: JSON.stringify({ type: 'live', report: partial, progress: null }).length, runs: message.runs.length });
  }
  return { sizes };
}

test('Python: the panel rebuilds every partial report from the deltas; only the new window is sent, all again when inline comes late', async () => {
  const dir = tmpDir();
  try {
    const file = path.join(dir, 'target_mod.py');
    fs.writeFileSync(file, 'def work(n):\n    return sum(i * i for i in range(n))\n');
    const { partials, report } = await partialsOf(file, 'python', ['thread', 'process', 'inline']);
    assert.equal(report.error, null, JSON.stringify(report.error));
    assert.deepEqual(partials.map((p) => p.runs.length), [1, 2, 3]);
    const { sizes } = replay(partials);
    assert.deepEqual(sizes.map((s) => s.runs), [1, 1, 3], 'process alone; inline re-sends thread and process (their speedup is relative to it)');
    assert.ok(sizes[1].delta < sizes[1].whole, `process update ${sizes[1].delta} B < ${sizes[1].whole} B`);
    assert.ok(partials[2].runs.every((r) => typeof r.speedup === 'number'), 'speedups present once inline is in');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('Node: the same, with inline first (nothing is re-sent)', async () => {
  const dir = tmpDir();
  try {
    const file = path.join(dir, 'target.mjs');
    fs.writeFileSync(file, 'export function work(n) { let s = 0; for (let i = 0; i < n; i++) s += i * i; return s; }\n');
    const { partials, report } = await partialsOf(file, 'javascript', ['inline', 'worker', 'process']);
    assert.equal(report.error, null, JSON.stringify(report.error));
    const { sizes } = replay(partials);
    assert.deepEqual(sizes.map((s) => s.runs), [1, 1, 1]);
    for (const s of sizes.slice(1)) assert.ok(s.delta < s.whole, `${s.delta} B < ${s.whole} B`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
