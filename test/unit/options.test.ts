import assert from 'node:assert/strict';
import { test } from 'node:test';
import { languageOf, parseModes, parseTargetArg, settingsFrom, UsageError } from '../../src/engine/options';

test('targets: FILE::QUALNAME and FILE:START-END, read from the right', () => {
  assert.deepEqual(parseTargetArg('app.py::handler'), { file: 'app.py', qualname: 'handler', lines: null });
  assert.deepEqual(parseTargetArg('a/b.py::Cls.method'), { file: 'a/b.py', qualname: 'Cls.method', lines: null });
  assert.deepEqual(parseTargetArg('C:\\src\\app.py::f'), { file: 'C:\\src\\app.py', qualname: 'f', lines: null });
  assert.deepEqual(parseTargetArg('app.py:3-9'), { file: 'app.py', qualname: null, lines: { start: 3, end: 9 } });
  assert.deepEqual(parseTargetArg('C:\\x.py:4'), { file: 'C:\\x.py', qualname: null, lines: { start: 4, end: 4 } });
  assert.throws(() => parseTargetArg('app.py'), UsageError);
  assert.throws(() => parseTargetArg('app.py::'), UsageError);
  assert.throws(() => parseTargetArg('app.py::1abc'), UsageError);
  assert.throws(() => parseTargetArg('app.py:9-3'), /end ≥ start/);
  assert.throws(() => parseTargetArg('app.py:0-3'), UsageError);
});

test('modes are checked and de-duplicated', () => {
  assert.deepEqual(parseModes('thread, process,thread'), ['thread', 'process']);
  assert.throws(() => parseModes('thread,sideways'), /unknown mode "sideways"/);
  assert.throws(() => parseModes(' , '), UsageError);
});

test('settings: defaults, zero meaning "the default", and range errors', () => {
  const d = settingsFrom({ gilProbe: true });
  assert.deepEqual(d, {
    modes: ['inline', 'thread', 'process', 'interpreter'], concurrency: 10, workers: null, switchIntervalS: null,
    heartbeatMs: 1, stallMs: 50, timeoutS: 120, callTimeoutS: 24, gilProbe: true, gilProbeInWindow: false, warmup: true, attribution: true,
  });
  // --call-timeout: given, else the timeout shared by the modes plus one share, at least 1 s.
  assert.equal(settingsFrom({ gilProbe: true, callTimeout: '2.5' }).callTimeoutS, 2.5);
  assert.equal(settingsFrom({ gilProbe: true, modes: 'inline', timeout: '10' }).callTimeoutS, 5);
  assert.equal(settingsFrom({ gilProbe: true, timeout: '3' }).callTimeoutS, 1);
  assert.throws(() => settingsFrom({ gilProbe: true, callTimeout: '0' }), /--call-timeout must be a number from 0.1/);
  assert.equal(settingsFrom({ gilProbe: true, gilProbeInWindow: true }).gilProbeInWindow, true);
  assert.equal(settingsFrom({ gilProbe: false, gilProbeInWindow: true }).gilProbeInWindow, false, 'no probe, not in the window either');
  assert.equal(settingsFrom({ gilProbe: true, warmup: false }).warmup, false);
  assert.equal(settingsFrom({ gilProbe: true, attribution: false }).attribution, false);
  const s = settingsFrom({ workers: '0', switchInterval: '0', concurrency: '3', heartbeatMs: '2', gilProbe: false });
  assert.equal(s.workers, null);
  assert.equal(s.switchIntervalS, null);
  assert.equal(s.concurrency, 3);
  assert.equal(settingsFrom({ switchInterval: '0.02', gilProbe: true }).switchIntervalS, 0.02);
  assert.throws(() => settingsFrom({ concurrency: '0', gilProbe: true }), /--concurrency must be a whole number from 1/);
  assert.throws(() => settingsFrom({ heartbeatMs: '0.5', gilProbe: true }), /--heartbeat-ms/);
  assert.throws(() => settingsFrom({ timeout: 'soon', gilProbe: true }), /--timeout/);
});

test('language from the extension', () => {
  assert.equal(languageOf('x.py'), 'python');
  assert.equal(languageOf('x.mts'), 'typescript');
  assert.equal(languageOf('x.cjs'), 'javascript');
  assert.throws(() => languageOf('x.rb'), /unsupported file type \.rb/);
});
