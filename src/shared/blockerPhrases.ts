/**
 * Words for a blocker (issue 13), shared by every view that names one: which thread it
 * ran on and what it was doing, the library frame it called, its line. Exhaustive
 * tables over the protocol's literals, so a new thread or step cannot go unnamed.
 */
import type { Attribution, Blocker, StackFrame } from './protocol/attribution';
import { BLOCKER_STEPS, BLOCKER_THREADS } from './protocol/attribution';
import { fmtMs } from './format';

type BlockerThread = (typeof BLOCKER_THREADS)[number];
type BlockerStep = (typeof BLOCKER_STEPS)[number];

/** `alone`: the user's own call on that thread; `prefix`: before a step of the tool's ("main thread: serializing arguments"). */
export const THREAD_PHRASES: { [K in BlockerThread]: { alone: string; prefix: string } } = {
  loop: { alone: 'on the loop', prefix: 'loop' },
  'gil-holder': { alone: 'held the GIL in a worker', prefix: 'worker holding the GIL' },
  main: { alone: 'on the main thread', prefix: 'main thread' },
};

/** What the user's own call on that thread did, as the editor's annotation says it ("held the GIL 915.0 ms in a thread pool"). */
export const THREAD_VERBS: { [K in BlockerThread]: string } = {
  loop: 'blocked the loop',
  'gil-holder': 'held the GIL',
  main: 'blocked the main thread',
};

/** What the tool's own steps around a pool call are called; `call` is the user's code, unnamed. */
export const STEP_PHRASES: { [K in BlockerStep]: string | null } = {
  call: null,
  'serialize-args': 'serializing arguments',
  'deserialize-result': 'deserializing results',
  'pool-manager': "the pool's manager thread",
  gc: 'garbage collection',
};

/** "on the loop", "held the GIL in a worker", "main thread: serializing arguments". */
export function blockerWhere(b: Pick<Blocker, 'thread' | 'step'>): string {
  const step = STEP_PHRASES[b.step];
  return step === null ? THREAD_PHRASES[b.thread].alone : `${THREAD_PHRASES[b.thread].prefix}: ${step}`;
}

/** "services/feeds.py:17"; the function's name alone when the file is unknown. */
export function blockerLine(b: Pick<Blocker, 'file' | 'line' | 'function'>): string {
  if (b.file === null) return b.function;
  return b.line === null ? b.file : `${b.file}:${b.line}`;
}

/** The frame in the blocker's stack its key came from (to know its kind), if the stack has it. */
export function keyFrame(b: Blocker): StackFrame | undefined {
  return b.stack.find((f) => f.file === b.file && f.line === b.line && f.function === b.function);
}

const PY_MODULE = /\.(py|pyi|pyx|pxd)$/;

/**
 * The library frame a blocker called, as its users name it: a Python frame by module
 * (`lxml/etree.pyx` `fromstring` → `lxml.etree.fromstring`, `json/__init__.py` `dumps` →
 * `json.dumps`), anything else as `function (file:line)`, or the bare name when no file
 * (`RegExp: (ab)+$`, `(garbage collector)`).
 */
export function libraryLabel(frame: StackFrame): string {
  if (frame.file === null) return frame.function;
  if (PY_MODULE.test(frame.file) && !frame.file.startsWith('<')) {
    const module = frame.file.replace(PY_MODULE, '').split('/').filter((p) => p && p !== '__init__').join('.');
    if (frame.function === '<module>') return module;
    return module ? `${module}.${frame.function}` : frame.function;
  }
  return `${frame.function} (${frame.line === null ? frame.file : `${frame.file}:${frame.line}`})`;
}

/** A fraction as a percent for a share: whole percents, but "<1%" rather than a misleading 0%. */
export function sharePercent(share: number): string {
  const pct = share * 100;
  if (pct > 0 && pct < 1) return '<1%';
  return `${Math.round(pct)}%`;
}

/** Why a mode has no lines to list: attribution off, unavailable or failed; null when it ran. */
export function attributionStatus(a: Pick<Attribution, 'status' | 'reason'>): string | null {
  switch (a.status) {
    case 'off':
      return 'Attribution off (--no-attribution or the looplag.attribution setting): no lines were sampled.';
    case 'unavailable':
      return `Attribution unavailable${a.reason ? `: ${a.reason}` : ''}.`;
    case 'failed':
      return `Attribution failed${a.reason ? `: ${a.reason}` : ''}; the measurement itself stands.`;
    case 'ok':
      return null;
  }
}

/**
 * How much of the stalled time the lines explain, and how they were found:
 * "94% of 1.06 s stalled attributed to a line (stalls ≥ 20 ms: 98%) · 75 samples, every 10 ms".
 */
export function attributionCoverage(a: Attribution): string {
  if (a.stalledMs <= 0 || a.coverage === null) return 'No stalls to attribute.';
  const parts = [`${sharePercent(a.coverage)} of ${fmtMs(a.stalledMs)} stalled attributed to a line`
    + (a.coverage20Ms !== null ? ` (stalls ≥ 20 ms: ${sharePercent(a.coverage20Ms)})` : '')];
  parts.push(`${a.samples} samples${a.intervalMs !== null ? `, every ${fmtMs(a.intervalMs)}` : ''}`);
  if (a.weighting === 'cpu-time') parts.push('workers weighted by CPU time');
  if (a.weighting === 'equal') parts.push('workers weighted equally (no per-thread CPU clocks)');
  return parts.join(' · ');
}

/** The stalled time no line got, by reason, or null when it is all attributed. */
export function unattributedText(a: Attribution): string | null {
  const u = a.unattributed;
  const parts = [
    u.noSampleMs > 0 ? `${fmtMs(u.noSampleMs)} with no sample` : null,
    u.notRunningMs > 0 ? `${fmtMs(u.notRunningMs)} when no thread ran (a busy machine)` : null,
    u.otherMs > 0 ? `${fmtMs(u.otherMs)} other` : null,
    a.droppedSamples ? `${a.droppedSamples} samples dropped (over the cap)` : null,
  ].filter((p): p is string => p !== null);
  return parts.length ? `Not attributed: ${parts.join(', ')}.` : null;
}
