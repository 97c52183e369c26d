/**
 * Each stage in its room, arrows pointing one way (STYLE.md; issue 12): reads the source
 * files' imports and fails on one the pipeline's direction forbids.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { test } from 'node:test';
import type * as TSNS from 'typescript';
import { REPO } from '../support/helpers';

const SRC = path.join(REPO, 'src');
/** The parser finds every import form (`import type`, `export … from`, `import()`, `require`); loaded, not bundled. */
const ts = createRequire(path.join(REPO, 'package.json'))('typescript') as typeof TSNS;

/** The rooms the rules speak of: the engine's stages, which run outside the editor too. */
const ROOMS = ['shared', 'stats', 'advice', 'engine', 'report', 'serve', 'fixes'] as const;
type Room = (typeof ROOMS)[number];

interface Import {
  /** Relative to the repository, e.g. `src/advice/rules.ts`. */
  file: string;
  line: number;
  specifier: string;
}

/** What an import reaches: `vscode`, a src folder (`report`), a top-level src file (`cli.ts`), or null for a package or node built-in. */
function reached(imp: Import): string | null {
  if (imp.specifier === 'vscode' || imp.specifier.startsWith('vscode/')) return 'vscode';
  if (!imp.specifier.startsWith('.')) return null;
  const inSrc = path.relative(SRC, path.resolve(REPO, path.dirname(imp.file), imp.specifier));
  if (inSrc.startsWith('..') || path.isAbsolute(inSrc)) return 'outside src';
  return inSrc.split(path.sep)[0];
}

/** Why `room` may not import `target` (the pipeline runs shared → stats → advice → report, the engine beside it); null when it may. */
function forbidden(room: Room, target: string): string | null {
  if (target === 'vscode') return `${room} runs outside the editor too (the CLI, the tests): no vscode`;
  // The editor's side and the entry points sit above every stage (and reach vscode).
  if (['host', 'panel', 'webview', 'extension', 'extension.ts', 'cli', 'cli.ts'].includes(target)) return `${target} is the editor's side or an entry point: no stage imports it`;
  if (room === 'shared' && target !== 'shared') return 'shared is the floor every room stands on: it imports no other src folder';
  if (room === 'stats' && target !== 'shared' && target !== 'stats') return 'stats is pure numbers: it imports shared only';
  // The quick fixes and hints are pure text → edits the editor calls: the pipeline's stages are not theirs to reach.
  if (room === 'fixes' && target !== 'shared' && target !== 'fixes') return 'fixes are pure functions over source text: they import shared only';
  if (room === 'advice' && target === 'report') return 'report imports advice: advice importing report runs the arrow back up';
  if ((room === 'advice' || room === 'report') && target === 'engine') return `the engine builds the report; ${room} importing the engine runs the arrow back up`;
  if (room === 'engine' && target === 'advice') return 'the engine measures; advice is read from the report it builds (report imports advice)';
  // Service mode is a session of its own beside the function engine: it uses the stages, none uses it.
  if (room !== 'serve' && target === 'serve') return 'serve (service mode) sits on the stages: no stage imports it';
  return null;
}

/** The imports that break a rule, as `file:line imports 'x': why`. */
function violations(imports: Import[]): string[] {
  const out: string[] = [];
  for (const imp of imports) {
    const room = imp.file.split('/')[1] as Room;
    if (!ROOMS.includes(room)) continue;
    const target = reached(imp);
    const why = target === null ? null : forbidden(room, target);
    if (why) out.push(`${imp.file}:${imp.line} imports '${imp.specifier}': ${why}`);
  }
  return out;
}

function importsOf(file: string, text: string): Import[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((f) => ({ file, line: text.slice(0, f.pos).split('\n').length, specifier: f.fileName }));
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.(ts|mts|cts)$/.test(e.name) ? [p] : [];
  });
}

function repoImports(): Import[] {
  return ROOMS.flatMap((room) => sourceFiles(path.join(SRC, room)))
    .flatMap((p) => importsOf(path.relative(REPO, p).split(path.sep).join('/'), fs.readFileSync(p, 'utf8')));
}

test('shared, stats, advice, engine, report, serve and fixes import no vscode; fixes shared only; advice nothing from report; engine nothing from advice; shared nothing from another src folder; no stage from serve', () => {
  const imports = repoImports();
  // Not vacuous: every room has files, and their imports were read.
  for (const room of ROOMS) assert.ok(imports.some((i) => i.file.startsWith(`src/${room}/`)), `imports read in src/${room}`);
  assert.ok(imports.some((i) => i.file === 'src/report/buildReport.ts' && i.specifier === '../advice/advise'), 'report → advice is seen (and allowed)');
  assert.deepEqual(violations(imports), []);
});

