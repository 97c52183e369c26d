/** Where the loop was blocked in the report (runs[].blockers, attribution, settings) and in the CLI and Markdown text. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildReport, SessionState } from '../../src/report/buildReport';
import { reportMarkdown } from '../../src/report/markdown';
import { formatReportText } from '../../src/report/textTable';
import { Blocker, RawAttribution, RawWindow, Report, RunSettings } from '../../src/shared/protocol';
import { blockerSentence } from '../../src/report/blockerText';
import { SWITCHES } from '../../src/shared/settings';
import { REPO } from '../support/helpers';

const settings: RunSettings = {
  concurrency: 2, workers: null, switchIntervalS: null, heartbeatMs: 1, stallMs: 50, gilProbe: true,
  modes: ['inline', 'thread', 'process'], timeoutS: 120,
};

const INLINE: RawAttribution = {
  method: 'current-frames', intervalMs: 10,
  frames: [
    { file: 'services/feeds.py', line: 17, function: 'parse_feed', kind: 'user', source: 'return etree.fromstring(data)' },
    { file: 'lxml/etree.pyx', line: null, function: 'fromstring', kind: 'library' },
    { file: 'services/feeds.py', line: 9, function: 'fetch|<script>', kind: 'user' },
  ],
  stacks: [[1, 0], [2]],
  samples: [{ tMs: 10, dump: 0, thread: 'loop', stack: 0 }, { tMs: 20, dump: 1, thread: 'loop', stack: 0 }, { tMs: 30, dump: 2, thread: 'loop', stack: 0 },
    { tMs: 40, dump: 3, thread: 'loop', stack: 0 }, { tMs: 45, dump: 4, thread: 'loop', stack: 1 }],
};
const THREAD: RawAttribution = {
  method: 'current-frames', intervalMs: 10,
  frames: [{ file: 'jobs.py', line: 20, function: 'job', kind: 'user' }, { file: 'asyncio/base_events.py', line: 1922, function: '_run_once', kind: 'stdlib' }],
  stacks: [[0], [1]],
  samples: [{ tMs: 30, dump: 0, thread: 'loop', stack: 1 }, { tMs: 30, dump: 0, thread: 'worker', stack: 0, cpuMs: 40 }],
};
const PROCESS: RawAttribution = {
  method: 'spans', intervalMs: 0, frames: [], stacks: [], samples: [],
  spans: [{ step: 'deserialize-result', startMs: 0, endMs: 30 }],
};

function window(mode: RawWindow['mode'], lagMs: number, attribution: RawAttribution | null): RawWindow {
  return {
    mode, status: 'ok', error: null, wallMs: 100, startupMs: null, workers: 1,
    tasks: [{ id: 0, queuedMs: 0, startMs: 0, endMs: 100, worker: 'w', error: null }],
    samples: [[50, lagMs], [51, 0.1]], gilWaitsMs: null,
    cpu: { userMs: 90, systemMs: 10 }, backgroundCpuFrac: 0.01,
    output: { stdout: '', stderr: '', truncated: false, stdoutBytes: 0, stderrBytes: 0 }, attribution,
  };
}

function report(extra: Partial<RunSettings> = {}, process: RawAttribution | null = PROCESS): Report {
  const state: SessionState = {
    target: { file: 'services/feeds.py', qualname: 'handler', lines: null, args: '', language: 'python' },
    settings: { ...settings, ...extra }, createdAt: new Date('2026-01-01T00:00:00Z'),
    runtime: { name: 'python', version: '3.11.7', executable: 'python3', implementation: 'CPython', gilEnabled: true, cpuCount: 2, platform: 'linux', switchIntervalS: 0.005 },
    resolved: null, baseline: null,
    diagnostic: { ...window('diagnostic', 60, THREAD), tasks: [{ id: 0, queuedMs: 0, startMs: 0, endMs: 60, worker: 'w', error: null }] },
    windows: [window('inline', 100, INLINE), window('thread', 60, THREAD), window('process', 60, process)],
    error: null, finished: true,
  };
  return buildReport(state);
}

/** The blockers' part of a text: its title line and the lines after it that start with `lead` (a blank line before a table). */
function section(text: string, title: string, lead: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(title));
  assert.ok(start >= 0, `no "${title}" in:\n${text}`);
  let end = start + 1;
  while (end < lines.length && (lines[end].startsWith(lead) || (lines[end] === '' && lines[end + 1]?.startsWith(lead) && end === start + 1))) end++;
  return lines.slice(start, end).join('\n');
}

