/**
 * Whether the numbers can be read as the work's: a busy machine, calls that raised or
 * never finished, cache hits measured instead of the work, figures beyond the cores.
 */
import { RUNTIME_NAMES } from '../../shared/modes';
import type { Advice } from '../../shared/protocol';
import { fmtMs, fmtPct } from '../../shared/format';
import { allCallsRaised, callErrorOf, describeCallError } from '../../stats/callErrors';
import { callSplit } from '../../stats/plausibility';
import { WORDS } from '../runtimes';
import * as T from '../thresholds';
import { cap, rule, times } from './facts';

export const measurementUntrustworthy = rule(RUNTIME_NAMES, (f) => {
  const q = f.report.quality;
  if (q.trustworthy) return undefined;
  return {
    id: 'measurement-untrustworthy',
    severity: 'warning',
    mode: null,
    title: 'The machine was too busy during the run: rerun before acting on these numbers',
    detail: `Other processes used up to ${fmtPct(q.backgroundCpuFrac ?? 0)} of the machine's CPU during a window (the line is 25%): ` +
      'lag and wall times are inflated by waiting for a core, not by your code alone.',
    fix: null,
    docs: null,
  };
});

/**
 * `calls-raised`: the measured calls raised, so the window timed the error path. One item
 * per mode, critical when every call raised, a warning when some did; it names the first
 * exception and the innermost line of the user's code it came from.
 */
