/**
 * The Python sidecar's one-shot tools under their original names; languageTools.ts
 * has the same for every language.
 */
import { checkCallArgs, outlineFile, OutlineResult } from './languageTools';

export type { OutlineFunction, OutlineParam, OutlineResult } from './languageTools';

/** The file's functions as Python parses them (no user code runs). */
export function pythonOutline(python: string, sidecarDir: string, file: string): Promise<OutlineResult> {
  return outlineFile('python', { command: python }, { python: sidecarDir, node: '' }, file);
}

/** null when the text reads as the inside of a call's parentheses, else why not. */
export function checkArgs(python: string, sidecarDir: string, text: string): Promise<string | null> {
  return checkCallArgs('python', { command: python }, { python: sidecarDir, node: '' }, text);
}