test('the boundary check catches each forbidden import form', () => {
  const bad = (file: string, text: string) => violations(importsOf(file, text));
  assert.match(bad('src/advice/rules.ts', "import { fmtMs } from '../report/textTable';")[0], /^src\/advice\/rules\.ts:1 imports '\.\.\/report\/textTable': report imports advice/);
  assert.equal(bad('src/advice/snippets/python.ts', "\n\nexport { verdicts } from '../../report/verdict';").length, 1, 're-export from a subfolder');
  assert.equal(bad('src/engine/runSweep.ts', "import type { Facts } from '../advice/rules';").length, 1, 'type-only import');
  assert.equal(bad('src/engine/runSession.ts', "const a = require('../advice/advise');\nconst b = import('../advice/sweep');").length, 2, 'require and import()');
  assert.equal(bad('src/stats/lagStats.ts', "import * as vscode from 'vscode';").length, 1);
  assert.equal(bad('src/report/html.ts', "import type { Uri } from 'vscode';").length, 1);
  assert.equal(bad('src/shared/protocol.ts', "import { cores } from '../engine/runSweep';\nimport { x } from '../cli';").length, 2, 'shared imports no other src folder, nor a top-level file');
  assert.equal(bad('src/engine/runSession.ts', "import { readSettings } from '../host/config';").length, 1, 'the editor side, which reaches vscode');
  assert.equal(bad('src/stats/lagStats.ts', "import { advise } from '../advice/advise';").length, 1, 'stats imports shared only');
  assert.equal(bad('src/fixes/scan.ts', "import { advise } from '../advice/advise';\nimport * as vscode from 'vscode';").length, 2, 'fixes import shared only');
  assert.deepEqual(bad('src/fixes/scan.ts', "import type { LanguageName } from '../shared/modes';\nimport { parseJs } from './jsSource';"), []);
  assert.equal(bad('src/report/buildReport.ts', "import { measure } from '../engine/runSession';").length, 1, 'report → engine runs back up');
  // The arrows that point the right way, and packages, pass.
  assert.deepEqual(bad('src/report/buildReport.ts', "import { advise } from '../advice/advise';\nimport { lagStats } from '../stats/lagStats';"), []);
  assert.deepEqual(bad('src/engine/runSession.ts', "import { buildReport } from '../report/buildReport';\nimport * as fs from 'node:fs';"), []);
  assert.deepEqual(bad('src/shared/format.ts', "import type { ModeRun } from './protocol';"), []);
  assert.deepEqual(bad('src/host/config.ts', "import * as vscode from 'vscode';"), [], 'host is the editor face');
});

test('the CLI (run outside the editor) imports neither vscode nor the editor side, in cli.ts, its steps in src/cli/ or src/budgets/ (looplag test)', () => {
  const files = ['src/cli.ts', ...['cli', 'budgets'].flatMap((dir) => sourceFiles(path.join(SRC, dir))).map((p) => path.relative(REPO, p).split(path.sep).join('/'))];
  // Not vacuous: the steps were found, and each file's imports were read.
  assert.ok(files.includes('src/cli/plan.ts'), `the CLI's steps: ${files.join(', ')}`);
  const imports = files.flatMap((file) => importsOf(file, fs.readFileSync(path.join(REPO, file), 'utf8')));
  // (A file that imports nothing, such as budgets/positions.ts, has nothing to read.)
  for (const file of files.filter((f) => /^import /m.test(fs.readFileSync(path.join(REPO, f), 'utf8')))) assert.ok(imports.some((i) => i.file === file), `imports read in ${file}`);
  assert.ok(imports.some((i) => i.file === 'src/cli.ts' && i.specifier.startsWith('./engine/')), 'its imports were read');
  const bad = imports.filter((i) => ['vscode', 'host', 'panel', 'webview', 'extension'].includes(reached(i)?.replace(/\.ts$/, '') ?? ''));
  assert.deepEqual(bad.map((i) => `${i.file}:${i.line} imports '${i.specifier}'`), []);
  // And the check itself sees a step reaching for the editor side.
  assert.equal(importsOf('src/cli/plan.ts', "import { readSettings } from '../host/config';").filter((i) => reached(i) === 'host').length, 1);
});

/** Every source file under src/, relative to the repository with `/`. */
function allSourceFiles(): string[] {
  return sourceFiles(SRC).map((p) => path.relative(REPO, p).split(path.sep).join('/'));
}

/** The imports of files outside the CLI's own steps that reach into them (`src/cli/…`): only the entry point `src/cli.ts` may. */
function cliReachedFrom(imports: Import[]): string[] {
  return imports.filter((i) => !i.file.startsWith('src/cli/') && i.file !== 'src/cli.ts' && reached(i) === 'cli')
    .map((i) => `${i.file}:${i.line} imports '${i.specifier}'`);
}

test('nothing outside src/cli imports src/cli (the editor would bundle the CLI): budgets, host, engine, serve, report and shared check through engine/plan.ts and serve/serveArgs.ts', () => {
  const files = allSourceFiles();
  const imports = files.flatMap((file) => importsOf(file, fs.readFileSync(path.join(REPO, file), 'utf8')));
  // Not vacuous: the rooms the rule is about were read, and an allowed import into src/cli is seen.
  for (const room of ['host', 'budgets', 'engine', 'serve', 'report', 'shared']) assert.ok(imports.some((i) => i.file.startsWith(`src/${room}/`)), `imports read in src/${room}`);
  assert.ok(imports.some((i) => i.file === 'src/cli.ts' && reached(i) === 'cli'), 'cli.ts → cli/ is seen (and allowed)');
  assert.deepEqual(cliReachedFrom(imports), []);
  // And the check itself sees each way in.
  assert.equal(cliReachedFrom(importsOf('src/budgets/config.ts', "import { checkPlan } from '../cli/plan';\nimport type { CliFlags } from '../cli/commandLine';")).length, 2);
  assert.equal(cliReachedFrom(importsOf('src/host/testing/run.ts', "export { usage } from '../../cli/commandLine';")).length, 1, 'from a subfolder, as a re-export');
  assert.deepEqual(cliReachedFrom(importsOf('src/cli/plan.ts', "import { checkPlan } from '../engine/plan';\nimport { usage } from './commandLine';")), []);
});