export const callsRaised = rule(RUNTIME_NAMES, (f) => {
  const out: Advice[] = [];
  for (const r of f.report.runs) {
    const e = callErrorOf(r, f.report.target);
    if (!e) continue;
    const all = allCallsRaised(r);
    out.push({
      id: 'calls-raised',
      severity: all ? 'critical' : 'warning',
      mode: r.mode,
      title: all
        ? `Every call raised ${e.type} in ${r.mode} mode: what was measured is the error path`
        : `${e.raised} of ${e.calls} calls raised ${e.type} in ${r.mode} mode`,
      detail: `The first exception: ${describeCallError(e)}. ` +
        (all
          ? 'No call did the work, so the lag and timings of this mode are those of raising: do not read them as the function\'s. '
          : `The ${e.calls - e.raised} calls that returned and the ${e.raised} that raised are timed together. `) +
        `Check the arguments (${f.report.target.args ? `\`${f.report.target.args}\`` : 'none were given'})` +
        WORDS[f.runtime].raisedHint +
        ', and imports inside the call; the traceback is in the report\'s tasks.',
      fix: null,
      docs: null,
    });
  }
  return out;
});

/**
 * Calls that never finished: cut by --call-timeout, --timeout or a cancel, or lost with a
 * pool member or sidecar that died. The mode's figures stop at the cut, so they say
 * nothing about the calls' whole run: no verdict on the mode, whatever its lag so far.
 */
export const callsUnfinished = rule(RUNTIME_NAMES, (f) => {
  const out: Advice[] = [];
  for (const r of f.report.runs) {
    const unfinished = r.taskStats.unfinishedCount ?? 0;
    const crashed = r.taskStats.crashedCount ?? 0;
    if (!unfinished && !crashed) continue;
    const counts = [unfinished ? `${unfinished} unfinished` : '', crashed ? `${crashed} lost in a crash` : ''].filter(Boolean).join(', ');
    out.push({
      id: 'calls-unfinished',
      severity: 'critical',
      mode: r.mode,
      title: `${counts} of ${r.tasks.length} calls in ${r.mode} mode: the window was cut at ${fmtMs(r.wallMs)}`,
      detail: `${r.error?.message ?? 'The window ended before its calls did'}. What this mode measured stops at the cut ` +
        `(lag max so far ${r.lag.sampleCount ? fmtMs(r.lag.maxMs) : 'unknown: no samples'}): an unfinished call is not a verdict. ` +
        (crashed
          ? 'A call that kills its process (os._exit, process.exit, a native crash) takes the calls running beside it along.'
          : 'A call that never ends (a promise that never settles, an await on nothing, an endless loop) holds its worker for good; ' +
            'raise --call-timeout if the calls are only slow.'),
      fix: null,
      docs: null,
    });
  }
  return out;
});

/**
 * A run whose calls split into a few slow first calls and near-instant others (or
 * whose warm-up call dwarfed them) measured cache hits, not the work: its lag and
 * throughput say little about a call that misses.
 */
export const cachedCalls = rule(RUNTIME_NAMES, (f) => {
  const ok = f.report.runs.filter((r) => r.status === 'ok');
  // The evidence: a split inside a window, or a warm-up call that dwarfed the measured ones.
  const evidence = new Map<string, { text: string; missMs: number; cache: boolean }>();
  for (const r of ok) {
    const split = callSplit(r);
    const median = r.taskStats.runP50Ms;
    if (split) {
      evidence.set(r.mode, {
        text: split.slowCount === 1
          ? `the first of ${split.callCount} calls took ${fmtMs(split.slowMs[0])}; the other calls took ${fmtMs(split.medianMs)} (median)`
          : `${split.slowCount} of ${split.callCount} calls took ${split.slowMs.map(fmtMs).join(', ')}, each the first on its worker; the other calls took ${fmtMs(split.medianMs)} (median)`,
        missMs: Math.min(...split.slowMs),
        cache: true,
      });
      continue;
    }
    const warm = (r.warmupMs ?? []).filter((w) => median !== null && w >= T.CACHE_WARMUP_SPLIT * median && w >= T.CACHE_MISS_MIN_MS);
    if (warm.length) {
      // A slow warm-up alone is a cache only when the measured calls do next to nothing;
      // otherwise it is a one-time cost (imports, JIT) that warm-up rightly kept out.
      evidence.set(r.mode, {
        text: `the unmeasured warm-up call${warm.length > 1 ? 's' : ''} took ${warm.map(fmtMs).join(', ')}, the measured calls ${fmtMs(median)} (median)`,
        missMs: Math.min(...warm),
        cache: median !== null && median < T.CACHE_HIT_MAX_MS && Math.min(...warm) >= T.CACHE_WARMUP_MISS_MIN_MS,
      });
    }
  }
  if (!evidence.size) return undefined;
  const miss = Math.min(...[...evidence.values()].map((e) => e.missMs));
  const [firstMode, first] = [...evidence.entries()][0];
  const out: Advice[] = [];
  for (const r of ok) {
    const own = evidence.get(r.mode);
    // A mode without a split of its own whose calls are as fast as the hits elsewhere measured hits too
    // (a cache warmed by an earlier mode in the same process, or inherited by forked workers).
    const median = r.taskStats.runP50Ms;
    const hitsToo = !own && median !== null && median * T.CACHE_SPLIT <= miss;
    if (!own && !hitsToo) continue;
    const text = own ? own.text : `its calls took ${fmtMs(median)} (median), as fast as the hits in ${firstMode} mode, where ${first.text}`;
    if (!(own ?? first).cache) {
      out.push({
        id: 'cached-calls',
        severity: 'info',
        mode: r.mode,
        title: `In ${r.mode} mode the first call paid a one-time cost the measured calls did not`,
        detail: `${cap(text)}: at least ${T.CACHE_WARMUP_SPLIT}× apart. Usually a one-time cost (a lazy import, JIT, a key or connection set up once), which the ` +
          'warm-up call keeps out of the window as a running server would. If a cache (functools.lru_cache, a memo object) answered the measured calls instead, ' +
          'measure a miss: pass arguments that miss it, or run with --no-warmup to see the first call.',
        fix: null,
        docs: null,
      });
      continue;
    }
    out.push({
      id: 'cached-calls',
      severity: 'warning',
      mode: r.mode,
      title: `In ${r.mode} mode the calls measured look like cache hits, not the work`,
      detail: `${cap(text)}: at least ${T.CACHE_SPLIT}× apart. A cache (functools.lru_cache, a memo object) or a one-time cost answered most calls, so this run's lag and ` +
        'throughput describe a hit. Measure a miss: pass arguments that miss the cache, clear it in the call, or measure the uncached function.',
      fix: null,
      docs: null,
    });
  }
  return out;
});

/** Figures the report marks as more than the cores can give (ModeRun.suspect): said, never built on. */
export const implausibleFigures = rule(RUNTIME_NAMES, (f) => f.report.runs.flatMap((r) => (r.suspect ?? []).map((s): Advice => ({
  id: 'implausible-speedup',
  severity: 'info',
  mode: r.mode,
  title: s.field === 'speedup' ? `The ${r.mode} speedup (${times(r.speedup)}) is not real parallelism` : `The ${r.mode} CPU/wall (${r.cpu.parallelism.toFixed(2)}) is more than the cores can give`,
  detail: `${cap(s.reason)}. Rerun with warm-up on (the default) or check for a cache before reading it as a speedup.`,
  fix: null,
  docs: null,
}))));
