/** `looplag serve`'s progress on a terminal (a session's and a sweep's). */
import type { ServeProgress } from '../serve/session';

/** One line on a terminal, rewritten in place: `[looplag] 2 processes: measuring 12.3 s, 480 sent, 478 answered`. */
export class ServeProgressLine {
  update(p: ServeProgress): void {
    const counts = p.phase === 'warmup' || p.phase === 'measuring' || p.phase === 'draining'
      ? ` ${(p.elapsedMs / 1000).toFixed(1)} s, ${p.sent} sent, ${p.completed} answered`
      : '';
    process.stderr.write(`\r\x1b[K[looplag] ${p.variant}: ${p.phase}${counts}`);
  }
  clear(): void {
    process.stderr.write('\r\x1b[K');
  }
}
