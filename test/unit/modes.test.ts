/** The mode and runtime tables (shared/modes.ts) against what package.json offers and the protocol accepts. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { LANGUAGE_NAMES, MODE_NAMES, MODES, RUNTIME_NAMES, RUNTIME_OF, RUNTIMES } from '../../src/shared/modes';
import { LANGUAGES, Mode, NODE_MODES, PYTHON_MODES } from '../../src/shared/protocol';
import { REPO } from '../support/helpers';

type Prop = { enum?: string[]; items?: { enum?: string[] } };
const props = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Prop> } };
}).contributes.configuration.properties;

test('package.json: each runtime\'s modes setting offers exactly its table\'s modes, in order', () => {
  for (const name of RUNTIME_NAMES) {
    const r = RUNTIMES[name];
    assert.deepEqual(props[`looplag.${r.settingPrefix}.modes`]?.items?.enum, [...r.modes], `looplag.${r.settingPrefix}.modes`);
  }
});

test('package.json: the planned mode offers auto and every runtime\'s modes, in the table\'s order', () => {
  const offered = MODE_NAMES.filter((m) => RUNTIME_NAMES.some((r) => (RUNTIMES[r].modes as readonly string[]).includes(m)));
  assert.deepEqual(props['looplag.plannedMode']?.enum, ['auto', ...offered]);
});

test('the protocol\'s literals are the tables\'', () => {
  assert.deepEqual([...PYTHON_MODES], [...RUNTIMES.python.modes]);
  assert.deepEqual([...NODE_MODES], [...RUNTIMES.node.modes]);
  assert.deepEqual([...LANGUAGES], [...LANGUAGE_NAMES]);
  for (const m of MODE_NAMES) assert.equal(Mode.parse(m), m);
  assert.throws(() => Mode.parse('fiber'));
});

test('every mode a runtime offers or sweeps has a row; every language has a runtime', () => {
  for (const name of RUNTIME_NAMES) {
    for (const m of [...RUNTIMES[name].modes, ...RUNTIMES[name].sweepModes]) assert.ok(MODES[m], `${name}: ${m}`);
    for (const m of RUNTIMES[name].sweepModes) assert.ok(MODES[m].pool, `${name} sweeps ${m}, a pool mode`);
  }
  for (const l of LANGUAGE_NAMES) assert.ok(RUNTIME_NAMES.includes(RUNTIME_OF[l]), l);
});
