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
await esbuild.build({ ...common, entryPoints: { cli: 'src/cli.ts', extension: 'src/extension.ts' }, outdir: 'dist' });
// The report UI: one browser bundle for the webview panel and the standalone HTML file.
await esbuild.build({
  ...common,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  entryPoints: { main: 'src/webview/main.ts' },
  outdir: 'dist/webview',
  tsconfig: 'src/webview/tsconfig.json',
  minify: true,
  sourcemap: false,
});
// Styles twice: with the codicon font as a file (webview: served from dist/) and inlined
// as a data: URL (standalone HTML: one self-contained file).
await esbuild.build({ ...common, platform: 'browser', entryPoints: { main: 'src/webview/index.css' }, outdir: 'dist/webview', loader: { '.ttf': 'file' }, assetNames: '[name]', minify: true, sourcemap: false });
await esbuild.build({ ...common, platform: 'browser', entryPoints: { standalone: 'src/webview/index.css' }, outdir: 'dist/webview', loader: { '.ttf': 'dataurl' }, minify: true, sourcemap: false });
// The Node sidecar runs on the user's Node (18.19+), not the editor's: its own target.
const nodeSidecar = { ...common, target: 'node18', outdir: 'dist/sidecars/node', external: ['typescript'] };
await esbuild.build({ ...nodeSidecar, entryPoints: { sidecar: 'src/sidecars/node/main.ts', worker: 'src/sidecars/node/poolWorker.ts', serve: 'src/sidecars/node/serve/main.ts' } });
await esbuild.build({ ...nodeSidecar, format: 'esm', entryPoints: { hooks: 'src/sidecars/node/hooks.ts' }, outExtension: { '.js': '.mjs' } });
// The load generator (`looplag serve`): its own process, on the CLI's Node (18.19+) or the
// editor's; undici and hdr-histogram-js bundled in (the extension ships no node_modules).
await esbuild.build({ ...common, target: 'node18', entryPoints: { loadgen: 'src/serve/load/child.ts' }, outdir: 'dist' });
// The TypeScript compiler as one plain-JS file (platform-independent), loaded only for .ts targets.
await esbuild.build({ ...nodeSidecar, entryPoints: { typescript: 'node_modules/typescript/lib/typescript.js' }, external: [], minify: true, sourcemap: false, logLevel: 'error' });
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
      else if (/\.test\.ts$/.test(name) || p === join('test', 'bench', 'bench.ts') || dir === join('test', 'tools')) entries.push(p);
    }
  };
  walk('test');
  rmSync('out', { recursive: true, force: true });
  const entryPoints = Object.fromEntries(entries.map((p) => [relative('test', p).replace(/\.ts$/, ''), p]));
  // Unit tests of host-side plumbing get a stand-in `vscode` module.
  await esbuild.build({
    ...common, sourcemap: 'inline', entryPoints, outdir: 'out/test',
    external: ['playwright-core'], alias: { vscode: './test/support/fakeVscode.ts' },
  });
}
