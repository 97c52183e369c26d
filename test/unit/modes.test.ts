/**
 * The mode and runtime tables (shared/modes.ts, engine/runtimes.ts, host/interpreter.ts)
 * against what package.json offers, the protocol accepts, the sidecars ship and the
 * stylesheet holds.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runtimeNoun } from '../../src/engine/languageTools';
import { parseModes, settingsFrom } from '../../src/engine/options';
import { sessionSettings } from '../../src/engine/runPlan';
import { defaultSidecarDir, ENGINE_RUNTIMES, sidecarScript } from '../../src/engine/runtimes';
import { HOST_RUNTIMES } from '../../src/host/interpreter';
import { LANGUAGE_NAMES, MODE_NAMES, MODES, RUNTIME_NAMES, RUNTIME_OF, RuntimeInfo, RUNTIMES } from '../../src/shared/modes';
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

test('every runtime has an engine entry and an editor entry, and its sidecar\'s entry script is where the engine looks', () => {
  assert.deepEqual(Object.keys(ENGINE_RUNTIMES).sort(), [...RUNTIME_NAMES].sort());
  assert.deepEqual(Object.keys(HOST_RUNTIMES).sort(), [...RUNTIME_NAMES].sort());
  for (const name of RUNTIME_NAMES) {
    const e = ENGINE_RUNTIMES[name];
    // Python's from the source tree, Node's as built (dist/sidecars/node): both as a run finds them.
    const script = path.join(defaultSidecarDir(name), e.sidecarEntry);
    assert.ok(fs.existsSync(script), `${name}: ${script}`);
    assert.equal(path.basename(path.dirname(script)), name, `${name}'s sidecar lives in sidecars/${name}`);
  }
  for (const l of LANGUAGE_NAMES) {
    assert.ok(ENGINE_RUNTIMES[RUNTIME_OF[l]], `${l}: engine entry`);
    assert.ok(HOST_RUNTIMES[RUNTIME_OF[l]], `${l}: editor entry`);
    assert.equal(sidecarScript(l, {}), path.join(defaultSidecarDir(RUNTIME_OF[l]), ENGINE_RUNTIMES[RUNTIME_OF[l]].sidecarEntry));
  }
});

test('each runtime\'s messages name its own setting and flag; its mode hints point from another runtime\'s mode to one of its own', () => {
  for (const name of RUNTIME_NAMES) {
    const r: RuntimeInfo = RUNTIMES[name];
    assert.ok(props[`looplag.${r.settingPrefix}.path`], `looplag.${r.settingPrefix}.path is a setting`);
    assert.match(r.fixHint, new RegExp(`^Set --${r.settingPrefix} / looplag\\.${r.settingPrefix}\\.path to `));
    assert.equal(runtimeNoun(LANGUAGE_NAMES.find((l) => RUNTIME_OF[l] === name)!).setting, `looplag.${r.settingPrefix}.path`);
    for (const [mode, hint] of Object.entries(r.modeHints)) {
      assert.ok(!(r.modes as readonly string[]).includes(mode), `${name}: a hint for ${mode}, a mode it offers`);
      assert.ok(RUNTIME_NAMES.some((o) => (RUNTIMES[o].modes as readonly string[]).includes(mode)), `${name}: ${mode} is another runtime's`);
      const named = /`([a-z-]+)`/.exec(hint ?? '')?.[1];
      assert.ok(named && (r.modes as readonly string[]).includes(named), `${name}: "${hint}" names one of its modes`);
    }
  }
});

test('unknown modes: each runtime\'s hint and note, worded as before the table', () => {
  const message = (text: string, language: 'python' | 'javascript' | 'typescript') => {
    try {
      parseModes(text, language);
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  };
  assert.equal(message('thread', 'javascript'), 'unknown mode "thread": choose from inline, worker, process (worker threads are `worker`) (the JavaScript/TypeScript modes)');
  assert.equal(message('worker', 'python'), 'unknown mode "worker": choose from inline, thread, process, interpreter (threads are `thread`)');
  assert.equal(message('fiber', 'typescript'), 'unknown mode "fiber": choose from inline, worker, process (the JavaScript/TypeScript modes)');
  assert.equal(message('constructor', 'python'), 'unknown mode "constructor": choose from inline, thread, process, interpreter');
});

test('the run plan drops the GIL probe and the switch interval for a runtime without a GIL, and only then', () => {
  const settings = { ...settingsFrom({ gilProbe: true, gilProbeInWindow: true, switchInterval: '0.001' }), gilProbeInWindow: true };
  for (const l of LANGUAGE_NAMES) {
    const s = sessionSettings(l, settings);
    const gil = RUNTIMES[RUNTIME_OF[l]].gil;
    assert.deepEqual([s.gilProbe, s.gilProbeInWindow, s.switchIntervalS], gil ? [true, true, 0.001] : [false, false, null], l);
  }
});

test('the report\'s stylesheet leaves mode colours to MODES (no per-mode rule to drift from the table)', () => {
  const css = fs.readFileSync(path.join(REPO, 'media', 'report.css'), 'utf8');
  assert.doesNotMatch(css, /\.mode-[a-z-]+/);
  // The standalone page's default theme defines every mode's variable, so it shows the theme's colour.
  for (const m of MODE_NAMES) assert.match(css, new RegExp(`${MODES[m].colour.cssVar}:`), `${m}: ${MODES[m].colour.cssVar}`);
});
