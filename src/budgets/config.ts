/**
 * looplag.json (issue 15): budgets as tests. Read, validated (shared/validate.ts for the JSON
 * types) and checked by the very functions that check `looplag run` and `looplag serve`
 * command lines: each budget becomes the argv it stands for, so a budget and a command line
 * cannot disagree on what is accepted. Errors name the file, the budget and the field:
 * `looplag.json: budgets[2].concurrency: must be a whole number from 1 to 10000, got "0"`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../engine/options';
import { checkPlan, Plan } from '../engine/plan';
import type { CliFlags } from '../engine/runFlags';
import { parseApp } from '../serve/appSpec';
import { parseServeArgs, ServeCommand } from '../serve/serveArgs';
import { arr, bool, literal, num, obj, optional, Schema, str, ValidationError } from '../shared/validate';
import { COMMON_FIELDS, fieldOf, FieldType, fieldsOf, KIND_FIELDS } from './fields';

/** The file's version: a reader refuses a version it does not know. */
export const BUDGETS_VERSION = 1;
export const DEFAULT_BUDGETS_FILE = 'looplag.json';

/** A function measured as `looplag run TARGET …` would, judged on its longest loop lag. */
export interface FunctionBudget {
  kind: 'function';
  name: string;
  /** Its place in the file's `budgets`. */
  index: number;
  budgetMs: number;
  /** The checked run, as `looplag run` plans it; null when its file cannot be read (`unusable` says why: measured as not found, exit 1). */
  plan: Plan | null;
  unusable: string | null;
  python: string | undefined;
  node: string | undefined;
}

/** A server measured as `looplag serve APP …` would, judged by the serve verdict's budget. */
export interface EndpointBudget {
  kind: 'endpoint';
  name: string;
  index: number;
  budgetMs: number;
  command: ServeCommand;
  python: string | undefined;
  node: string | undefined;
}

export type Budget = FunctionBudget | EndpointBudget;

export interface BudgetConfig {
  /** As given (`looplag.json`, or --config's path): how errors and JUnit name it. */
  file: string;
  /** The file's folder: relative paths in it are read from here, and it is the workspace. */
  dir: string;
  budgets: Budget[];
}

/** A looplag.json that cannot be used: its message names the file, the budget and the field. */
export class BudgetFileError extends Error {
  override name = 'BudgetFileError';
}

const FILE_SCHEMA = obj({ $schema: optional(str), version: literal(BUDGETS_VERSION), budgets: arr(obj({})) });

const TYPES: Record<FieldType, Schema<unknown>> = { number: num, string: str, 'string-list': arr(str), flag: bool };

/** An endpoint: `"GET /path"`, or `{endpoint, body?, bodyFile?}` for one with a body. */
const ENDPOINT: Schema<string | { endpoint: string; body?: unknown; bodyFile?: string }> = {
  describe: 'string | {endpoint, body?, bodyFile?}',
  parse(v) {
    if (typeof v === 'string') return v;
    const e = obj({ endpoint: str, bodyFile: optional(str) }).parse(v);
    rejectUnknown(e, ['endpoint', 'body', 'bodyFile'], '');
    return e;
  },
};

const HEADERS: Schema<Record<string, string>> = {
  describe: 'object of strings',
  parse(v) {
    const o = obj({}).parse(v) as Record<string, unknown>;
    for (const [k, x] of Object.entries(o)) {
      try {
        str.parse(x);
      } catch (e) {
        throw e instanceof ValidationError ? e.under(k) : e;
      }
    }
    return o as Record<string, string>;
  },
};

/** Reads, validates and checks `file` (default ./looplag.json); a BudgetFileError says what is wrong. */
export function loadBudgetConfig(file: string = DEFAULT_BUDGETS_FILE, cwd: string = process.cwd()): BudgetConfig {
  const resolved = path.resolve(cwd, file);
  let text: string;
  try {
    text = fs.readFileSync(resolved, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BudgetFileError(`${file}: ${code === 'ENOENT' ? 'no such file (write one: see README, "Budgets as tests")' : code === 'EISDIR' ? 'is a folder' : (e as Error).message}`);
  }
  return parseBudgetText(text, file, path.dirname(resolved));
}

/** The checks of loadBudgetConfig on the file's text (the editor reads it from the document, unsaved edits included). */
export function parseBudgetText(text: string, file: string, dir: string): BudgetConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BudgetFileError(`${file}: not JSON (${(e as Error).message})`);
  }
  return parseBudgetConfig(json, file, dir);
}

