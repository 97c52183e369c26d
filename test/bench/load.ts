/**
 * The load generator's bench rows: its capacity (the highest rate it sends on time with
 * no failures against a trivial Node http server in a process of its own, on loopback)
 * and its CPU per 1000 requests. Rates step up, 2 s each, until a step loses requests.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { runLoad } from '../../src/serve/load';
import type { LoadResult } from '../../src/serve/load/types';
import { startLoadServer } from '../support/loadServer';
import { ms, progress, Table } from './format';

const CAPACITY_RATES = [2_000, 5_000, 10_000, 15_000, 20_000];
const STEP_MS = 2_000;
/** On time: the generator's own send lag p99 under this. */
const SEND_LAG_P99_LIMIT_MS = 5;
const OVERHEAD_RATE = 1_000;

/** A process's CPU time (user + system), ms, from Linux's /proc; null elsewhere. */
function processCpuMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return (f[11] + f[12]) * 10; // USER_HZ = 100
  } catch {
    return null;
  }
}

/** CPU time as a share of one core over `wallMs`. */
const pct = (cpuMs: number | null, wallMs: number) => (cpuMs === null ? '–' : `${Math.round((cpuMs / wallMs) * 100)}%`);

interface Step {
  result: LoadResult;
  serverCpuMs: number | null;
  /** From the measured part's start to the generator's end (the drain included): what both CPU times cover. */
  wallMs: number;
}

async function step(origin: string, serverPid: number, ratePerS: number, warmupMs = 500): Promise<Step> {
  let cpuAtT0: number | null = null;
  let t0 = 0;
  const result = await runLoad({
    origin, ratePerS, probe: null, warmupMs, durationMs: STEP_MS, timeoutMs: 2_000, maxConnections: 64,
    targets: [{ name: 'GET /fast', method: 'GET', path: '/fast' }],
  }, {
    onMeasureStart: () => {
      cpuAtT0 = processCpuMs(serverPid);
      t0 = performance.now();
    },
  });
  const cpuAtEnd = processCpuMs(serverPid);
  return { result, serverCpuMs: cpuAtT0 !== null && cpuAtEnd !== null ? cpuAtEnd - cpuAtT0 : null, wallMs: performance.now() - t0 };
}

export async function loadGenerator(t: Table): Promise<void> {
  t.section('load generator (looplag serve)');
  const server = await startLoadServer();
  try {
    progress(`load generator: overhead at ${OVERHEAD_RATE} req/s`);
    // A longer warm-up: V8 compiles the hot paths on threads of the same process in the first second.
    const overhead = await step(server.origin, server.pid, OVERHEAD_RATE, 2_000);
    const sent = overhead.result.targets[0].sent;
    t.row(`generator CPU per 1000 requests (at ${OVERHEAD_RATE} req/s)`, ms((overhead.result.generator.cpuMs / sent) * 1000, 1),
      `after a 2 s warm-up; undici Pool, 64 connections; server CPU ${pct(overhead.serverCpuMs, overhead.wallMs)} of a core, generator send lag p99 ${ms(overhead.result.generator.sendLagP99Ms)}`);
    let reached = 0;
    for (const rate of CAPACITY_RATES) {
      progress(`load generator: ${rate} req/s`);
      const { result, serverCpuMs, wallMs } = await step(server.origin, server.pid, rate);
      const target = result.targets[0];
      const onTime = result.generator.sendLagP99Ms < SEND_LAG_P99_LIMIT_MS && target.failed === 0 && target.completed === target.sent;
      t.row(`${rate} req/s: send lag p99 / latency p99`, `${ms(result.generator.sendLagP99Ms)} / ${ms(target.latency?.p99Ms)}`,
        `${onTime ? 'sustained' : 'missed'}: ${target.completed}/${target.sent} answered, ${target.failed} failed; CPU generator ${pct(result.generator.cpuMs, wallMs)}, server ${pct(serverCpuMs, wallMs)} of a core`);
      if (onTime) reached = rate;
      // A step past the send-lag limit still shows what the pair can carry; one that lost requests ends the climb.
      if (target.failed > 0 || target.completed < target.sent) break;
    }
    t.row('capacity: highest rate sustained', reached ? `${reached} req/s` : `< ${CAPACITY_RATES[0]} req/s`,
      `target ≥ 10000 req/s; send lag p99 < ${SEND_LAG_P99_LIMIT_MS} ms, no failures; ${STEP_MS / 1000} s per step, the server on the same machine; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
  } finally {
    await server.stop();
  }
}
