/**
 * The run's settings as people give them (CLI flags, editor settings): defaults, ranges,
 * parsing into RunSettings. A bad value is a UsageError (CLI exit code 2).
 */
import * as path from 'node:path';
import { QUALNAME } from '../shared/identifiers';
import { ModeName, RuntimeInfo, runtimeOf } from '../shared/modes';
import { Mode, PYTHON_MODES } from '../shared/protocol';
import type { Language, RunSettings, RunTarget } from '../shared/protocol';
import { Knob, KNOBS, SWITCHES } from '../shared/settings';

/** A user error in how the run was asked for (CLI exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const DEFAULTS = {
  concurrency: KNOBS.concurrency.default,
  workers: KNOBS.workers.default,
  heartbeatMs: KNOBS.heartbeatMs.default,
  stallMs: KNOBS.stallMs.default,
  timeoutS: KNOBS.timeoutS.default,
  modes: [...PYTHON_MODES] as Mode[],
};

/** A knob's CLI value, in its range (shared/settings.ts); null when not given. */
export function parseKnob(knob: Knob, text: string | undefined): number | null {
  const name = knob.flag ?? 'value';
  return knob.integer
    ? (text === undefined ? null : parseIntOption(name, text, knob.default, knob.min, knob.max))
    : parseNumberOption(name, text, knob.min, knob.max);
}

export function languageOf(file: string): Language {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.py' || ext === '.pyw') return 'python';
  if (['.ts', '.mts', '.cts', '.tsx'].includes(ext)) return 'typescript';
  if (['.js', '.mjs', '.cjs', '.jsx'].includes(ext)) return 'javascript';
  throw new UsageError(`unsupported file type ${ext || '(none)'}: Loop Lag measures Python (.py) and JavaScript/TypeScript (.js .mjs .cjs .ts .mts .cts) files`);
}

/** `FILE::QUALNAME` or `FILE:START-END` (read from the right, so `C:\x.py::f` works). */
export function parseTargetArg(text: string): Pick<RunTarget, 'file' | 'qualname' | 'lines'> {
  const sep = text.lastIndexOf('::');
  if (sep > 0 && QUALNAME.test(text.slice(sep + 2))) return { file: text.slice(0, sep), qualname: text.slice(sep + 2), lines: null };
  const range = /^(.+):(\d+)(?:-(\d+))?$/.exec(text);
  if (range) {
    const start = Number(range[2]);
    const end = range[3] === undefined ? start : Number(range[3]);
    if (start < 1 || end < start) throw new UsageError(`bad line range ${range[2]}-${range[3]}: lines start at 1 and end ≥ start`);
    return { file: range[1], qualname: null, lines: { start, end } };
  }
  throw new UsageError(`cannot read target "${text}": use FILE::FUNCTION (e.g. app.py::handler, app.py::Cls.method, app.mjs::default) or FILE:START-END`);
}

/** The modes a language has, in report order. */
export function modesFor(language: Language): readonly Mode[] {
  return runtimeOf(language).modes;
}

export function parseModes(text: string, language: Language = 'python'): Mode[] {
  const modes = text.split(',').map((m) => m.trim()).filter(Boolean);
  if (!modes.length) throw new UsageError('--modes needs at least one mode');
  const known = modesFor(language);
  for (const m of modes) {
    if (!(known as readonly string[]).includes(m)) {
      const rt: RuntimeInfo = runtimeOf(language);
      // Own keys only: a "mode" named `constructor` must not find Object's.
      const hint = Object.prototype.hasOwnProperty.call(rt.modeHints, m) ? rt.modeHints[m as ModeName] : undefined;
      throw new UsageError(`unknown mode "${m}": choose from ${known.join(', ')}${hint ? ` (${hint})` : ''}${rt.modesNote}`);
    }
  }
  return [...new Set(modes)] as Mode[];
}

export function parseIntOption(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}

export function parseNumberOption(name: string, text: string | undefined, min: number, max: number): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${name} must be a number from ${min} to ${max}, got "${text}"`);
  return n;
}

export interface SettingsInput {
  modes?: string;
  concurrency?: string;
  workers?: string;
  switchInterval?: string;
  heartbeatMs?: string;
  stallMs?: string;
  timeout?: string;
  /** `--call-timeout S`; default: defaultCallTimeoutS. */
  callTimeout?: string;
  gilProbe: boolean;
  /** `--gil-probe-in-window`: the probe also runs in the measured windows (default false). */
  gilProbeInWindow?: boolean;
  /** `--no-warmup` sets false (default true). */
  warmup?: boolean;
  /** `--no-attribution` sets false (default: SWITCHES.attribution). */
  attribution?: boolean;
}

/**
 * The per-call limit when none is given: the session's --timeout shared by the modes
 * plus one share for start-ups, baseline and warm-ups, so one mode's stuck call still
 * leaves the others their time (120 s and four modes: 24 s; one mode: 60 s). At least 1 s.
 */
export function defaultCallTimeoutS(timeoutS: number, modeCount: number): number {
  return Math.max(1, Math.round((timeoutS / (Math.max(1, modeCount) + 1)) * 10) / 10);
}

export function settingsFrom(input: SettingsInput, language: Language = 'python'): RunSettings {
  const workers = parseKnob(KNOBS.workers, input.workers) ?? KNOBS.workers.default;
  const switchIntervalS = parseKnob(KNOBS.switchIntervalS, input.switchInterval);
  const modes = input.modes ? parseModes(input.modes, language) : [...modesFor(language)];
  const timeoutS = parseKnob(KNOBS.timeoutS, input.timeout) ?? KNOBS.timeoutS.default;
  // The CLI's --call-timeout is a limit (0.1 s at least); the editor's 0 means "derived".
  const callTimeoutS = parseNumberOption('--call-timeout', input.callTimeout, 0.1, KNOBS.callTimeoutS.max);
  return {
    modes,
    concurrency: parseKnob(KNOBS.concurrency, input.concurrency) ?? KNOBS.concurrency.default,
    workers: workers === 0 ? null : workers,
    switchIntervalS: !switchIntervalS ? null : switchIntervalS,
    heartbeatMs: parseKnob(KNOBS.heartbeatMs, input.heartbeatMs) ?? KNOBS.heartbeatMs.default,
    stallMs: parseKnob(KNOBS.stallMs, input.stallMs) ?? KNOBS.stallMs.default,
    timeoutS,
    callTimeoutS: callTimeoutS ?? defaultCallTimeoutS(timeoutS, modes.length),
    gilProbe: input.gilProbe,
    gilProbeInWindow: input.gilProbe && (input.gilProbeInWindow ?? false),
    warmup: input.warmup ?? true,
    attribution: input.attribution ?? SWITCHES.attribution.default,
  };
}