test('the report carries each run\'s blockers and attribution, the diagnostic\'s blockers and settings.attribution; it validates', () => {
  const r = report();
  Report.parse(JSON.parse(JSON.stringify(r)));
  const by = (m: string) => r.runs.find((x) => x.mode === m)!;
  assert.deepEqual(by('inline').blockers!.map((b) => [b.line, b.share, b.library?.function ?? null]), [[17, 0.8, 'fromstring'], [9, 0.2, null]]);
  assert.equal(by('inline').attribution!.coverage, 1);
  assert.deepEqual(by('thread').blockers!.map((b) => [b.line, b.thread]), [[20, 'gil-holder']]);
  assert.deepEqual(by('process').blockers!.map((b) => [b.step, b.thread, b.stalledMs]), [['deserialize-result', 'main', 30]]);
  assert.equal(by('process').attribution!.unattributed.noSampleMs, 30);
  assert.deepEqual(r.diagnostic!.blockers!.map((b) => b.line), [20]);
  assert.equal(r.settings.attribution, true, 'the default is recorded');
});

test('attribution off: the report says so per run and in settings, with no blockers', () => {
  const r = report({ attribution: false });
  Report.parse(JSON.parse(JSON.stringify(r)));
  assert.equal(r.settings.attribution, false);
  assert.ok(r.runs.every((x) => x.attribution?.status === 'off' && !x.blockers));
  assert.match(formatReportText(r), /^Attribution off \(--no-attribution or the looplag\.attribution setting\): no lines were sampled\.$/m);
  assert.match(reportMarkdown(r), /^> Attribution off \(--no-attribution or the looplag\.attribution setting\)/m);
  assert.doesNotMatch(formatReportText(r), /share of the stalled time/);
});

test('CLI text: the top blockers per mode under the table (golden)', () => {
  assert.equal(section(formatReportText(report({}, null)), 'where the loop was blocked', '  '), [
    'where the loop was blocked (share of the stalled time):',
    '  inline: 80% services/feeds.py:17 parse_feed → lxml.etree.fromstring',
    '  inline: 20% services/feeds.py:9 fetch|<script>',
    '  thread: 100% jobs.py:20 job, held the GIL in a worker',
    '  process: Attribution unavailable: the sidecar sampled no stacks in this mode.',
  ].join('\n'));
  assert.match(formatReportText(report()), /^ {2}process: 50% main thread: deserializing results$/m);
  // Nothing sampled, and the sidecar said why: its note is the reason.
  const why = 'not sampled on a free-threaded build: threads run in parallel';
  const note = formatReportText(report({}, { method: 'current-frames', intervalMs: 10, frames: [], stacks: [], samples: [], notes: [why] }));
  assert.match(note, new RegExp(`^ {2}process: no line found for its 60\\.0 ms of stalls \\(${why}\\)$`, 'm'));
});

test('Markdown: the top blockers per mode as a table, user text escaped (golden)', () => {
  assert.equal(section(reportMarkdown(report()), '**Where the loop was blocked**', '|'), [
    '**Where the loop was blocked** (share of the stalled time)',
    '',
    '| mode | share | line | what | stalled |',
    '|---|---:|---|---|---:|',
    '| inline | 80% | services/feeds.py:17 | parse\\_feed → lxml.etree.fromstring | 80.0 ms |',
    '| inline | 20% | services/feeds.py:9 | fetch\\|\\<script\\> | 20.0 ms |',
    '| thread | 100% | jobs.py:20 | job, held the GIL in a worker | 60.0 ms |',
    '| process | 50% | – | main thread: deserializing results | 30.0 ms |',
  ].join('\n'));
});

