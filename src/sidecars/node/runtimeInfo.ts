/** The Node runtime as the sidecars' `hello` reports it (the function sidecar and the server harness). */
import * as os from 'node:os';
import * as v8 from 'node:v8';
import type { Runtime } from '../../shared/protocol';

export function cpuCount(): number {
  const o = os as unknown as { availableParallelism?: () => number };
  return typeof o.availableParallelism === 'function' ? o.availableParallelism() : os.cpus().length || 1;
}

export function runtimeInfo(): Runtime {
  const electron = process.versions.electron;
  return {
    name: 'node',
    version: process.versions.node,
    executable: process.execPath,
    // Electron run as Node (the editor's own runtime) is reported as such.
    implementation: electron ? `electron ${electron} (as node)` : 'node',
    gilEnabled: false,
    cpuCount: cpuCount(),
    platform: process.platform,
    switchIntervalS: 0,
    heapLimitMb: Math.round(v8.getHeapStatistics().heap_size_limit / 2 ** 20),
  };
}
