/**
 * The report's terms, explained on hover and on keyboard focus (issue 16): one table,
 * used wherever a term is a label (the header's settings, the summary table's rows, the
 * charts' captions). Definitions follow README's "How it measures" and "Advice, the
 * headline, and what to do"; keep them short and true.
 */
import { KNOBS } from '../shared/settings';
import type { Child } from './dom';
import { h } from './dom';

export type TermKey = 'lag' | 'budget' | 'stall' | 'p99' | 'heartbeats' | 'gilWait' | 'switchInterval' | 'elu';

/** What each term means, and the words that name it in a label (longest first where they overlap). */
export const TERMS: Record<TermKey, { pattern: RegExp; title: string }> = {
  switchInterval: {
    pattern: /switch interval/i,
    title: 'How often CPython asks the thread holding the GIL to hand it over (sys.getswitchinterval, 5 ms by default). Pure-Python work in threads makes the loop wait about this long for each turn.',
  },
  gilWait: {
    pattern: /GIL wait/i,
    title: "How long a probe thread waited to get Python's GIL back after sleeping one heartbeat: long waits mean other threads held the GIL. Measured in the one-thread diagnostic window unless looplag.gilProbeInWindow is on.",
  },
  elu: {
    pattern: /\bELU\b|event-loop utilization/i,
    title: "Event-loop utilization (Node's performance.eventLoopUtilization): the share of the window the loop spent running code rather than waiting for events. Near 100%, nothing else got a turn.",
  },
  heartbeats: {
    pattern: /heartbeats \/ expected|\bheartbeats?\b/i,
    title: `A timer on the loop fires every heartbeat interval (${KNOBS.heartbeatMs.default} ms by default) and records how late it woke. Heartbeats / expected: the beats received against those an unblocked loop would have fired; a stall swallows the beats it blocked.`,
  },
  stall: {
    pattern: /\bstall(s|ed)?\b/i,
    title: `A lag at or above the stall threshold (${KNOBS.stallMs.default} ms by default, looplag.stallThresholdMs): the loop stood still that long. Stalled: the share of the window spent in stalls. Stalls are counted; the budget decides.`,
  },
  p99: {
    pattern: /\bp(50|99)\b/i,
    title: 'Percentiles of the lag: p99 is the lag 99% of the heartbeats stayed within, p50 the median. A stall counts once however long it is: read them with the max.',
  },
  budget: {
    pattern: /\bbudget\b/i,
    title: `The lag budget: the longest lag you accept (looplag.lagBudgetMs / --budget-ms, ${KNOBS.lagBudgetMs.default} ms by default). A mode is safe when its max lag stays within it.`,
  },
  lag: {
    pattern: /\blag\b/i,
    title: "How late the loop's heartbeat woke up: the time the event loop could run nothing else. Every other request or callback waits that long.",
  },
};

const KEYS = Object.keys(TERMS) as TermKey[];

/** A term as a label: its definition as the title, focusable so keyboard users get it too. */
export function term(key: TermKey, text: string): HTMLElement {
  return h('abbr', { class: 'term', title: TERMS[key].title, tabindex: 0, 'data-term': key }, text);
}

/** `text` with every term in it explained (`Lag p99` → Lag and p99, each with its title); the rest as text. */
export function explain(text: string): Child[] {
  let first: { key: TermKey; index: number; length: number } | null = null;
  for (const key of KEYS) {
    const m = TERMS[key].pattern.exec(text);
    if (m && (!first || m.index < first.index)) first = { key, index: m.index, length: m[0].length };
  }
  if (!first) return text ? [text] : [];
  const end = first.index + first.length;
  return [text.slice(0, first.index), term(first.key, text.slice(first.index, end)), ...explain(text.slice(end))].filter((c) => c !== '');
}
