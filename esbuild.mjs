// One build script: bundles the host-side engine and CLI (node/cjs) and copies the
// stdlib-only Python sidecar next to it. `--tests` also bundles the TypeScript tests
// and the bench into out/ so `node --test` can run them without a TS loader.
import * as esbuild from 'esbuild';
import { cpSync, rmSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const withTests = process.argv.includes('--tests');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  external: ['vscode'],
};

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });
await esbuild.build({ ...common, entryPoints: { cli: 'src/cli.ts' }, outdir: 'dist' });
cpSync('src/sidecars/python', 'dist/sidecars/python', {
  recursive: true,
  filter: (src) => !src.includes('__pycache__'),
});

if (withTests) {
  const entries = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.test\.ts$/.test(name) || p === join('test', 'bench', 'bench.ts')) entries.push(p);
    }
  };
  walk('test');
  rmSync('out', { recursive: true, force: true });
  const entryPoints = Object.fromEntries(entries.map((p) => [relative('test', p).replace(/\.ts$/, ''), p]));
  await esbuild.build({ ...common, sourcemap: 'inline', entryPoints, outdir: 'out/test' });
}