test('only the top 3 per mode are shown', () => {
  const frames = Array.from({ length: 5 }, (_, i) => ({ file: 'many.py', line: i + 1, function: `f${i}`, kind: 'user' as const }));
  const many: RawAttribution = {
    method: 'current-frames', intervalMs: 10, frames, stacks: frames.map((_, i) => [i]),
    samples: frames.map((_, i) => ({ tMs: i + 1, dump: i, thread: 'loop' as const, stack: i })),
  };
  const r = buildReport({ ...stateOf(report()), windows: [window('inline', 100, many)] });
  assert.equal(r.runs[0].blockers!.length, 5);
  assert.equal((formatReportText(r).match(/^ {2}inline: 20% many\.py/gm) ?? []).length, 3);
  assert.equal((reportMarkdown(r).match(/^\| inline \| 20% \| many\.py/gm) ?? []).length, 3);
  // A line with a sliver of the stalled time is left out of the text (the report keeps it).
  const sliver: RawAttribution = { ...many, samples: [...Array(200).keys()].map((i) => ({ tMs: 1 + i / 10, dump: i, thread: 'loop' as const, stack: i === 0 ? 1 : 0 })) };
  const s = buildReport({ ...stateOf(report()), windows: [window('inline', 100, sliver)] });
  assert.deepEqual(s.runs[0].blockers!.map((b) => [b.line, b.share]), [[1, 0.995], [2, 0.005]]);
  assert.doesNotMatch(formatReportText(s), /many\.py:2/);
  assert.doesNotMatch(reportMarkdown(s), /many\.py:2/);
});

test('a blocker in words: a step without a line is the step; the thread only when not the loop; the library by module', () => {
  const b = (extra: Partial<Blocker>): Blocker => ({
    file: 'a.py', line: 3, function: 'f', source: null, thread: 'loop', step: 'call', stalledMs: 1, share: 0.004, samples: 1, stalls: 1, stack: [], ...extra,
  });
  assert.equal(blockerSentence(b({})), '<1% a.py:3 f');
  assert.equal(blockerSentence(b({ file: null, line: null, function: '(garbage collector)', step: 'gc', share: 0.25 })), '25% loop: garbage collection');
  assert.equal(blockerSentence(b({ thread: 'gil-holder', library: { file: 'json/encoder.py', line: 5, function: 'encode', kind: 'stdlib' } })),
    '<1% a.py:3 f → json.encoder.encode, held the GIL in a worker');
  assert.equal(blockerSentence(b({ thread: 'gil-holder', step: 'pool-manager', file: 'concurrent/futures/process.py', line: 300, function: 'run' })),
    "<1% concurrent/futures/process.py:300 run, worker holding the GIL: the pool's manager thread");
  // Names from user code reach a terminal: no escape sequence or bidi override survives.
  const hostile = blockerSentence(b({ file: 'x\u202e.py', function: 'f\u001b[2J\u001b]0;pwned\u0007' }));
  assert.ok(!/[\u0000-\u001f\u202e]/.test(hostile), JSON.stringify(hostile));
});

test('package.json\'s looplag.attribution is a boolean with the one default (shared/settings.ts)', () => {
  const props = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).contributes.configuration.properties;
  const p = props[`looplag.${SWITCHES.attribution.setting}`];
  assert.equal(p.type, 'boolean');
  assert.equal(p.default, SWITCHES.attribution.default);
  assert.match(p.markdownDescription, /--no-attribution/);
});

function stateOf(r: Report): SessionState {
  return {
    target: { file: r.target.file, qualname: r.target.qualname, lines: null, args: '', language: 'python' },
    settings, createdAt: new Date(r.createdAt), runtime: r.runtime, resolved: null, baseline: null, windows: [], error: null, finished: true,
  };
}
