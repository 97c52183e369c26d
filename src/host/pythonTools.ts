/**
 * One-shot helpers run by the sidecar's interpreter without importing the user's
 * module: the file's function outline (Python's own `ast`) and an argument syntax check.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';

export interface OutlineParam {
  name: string;
  required: boolean;
}

export interface OutlineFunction {
  qualname: string;
  kind: 'function' | 'staticmethod' | 'classmethod' | 'method' | 'nested';
  /** 1-based; `line` includes decorators, `defLine` is the `def` itself. */
  line: number;
  defLine: number;
  endLine: number;
  isAsync: boolean;
  isGenerator: boolean;
  params: OutlineParam[];
}

export type OutlineResult =
  | { ok: true; functions: OutlineFunction[] }
  | { ok: false; error: { kind: string; message: string; line?: number } };

const TOOL_TIMEOUT_MS = 15_000;

function runTool(python: string, sidecarDir: string, args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(python, [path.join(sidecarDir, 'run_sidecar.py'), ...args], { timeout: TOOL_TIMEOUT_MS, windowsHide: true, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout) => {
        if (err && !stdout) return reject(err);
        try {
          resolve(JSON.parse(stdout.trim().split('\n').pop() ?? ''));
        } catch (e) {
          reject(new Error(`unexpected output from ${python}: ${stdout.slice(0, 200)}`));
        }
      });
  });
}

/** The file's functions as Python parses them (no user code runs). */
export async function pythonOutline(python: string, sidecarDir: string, file: string): Promise<OutlineResult> {
  return (await runTool(python, sidecarDir, ['outline', file])) as OutlineResult;
}

/** null when the text reads as the inside of a call's parentheses, else why not. */
export async function checkArgs(python: string, sidecarDir: string, text: string): Promise<string | null> {
  const r = (await runTool(python, sidecarDir, ['check-args', text])) as { ok: boolean; error: string | null };
  return r.error;
}
