import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { HostMessage, Report, SidecarMessage, ToolMessage } from '../../src/shared/protocol';
import { ValidationError } from '../../src/shared/validate';
import { FIXTURES } from '../support/helpers';

/** The same fixtures are read by test/sidecar/python/test_protocol.py: the two schemas cannot drift. */
function lines(name: string): unknown[] {
  return fs.readFileSync(path.join(FIXTURES, 'protocol', name), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

test('every valid sidecar fixture parses, and parsing keeps the data', () => {
  const messages = lines('sidecar-valid.jsonl');
  assert.ok(messages.length >= 10);
  for (const m of messages) assert.deepEqual(SidecarMessage.parse(m), m);
  const types = new Set(messages.map((m) => (m as { type: string }).type));
  for (const t of ['hello', 'target', 'progress', 'window', 'error', 'done']) assert.ok(types.has(t), `fixture covers ${t}`);
});

test('every invalid sidecar fixture is rejected with a path to the bad field', () => {
  for (const m of lines('sidecar-invalid.jsonl')) {
    assert.throws(() => SidecarMessage.parse(m), ValidationError, JSON.stringify(m));
  }
});

test('host messages: valid fixtures parse, invalid ones are rejected', () => {
  for (const m of lines('host-valid.jsonl')) assert.deepEqual(HostMessage.parse(m), m);
  for (const m of lines('host-invalid.jsonl')) assert.throws(() => HostMessage.parse(m), ValidationError);
});

test('tool messages (outline, check-args): valid fixtures parse and keep the data, invalid ones are rejected', () => {
  const valid = lines('tool-valid.jsonl');
  for (const m of valid) assert.deepEqual(ToolMessage.parse(m), m);
  const types = new Set(valid.map((m) => (m as { type: string }).type));
  for (const t of ['outline', 'args-check', 'error']) assert.ok(types.has(t), `fixture covers ${t}`);
  for (const m of lines('tool-invalid.jsonl')) assert.throws(() => ToolMessage.parse(m), ValidationError, JSON.stringify(m));
  const [, , , , kind] = lines('tool-invalid.jsonl');
  assert.throws(() => ToolMessage.parse(kind), /functions\[0\]\.kind/);
});

test('a validation error names the field and what was wrong', () => {
  const bad = { type: 'progress', mode: 'thread', phase: 'running', done: '3', total: 10 };
  assert.throws(() => SidecarMessage.parse(bad), /done: expected integer, got string "3"/);
  const nested = lines('sidecar-invalid.jsonl')[6];
  assert.throws(() => SidecarMessage.parse(nested), /window\.samples\[0\]/);
});

test('the sample report fixture is a valid looplag.report/1 document', () => {
  const report = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'reports', 'sample-report.json'), 'utf8'));
  const parsed = Report.parse(report);
  assert.equal(parsed.schema, 'looplag.report/1');
  assert.throws(() => Report.parse({ ...report, schema: 'looplag.report/2' }), /schema/);
});
