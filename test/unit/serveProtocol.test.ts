import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ServeHostMessage, ServeSidecarMessage } from '../../src/shared/protocol/serve';
import { ValidationError } from '../../src/shared/validate';
import { FIXTURES } from '../support/helpers';

/** The same fixtures are read by test/sidecar/python/test_serve.py: the serve protocol's two schemas cannot drift. */
function lines(name: string): unknown[] {
  return fs.readFileSync(path.join(FIXTURES, 'protocol', name), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

test('serve protocol: valid host fixtures parse and keep the data, invalid ones are rejected', () => {
  const valid = lines('serve-host-valid.jsonl');
  for (const m of valid) assert.deepEqual(ServeHostMessage.parse(m), m);
  const types = new Set(valid.map((m) => (m as { type: string }).type));
  for (const t of ['start', 'measure', 'stop']) assert.ok(types.has(t), `fixture covers ${t}`);
  for (const m of lines('serve-host-invalid.jsonl')) assert.throws(() => ServeHostMessage.parse(m), ValidationError, JSON.stringify(m));
});

test('serve protocol: valid harness fixtures parse and keep the data, invalid ones are rejected', () => {
  const valid = lines('serve-sidecar-valid.jsonl');
  for (const m of valid) assert.deepEqual(ServeSidecarMessage.parse(m), m);
  const types = new Set(valid.map((m) => (m as { type: string }).type));
  for (const t of ['hello', 'ready', 'window', 'error', 'done']) assert.ok(types.has(t), `fixture covers ${t}`);
  for (const m of lines('serve-sidecar-invalid.jsonl')) assert.throws(() => ServeSidecarMessage.parse(m), ValidationError, JSON.stringify(m));
});
