/**
 * The session's errors the host words itself: a timeout, a sidecar that crashed (or an
 * "interpreter" that never ran it), a target moved during the run.
 */
import * as fs from 'node:fs';
import { describeExit, OomEvidence } from '../shared/crashCause';
import { RuntimeName, RUNTIMES } from '../shared/modes';
import type { RunError } from '../shared/protocol';
import type { SidecarExit } from './sidecarProcess';

/**
 * `where` says what was running when the deadline passed (see hangSite); without it
 * (between two sidecars), the message says only what was measured.
 */
export function timeoutError(timeoutS: number, measured: number, where: string | null = null): RunError {
  return { kind: 'timeout', message: `gave up after ${timeoutS} s${where ? ` ${where}` : ''} (${measured} mode(s) measured)`, detail: null };
}

/**
 * A sidecar that cannot find a target an earlier sidecar of the session loaded: say that
 * the file was moved or deleted during the run, not just "file not found".
 */
export function movedDuringRun(e: RunError, loadedBefore: boolean, file: string): RunError {
  if (!loadedBefore || (e.kind !== 'target-not-found' && e.kind !== 'import-error') || fs.existsSync(file)) return e;
  return {
    kind: 'target-not-found',
    message: `the target file ${file} was moved or deleted during the run (an earlier mode had loaded it)`,
    detail: e.message,
    file,
  };
}

/** A sidecar that ended without its `done`: before its hello the interpreter is at fault, after it the run crashed (the cause named from evidence). */
export function crashError(
  exit: SidecarExit, beforeHello: boolean, python: string, runtime: RuntimeName,
  oom: OomEvidence | null, heapLimitMb: number | null | undefined,
): RunError {
  const rt = RUNTIMES[runtime];
  if (beforeHello) {
    // No user code has run yet: the plain exit, no guess at what user code did; what it
    // printed says what it is (a wrapper's usage line, another program's banner).
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    return {
      kind: 'interpreter-not-found',
      message: `\`${python}\` ${how} before the sidecar started; is it a working ${rt.minVersion}?`,
      detail: [exit.output.stdout.slice(-2000), exit.stderrTail].filter(Boolean).join('\n') || null,
    };
  }
  const how = describeExit({ code: exit.code, signal: exit.signal, stderr: exit.stderrTail, oom, runtime, heapLimitMb });
  return {
    kind: 'crashed',
    message: `the ${rt.displayName} sidecar, while measuring, ${how}`,
    detail: exit.stderrTail || null,
  };
}

/**
 * Service mode's server harness that ended without its `done`: as crashError, with the
 * step it was in (starting the app, under load, shutting down) instead of "measuring".
 */
export function serverCrashError(
  exit: SidecarExit, beforeHello: boolean, command: string, runtime: RuntimeName, oom: OomEvidence | null, step: string,
): RunError {
  if (beforeHello) return crashError(exit, true, command, runtime, oom, null);
  const how = describeExit({ code: exit.code, signal: exit.signal, stderr: exit.stderrTail, oom, runtime });
  return { kind: 'crashed', message: `the ${RUNTIMES[runtime].displayName} server, ${step}, ${how}`, detail: exit.stderrTail || null };
}
