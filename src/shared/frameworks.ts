/**
 * The web frameworks a sidecar recognises as serving the target (a route's handler), one
 * entry each: the protocol literal, the runtime, and how the framework names itself and
 * its handlers, so the headline speaks the user's words. A new framework is one entry
 * here, its detection in a sidecar, and its name in the Python protocol mirror.
 */
import type { RuntimeName } from './modes';

export interface FrameworkInfo {
  /** As the framework writes its own name. */
  label: string;
  runtime: RuntimeName;
  /** What its docs call a route's function. */
  handler: string;
  /**
   * The keywords declaring a sync and an async handler, when the declaration decides where
   * the framework runs it (a `def` endpoint in the threadpool, an `async def` one on the
   * loop); null when every handler runs on the loop.
   */
  declarations: readonly [sync: string, async: string] | null;
}

export const FRAMEWORKS = {
  fastapi: { label: 'FastAPI', runtime: 'python', handler: 'endpoint', declarations: ['def', 'async def'] },
  starlette: { label: 'Starlette', runtime: 'python', handler: 'endpoint', declarations: ['def', 'async def'] },
  express: { label: 'Express', runtime: 'node', handler: 'handler', declarations: null },
} as const satisfies Record<string, FrameworkInfo>;

export type FrameworkName = keyof typeof FRAMEWORKS;
export const FRAMEWORK_NAMES = Object.keys(FRAMEWORKS) as FrameworkName[];

/** A known framework's entry; undefined for a name from a newer sidecar or report (then worded as a plain function). */
export function frameworkInfo(name: string): FrameworkInfo | undefined {
  return Object.prototype.hasOwnProperty.call(FRAMEWORKS, name) ? FRAMEWORKS[name as FrameworkName] : undefined;
}

/**
 * "3 concurrent requests" for a route's report (each call stands for one request to it),
 * else "3 concurrent calls": the settings line of every view's header. A framework this
 * version does not know is worded as a plain function, as the headline does.
 */
export function concurrentCalls(report: { settings: { concurrency: number }; target: { framework?: { name: string } } }): string {
  const route = report.target.framework && frameworkInfo(report.target.framework.name);
  return `${report.settings.concurrency} concurrent ${route ? 'requests' : 'calls'}`;
}
