/**
 * The sidecars' one-shot tools, per language, run without importing the user's module:
 * the file's function outline (Python's own `ast`; the TypeScript parser for JS/TS) and
 * an argument syntax check. Both sidecars answer with one ToolMessage (shared/protocol.ts),
 * parsed here, so the host treats Python, JavaScript and TypeScript alike from here on.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { Language, OutlineFunction, RunError, ToolMessage } from '../shared/protocol';
import { RUNTIME_OF, RuntimeName, runtimeOf } from '../shared/modes';
import { ENGINE_RUNTIMES, engineRuntime } from './runtimes';

export type { Language };

/**
 * VS Code language ids Loop Lag measures. JSX files are left out: the Node sidecar
 * loads `.js`, `.mjs`, `.cjs`, `.ts`, `.mts` and `.cts` modules, and Node itself
 * cannot load a `.jsx` one.
 */
const LANGUAGE_IDS: Readonly<Record<string, Language>> = { python: 'python', javascript: 'javascript', typescript: 'typescript' };

/** The editor's language ids, for document selectors and `when` clauses. */
export const MEASURED_LANGUAGE_IDS = Object.keys(LANGUAGE_IDS);

/** The language of an editor document, or undefined when Loop Lag cannot measure it. */
export function languageOfDocument(languageId: string): Language | undefined {
  return Object.prototype.hasOwnProperty.call(LANGUAGE_IDS, languageId) ? LANGUAGE_IDS[languageId] : undefined;
}

/** How messages name the language's runtime and its setting. */
export function runtimeNoun(language: Language): { name: string; setting: string } {
  const rt = runtimeOf(language);
  return { name: rt.displayName, setting: `looplag.${rt.settingPrefix}.path` };
}

export type { OutlineFunction, OutlineParam } from '../shared/protocol';

/** The outline as hosts use it: the functions, or why the file could not be outlined. */
export type OutlineResult = { ok: true; functions: OutlineFunction[] } | { ok: false; error: RunError };

/** A runtime to start a tool with: a command, plus environment for the editor's own runtime. */
export interface ToolRuntime {
  command: string;
  env?: NodeJS.ProcessEnv;
}

/** Where each runtime's sidecar entry script lives (dist/sidecars/python, dist/sidecars/node). */
export type SidecarDirs = { readonly [R in RuntimeName]: string };

const TOOL_TIMEOUT_MS = 15_000;

function script(language: Language, dirs: SidecarDirs): string {
  const runtime = RUNTIME_OF[language];
  return path.join(dirs[runtime], ENGINE_RUNTIMES[runtime].sidecarEntry);
}

/**
 * Run a tool and parse the message it prints last (see ToolMessage); rejects when the
 * runtime cannot run it or answers with anything else.
 */
export function runTool(runtime: ToolRuntime, scriptPath: string, args: string[], input?: string): Promise<ToolMessage> {
  return new Promise((resolve, reject) => {
    const child = execFile(runtime.command, [scriptPath, ...args], {
      timeout: TOOL_TIMEOUT_MS, windowsHide: true, maxBuffer: 16 * 1024 * 1024,
      env: runtime.env ? { ...process.env, ...runtime.env } : undefined,
    }, (err, stdout) => {
      if (err && !stdout) return reject(err);
      let json: unknown;
      try {
        json = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      } catch {
        return reject(new Error(`unexpected output from ${runtime.command}: ${stdout.slice(0, 200)}`));
      }
      try {
        resolve(ToolMessage.parse(json));
      } catch (e) {
        reject(new Error(`unexpected output from ${runtime.command}: ${(e as Error).message}`));
      }
    });
    // A runtime that exits before reading its input must not fail the tool with EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

/** A tool's answer of another kind than asked for: the sidecar and the host disagree. */
function unexpected(runtime: ToolRuntime, asked: string, m: ToolMessage): Error {
  return new Error(`unexpected output from ${runtime.command}: a ${m.type} message for ${asked}`);
}

/** The file's functions as its language's parser sees them (no user code runs). */
export async function outlineFile(language: Language, runtime: ToolRuntime, dirs: SidecarDirs, file: string): Promise<OutlineResult> {
  const m = await runTool(runtime, script(language, dirs), ['outline', file]);
  if (m.type === 'outline') return { ok: true, functions: m.functions };
  if (m.type === 'error') return { ok: false, error: m.error };
  throw unexpected(runtime, 'outline', m);
}

/**
 * null when the text reads as the inside of a call's parentheses, else why not, phrased
 * to follow "These arguments are" (both sidecars' reasons start with "not …" except
 * the TypeScript parser's own diagnostics, e.g. "',' expected.").
 */
export async function checkCallArgs(language: Language, runtime: ToolRuntime, dirs: SidecarDirs, text: string): Promise<string | null> {
  // The text goes through stdin ("-"): megabytes of it in argv fail the spawn with E2BIG.
  const args = ['check-args', '-', ...engineRuntime(language).toolArgs(language)];
  const m = await runTool(runtime, script(language, dirs), args, text);
  // An error message: the tool could not run (e.g. an interpreter too old), not a verdict on the text.
  if (m.type === 'error') throw new Error(m.error.message);
  if (m.type !== 'args-check') throw unexpected(runtime, 'check-args', m);
  if (!m.problem) return null;
  return /^not\b/.test(m.problem) ? m.problem : `not valid call syntax: ${m.problem}`;
}
