/**
 * `sidecar.js outline FILE`: the functions of a JS/TS file from the TypeScript parser,
 * without running it; `sidecar.js check-args TEXT`: is TEXT the inside of a call's
 * parentheses? Both answer with a ToolMessage (shared/protocol.ts), as the Python sidecar's
 * tools do, so the host treats both alike.
 */
import * as path from 'node:path';
import type * as TSNS from 'typescript';
import type { OutlineFunction, ReExport, RunError } from '../../shared/protocol';
import { loadTypeScript } from './transpile';

export type { OutlineFunction, ReExport };

/** The outline as this sidecar uses it (the `outline` tool sends it as a ToolMessage). */
export type OutlineResult =
  | { ok: true; functions: OutlineFunction[]; reexports?: ReExport[] }
  | { ok: false; error: RunError };

function scriptKind(ts: typeof TSNS, file: string): TSNS.ScriptKind {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.tsx') return ts.ScriptKind.TSX;
  if (ext === '.jsx') return ts.ScriptKind.JSX;
  if (['.ts', '.mts', '.cts'].includes(ext)) return ts.ScriptKind.TS;
  return ts.ScriptKind.JS;
}

function parseDiagnostics(sf: TSNS.SourceFile): readonly TSNS.DiagnosticWithLocation[] {
  return (sf as unknown as { parseDiagnostics?: TSNS.DiagnosticWithLocation[] }).parseDiagnostics ?? [];
}

