/**
 * How advice names where the loop was blocked (blockers.ts picks which): the line, its
 * source text, the library call under it, its share of the stalled time.
 *
 * A line's source text and a file's name come from the user's workspace. Advice text is
 * plain text with Markdown code spans, shown as text by the panel (textContent), escaped
 * by the Markdown export and shown as Markdown by the editor's hover, so what is quoted
 * here must stay inert in all three: control and bidi characters are replaced (a terminal
 * escape in the CLI, Trojan Source in the editor), and a code span's fence is longer than
 * any run of backticks inside it, so a backtick in the source cannot close it early.
 */
import type { RuntimeName } from '../shared/modes';
import type { Blocker } from '../shared/protocol';
import type { StepShare } from './blockers';
import { fmtMs, fmtPct, printable } from '../shared/format';
import { WORDS } from './runtimes';

/** Source text longer than this is cut (the sidecar sends up to 200 characters): advice quotes a line, not a paragraph. */
const SOURCE_MAX_CHARS = 100;

/** Text safe to quote: whitespace runs (line breaks included) become one space, other unsafe characters U+FFFD; at most `max` characters. */
export function plain(text: string, max = SOURCE_MAX_CHARS): string {
  const s = printable(text);
  return s.length > max ? `${s.slice(0, max - 1).trimEnd()}…` : s;
}

/** A Markdown code span holding `text` verbatim, whatever backticks it holds (CommonMark's rule for fences). */
export function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  // A span's content starting or ending with a backtick needs a space before the fence (stripped when shown).
  const pad = /^`|`$/.test(text) ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** Characters Markdown would read in a path outside intra-word underscores: such a path is quoted as code. */
const MARKDOWN_IN_PATH = /[`*[\]<>\\|~]|(^|[^A-Za-z0-9])_|_([^A-Za-z0-9]|$)/;

/** `services/feeds.py:17`, or quoted as code when the path holds Markdown. */
export function place(file: string, line: number | null): string {
  const text = `${plain(file, 200)}${line !== null ? `:${line}` : ''}`;
  return MARKDOWN_IN_PATH.test(text) ? code(text) : text;
}

/** The line is where its function starts (Node's profiler names no lines in a caller), not the line that ran. */
function lineIsDefinition(b: Blocker): boolean {
  return b.stack.some((f) => f.file === b.file && f.line === b.line && f.function === b.function && f.lineIsDefinition === true);
}

/** The library or runtime call under the user's line: ` → \`lxml.etree.fromstring\``, or nothing. */
function callee(b: Blocker, runtime: RuntimeName): string {
  if (!b.library) return '';
  const { name, where } = WORDS[runtime].frameName(b.library);
  return ` → ${code(plain(name))}${where ? ` in ${place(where, null)}` : ''}`;
}

/**
 * What blocked, as the user finds it: "`json.dumps(doc)` at services/serialize.py:12 →
 * `json.encoder.iterencode`"; "`to_json` at …" when the line's text is unknown;
 * "`parseFeed` (defined at src/feeds.js:9)" when the line is only its function's first.
 */
export function blockerLine(b: Blocker, runtime: RuntimeName): string {
  const where = b.file !== null ? place(b.file, b.line) : null;
  const fn = code(plain(b.function || '(anonymous)'));
  const source = b.source ? plain(b.source) : '';
  const what = lineIsDefinition(b) || !source
    ? (where ? `${fn} ${lineIsDefinition(b) ? `(defined at ${where})` : `at ${where}`}` : fn)
    : `${code(source)}${where ? ` at ${where}` : ''}`;
  return what + callee(b, runtime);
}

/** The blocker's figures: "82%, 1.23 s". */
const shareOf = (b: Blocker) => `${fmtPct(b.share)}, ${fmtMs(b.stalledMs)}`;

/**
 * inline-blocks-loop, async-def-blocks-loop: the lines that ran on the loop while it
 * stalled (leading space), or nothing.
 */
export function loopLinesSentence(blockers: Blocker[], runtime: RuntimeName): string {
  const [top, ...rest] = blockers;
  if (!top) return '';
  const head = top.share > 0.5 // "most" means more than half
    ? ` Most of the stalled time (${shareOf(top)}) was ${blockerLine(top, runtime)}`
    : ` The largest part of the stalled time (${shareOf(top)}) was ${blockerLine(top, runtime)}`;
  return head + rest.map((b) => `; then ${blockerLine(b, runtime)} (${shareOf(b)})`).join('') + '.';
}

/**
 * gil-held-native: how long the line held the GIL. From the one-thread diagnostic (one
 * call, so the whole figure is that call's), else thread mode's per stall.
 */
export function nativeHoldSentence(b: Blocker, runtime: RuntimeName, diagnosticCallMs: number | null): string {
  const line = blockerLine(b, runtime);
  if (diagnosticCallMs !== null) {
    return `${line} held the GIL for ${fmtMs(b.stalledMs)} of the one-thread diagnostic's ${fmtMs(diagnosticCallMs)} call ` +
      `(${fmtPct(b.share)} of the loop's stalled time in it).`;
  }
  return `${line} held the GIL for ${fmtMs(b.stalledMs / Math.max(1, b.stalls))} per stall in thread mode ` +
    `(${b.stalls} stall${b.stalls === 1 ? '' : 's'}, ${fmtPct(b.share)} of the stalled time).`;
}

/** gil-contention: the lines the workers ran while the loop waited for the GIL (leading space). */
export function workerLinesSentence(blockers: Blocker[], runtime: RuntimeName): string {
  const [top, ...rest] = blockers;
  if (!top) return '';
  return ` While the loop waited, the workers ran ${blockerLine(top, runtime)} for ${fmtPct(top.share)} of the stalled time (${fmtMs(top.stalledMs)})` +
    rest.map((b) => `; ${blockerLine(b, runtime)} for ${fmtPct(b.share)} (${fmtMs(b.stalledMs)})`).join('') + '.';
}

/** What a step of a pool call is, in words. */
const STEP_WORDS: { readonly [S in Blocker['step']]: string } = {
  call: 'the call itself',
  'serialize-args': 'serializing the arguments',
  'deserialize-result': 'deserializing the results',
  'pool-manager': "the pool's manager thread",
  gc: 'garbage collection',
};

/** transfer-overhead, process-overhead: the pool steps' shares of the loop's stalled time (leading space). */
export function stepSharesSentence(steps: StepShare[], mode: string): string {
  if (!steps.length) return '';
  const [first, ...rest] = steps.map((s) => `${STEP_WORDS[s.step]} was ${fmtPct(s.share)} (${fmtMs(s.stalledMs)})`);
  return ` Of the loop's stalled time in ${mode} mode, ${first}${rest.map((s) => `, ${s}`).join('')}.`;
}
