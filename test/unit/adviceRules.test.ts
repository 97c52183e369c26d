/**
 * The advice rules' shape (issue 12): each rule declares the runtimes it reads, the
 * rules never branch on the runtime themselves (they read the per-runtime tables), and
 * no file in src/advice grows past the size one reads in a sitting.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { RULES, rulesFor } from '../../src/advice/rules';
import { RUNTIME_NAMES } from '../../src/shared/modes';
import { REPO } from '../support/helpers';

const ADVICE = path.join(REPO, 'src', 'advice');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

test('every rule declares a non-empty set of known runtimes, and each runtime gets its rules in RULES order', () => {
  assert.equal(new Set(RULES).size, RULES.length, 'no rule listed twice');
  for (const rule of RULES) {
    assert.ok(rule.runtimes.length > 0);
    for (const r of rule.runtimes) assert.ok((RUNTIME_NAMES as readonly string[]).includes(r), r);
  }
  for (const runtime of RUNTIME_NAMES) {
    const own = rulesFor(runtime);
    assert.deepEqual(own, RULES.filter((r) => own.includes(r)), 'order kept');
    assert.ok(own.every((r) => r.runtimes.includes(runtime)));
  }
  // Both runtimes have rules of their own: the declaration is not vacuous.
  assert.ok(RULES.some((r) => r.runtimes.length === 1 && r.runtimes[0] === 'python'));
  assert.ok(RULES.some((r) => r.runtimes.length === 1 && r.runtimes[0] === 'node'));
});

test('the advice code branches on no language or runtime: it reads the tables (runtimes.ts, snippets/index.ts)', () => {
  // `x.language === 'python'`, `f.runtime !== 'node'`, `language === 'typescript'` outside the Node snippets' own JS/TS choice.
  const branch = /\b(language|runtime)\s*[!=]==?\s*'|'\s*[!=]==?\s*\w+\.(language|runtime)\b/;
  const found: string[] = [];
  for (const file of sources(ADVICE)) {
    const rel = path.relative(REPO, file);
    fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (!branch.test(line)) return;
      // The Node snippets write JavaScript or TypeScript: a choice inside one runtime.
      if (rel === path.join('src', 'advice', 'snippets', 'node.ts') && /'typescript'/.test(line)) return;
      found.push(`${rel}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, []);
});

test('no file in src/advice is over 400 lines', () => {
  const long = sources(ADVICE)
    .map((f) => ({ f: path.relative(REPO, f), lines: fs.readFileSync(f, 'utf8').split('\n').length }))
    .filter((x) => x.lines > 400);
  assert.deepEqual(long, []);
});
