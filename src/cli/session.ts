/**
 * What surrounds a measurement in a terminal: the progress line, and Ctrl+C, SIGTERM
 * and SIGHUP turned into a polite stop that still writes the partial report.
 */
import { Progress } from '../engine/runSession';
import { EXIT } from '../report/exitCode';
import { Plan } from './plan';

/** What both a run and a sweep hand the engine, and the call that ends the session's hooks. */
export interface CliSession {
  engine: {
    target: Plan['target'];
    python: string | undefined;
    node: string | undefined;
    signal: AbortSignal;
    onProgress(p: Progress): void;
    onStderr: ((text: string) => void) | undefined;
  };
  /** Once the engine is done: clears the progress line and unhooks the signals. */
  finished(): void;
}

export function startSession({ target, flags: o }: Plan): CliSession {
  const progress = process.stderr.isTTY && !o.json ? new ProgressLine() : null;
  const interrupts = stopOnSignals(() => progress?.clear());
  return {
    engine: {
      target,
      python: o.python,
      node: o.node,
      signal: interrupts.signal,
      onProgress: (p: Progress) => progress?.update(p),
      onStderr: o.verbose ? (text: string) => void process.stderr.write(text) : undefined,
    },
    finished: () => {
      progress?.clear();
      interrupts.finished();
    },
  };
}

/**
 * Ctrl+C, SIGTERM and SIGHUP as an abort of `signal` (a run, a sweep, a serve session);
 * `finished` unhooks them once the engine is done. `clearProgress` clears the progress
 * line before the "stopping" line is written.
 */
export function stopOnSignals(clearProgress: () => void): { signal: AbortSignal; finished(): void } {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (signal?: NodeJS.Signals) => {
    // A second Ctrl+C stops at once (SidecarProcess's 'exit' hook still kills the
    // sidecar's process tree). A second SIGTERM or SIGHUP is not a person insisting:
    // a session ending sends both, and the partial report must still be written.
    if (++interrupts > 1) {
      if (signal === 'SIGINT') process.exit(EXIT.interrupted);
      return;
    }
    // Said now, because stopping can take the cancel grace period (a sidecar stuck
    // behind a GIL-holding call cannot answer), and a user may press Ctrl+C again.
    clearProgress();
    process.stderr.write('looplag: interrupted; stopping (interrupt again to stop at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const onSighup = () => {
    // The terminal closed: stop like SIGTERM (partial report to --out, sidecars killed)
    // rather than Node's default for SIGHUP, an exit that skips both. Writing to a
    // terminal that is gone fails (EIO): that must not end the run before --out is written.
    ignoreHangup();
    onSigint('SIGHUP');
  };
  process.on('SIGHUP', onSighup);
  return {
    signal: controller.signal,
    finished: () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
      process.off('SIGHUP', onSighup);
      // Until the report is written, a terminal closing must not kill the CLI mid-write
      // (Node's default for SIGHUP) and leave a temp file behind.
      process.on('SIGHUP', ignoreHangup);
    },
  };
}

/** After a run: the terminal is gone, but the report files are still written. */
function ignoreHangup(): void {
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
}

class ProgressLine {
  update(p: Progress): void {
    const count = p.phase === 'running' ? (p.total ? ` ${p.done}/${p.total}` : ` ${p.done} calls`) : '';
    process.stderr.write(`\r\x1b[K[looplag] ${p.mode}: ${p.phase}${count}`);
  }
  clear(): void {
    process.stderr.write('\r\x1b[K');
  }
}
