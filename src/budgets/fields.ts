/**
 * looplag.json's fields (issue 15): each a `looplag run` or `looplag serve` flag, named as
 * the flag in camelCase (`--call-timeout` → `callTimeout`), so a budget reads as the command
 * line it stands for. One table per kind of budget; the JSON types, the argv a budget becomes
 * (budgets/config.ts) and schemas/looplag.schema.json (checked against these tables by
 * test/unit/budgetsConfig.test.ts) all follow them.
 */
import type { CLI_OPTIONS } from '../engine/runFlags';
import type { SERVE_OPTIONS } from '../serve/serveArgs';

/** How a field's JSON value becomes its flag: a number or a string as the flag's text, a list joined by commas, `true` as the bare flag. */
export type FieldType = 'number' | 'string' | 'string-list' | 'flag';

/** A function budget's fields besides `name`, `target`, `budgetMs`, `python` and `node` (`looplag run`'s flags). */
export const RUN_FIELDS = {
  args: 'string',
  modes: 'string-list',
  concurrency: 'number',
  workers: 'number',
  'switch-interval': 'number',
  'heartbeat-ms': 'number',
  'stall-ms': 'number',
  timeout: 'number',
  'call-timeout': 'number',
  'free-threaded': 'string',
  plan: 'string',
  'no-gil-probe': 'flag',
  'gil-probe-in-window': 'flag',
  'no-warmup': 'flag',
  'no-attribution': 'flag',
} as const satisfies Partial<Record<keyof typeof CLI_OPTIONS, FieldType>>;

/** An endpoint budget's fields besides `name`, `app`, `endpoints`, `headers`, `budgetMs`, `python` and `node` (`looplag serve`'s flags). */
export const SERVE_FIELDS = {
  rate: 'number',
  duration: 'number',
  warmup: 'number',
  'probe-rate': 'number',
  workers: 'number',
  threads: 'number',
  timeout: 'number',
  'no-attribution': 'flag',
} as const satisfies Partial<Record<keyof typeof SERVE_OPTIONS, FieldType>>;

/** `call-timeout` → `callTimeout`. */
export function fieldOf(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Every field of a budget of this kind, camelCase, with its flag. */
export function fieldsOf(kind: 'function' | 'endpoint'): Map<string, { flag: string; type: FieldType }> {
  const table: Record<string, FieldType> = kind === 'function' ? RUN_FIELDS : SERVE_FIELDS;
  return new Map(Object.entries(table).map(([flag, type]) => [fieldOf(flag), { flag, type }]));
}

/** Fields every budget has (not flags of their own, or flags of `looplag test` too). */
export const COMMON_FIELDS = ['name', 'budgetMs', 'python', 'node'] as const;
/** The fields that say which kind a budget is, and the kind's other own fields. */
export const KIND_FIELDS = { function: ['target'], endpoint: ['app', 'endpoints', 'headers'] } as const;
