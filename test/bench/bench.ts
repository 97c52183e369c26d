/**
 * `npm run bench`: how fast and how faithful the engine is on this machine. Prints one
 * table (metric | value | target/notes) and exits 0; it is a measurement, not a test,
 * so nothing here passes or fails. Uses the real engine, the real python3 and the real
 * node, with the targets in test/fixtures/python/bench/bench_targets.py and
 * test/fixtures/node/bench/bench_targets.cjs. Budget: about a minute.
 *
 * The measurements both runtimes get are one function each, run per runtime from a
 * table (measurements.ts, runtimes.ts); oneRuntime.ts holds those only one runtime has,
 * host.ts the host side's own costs; format.ts the table itself.
 */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { attributionPython } from './attributionPython';
import { ms, Table } from './format';
import { extensionActivation, hostCosts, uiRender } from './host';
import { fidelity, idleFloor, latency, probeOverhead, RuntimeName, SHARED_MEASUREMENTS } from './measurements';
import { nodeAttribution } from './attributionNode';
import { loadGenerator } from './load';
import { serveProbe } from './serveProbe';
import { webviewMemory } from './webviewMemory';
import { isolation, nodePoolTransfer } from './oneRuntime';
import { BENCH_RUNTIMES, PYTHON } from './runtimes';

async function environment(t: Table): Promise<void> {
  const probe = spawnSync(PYTHON, ['-c', 'import platform, os; print(platform.python_implementation(), platform.python_version(), os.cpu_count())'],
    { encoding: 'utf8' });
  const [impl, version, pyCores] = (probe.stdout ?? '').trim().split(' ');
  t.section('environment');
  t.row('cores (node os.cpus / python os.cpu_count)', `${os.cpus().length} / ${pyCores ?? '?'}`, `${os.cpus()[0]?.model ?? ''}`.trim());
  t.row('python', probe.status === 0 ? `${impl} ${version}` : 'not found', PYTHON);
  t.row('node', process.version, `${process.platform}-${process.arch}`);
  t.row('load average (1 min)', os.loadavg()[0].toFixed(2), 'above ~0.5 × cores, expect noisier numbers');
}

/** The shared measurements for Node, which needs its sidecar built. */
async function nodeEngine(t: Table): Promise<void> {
  const unavailable = BENCH_RUNTIMES.node.unavailable();
  if (unavailable) {
    t.section('Node engine');
    t.row('Node sidecar', '–', unavailable);
    return;
  }
  for (const measurement of SHARED_MEASUREMENTS) await measurement(t, 'node');
}

const python = (measurement: (t: Table, name: RuntimeName) => Promise<void>) => (t: Table) => measurement(t, 'python');

async function main(): Promise<void> {
  const t0 = performance.now();
  const t = new Table();
  // Python's shared measurements with its isolation sections among them, then Node's.
  const sections: [string, (t: Table) => unknown][] = [
    ['environment', environment], ['idle floor', python(idleFloor)], ['fidelity', python(fidelity)],
    ['probe overhead', python(probeOverhead)], ['isolation', isolation], ['latency', python(latency)], ['python attribution', attributionPython],
    ['node engine', nodeEngine], ['node pool transfer', nodePoolTransfer], ['node attribution', nodeAttribution],
    ['load generator', loadGenerator], ['serve probe', serveProbe], ['host costs', hostCosts], ['report UI', uiRender], ['report UI memory', webviewMemory],
    ['extension', extensionActivation],
  ];
  // LOOPLAG_BENCH_ONLY=isolation,latency runs only those sections (and the environment).
  const only = process.env.LOOPLAG_BENCH_ONLY?.split(',').map((x) => x.trim());
  for (const [name, run] of sections) {
    if (only && name !== 'environment' && !only.includes(name)) continue;
    try {
      await run(t);
    } catch (e) {
      // A broken section is reported in the table; the rest still runs.
      t.row(`${name}: bench error`, '–', e instanceof Error ? e.message : String(e));
    }
  }
  t.section('bench');
  t.row('bench wall', ms(performance.now() - t0, 0), 'budget: under ~60 s');
  process.stdout.write(t.format());
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.stack : e}\n`);
    process.exit(0);
  },
);
