/**
 * Errors as the verdict (issue 16): a run that measured nothing is one card (the cause in
 * a sentence, the way out as a button, the traceback folded), and calls that raised are
 * grouped by error with one traceback each, the tool's own frames taken out. Every string
 * here comes from the user's code or interpreter: built with h() only.
 */
import type { ModeRun, Report, TaskRecord } from '../shared/protocol';
import { relativeToTarget, userFrame, userFrameLocation, withoutToolFrames } from '../stats/callErrors';
import { h, icon } from './dom';
import { missingModuleAction } from '../advice/advise';

/** What the card and the traceback links may ask of the host; absent in the standalone page. */
export interface ErrorActions {
  /** Makes ids unique when two reports are side by side. */
  idPrefix: string;
  open?: (file: string, line: number) => void;
  selectInterpreter?: () => void;
  copy?: (text: string) => void;
}

const notMeasured = (message: string) => message.replace(/^not measured:\s*/i, '');

/** Nothing could be measured: the run's own error stopped every mode. */
export function nothingMeasured(report: Report): boolean {
  return Boolean(report.error) && report.runs.length > 0 && report.runs.every((r) => r.status === 'skipped');
}

/** The way out of an error, by what the message says (advise.ts words the same in the headline). */
type Action =
  | { kind: 'interpreter' }
  | { kind: 'npm'; command: string }
  | { kind: 'open' };

/** A package name as npm allows it (lower case, no spaces or shell characters), optionally scoped. */
const NPM_NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/;

/** What the card offers for the error: exported for its unit test. */
export function actionOf(report: Report): Action | null {
  const e = report.error;
  if (!e) return null;
  if (e.kind === 'import-error' && /\bNo module named\b/.test(e.message) && report.runtime) return { kind: 'interpreter' };
  if (e.kind === 'import-error' && /\bCannot find (module|package)\b|ERR_MODULE_NOT_FOUND/.test(e.message)) {
    // `Cannot find package 'lodash' imported from …`: the package's name, without a subpath.
    const name = /Cannot find (?:module|package) '((?:@[^/']+\/)?[^/']+)/.exec(e.message)?.[1];
    // Pasted into a shell: only a name npm could publish, never text from a dynamic require.
    return { kind: 'npm', command: name && NPM_NAME.test(name) ? `npm install ${name}` : 'npm install' };
  }
  return e.file && e.line ? { kind: 'open' } : null;
}

/** The card shown instead of verdicts, table, charts and details when nothing was measured. */
export function errorCard(report: Report, actions: ErrorActions): HTMLElement {
  const e = report.error!;
  const action = actionOf(report);
  const rt = report.runtime;
  const where = e.file && e.line ? `${relativeToTarget(e.file, report.target.file)}:${e.line}` : null;
  const openButton = (primary: boolean) => (where && actions.open
    ? h('button', { class: primary ? 'primary' : 'secondary', 'data-action': 'open-error', 'aria-label': `Open ${where} in the editor`, onclick: () => actions.open!(e.file!, e.line!) },
      icon('go-to-file'), `Open ${where}`)
    : null);
  const buttons: (HTMLElement | null)[] = [];
  let hint: HTMLElement | null = null;
  if (action?.kind === 'interpreter' && rt) {
    hint = h('p', { 'data-testid': 'error-interpreter' }, `${rt.implementation} ${rt.version} at `, h('code', {}, rt.executable),
      ' ran it: install the module for that interpreter, or choose the one your code runs with.');
    if (actions.selectInterpreter) {
      buttons.push(h('button', { 'data-action': 'select-interpreter', onclick: actions.selectInterpreter }, icon('symbol-namespace'), 'Select Python Interpreter'));
    }
    buttons.push(openButton(false));
  } else if (action?.kind === 'npm') {
    hint = h('p', { 'data-testid': 'error-npm' }, 'Install it in the project: ', h('code', {}, action.command));
    if (actions.copy) buttons.push(h('button', { 'data-action': 'copy-npm', onclick: () => actions.copy!(action.command) }, icon('copy'), `Copy ${action.command}`));
    buttons.push(openButton(false));
  } else {
    buttons.push(openButton(true));
  }
  const detail = e.detail ? withoutToolFrames(e.detail) : null;
  const id = `${actions.idPrefix}error-card-h`;
  return h('section', { class: 'error-card', role: 'alert', 'aria-labelledby': id, 'data-testid': 'error-card', 'data-kind': e.kind },
    h('h2', { id }, icon('error'), ` ${kindTitle(e.kind)}`),
    // The interpreter line below says which one ran it: the headline's parenthesis would say it twice.
    h('p', { class: 'cause', 'data-testid': 'error-cause' }, causeOf(report, action)),
    hint,
    buttons.some(Boolean) ? h('div', { class: 'actions' }, buttons) : null,
    detail ? h('details', { 'data-testid': 'error-detail' },
      h('summary', {}, `Traceback (${e.kind})`),
      h('pre', {}, detail.text),
      detail.hidden ? h('p', { class: 'notes' }, hiddenNote(detail.hidden)) : null) : null,
    otherSkips(report),
  );
}