/** The checks of loadBudgetConfig on a parsed document; `dir` is the folder relative paths are read from. */
export function parseBudgetConfig(json: unknown, file: string, dir: string): BudgetConfig {
  const fail = (where: string, message: string): never => {
    throw new BudgetFileError(`${file}: ${where ? `${where}: ` : ''}${message}`);
  };
  let doc: ReturnType<typeof FILE_SCHEMA.parse>;
  try {
    doc = FILE_SCHEMA.parse(json);
    rejectUnknown(doc, ['$schema', 'version', 'budgets'], '');
  } catch (e) {
    if (e instanceof ValidationError) fail(e.path, explain(e));
    throw e;
  }
  const names = new Set<string>();
  const budgets = doc.budgets.map((entry, index) => {
    const at = `budgets[${index}]`;
    try {
      const budget = checkBudget(entry as Record<string, unknown>, index, dir);
      if (names.has(budget.name)) throw new ValidationError('name', 'a name no other budget has', budget.name);
      names.add(budget.name);
      return budget;
    } catch (e) {
      if (e instanceof ValidationError) return fail(e.under(at).path, explain(e));
      if (e instanceof FieldError) return fail(e.field ? `${at}.${e.field}` : at, e.message);
      throw e;
    }
  });
  if (!budgets.length) fail('budgets', 'lists no budget');
  return { file, dir, budgets };
}

/** A check failed for one field (or, with none, for the budget as a whole). */
class FieldError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/** Marks a ValidationError for a field the file may not have (a misspelt one must not be ignored). */
const UNKNOWN_FIELD = Symbol('unknown field');

function explain(e: ValidationError): string {
  if (e.got === UNKNOWN_FIELD) return `unknown field (${e.expected})`;
  // ValidationError's own message ends with how it describes the value.
  return `expected ${e.expected}, got ${e.message.slice(e.message.indexOf(', got ') + 6)}`;
}

function rejectUnknown(o: object, known: readonly string[], under: string): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) throw new ValidationError(under ? `${under}.${key}` : key, `the fields are ${known.join(', ')}`, UNKNOWN_FIELD);
  }
}

