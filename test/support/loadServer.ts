/** The load generator's test server (test/fixtures/node/load/server.cjs) in a process of its own. */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { FIXTURES } from './helpers';

export const LOAD_SERVER = path.join(FIXTURES, 'node', 'load', 'server.cjs');

export interface LoadServer {
  origin: string;
  pid: number;
  child: ChildProcess;
  /** Ends the server (stdin closed, then SIGKILL if it lingers) and waits for its exit. */
  stop(): Promise<void>;
}

/** Starts the server (`--block MS:EVERY` to stall its loop on a schedule) and waits for its port. */
export function startLoadServer(args: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<LoadServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOAD_SERVER, ...args], { stdio: ['pipe', 'pipe', 'inherit'], env });
    let out = '';
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const stop = async () => {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    };
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`load server exited (code ${code}) before listening: ${out}`)));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      out += text;
      const m = /port (\d+)/.exec(out);
      if (m) resolve({ origin: `http://127.0.0.1:${m[1]}`, pid: child.pid!, child, stop });
    });
  });
}
