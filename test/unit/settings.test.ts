/** One settings model (issue 12): package.json's settings and the CLI's flags follow shared/settings.ts. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseKnob, settingsFrom, UsageError } from '../../src/engine/options';
import { clampKnob, Knob, KNOBS, KnobName } from '../../src/shared/settings';
import { REPO } from '../support/helpers';

const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { type: string; default: unknown; minimum?: number; maximum?: number }> } };
};

test('every knob with an editor setting: package.json has its default, range and whole-number type', () => {
  const props = manifest.contributes.configuration.properties;
  for (const [name, knob] of Object.entries(KNOBS) as [KnobName, Knob][]) {
    if (!knob.setting) continue;
    const p = props[`looplag.${knob.setting}`];
    assert.ok(p, `looplag.${knob.setting} (${name}) is contributed`);
    assert.equal(p.default, knob.default, `${name}: default`);
    assert.equal(p.minimum, knob.min, `${name}: minimum`);
    assert.equal(p.maximum, knob.max, `${name}: maximum`);
    assert.equal(p.type, knob.integer ? 'integer' : 'number', `${name}: type`);
  }
});

test('the CLI accepts each knob\'s range and refuses past it, naming the flag', () => {
  for (const knob of Object.values(KNOBS) as Knob[]) {
    if (!knob.flag) continue;
    assert.equal(parseKnob(knob, String(knob.max)), knob.max);
    assert.throws(() => parseKnob(knob, String(knob.max * 2 + 1)), (e: Error) => e instanceof UsageError && e.message.startsWith(knob.flag!));
  }
  assert.equal(settingsFrom({ gilProbe: true }).concurrency, KNOBS.concurrency.default);
});

test('an editor value is kept to the same range; nonsense gives the default', () => {
  assert.equal(clampKnob('concurrency', 20000), KNOBS.concurrency.max);
  assert.equal(clampKnob('concurrency', 2.6), 3);
  assert.equal(clampKnob('heartbeatMs', 'x'), KNOBS.heartbeatMs.default);
  assert.equal(clampKnob('stallMs', 0), KNOBS.stallMs.min);
});

test('the version reports carry is package.json\'s', async () => {
  const { TOOL_VERSION } = await import('../../src/report/buildReport');
  assert.equal(TOOL_VERSION, (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
});
