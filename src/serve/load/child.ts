/**
 * dist/loadgen.js: the load generator's process. Its own event loop, so the generator
 * never shares one with the server it measures or with the editor.
 *
 * stdin: the plan, one JSON line, then perhaps `{"type":"cut"}` (the parent cancelled: stop
 * sending and answer with what was measured so far); its end (the parent is gone or gave up) ends us.
 * stdout: ChildMessage JSON lines (nothing else runs here to write on it).
 * The orphan watch kills us when the parent dies without closing stdin.
 */
import { dieWithParent, parentPidFromEnv } from '../../sidecars/node/orphanWatch';
import { generate } from './generator';
import { ChildMessage, CutMessage, LoadPlanSchema, planProblem } from './messages';

function send(message: ChildMessage): void {
  process.stdout.write(JSON.stringify(message) + '\n');
}

/** Sends `message` and exits once stdout has taken it (pipes are asynchronous on Windows). */
function sendAndExit(message: ChildMessage, code: number): void {
  process.stdout.write(JSON.stringify(message) + '\n', () => process.exit(code));
}

async function main(line: string, cut: AbortSignal): Promise<void> {
  const plan = LoadPlanSchema.parse(JSON.parse(line));
  const problem = planProblem(plan);
  if (problem) throw new Error(problem);
  const result = await generate(plan, {
    measuring: (t0EpochMs) => send({ type: 'measuring', t0EpochMs }),
    progress: (p) => send({ type: 'progress', ...p }),
  }, cut);
  if (cut.aborted) sendAndExit({ type: 'cut', result }, 0);
  else if (result) sendAndExit({ type: 'result', result }, 0);
}

/** Reads the plan's line and runs it; a later `cut` line cuts the run. */
function start(): void {
  dieWithParent(parentPidFromEnv());
  let input = '';
  let started = false;
  const cut = new AbortController();
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    input += chunk;
    for (let nl = input.indexOf('\n'); nl >= 0; nl = input.indexOf('\n')) {
      const line = input.slice(0, nl);
      input = input.slice(nl + 1);
      if (!started) {
        started = true;
        main(line, cut.signal).catch((e) => sendAndExit({ type: 'error', message: e instanceof Error ? e.message : String(e) }, 1));
      } else {
        // Anything but a cut is ignored: the parent speaks no other message after the plan.
        try {
          CutMessage.parse(JSON.parse(line));
          cut.abort();
        } catch {
          /* not a cut */
        }
      }
    }
  });
  // The parent closed our stdin: nobody is left to read the result.
  process.stdin.on('end', () => process.exit(started ? 3 : 2));
}

start();