export function outline(baseDir: string, file: string, source: string): OutlineResult {
  const ts = loadTypeScript(baseDir);
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, scriptKind(ts, file));
  const diag = parseDiagnostics(sf)[0];
  if (diag) {
    const line = sf.getLineAndCharacterOfPosition(diag.start).line + 1;
    return { ok: false, error: { kind: 'syntax-error', message: `${ts.flattenDiagnosticMessageText(diag.messageText, '\n')} (line ${line})`, detail: null, line } };
  }
  const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;
  const out: OutlineFunction[] = [];
  const hasMod = (n: TSNS.Node, k: TSNS.SyntaxKind) => Boolean(ts.canHaveModifiers(n) && ts.getModifiers(n)?.some((m) => m.kind === k));
  const params = (fn: TSNS.SignatureDeclarationBase) => fn.parameters
    .filter((p) => !(ts.isIdentifier(p.name) && p.name.text === 'this'))
    .map((p) => ({
      name: (p.dotDotDotToken ? '...' : '') + (ts.isIdentifier(p.name) ? p.name.text : p.name.getText(sf)),
      required: !p.questionToken && !p.initializer && !p.dotDotDotToken,
    }));
  const isGenerator = (fn: TSNS.FunctionLikeDeclaration) => Boolean(fn.asteriskToken);
  const add = (qualname: string, kind: OutlineFunction['kind'], whole: TSNS.Node, nameNode: TSNS.Node, fn: TSNS.FunctionLikeDeclaration, exported: boolean) => {
    out.push({
      qualname, kind, line: lineOf(whole.getStart(sf, true) + leadingTrivia(whole)), defLine: lineOf(nameNode.getStart(sf)), endLine: lineOf(whole.getEnd()),
      isAsync: hasMod(fn, ts.SyntaxKind.AsyncKeyword), isGenerator: isGenerator(fn), exported, params: params(fn),
    });
    if (fn.body) nested(fn.body, qualname);
  };
  // Decorators are part of the node; JSDoc comments are not (getStart(sf, false) skips them).
  const leadingTrivia = (n: TSNS.Node) => n.getStart(sf, false) - n.getStart(sf, true);
  const nested = (node: TSNS.Node, outer: string) => {
    const visit = (n: TSNS.Node) => {
      if (ts.isFunctionDeclaration(n) && n.name) {
        add(`${outer}.<locals>.${n.name.text}`, 'nested', n, n.name, n, false);
        return;
      }
      if (ts.isClassLike(n)) return;
      ts.forEachChild(n, visit);
    };
    ts.forEachChild(node, visit);
  };
  const reexports: ReExport[] = [];
  /** Export names of module-scope bindings, attached once every function is known. */
  const aliasOf: [local: string, name: string][] = [];
  // A function expression's own name (`function foo() {}`), else where it is assigned.
  const fnExpr = (e: TSNS.Expression | undefined) => {
    const f = e && skipParens(ts, e);
    return f && (ts.isArrowFunction(f) || ts.isFunctionExpression(f)) ? f : null;
  };
  const exportsTarget = (e: TSNS.Expression): string | null => {
    // `module.exports` → 'default'; `module.exports.x` / `exports.x` → 'x'.
    const text = e.getText(sf).replace(/\s+/g, '');
    if (text === 'module.exports') return 'default';
    const m = /^(?:module\.)?exports\.([^.]+)$/u.exec(text);
    return m ? m[1] : null;
  };
  for (const st of sf.statements) {
    const exported = hasMod(st, ts.SyntaxKind.ExportKeyword);
    const isDefault = hasMod(st, ts.SyntaxKind.DefaultKeyword);
    if (ts.isFunctionDeclaration(st) && (st.name || isDefault)) {
      if (st.name) {
        add(st.name.text, 'function', st, st.name, st, exported);
        if (isDefault) aliasOf.push([st.name.text, 'default']);
      } else {
        add('default', 'function', st, st, st, true);
      }
    } else if (ts.isExportAssignment(st) && !st.isExportEquals) {
      const f = fnExpr(st.expression);
      if (f) add('default', 'function', st, st, f, true);
      else if (ts.isIdentifier(st.expression)) aliasOf.push([st.expression.text, 'default']);
    } else if (ts.isExportDeclaration(st) && !st.isTypeOnly) {
      const from = st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier) ? st.moduleSpecifier.text : null;
      if (st.exportClause && ts.isNamedExports(st.exportClause)) {
        for (const el of st.exportClause.elements) {
          const name = (el.propertyName ?? el.name).getText(sf);
          if (from) reexports.push({ name, as: el.name.getText(sf), from });
          else aliasOf.push([name, el.name.getText(sf)]);
        }
      } else if (from && !st.exportClause) {
        reexports.push({ name: '*', as: '*', from });
      }
    } else if (ts.isExpressionStatement(st) && ts.isBinaryExpression(st.expression) && st.expression.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      // CommonJS: `module.exports = function …`, `= { fn, g: function … }`, `exports.fn = …`.
      const { left, right } = st.expression;
      const name = exportsTarget(left);
      const value = skipParens(ts, right);
      const f = fnExpr(value);
      if (name && f) add(name, 'function', st, left, f, true);
      else if (name && ts.isIdentifier(value)) aliasOf.push([value.text, name]);
      else if (name === 'default' && ts.isObjectLiteralExpression(value)) {
        for (const p of value.properties) {
          if (ts.isShorthandPropertyAssignment(p)) aliasOf.push([p.name.text, p.name.text]);
          else if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) {
            const pf = fnExpr(p.initializer);
            if (pf) add(p.name.text, 'function', p, p.name, pf, true);
            else if (ts.isIdentifier(p.initializer)) aliasOf.push([p.initializer.text, p.name.text]);
          } else if (ts.isMethodDeclaration(p) && ts.isIdentifier(p.name) && p.body) {
            add(p.name.text, 'function', p, p.name, p, true);
          }
        }
      }
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        const init = d.initializer && skipParens(ts, d.initializer);
        if (ts.isIdentifier(d.name) && init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) {
          add(d.name.text, 'function', st.declarationList.declarations.length === 1 ? st : d, d.name, init, exported);
        }
      }
    } else if (ts.isClassDeclaration(st) && (st.name || isDefault)) {
      // `export default class { static m() {} }` is `default.m`; a named one is also reached so.
      const cls = st.name?.text ?? 'default';
      if (st.name && isDefault) {
        for (const m of st.members) if (m.name && ts.isIdentifier(m.name)) aliasOf.push([`${cls}.${m.name.text}`, `default.${m.name.text}`]);
      }
      for (const m of st.members) {
        const isStatic = hasMod(m, ts.SyntaxKind.StaticKeyword);
        if (ts.isMethodDeclaration(m) && m.body && (ts.isIdentifier(m.name) || ts.isPrivateIdentifier(m.name))) {
          add(`${cls}.${m.name.text}`, isStatic && ts.isIdentifier(m.name) ? 'staticmethod' : 'method', m, m.name, m, exported);
        } else if (ts.isPropertyDeclaration(m) && m.initializer && ts.isIdentifier(m.name)) {
          const init = skipParens(ts, m.initializer);
          if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) {
            add(`${cls}.${m.name.text}`, isStatic ? 'staticmethod' : 'method', m, m.name, init, exported);
          }
        }
      }
    }
  }
  for (const [local, name] of aliasOf) {
    const fn = out.find((f) => f.qualname === local && (f.kind === 'function' || f.kind === 'staticmethod'));
    if (fn && name !== local && !out.some((f) => f.qualname === name)) (fn.aliases ??= []).push(name);
    if (fn && name === local) fn.exported = true;
  }
  return { ok: true, functions: out, ...(reexports.length ? { reexports } : {}) };
}

