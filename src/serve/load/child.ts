/**
 * dist/loadgen.js: the load generator's process. Its own event loop, so the generator
 * never shares one with the server it measures or with the editor.
 *
 * stdin: the plan, one JSON line; its end (the parent is gone or gave up) ends us.
 * stdout: ChildMessage JSON lines (nothing else runs here to write on it).
 * The orphan watch kills us when the parent dies without closing stdin.
 */
import { dieWithParent, parentPidFromEnv } from '../../sidecars/node/orphanWatch';
import { generate } from './generator';
import { ChildMessage, LoadPlanSchema, planProblem } from './messages';

function send(message: ChildMessage): void {
  process.stdout.write(JSON.stringify(message) + '\n');
}

/** Sends `message` and exits once stdout has taken it (pipes are asynchronous on Windows). */
function sendAndExit(message: ChildMessage, code: number): void {
  process.stdout.write(JSON.stringify(message) + '\n', () => process.exit(code));
}

async function main(line: string): Promise<void> {
  const plan = LoadPlanSchema.parse(JSON.parse(line));
  const problem = planProblem(plan);
  if (problem) throw new Error(problem);
  const result = await generate(plan, {
    measuring: () => send({ type: 'measuring' }),
    progress: (p) => send({ type: 'progress', ...p }),
  });
  sendAndExit({ type: 'result', result }, 0);
}

/** Reads the plan's line and runs it; only the first line counts. */
function start(): void {
  dieWithParent(parentPidFromEnv());
  let input = '';
  let started = false;
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    if (started) return;
    input += chunk;
    const nl = input.indexOf('\n');
    if (nl < 0) return;
    started = true;
    main(input.slice(0, nl)).catch((e) => sendAndExit({ type: 'error', message: e instanceof Error ? e.message : String(e) }, 1));
  });
  // The parent closed our stdin: nobody is left to read the result.
  process.stdin.on('end', () => process.exit(started ? 3 : 2));
}

start();
