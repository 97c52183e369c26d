/**
 * Messages between the extension host and the report webview, typed and validated
 * in both directions (the webview never casts `event.data`).
 */
import { arr, Infer, int, literal, nullable, num, obj, optional, str, tagged } from './validate';
import { Mode, ModeRun, Report, Sweep } from './protocol';
import { ServeReport } from './protocol/serveReport';

export const HistoryEntry = obj({
  id: str,
  createdAt: str,
  label: str,
  headline: str,
  status: literal('complete', 'partial', 'failed'),
  /** `sweep`: a worker sweep (looplag.sweep/1); absent (every entry written before sweeps were kept) or `report`: a run's report. */
  kind: optional(literal('report', 'sweep')),
});
export type HistoryEntry = Infer<typeof HistoryEntry>;

export const LiveProgress = obj({ mode: str, phase: str, done: int, total: int });
export type LiveProgress = Infer<typeof LiveProgress>;

/**
 * A service-mode session in progress (issue 14): the variant under load (`variantIndex`
 * of `variants`, 0-based), its phase (src/serve/variant.ts's ServePhase) and requests so far.
 */
export const ServeLive = obj({
  variant: str, variantIndex: int, variants: int, phase: str, elapsedMs: num, durationMs: num, sent: int, completed: int,
});
export type ServeLive = Infer<typeof ServeLive>;

export const ViewOptions = obj({
  lagBudgetMs: num,
  /** Which actions the host supports (a standalone HTML file has no re-run). */
  host: literal('vscode', 'standalone'),
});
export type ViewOptions = Infer<typeof ViewOptions>;

export const ToWebview = tagged({
  /** The whole state: sent after `ready`, and again whenever the panel becomes visible. */
  state: obj({
    type: literal('state'),
    currentId: nullable(str),
    current: nullable(Report),
    compare: nullable(Report),
    history: arr(HistoryEntry),
    running: nullable(LiveProgress),
    options: ViewOptions,
  }),
  /** A run in progress: the report so far (modes fill in as they finish). */
  live: obj({ type: literal('live'), report: Report, progress: nullable(LiveProgress) }),
  /**
   * A run in progress by what changed since the last `live` or `liveDelta` (shared/liveReport.ts):
   * the report's head (`runs: []`), the new runs, every run's mode in order.
   */
  liveDelta: obj({ type: literal('liveDelta'), head: Report, runs: arr(ModeRun), order: arr(Mode), progress: nullable(LiveProgress) }),
  /** A worker sweep (finished, or so far while `running`): shown instead of a report. */
  sweep: obj({
    type: literal('sweep'), sweep: Sweep, running: nullable(LiveProgress),
    /** The sweep's history entry (null or absent: running, or not kept) and the history, listed below it. */
    id: optional(nullable(str)),
    history: optional(arr(HistoryEntry)),
  }),
  /**
   * A service-mode session (looplag.serve/1), finished or so far while `running` (the
   * variants that ended, then the one under load as `running` says): shown instead of a report.
   */
  serve: obj({ type: literal('serve'), report: ServeReport, running: nullable(ServeLive) }),
  /** A one-line notice (e.g. "Markdown copied"). */
  notice: obj({ type: literal('notice'), text: str }),
});
export type ToWebview = Infer<typeof ToWebview>;

export const FromWebview = tagged({
  ready: obj({ type: literal('ready') }),
  rerun: obj({ type: literal('rerun') }),
  cancel: obj({ type: literal('cancel') }),
  openSettings: obj({ type: literal('openSettings') }),
  select: obj({ type: literal('select'), id: str }),
  compare: obj({ type: literal('compare'), id: nullable(str) }),
  exportJson: obj({ type: literal('exportJson'), id: optional(str) }),
  copyMarkdown: obj({ type: literal('copyMarkdown'), id: optional(str) }),
  saveHtml: obj({ type: literal('saveHtml'), id: optional(str) }),
  /**
   * Open a blocker's line in the editor. `file` is as the report has it (relative to the
   * report's workspace); the host opens it only inside that workspace. `column`: the
   * report on show (default) or the one compared with.
   */
  openLocation: obj({ type: literal('openLocation'), file: str, line: int, column: optional(literal('current', 'compare')) }),
  /** The error card's "Select Python Interpreter" (a module the interpreter that ran could not import): runs looplag.selectPythonInterpreter. */
  selectInterpreter: obj({ type: literal('selectInterpreter') }),
});
export type FromWebview = Infer<typeof FromWebview>;