function skipParens(ts: typeof TSNS, e: TSNS.Expression): TSNS.Expression {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression;
  return e;
}

/** null when `text` reads as the inside of a call's parentheses, else the reason. */
export function checkArgs(baseDir: string, text: string, typescript: boolean): string | null {
  if (!text.trim()) return null;
  const ts = loadTypeScript(baseDir);
  const src = `f(${text}\n);`;
  const sf = ts.createSourceFile(typescript ? 'args.ts' : 'args.js', src, ts.ScriptTarget.Latest, true, typescript ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const diag = parseDiagnostics(sf)[0];
  if (diag) return ts.flattenDiagnosticMessageText(diag.messageText, '\n');
  const only = sf.statements.length === 1 ? sf.statements[0] : null;
  const call = only && ts.isExpressionStatement(only) && ts.isCallExpression(only.expression) ? only.expression : null;
  if (!call || call.expression.getText(sf) !== 'f' || call.getEnd() !== src.length - 1) {
    return 'not a list of arguments (write them as inside the call\'s parentheses, e.g. `1000, "text"`)';
  }
  return null;
}

/** Where a target is defined: this file, or the file a re-export leads to. */
export interface Located {
  file: string;
  fn: OutlineFunction;
}

/** Re-exports followed at most this deep (a cycle of `export *` ends here too). */
const MAX_REEXPORT_DEPTH = 8;

/**
 * The outline entry of `qualname` in `file`, by its name or an export name, following
 * `export { x } from './y'` and `export * from './y'` to the file that defines it.
 * `resolve` maps an import specifier to a file, as the loader does.
 */
export function locate(baseDir: string, file: string, qualname: string, resolve: (specifier: string, from: string) => string | null, read: (file: string) => string, depth = 0): Located | null {
  let shape: OutlineResult;
  try {
    shape = outline(baseDir, file, read(file));
  } catch {
    return null;
  }
  if (!shape.ok) return null;
  const fn = shape.functions.find((f) => f.qualname === qualname) ?? shape.functions.find((f) => f.aliases?.includes(qualname));
  if (fn) return { file, fn };
  if (depth >= MAX_REEXPORT_DEPTH) return null;
  const [head, ...rest] = qualname.split('.');
  for (const r of shape.reexports ?? []) {
    if (r.as !== head && r.as !== '*') continue;
    if (r.as === '*' && head === 'default') continue; // `export *` never re-exports a default
    const target = resolve(r.from, file);
    if (!target) continue;
    const found = locate(baseDir, target, [r.as === '*' ? head : r.name, ...rest].join('.'), resolve, read, depth + 1);
    if (found) return found;
  }
  return null;
}
