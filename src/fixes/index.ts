/**
 * The editor's hints and quick fixes (issue 15), as pure functions over source text: no
 * vscode, no processes, no parser shipped. The editor maps `Range`/`TextEdit` one to one onto
 * its own and applies the edits as one WorkspaceEdit (undoable).
 *
 *  - `scanBlockingCalls(text, language)`: calls to well-known blocking APIs in code that runs
 *    on the loop, before any measurement (information hints, "may block the loop — Measure").
 *  - The builders take the text and the call's range (a Finding's, or a measured call site's)
 *    and return `{ edits }` or `{ notOffered: why }`. Which to offer is the measurement's call:
 *    GIL released → `pythonToThread`; GIL held or pure Python → `pythonProcessPool`; a FastAPI
 *    endpoint threads are safe for → `fastapiAsyncToDef`; Node → `nodeSyncToAsync`.
 */
export { scanBlockingCalls } from './scan';
export type { Finding } from './findings';
export { fastapiAsyncToDef, PROCESS_POOL_NAME, pythonProcessPool, pythonToThread } from './editsPython';
export { ASYNC_TWINS, nodeSyncToAsync } from './editsNode';
export { type ModuleFormat } from './nodeImports';
export { applyEdits, type FixResult, type Position, type Range, type TextEdit } from './text';