function checkBudget(entry: Record<string, unknown>, index: number, dir: string): Budget {
  const kind = 'target' in entry ? 'function' : 'app' in entry ? 'endpoint' : null;
  if (!kind || ('target' in entry && 'app' in entry)) throw new FieldError('', 'give either `target` (a function, as `looplag run` takes it) or `app` and `endpoints` (a server, as `looplag serve` takes it)');
  const fields = fieldsOf(kind);
  const known = [...COMMON_FIELDS, ...KIND_FIELDS[kind], ...fields.keys()];
  rejectUnknown(entry, known, '');
  const e = obj({
    name: str, budgetMs: num, python: optional(str), node: optional(str),
    ...(kind === 'function' ? { target: str } : { app: str, endpoints: arr(ENDPOINT), headers: optional(HEADERS) }),
    ...Object.fromEntries([...fields].map(([field, { type }]) => [field, optional(TYPES[type])])),
  }).parse(entry) as Record<string, unknown> & { name: string; budgetMs: number; python?: string; node?: string };
  if (!e.name.trim()) throw new FieldError('name', 'must not be empty');
  // The budget is `--budget-ms`: the same range check.
  const flagsOf = (names: string[]) => names.flatMap((f) => flagValue(fields.get(f)!, e[f]));
  const interpreters = { python: interpreterPath(e.python, dir), node: interpreterPath(e.node, dir) };
  const own = [...fields.keys()].filter((f) => e[f] !== undefined);
  if (kind === 'function') {
    const target = absoluteTarget(e.target as string, dir);
    const plan = (names: string[], budget: boolean) => checkPlan({
      command: 'run', targetArg: target,
      flags: { ...Object.fromEntries(flagsOf(names)), ...(budget ? { 'budget-ms': String(e.budgetMs) } : {}), workspace: dir } as CliFlags,
    });
    const first = attribute('target', () => plan([], false));
    if ('unusable' in first) return { kind, name: e.name, index, budgetMs: e.budgetMs, plan: null, unusable: first.unusable, ...interpreters };
    attribute('budgetMs', () => plan([], true));
    for (const f of own) attribute(f, () => plan([f], false));
    const checked = attribute('', () => plan(own, true)) as Plan;
    return { kind, name: e.name, index, budgetMs: e.budgetMs, plan: checked, unusable: null, ...interpreters };
  }
  attribute('app', () => parseApp(e.app as string, dir, dir));
  const endpoints = e.endpoints as ReturnType<typeof ENDPOINT.parse>[];
  if (!endpoints.length) throw new FieldError('endpoints', 'lists no endpoint: name at least one, e.g. "GET /reports/sales"');
  const endpointArgs = endpoints.map((x, j) => {
    const args = typeof x === 'string' ? [`--endpoint=${x}`] : [`--endpoint=${x.endpoint}`, ...bodyArgs(x, `endpoints[${j}]`)];
    attribute(`endpoints[${j}]`, () => parseServeArgs([e.app as string, ...args], dir));
    return args;
  }).flat();
  const headerArgs = Object.entries((e.headers ?? {}) as Record<string, string>).map(([k, v]) => `--header=${k}: ${v}`);
  // `--flag=value`: a value that starts with a dash is the flag's, never another flag.
  const asArgv = (flags: [string, string | true][]) => flags.map(([f, v]) => (v === true ? `--${f}` : `--${f}=${v}`));
  const serve = (extra: string[]) => parseServeArgs([e.app as string, ...endpointArgs, ...extra], dir) as ServeCommand;
  attribute('endpoints', () => serve([]));
  attribute('headers', () => serve(headerArgs));
  attribute('budgetMs', () => serve([`--budget-ms=${e.budgetMs}`]));
  for (const f of own) attribute(f, () => serve(asArgv(flagsOf([f]))));
  const command = attribute('', () => serve([...headerArgs, ...asArgv(flagsOf(own)), `--budget-ms=${e.budgetMs}`]));
  return { kind, name: e.name, index, budgetMs: e.budgetMs, command, ...interpreters };
}

/** `--body` from `body` (any JSON, sent as JSON) or `bodyFile` (sent as the file holds it). */
function bodyArgs(x: { body?: unknown; bodyFile?: string }, at: string): string[] {
  if (x.body !== undefined && x.bodyFile !== undefined) throw new FieldError(at, 'give `body` or `bodyFile`, not both');
  if (x.body !== undefined) return [`--body=${JSON.stringify(x.body)}`];
  return x.bodyFile !== undefined ? [`--body=@${x.bodyFile}`] : [];
}

/** Runs a check; its UsageError becomes a FieldError for `field`, in the file's words (fields, not flags). */
function attribute<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (!(e instanceof UsageError) && !(e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw e;
    throw new FieldError(field, inFileWords((e as Error).message));
  }
}

/** `--concurrency must be …` → `must be …`; any other flag named → its field's name. */
export function inFileWords(message: string): string {
  return message.replace(/^--[a-z-]+ (?=must |needs |applies |lists )/, '').replace(/--([a-z][a-z-]*)/g, (_, flag: string) => fieldOf(flag));
}

/** A field's value as its flag's: text, or true for a bare flag; nothing when absent or false. */
function flagValue({ flag, type }: { flag: string; type: FieldType }, value: unknown): [string, string | true][] {
  if (value === undefined || value === false) return [];
  if (type === 'flag') return [[flag, true]];
  return [[flag, type === 'string-list' ? (value as string[]).join(',') : String(value)]];
}

/** The target's file read from the budget file's folder, whatever the current one is. */
function absoluteTarget(target: string, dir: string): string {
  const sep = target.lastIndexOf('::');
  const at = sep > 0 ? sep : target.search(/:\d+(-\d+)?$/);
  return at > 0 ? path.resolve(dir, target.slice(0, at)) + target.slice(at) : target;
}

/** A path (`.venv/bin/python`) read from the file's folder; a command name (`python3`) as it is. */
function interpreterPath(p: string | undefined, dir: string): string | undefined {
  return p !== undefined && /[\\/]/.test(p) ? path.resolve(dir, p) : p;
}
