/**
 * looplag.json (issue 15): validated with the CLI's own checks, errors naming the file, the
 * budget and the field; a budget and the command line it stands for plan the same run; the
 * JSON schema shipped for editors follows the field tables and the knobs' ranges.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BudgetFileError, EndpointBudget, FunctionBudget, loadBudgetConfig, parseBudgetConfig } from '../../src/budgets/config';
import { COMMON_FIELDS, fieldsOf, KIND_FIELDS } from '../../src/budgets/fields';
import { readCommandLine } from '../../src/cli/commandLine';
import { checkPlan, Plan } from '../../src/cli/plan';
import { parseServeArgs } from '../../src/cli/serveCommandLine';
import { RUNTIMES } from '../../src/shared/modes';
import { SERVE_KNOBS } from '../../src/shared/serveSettings';
import { Knob, KNOBS } from '../../src/shared/settings';
import { REPO, tmpDir } from '../support/helpers';

function workspace(): string {
  const dir = tmpDir('looplag-budgets-');
  fs.writeFileSync(path.join(dir, 'work.py'), 'def f(n):\n    return n\n');
  fs.writeFileSync(path.join(dir, 'server.mjs'), '');
  fs.writeFileSync(path.join(dir, 'body.json'), '{"a": 1}');
  return dir;
}

const fn = (extra: object = {}) => ({ name: 'f', target: 'work.py::f', budgetMs: 100, ...extra });
const ep = (extra: object = {}) => ({ name: 'e', app: 'main:app', endpoints: ['GET /x'], budgetMs: 250, ...extra });
const doc = (...budgets: object[]) => ({ version: 1, budgets });

function errorOf(json: unknown, dir = workspace()): string {
  try {
    parseBudgetConfig(json, 'looplag.json', dir);
  } catch (e) {
    assert.ok(e instanceof BudgetFileError, String(e));
    return e.message;
  }
  assert.fail('no error');
}

test('a good file: each budget checked and planned as the command line it stands for', () => {
  const dir = workspace();
  const config = parseBudgetConfig(doc(
    fn({ args: '5', modes: ['inline', 'thread'], concurrency: 3, callTimeout: 2, noWarmup: true, noGilProbe: true }),
    ep({ name: 'post', endpoints: ['GET /x', { endpoint: 'POST /items', body: { a: [1, '<&>'] } }, { endpoint: 'PUT /y', bodyFile: 'body.json' }], headers: { 'X-Key': 'v' }, rate: 5, duration: 2, probeRate: 0 }),
  ), 'looplag.json', dir);
  assert.equal(config.budgets.length, 2);
  const f = config.budgets[0] as FunctionBudget;
  const cli = readCommandLine(['run', path.join(dir, 'work.py::f'), '--args', '5', '--modes', 'inline,thread', '--concurrency', '3', '--call-timeout', '2', '--no-warmup', '--no-gil-probe', '--budget-ms', '100', '--workspace', dir]);
  assert.ok(!('exit' in cli));
  const plan = checkPlan(cli) as Plan;
  assert.deepEqual(f.plan!.settings, plan.settings);
  assert.deepEqual(f.plan!.target, plan.target);
  assert.equal(f.plan!.budgetMs, 100);
  const e = config.budgets[1] as EndpointBudget;
  const serve = parseServeArgs(['main:app', '--endpoint', 'GET /x', '--endpoint', 'POST /items', '--body', '{"a":[1,"<&>"]}', '--endpoint', 'PUT /y', '--body', '@body.json',
    '--header', 'X-Key: v', '--rate', '5', '--duration', '2', '--probe-rate', '0', '--budget-ms', '250'], dir);
  assert.notEqual(serve, 'help');
  assert.deepEqual(e.command, serve);
  assert.equal(e.command.settings.endpoints[2].body, '{"a": 1}');
});


test('loadBudgetConfig: a missing file, a file that is not JSON, read from --config\'s folder', () => {
  const dir = workspace();
  assert.throws(() => loadBudgetConfig('nope.json', dir), /^BudgetFileError: nope\.json: no such file/);
  fs.writeFileSync(path.join(dir, 'bad.json'), '{ "version": 1, ');
  assert.throws(() => loadBudgetConfig('bad.json', dir), /^BudgetFileError: bad\.json: not JSON \(/);
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub', 'looplag.json'), JSON.stringify(doc(fn({ target: '../work.py::f' }))));
  const config = loadBudgetConfig('sub/looplag.json', dir);
  assert.equal(config.dir, path.join(dir, 'sub'));
  assert.equal((config.budgets[0] as FunctionBudget).plan!.target.file, path.join(dir, 'work.py'));
  assert.equal((config.budgets[0] as FunctionBudget).plan!.target.workspaceRoot, path.join(dir, 'sub'));
});

test('errors name the file, the budget and the field, in the file\'s words', () => {
  const cases: [unknown, RegExp][] = [
    [{ budgets: [] }, /^looplag\.json: version: expected 1, got undefined$/],
    [{ version: 2, budgets: [fn()] }, /^looplag\.json: version: expected 1, got number$/],
    [doc(), /^looplag\.json: budgets: lists no budget$/],
    [{ ...doc(fn()), extra: 1 }, /^looplag\.json: extra: unknown field \(the fields are \$schema, version, budgets\)$/],
    [doc(fn(), fn({ name: 'g', args: 5 })), /^looplag\.json: budgets\[1\]\.args: expected string, got number$/],
    [doc(fn({ concurrency: 0 })), /^looplag\.json: budgets\[0\]\.concurrency: must be a whole number from 1 to 10000, got "0"$/],
    [doc(fn({ stallMs: 0 })), /^looplag\.json: budgets\[0\]\.stallMs: must be a number from 0\.1 to 600000, got "0"$/],
    [doc(fn({ modes: ['inline', 'warp'] })), /^looplag\.json: budgets\[0\]\.modes: unknown mode "warp": choose from inline, thread, process, interpreter/],
    [doc(fn({ modes: 'inline' })), /^looplag\.json: budgets\[0\]\.modes: expected array, got string "inline"$/],
    [doc(fn({ budgetMs: -1 })), /^looplag\.json: budgets\[0\]\.budgetMs: must be a number from 0 to 1000000000, got "-1"$/],
    [doc(fn({ concurency: 3 })), /^looplag\.json: budgets\[0\]\.concurency: unknown field \(the fields are name, budgetMs, python, node, target, args, modes, concurrency, /],
    [doc(fn({ rate: 3 })), /^looplag\.json: budgets\[0\]\.rate: unknown field \(the fields are name, budgetMs, python, node, target, /],
    [doc(fn(), fn()), /^looplag\.json: budgets\[1\]\.name: expected a name no other budget has, got string "f"$/],
    [doc(fn({ name: ' ' })), /^looplag\.json: budgets\[0\]\.name: must not be empty$/],
    [doc({ name: 'x', budgetMs: 1 }), /^looplag\.json: budgets\[0\]: give either `target` \(a function/],
    [doc(fn({ target: 'work.py' })), /^looplag\.json: budgets\[0\]\.target: cannot read target "[^"]*work\.py": use FILE::FUNCTION/],
    [doc(fn({ target: 'work.rb::f' })), /^looplag\.json: budgets\[0\]\.target: unsupported file type \.rb: /],
    [doc(ep({ endpoints: [] })), /^looplag\.json: budgets\[0\]\.endpoints: lists no endpoint/],
    [doc(ep({ endpoints: ['GET /x', 'TEAPOT /'] })), /^looplag\.json: budgets\[0\]\.endpoints\[1\]: endpoint "TEAPOT \/": unknown method TEAPOT/],
    [doc(ep({ endpoints: [{ endpoint: 'POST /x' }] })), /^looplag\.json: budgets\[0\]\.endpoints\[0\]: endpoint "POST \/x" needs a body: add body JSON/],
    [doc(ep({ endpoints: [{ endpoint: 'GET /x', method: 'GET' }] })), /^looplag\.json: budgets\[0\]\.endpoints\[0\]\.method: unknown field \(the fields are endpoint, body, bodyFile\)$/],
    [doc(ep({ endpoints: [{ endpoint: 'POST /x', body: 1, bodyFile: 'b' }] })), /^looplag\.json: budgets\[0\]\.endpoints\[0\]: give `body` or `bodyFile`, not both$/],
    [doc(ep({ endpoints: ['GET /x', 'GET /x'] })), /^looplag\.json: budgets\[0\]\.endpoints: endpoint "GET \/x" is given twice$/],
    [doc(ep({ app: 'main.py' })), /^looplag\.json: budgets\[0\]\.app: name the ASGI app as module:attribute \(e\.g\. main:app\)/],
    [doc(ep({ headers: { Host: 'x' } })), /^looplag\.json: budgets\[0\]\.headers: header "Host" is set by the load generator itself$/],
    [doc(ep({ headers: { 'X-A': 1 } })), /^looplag\.json: budgets\[0\]\.headers\.X-A: expected string, got number$/],
    [doc(ep({ workers: 1 })), /^looplag\.json: budgets\[0\]\.workers: must be a whole number from 2 to 64, got "1"$/],
    [doc(ep({ app: 'server.mjs', threads: 4 })), /^looplag\.json: budgets\[0\]\.threads: threads sets the AnyIO thread limiter/],
    [doc(ep({ rate: 10000, duration: 3600 })), /^looplag\.json: budgets\[0\]: rate 10000 for duration 3600 s is 36000000 requests per endpoint/],
    [doc(ep({ args: '1' })), /^looplag\.json: budgets\[0\]\.args: unknown field \(the fields are name, budgetMs, python, node, app, endpoints, headers, rate, /],
  ];
  for (const [json, pattern] of cases) assert.match(errorOf(json), pattern, JSON.stringify(json));
});

test('a target file that cannot be read is that budget\'s error when run (exit 1, as looplag run), not the file\'s', () => {
  const config = parseBudgetConfig(doc(fn({ target: 'gone.py::f' }), fn({ name: 'g' })), 'looplag.json', workspace());
  const f = config.budgets[0] as FunctionBudget;
  assert.equal(f.plan, null);
  assert.match(f.unusable!, /^file not found: .*gone\.py$/);
  assert.ok((config.budgets[1] as FunctionBudget).plan);
});

test('schemas/looplag.schema.json: every field of the tables, with the knobs\' ranges, and only those', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(REPO, 'schemas', 'looplag.schema.json'), 'utf8'));
  const [fnSchema, epSchema] = schema.properties.budgets.items.oneOf;
  const knobs: Record<string, Knob> = { ...Object.fromEntries(Object.values(KNOBS).map((k: Knob) => [k.flag, k])) };
  const serveKnobs: Record<string, Knob> = { ...knobs, ...Object.fromEntries(Object.values(SERVE_KNOBS).map((k: Knob) => [k.flag, k])) };
  for (const [kind, s, table] of [['function', fnSchema, knobs], ['endpoint', epSchema, serveKnobs]] as const) {
    const fields = fieldsOf(kind);
    const expected = [...COMMON_FIELDS, ...KIND_FIELDS[kind], ...fields.keys()].sort();
    assert.deepEqual(Object.keys(s.properties).sort(), expected, `${kind} fields`);
    for (const [field, { flag, type }] of fields) {
      const p = s.properties[field];
      const knob = table[`--${flag}`];
      if (type === 'number') {
        assert.ok(knob, `--${flag} is a knob`);
        assert.equal(p.type, knob.integer ? 'integer' : 'number', `${kind}.${field}: type`);
        // --call-timeout's CLI floor is 0.1 s (the editor's 0 means "derived").
        assert.equal(p.minimum, flag === 'call-timeout' ? 0.1 : knob.min, `${kind}.${field}: minimum`);
        assert.equal(p.maximum, knob.max, `${kind}.${field}: maximum`);
      } else {
        assert.equal(p.type, type === 'flag' ? 'boolean' : type === 'string' ? 'string' : 'array', `${kind}.${field}: type`);
      }
    }
  }
  assert.deepEqual(fnSchema.properties.budgetMs.minimum, KNOBS.lagBudgetMs.min);
  const modes = [...new Set(Object.values(RUNTIMES).flatMap((r) => r.modes))].sort();
  assert.deepEqual([...fnSchema.properties.modes.items.enum].sort(), modes);
});

test('the schema, under a JSON Schema validator (ajv), accepts what the loader accepts and refuses its type errors', () => {
  // ajv is already in the dev tree (through @vscode/vsce); untyped here, so its two calls are typed.
  const Ajv = require('ajv') as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };
  const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(path.join(REPO, 'schemas', 'looplag.schema.json'), 'utf8')));
  const dir = workspace();
  const fixture = JSON.parse(fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'budgets', 'looplag.json'), 'utf8'));
  const good = [fixture, doc(fn({ modes: ['inline', 'thread'], noWarmup: true, callTimeout: 2 }), ep({ endpoints: ['GET /x', { endpoint: 'POST /y', body: [1] }], headers: { A: 'b' }, probeRate: 0 }))];
  for (const d of good) {
    assert.ok(validate(d), JSON.stringify(validate.errors));
    if (d !== fixture) assert.doesNotThrow(() => parseBudgetConfig(d, 'looplag.json', dir));
  }
  const bad = [doc(fn({ args: ['1'] })), doc(fn({ concurency: 1 })), doc(fn({ concurrency: 0 })), doc(fn({ modes: ['warp'] })), doc(ep({ rate: 0 })), doc(ep({ workers: 1 })),
    doc(ep({ endpoints: [{ endpoint: 'GET /', method: 'GET' }] })), { version: 2, budgets: [fn()] }, doc(), doc({ name: 'x', budgetMs: 1 })];
  for (const d of bad) {
    assert.equal(validate(d), false, `schema refuses ${JSON.stringify(d)}`);
    assert.throws(() => parseBudgetConfig(d, 'looplag.json', dir), BudgetFileError, `loader refuses ${JSON.stringify(d)}`);
  }
});
