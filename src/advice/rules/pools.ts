/**
 * What a pool costs beside the work: sending each call and its data (process,
 * interpreter and worker pools), starting the pool, calls queueing for a member, and
 * Node's structured-clone copies on the loop.
 */
import { MODES, RUNTIME_NAMES, RuntimeName } from '../../shared/modes';
import type { Advice, ModeRun } from '../../shared/protocol';
import { fmtBytes, fmtMs, fmtPct } from '../../shared/format';
import { DOCS, WORDS } from '../runtimes';
import { atOf, citedPoolSteps } from '../blockers';
import { stepSharesSentence } from '../blockerText';
import { SNIPPETS } from '../snippets';
import * as Js from '../snippets/node';
import * as T from '../thresholds';
import { cap, Facts, rule } from './facts';

/** What moving data cost, per side, from the per-task transfer records (Node pools, Python process mode). */
interface Sides {
  argsMs: number;
  resultMs: number;
  argsBytes: number;
  resultBytes: number | null;
  argsKind: string | null;
  resultKind: string | null;
}

/** Per call: what moving the arguments and the result cost (both ends summed), and their sizes and kinds. */
function sidesOf(r: ModeRun): Sides | null {
  const t = r.transfer;
  const calls = r.tasks.length;
  if (!t || !calls) return null;
  return {
    argsMs: (t.argsMs ?? 0) / calls, resultMs: (t.resultMs ?? 0) / calls, argsBytes: t.argsBytesMean, resultBytes: t.resultBytesMean,
    argsKind: t.argsKind ?? null, resultKind: t.resultKind ?? null,
  };
}

/** The side that costs: one side at least twice the other, else both. */
function costlySide(s: Sides): 'arguments' | 'result' | 'both' {
  if (s.argsMs >= T.SIDE_DOMINANCE * s.resultMs) return 'arguments';
  if (s.resultMs >= T.SIDE_DOMINANCE * s.argsMs) return 'result';
  return 'both';
}

const KIND_WORDS: Record<string, string> = {
  none: 'nothing', primitive: 'numbers or booleans', string: 'a string', 'typed-array': 'a typed array', arraybuffer: 'an ArrayBuffer',
  'number-array': 'an array of numbers', 'plain-objects': 'plain objects/arrays', instance: 'a class instance', mixed: 'values of several kinds',
};

function sideText(s: Sides, side: 'arguments' | 'result' | 'both', runtime: RuntimeName): string {
  const args = `the arguments (${fmtBytes(s.argsBytes)}${s.argsKind ? `, ${KIND_WORDS[s.argsKind] ?? s.argsKind}` : ''}) cost ${fmtMs(s.argsMs)} per call`;
  const result = `the result (${fmtBytes(s.resultBytes)}${s.resultKind ? `, ${KIND_WORDS[s.resultKind] ?? s.resultKind}` : ''}) cost ${fmtMs(s.resultMs)} per call`;
  const verb = WORDS[runtime].serializing;
  if (side === 'arguments') return `${verb} the arguments is what costs: ${args}, ${result}`;
  if (side === 'result') return `sending the result back is what costs: ${result}, ${args}`;
  return `both sides cost: ${args}, ${result}`;
}

/** Median idle gap on a worker between a call's end and its next call's start, when that call was already waiting. */
function dispatchGapMs(r: ModeRun): number | null {
  const byWorker = new Map<string, ModeRun['tasks']>();
  for (const t of r.tasks) {
    if (t.startMs === null || t.endMs === null || t.worker === null) continue;
    byWorker.set(t.worker, [...(byWorker.get(t.worker) ?? []), t]);
  }
  const gaps: number[] = [];
  for (const list of byWorker.values()) {
    list.sort((a, b) => a.startMs! - b.startMs!);
    for (let i = 1; i < list.length; i++) {
      const gap = list[i].startMs! - list[i - 1].endMs!;
      // Overlapping calls on one worker name are not one worker's sequence: no gap to read.
      if (list[i].queuedMs <= list[i - 1].endMs! && gap >= 0) gaps.push(gap);
    }
  }
  if (gaps.length < T.MIN_DISPATCH_GAPS) return null;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor((gaps.length - 1) / 2)];
}

/**
 * Judged per call, as a server pays it: how long one call holds a worker (wall × busy
 * workers / calls) beyond its own run, against the call inline. Start-up is paid once
 * and said apart (pool-startup).
 */