/** Modes skipped for a reason of their own (not the run's error): one line per reason, naming its modes. */
function otherSkips(report: Report): HTMLElement | null {
  const runError = notMeasured(report.error?.message ?? '');
  const byReason = new Map<string, string[]>();
  for (const r of report.runs) {
    const why = notMeasured(r.error?.message ?? 'not run');
    if (r.status === 'skipped' && why !== runError) byReason.set(why, [...(byReason.get(why) ?? []), r.mode]);
  }
  if (!byReason.size) return null;
  return h('ul', { class: 'notes', 'data-testid': 'other-skips' }, [...byReason].map(([why, modes]) => h('li', {}, `${modes.join(', ')}: ${why}`)));
}

/** `import-error` → `Import error`: the card's title (the headline under it says the rest). */
function kindTitle(kind: string): string {
  const words = kind.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function hiddenNote(n: number): string {
  return `${n} ${n === 1 ? 'frame' : 'frames'} of Loop Lag, the pool or the event loop hidden.`;
}

interface RaisedGroup {
  key: string;
  modes: string[];
  raised: number;
  calls: number;
  first: TaskRecord;
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim()) ?? '';
}

/** Per mode, the calls that raised by error (type and message), the earliest of each kept. */
function groupsOf(run: ModeRun): RaisedGroup[] {
  const groups = new Map<string, RaisedGroup>();
  for (const t of run.tasks) {
    if (!t.error) continue;
    const key = `${t.error.type}${t.error.message ? `: ${firstLine(t.error.message)}` : ''}`;
    const g = groups.get(key);
    if (!g) groups.set(key, { key, modes: [run.mode], raised: 1, calls: run.tasks.length, first: t });
    else {
      g.raised++;
      if ((t.endMs ?? Infinity) < (g.first.endMs ?? Infinity)) g.first = t;
    }
  }
  return [...groups.values()];
}

/** `10 calls raised the same error: ValueError: bad 3`, or `3 of 10 calls …`, or `1 of 10 calls raised …`. */
function raisedPhrase(g: RaisedGroup): string {
  const count = g.raised === g.calls ? `${g.raised}` : `${g.raised} of ${g.calls}`;
  return g.raised === 1 ? `${count} call raised ${g.key}` : `${count} calls raised the same error: ${g.key}`;
}

/**
 * "Calls that raised": one line per error, naming every mode where it was the same count
 * (`inline, thread, process: 10 calls raised …`), and under each error its first traceback
 * without the tool's frames, with the user's innermost line as a link.
 */
export function raisedCalls(report: Report, actions: ErrorActions): HTMLElement | null {
  const merged = new Map<string, RaisedGroup>();
  for (const run of report.runs.filter((r) => r.status !== 'skipped')) {
    for (const g of groupsOf(run)) {
      const line = raisedPhrase(g);
      const same = merged.get(line);
      if (same) same.modes.push(run.mode);
      else merged.set(line, g);
    }
  }
  if (!merged.size) return null;
  const shown = new Set<string>();
  const id = `${actions.idPrefix}raised-h`;
  return h('section', { class: 'raised', 'aria-labelledby': id, 'data-testid': 'raised' },
    h('h2', { id }, 'Calls that raised'),
    [...merged].map(([line, g]) => {
      // One traceback per error, under its first line (the same error's other counts name it only).
      const traceback = shown.has(g.key) ? null : g.first.error!.traceback;
      shown.add(g.key);
      return h('div', { class: 'raised-group', 'data-modes': g.modes.join(',') },
        h('p', { class: 'raised-line', 'data-testid': 'raised-line' }, icon('error'), ` ${g.modes.join(', ')}: ${line}`),
        traceback ? tracebackBlock(traceback, report, actions) : null);
    }),
  );
}

function tracebackBlock(traceback: string, report: Report, actions: ErrorActions): HTMLElement {
  const at = userFrameLocation(traceback);
  const label = userFrame(traceback, report.target.file);
  const { text, hidden } = withoutToolFrames(traceback);
  return h('div', { class: 'traceback' },
    at && label ? h('p', { class: 'raised-at' }, 'Raised at ', actions.open
      ? h('button', { class: 'link location', 'data-testid': 'raised-at', 'aria-label': `Open ${label} in the editor`, title: `Open ${label}`, onclick: () => actions.open!(at.file, at.line) }, label)
      : h('code', { class: 'location', 'data-testid': 'raised-at' }, label)) : null,
    h('pre', { class: 'task-error', 'data-testid': 'raised-traceback' }, text),
    hidden ? h('p', { class: 'notes' }, hiddenNote(hidden)) : null,
  );
}

/** The card's first line: the headline, less the interpreter parenthesis the card shows on its own line. */
function causeOf(report: Report, action: Action | null): string {
  const e = report.error!;
  if (!report.headline) return `${e.kind}: ${e.message}`;
  const aside = action?.kind === 'interpreter' ? missingModuleAction(report) : '';
  return aside ? report.headline.replace(aside, '') : report.headline;
}
