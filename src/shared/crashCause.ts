/**
 * Why a process died, in words: the whole sidecar (the host's message) and a pool member
 * (the Node sidecar's; the Python sidecar's crash.py mirrors these phrases). Pure: the
 * facts (exit code, signal, stderr, OOM-kill counters) are gathered by the caller.
 */
import { RuntimeName, RUNTIMES } from './modes';

/** An OOM-kill counter read before and after the process ran (see engine/oomKills). */
export interface OomEvidence {
  source: string;
  before: number;
  after: number;
}

export interface ExitFacts {
  code: number | null;
  signal: string | null;
  /** The end of what it wrote to stderr: V8's "heap out of memory", Python's "Fatal Python error". */
  stderr?: string | null;
  /** null: no counter readable (not Linux), so a SIGKILL's sender cannot be told. */
  oom: OomEvidence | null;
  runtime: RuntimeName;
  /** Node: V8's heap limit in that process, MB (named when it ran out). */
  heapLimitMb?: number | null;
  /** Node worker threads: the worker ended with ERR_WORKER_OUT_OF_MEMORY. */
  workerOutOfMemory?: boolean;
}

/** V8's last words when the heap is full (a process; a worker thread gets ERR_WORKER_OUT_OF_MEMORY). */
const V8_HEAP_OOM = /JavaScript heap out of memory|Reached heap limit/;

/** What a signal means when it is not an out-of-memory kill, phrased after "was …". */
const SIGNAL_PHRASES: Record<string, string> = {
  SIGSEGV: 'killed by SIGSEGV, a segmentation fault: an invalid memory access in native code (a C extension, ctypes, a native addon, or the runtime itself)',
  SIGBUS: 'killed by SIGBUS, a bus error: an invalid memory access in native code (e.g. a memory-mapped file that shrank)',
  SIGILL: 'killed by SIGILL, an illegal instruction in native code',
  SIGFPE: 'killed by SIGFPE, an arithmetic fault in native code',
  SIGABRT: 'aborted (SIGABRT): abort() was called, by user code (os.abort(), process.abort()), by native code, or by the runtime on a fatal error',
  SIGTERM: 'stopped by SIGTERM, sent by user code (os.kill, process.kill) or another process: Loop Lag sends none while measuring',
  SIGINT: 'stopped by SIGINT, sent by user code (os.kill, process.kill) or another process: Loop Lag sends none while measuring',
  SIGHUP: 'stopped by SIGHUP, sent by user code (os.kill, process.kill) or another process: Loop Lag sends none while measuring',
  SIGQUIT: 'stopped by SIGQUIT, sent by user code (os.kill, process.kill) or another process: Loop Lag sends none while measuring',
};

/** The process's fate, to follow its name: "ran out of …", "was killed by …", "exited with code 3 …". */
export function describeExit(f: ExitFacts): string {
  const crash = RUNTIMES[f.runtime].crash;
  if (crash.v8Heap && (f.workerOutOfMemory || (f.stderr && V8_HEAP_OOM.test(f.stderr)))) {
    const limit = f.heapLimitMb ? `V8's heap limit here is ${f.heapLimitMb} MB` : 'V8 has a heap limit';
    const how = f.workerOutOfMemory
      ? 'a worker thread\'s limit follows --max-old-space-size, or Worker resourceLimits.maxOldGenerationSizeMb'
      : 'raise it with NODE_OPTIONS=--max-old-space-size=MB';
    return `ran out of JavaScript heap memory (${limit}; ${how})`;
  }
  if (f.signal === 'SIGKILL') {
    if (!f.oom) return 'was killed by SIGKILL, from another process, itself, or the kernel\'s out-of-memory killer (Loop Lag cannot tell which on this platform)';
    if (f.oom.after > f.oom.before) {
      return `was killed by the kernel's out-of-memory killer (SIGKILL; ${f.oom.source} oom_kill went from ${f.oom.before} to ${f.oom.after} while it ran): it used more memory than the system or its memory cgroup allows`;
    }
    return `was killed by SIGKILL from another process or itself, not by the kernel's out-of-memory killer (${f.oom.source} oom_kill unchanged)`;
  }
  if (f.signal) return `was ${SIGNAL_PHRASES[f.signal] ?? `killed by ${f.signal}, sent by user code or another process`}`;
  if (crash.uncaughtExitsWith1 && f.code === 1 && f.stderr && /\n\s+at \S/.test(f.stderr)) {
    return 'exited with code 1 on an uncaught exception (thrown outside the awaited call, e.g. in a timer or event callback; its stack is in the detail)';
  }
  return `exited with code ${f.code} (user code may have called ${crash.exitCall}(${f.code}))`;
}