export const processOverhead = rule(RUNTIME_NAMES, (f) => {
  const out: Advice[] = [];
  const inline = f.ok('inline');
  for (const mode of ['process', 'interpreter']) {
    const r = f.ok(mode);
    if (!r || !r.tasks.length || !r.workers) continue;
    const busyMs = (r.wallMs * Math.min(r.workers, r.tasks.length)) / r.tasks.length;
    const runMs = r.taskStats.okCount ? r.taskStats.runSumMs / r.taskStats.okCount : r.taskStats.runP50Ms ?? 0;
    // The idle gap a worker had between two calls while the next one waited: the round
    // trip of a result and the next call. Without enough gaps: wall share minus run time.
    const gap = dispatchGapMs(r);
    const overheadMs = gap ?? busyMs - runMs;
    const inlineMs = inline && inline.tasks.length ? inline.wallMs / inline.tasks.length : null;
    const costly = overheadMs >= T.PER_CALL_OVERHEAD_MIN_MS && overheadMs >= T.PER_CALL_OVERHEAD_SHARE * (inlineMs ?? runMs);
    const stalls = r.lag.stallCount > 0;
    if (!costly && !stalls) continue;
    const sides = sidesOf(r);
    const side = sides ? costlySide(sides) : null;
    const steps = stalls ? citedPoolSteps(r) : [];
    const what = mode === 'process' ? 'process' : 'interpreter';
    const parts = [`Each call held a ${what} for ${fmtMs(busyMs)}, of which its own run was ${fmtMs(runMs)} (median): about ${fmtMs(Math.max(0, overheadMs))} per call went to ` +
      `sending the call and its data (${gap !== null ? 'the median gap a worker waited between two calls' : 'wall time per call beyond the run'})${inlineMs !== null ? `, against ${fmtMs(inlineMs)} per call inline` : ''}`];
    if (sides && side) parts.push(sideText(sides, side, f.runtime));
    else {
      const cost = WORDS[f.runtime].sendCost(Boolean(f.report.target.args.trim()));
      if (cost) parts.push(cost);
    }
    if (stalls) parts.push(`the loop stalled ${r.lag.stallCount} time(s), up to ${fmtMs(r.lag.maxMs)}: that work runs in the parent, next to the loop`);
    out.push({
      id: 'process-overhead',
      severity: 'warning',
      mode,
      title: stalls
        ? `The ${what} pool moved the work, but sending it still blocks the loop`
        : `Per call, the ${what} pool costs ${fmtMs(overheadMs)} on top of the work${inlineMs !== null ? ` (${fmtMs(inlineMs)} inline)` : ''}`,
      detail: parts.join('; ') + '. ' + (side === 'result'
        ? 'Return less (a summary, an id, or write the data where the caller reads it).'
        : side === 'arguments' ? 'Send less (a path or an id, and load the data in the worker).' : 'Send and return less per call, or batch several calls into one.') +
        stepSharesSentence(steps, mode),
      fix: SNIPPETS[f.runtime].offloadPool(f.report),
      docs: DOCS[f.runtime].pool,
      ...atOf(steps[0]?.top),
    });
  }
  return out;
});

const POOLS_WITH_STARTUP = new Set(['process', 'interpreter', 'worker']);

/** Start-up is paid once, at boot: worth saying (so the pool is created once), never a fault. */
export const poolStartup = rule(RUNTIME_NAMES, (f) => {
  const out: Advice[] = [];
  for (const r of f.report.runs) {
    // Threads start in microseconds; what their start-up shows is scheduling, not a cost to plan for.
    if (r.status !== 'ok' || !POOLS_WITH_STARTUP.has(r.mode) || r.startupMs === null) continue;
    const notable = r.startupMs >= T.STARTUP_NOTABLE_MS || (r.startupMs >= T.STARTUP_MIN_MS && r.startupMs >= T.STARTUP_SHARE * r.wallMs);
    if (!notable) continue;
    const perCall = r.tasks.length ? r.wallMs / r.tasks.length : null;
    out.push({
      id: 'pool-startup',
      severity: 'info',
      mode: r.mode,
      title: `Starting the ${r.workers ?? ''} ${r.mode === 'process' ? 'processes' : r.mode === 'interpreter' ? 'interpreters' : r.mode === 'worker' ? 'workers' : 'threads'} took ${fmtMs(r.startupMs)}: create the pool once, at start-up`.replace('the  ', 'the '),
      detail: `A server pays this once, not per request${perCall !== null ? ` (the calls then took ${fmtMs(perCall)} each on average)` : ''}: create the pool at start-up and reuse it, never per request.`,
      fix: null,
      docs: DOCS[f.runtime].pool,
    });
  }
  return out;
});

