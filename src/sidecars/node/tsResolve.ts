/**
 * Imports of a TypeScript file the way tsx and bundlers resolve them, after Node's own
 * resolution failed: the tsconfig's `paths` (with `baseUrl`, and `extends` followed),
 * extensionless relative imports (`./lib` → lib.ts, `./dir` → dir/index.ts) and `./x.js`
 * meaning `./x.ts`. TypeScript's own `resolveModuleName` decides, with the project's
 * options and `moduleResolution: bundler` (what tsx does whatever the project's setting:
 * under `nodenext` tsc would refuse `./lib`, tsx runs it), so the rules are the
 * compiler's, not a copy of them. Packages (node_modules) stay Node's to resolve.
 */
import * as path from 'node:path';
import type * as TSNS from 'typescript';
import { findUp, loadTypeScript } from './transpile';

export class TsResolver {
  /** Parsed options per tsconfig.json path ('' for a file without one). */
  private readonly options = new Map<string, TSNS.CompilerOptions>();

  constructor(private readonly baseDir: string) {}

  /** The file `specifier` names from `parentFile`, or null when TypeScript's rules find none. */
  resolve(specifier: string, parentFile: string): string | null {
    const ts = loadTypeScript(this.baseDir);
    const found = ts.resolveModuleName(specifier, parentFile, this.optionsFor(ts, parentFile), ts.sys).resolvedModule;
    if (!found || found.isExternalLibraryImport || /\.d\.[cm]?ts$/i.test(found.resolvedFileName)) return null;
    return path.resolve(found.resolvedFileName);
  }

  private optionsFor(ts: typeof TSNS, parentFile: string): TSNS.CompilerOptions {
    const config = findUp(path.dirname(parentFile), 'tsconfig.json') ?? '';
    let options = this.options.get(config);
    if (!options) {
      options = {
        ...(config ? parse(ts, config) : {}),
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        allowImportingTsExtensions: true,
        resolveJsonModule: true,
      };
      this.options.set(config, options);
    }
    return options;
  }
}

function parse(ts: typeof TSNS, config: string): TSNS.CompilerOptions {
  const host: TSNS.ParseConfigFileHost = {
    ...ts.sys,
    // A broken tsconfig must not stop the run: it then resolves as if there were none.
    onUnRecoverableConfigFileDiagnostic: () => undefined,
  };
  try {
    return ts.getParsedCommandLineOfConfigFile(config, {}, host)?.options ?? {};
  } catch {
    return {};
  }
}
