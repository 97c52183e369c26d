/**
 * Every message that crosses a process boundary, and the report, typed once; the one
 * import path for all of them. Each part lives in protocol/ by what it describes:
 * common.ts (modes, error kinds), inputs.ts (the run's inputs), sidecar.ts (host ⇄
 * sidecar messages), tools.ts (the one-shot tools' messages), report.ts
 * (looplag.report/1), sweep.ts (looplag.sweep/1).
 * The Python mirror is src/sidecars/python/looplag_sidecar/protocol.py; the shared
 * fixtures in test/fixtures/protocol/*.jsonl are checked by both test suites.
 */
export * from './protocol/common';
export * from './protocol/inputs';
export * from './protocol/sidecar';
export * from './protocol/tools';
export * from './protocol/report';
export * from './protocol/sweep';