export const queueing = rule(RUNTIME_NAMES, (f) => {
  const out: Advice[] = [];
  for (const r of f.report.runs) {
    if (r.status !== 'ok' || r.mode === 'inline' || r.workers === null) continue;
    const q = r.taskStats.queueMaxMs;
    if (r.tasks.length <= r.workers || q === null || q < T.QUEUE_NOTABLE_MS) continue;
    out.push({
      id: 'queueing',
      // Latency for the caller, not lag for the loop: never what a mode's verdict should say.
      severity: 'info',
      mode: r.mode,
      title: `${r.tasks.length} calls on ${r.workers} ${MODES[r.mode].members}: calls waited up to ${fmtMs(q)} in the queue`,
      detail: `In ${r.mode} mode the queue wait (queued → started) was p50 ${fmtMs(r.taskStats.queueP50Ms)}, max ${fmtMs(q)}, next to a run time p50 of ` +
        `${fmtMs(r.taskStats.runP50Ms)}. More concurrent calls than workers is latency, not lag: the loop stays free, the caller waits. ` +
        'Size the pool to the cores for CPU-bound work and bound concurrency upstream if the wait matters.',
      fix: null,
      docs: DOCS[f.runtime].queueing,
    });
  }
  return out;
});

/** Kinds a transfer list can move without a copy. */
const TRANSFERABLE = new Set(['typed-array', 'arraybuffer']);

/** The fix for the side that costs, for what that side is made of. */
function transferFix(f: Facts, mode: string, side: 'arguments' | 'result' | 'both', s: Sides): string {
  const kinds = side === 'arguments' ? [s.argsKind] : side === 'result' ? [s.resultKind] : [s.argsKind, s.resultKind];
  if (kinds.every((k) => k !== null && TRANSFERABLE.has(k))) return Js.workerPool(Js.nodeTarget(f.report), { transfer: true });
  const lines: string[] = [];
  for (const [name, kind] of [['arguments', s.argsKind], ['result', s.resultKind]] as const) {
    if (side !== 'both' && side !== name) continue;
    const what = kind ? KIND_WORDS[kind] ?? kind : 'data';
    if (kind === 'number-array') lines.push(`The ${name} is an array of numbers: send a Float64Array and transfer its buffer (no copy) instead.`);
    else if (kind && TRANSFERABLE.has(kind)) lines.push(`The ${name} is ${what}: put its buffer in the transfer list (postMessage(value, [buffer])) so it moves without a copy.`);
    else if (name === 'arguments') lines.push(`The arguments are ${what}: structured clone copies them on every call (transfer lists move only ArrayBuffers). Send an id or a path and let the worker load the data, or build it there.`);
    else lines.push(`The result is ${what}: structured clone copies it back on every call. Return only what the caller needs (a summary, an id), or write it where the caller reads it.`);
  }
  if (mode === 'process') lines.push('Child processes copy everything; worker_threads can move ArrayBuffers without a copy.');
  return Js.note(lines);
}

export const transferOverhead = rule(['node'], (f) => {
  const out: Advice[] = [];
  for (const mode of ['worker', 'process']) {
    const r = f.ok(mode);
    if (!r?.transfer || !r.tasks.length) continue;
    const perCall = r.transfer.loopMs / r.tasks.length;
    if (r.transfer.loopMs < T.TRANSFER_MIN_LOOP_MS) continue;
    if (r.transfer.loopMs < T.TRANSFER_LOOP_SHARE * r.wallMs && perCall < T.TRANSFER_PER_CALL_MS) continue;
    const sides = sidesOf(r);
    const side = sides && (r.transfer.argsMs !== undefined) ? costlySide(sides) : 'both';
    const where = mode === 'worker' ? 'workers' : 'child processes';
    const steps = citedPoolSteps(r);
    const moving = side === 'arguments' ? `Copying the arguments to the ${where}` : side === 'result' ? `Copying the results back from the ${where}` : `Copying data to and from the ${where}`;
    out.push({
      id: 'transfer-overhead',
      severity: perCall >= f.stallMs ? 'critical' : 'warning',
      mode,
      title: `${moving} costs the loop ${fmtMs(perCall)} per call`,
      detail: (sides && r.transfer.argsMs !== undefined ? `${cap(sideText(sides, side, f.runtime))}. ` : '') +
        `Serializing arguments (${fmtBytes(r.transfer.argsBytesMean)} per call) and deserializing results (${fmtBytes(r.transfer.resultBytesMean)}) took ` +
        `${fmtMs(r.transfer.loopMs)} on the event loop over ${r.tasks.length} calls (${fmtPct(r.transfer.loopMs / Math.max(1e-9, r.wallMs))} of the ${fmtMs(r.wallMs)} window), ` +
        `plus ${fmtMs(r.transfer.workerMs)} on the ${mode === 'worker' ? 'workers' : 'children'}. Structured clone copies everything it sends.` +
        stepSharesSentence(steps, mode),
      fix: sides ? transferFix(f, mode, side, sides) : Js.note(['Send a path or an id, not the payload; return only what the caller needs.']),
      docs: DOCS.node.transfer,
      ...atOf(steps[0]?.top),
    });
  }
  return out;
});
