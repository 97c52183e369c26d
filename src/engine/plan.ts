/**
 * From a `looplag run` / `looplag sweep` command line to what to measure and how, checked
 * before anything starts (a target that cannot be read, a report that could not be saved,
 * a flag that does not apply to the command). The CLI (cli/plan.ts) and looplag.json's
 * budgets (budgets/config.ts) both check through it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunOptions } from './runSession';
import { languageOf, parseKnob, parseModes, parseTargetArg, settingsFrom, UsageError } from './options';
import { DEFAULT_SWEEP_BUDGET_S, DEFAULT_SWEEP_WORKERS, parseWorkerList } from './runSweep';
import { runtimeOf } from '../shared/modes';
import { RunSettings } from '../shared/protocol';
import { KNOBS } from '../shared/settings';
import { CliFlags, CommandLine } from './runFlags';

/** One measurement, ready to start: a run, or a sweep over pool sizes. */
export interface Plan {
  sweep: boolean;
  target: RunOptions['target'];
  /** With the budget and the planned mode (a sweep fills in the default budget). */
  settings: RunSettings;
  /** --budget-ms; null when not given. */
  budgetMs: number | null;
  /** A sweep's pool sizes (empty for a run). */
  sweepWorkers: number[];
  sweepBudgetS: number;
  flags: CliFlags;
}

/**
 * The plan, or why its target file cannot be measured (missing, a folder, unreadable: the
 * CLI's exit 1); a UsageError for a bad flag. Prints nothing: `looplag test` checks each
 * budget of a looplag.json through it (budgets/config.ts), so a budget and a command line
 * are read by the same checks.
 */
export function checkPlan({ command, targetArg, flags: o }: CommandLine): Plan | { unusable: string } {
  const sweep = command === 'sweep';
  let sweepWorkers: number[] = [];
  let sweepBudgetS = DEFAULT_SWEEP_BUDGET_S;
  const named = parseTargetArg(targetArg);
  // A folder first: it has no file type, and "unsupported file type" would mislead.
  const folder = isDirectory(named.file);
  const language = folder ? null : languageOf(named.file);
  const unusable = unusableTarget(named.file);
  if (unusable || !language) return { unusable: unusable ?? `${named.file} is a folder` };
  const settings = settingsFrom({
    // A sweep's --workers is a list, and its modes default to the runtime's pool modes.
    modes: o.modes ?? (sweep ? runtimeOf(language).sweepModes.join(',') : undefined),
    concurrency: o.concurrency, workers: sweep ? undefined : o.workers, switchInterval: o['switch-interval'],
    heartbeatMs: o['heartbeat-ms'], stallMs: o['stall-ms'], timeout: o.timeout, callTimeout: o['call-timeout'], gilProbe: !o['no-gil-probe'],
    gilProbeInWindow: Boolean(o['gil-probe-in-window']), warmup: !o['no-warmup'],
    ...(o['no-attribution'] ? { attribution: false } : {}),
  }, language);
  if (sweep) {
    sweepWorkers = parseWorkerList((o.workers ?? DEFAULT_SWEEP_WORKERS.join(',')).split(','));
    if (settings.modes.includes('inline')) throw new UsageError('a sweep measures pool modes: drop inline from --modes');
    sweepBudgetS = parseKnob(KNOBS.sweepBudgetS, o['sweep-budget-s']) ?? DEFAULT_SWEEP_BUDGET_S;
  } else if (o['sweep-budget-s'] !== undefined) {
    throw new UsageError('--sweep-budget-s applies to `looplag sweep`');
  }
  const budgetMs = parseKnob(KNOBS.lagBudgetMs, o['budget-ms']);
  for (const [flag, file] of [['--out', o.out], ['--html', o.html]] as const) {
    if (file) checkOutputPath(flag, file);
  }
  if (o.out && o.html && sameFile(o.out, o.html)) throw new UsageError(`--out and --html name the same file: ${o.out}`);
  const workspaceRoot = path.resolve(o.workspace ?? process.cwd());
  // The sidecar starts in this folder, and spawning in a missing folder fails with
  // ENOENT, which would read as "no Python interpreter found".
  if (!isDirectory(workspaceRoot)) {
    throw new UsageError(`--workspace ${workspaceRoot} is not a folder`);
  }
  const plannedMode = o.plan ? parseModes(o.plan, language)[0] : null;
  return {
    sweep,
    target: { ...named, language, args: o.args ?? '', workspaceRoot },
    settings: { ...settings, lagBudgetMs: sweep ? (budgetMs ?? KNOBS.lagBudgetMs.default) : budgetMs, plannedMode },
    budgetMs,
    sweepWorkers,
    sweepBudgetS,
    flags: o,
  };
}

/** Why the target file cannot be measured (missing, a folder, unreadable), or null. */
function unusableTarget(file: string): string | null {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return `file not found: ${file}`;
  }
  if (stat.isDirectory()) return `${file} is a folder, not a file: name a file and its function (FILE::FUNCTION)`;
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (e) {
    return `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (e as Error).message}`;
  }
  return null;
}

/** Whether two output paths are one file: through symlinked folders, or hard links of an existing file. */
export function sameFile(a: string, b: string): boolean {
  const real = (p: string) => {
    const abs = path.resolve(p);
    try {
      return fs.realpathSync(abs);
    } catch {
      try {
        return path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs)); // not written yet
      } catch {
        return abs;
      }
    }
  };
  if (real(a) === real(b)) return true;
  try {
    const [x, y] = [fs.statSync(a), fs.statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

export function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Checked before measuring: a run whose report cannot be saved should not run at all
 * (a folder named as the file used to fail only after the whole measurement).
 */
export function checkOutputPath(flag: string, file: string): void {
  const resolved = path.resolve(file);
  const dir = path.dirname(resolved);
  if (!isDirectory(dir)) throw new UsageError(`${flag} ${file}: folder ${dir} does not exist`);
  let stat: fs.Stats | null = null;
  try {
    stat = fs.statSync(resolved);
  } catch {
    // Not there yet: it is created (the folder must be writable, checked below).
  }
  if (stat?.isDirectory()) throw new UsageError(`${flag} ${file} is a folder; name the file to write, e.g. ${path.join(file, flag === '--out' ? 'report.json' : 'report.html')}`);
  if (stat && !stat.isFile()) throw new UsageError(`${flag} ${file} is not a regular file`);
  try {
    // The report is written next to the file and renamed over it: the folder must be writable.
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${file}: cannot write in folder ${dir} (permission denied)`);
  }
}
