/**
 * `sidecar.js outline FILE`: the functions of a JS/TS file from the TypeScript parser,
 * without running it; `sidecar.js check-args TEXT`: is TEXT the inside of a call's
 * parentheses? Same JSON as the Python sidecar's tools, so the host treats both alike.
 */
import * as path from 'node:path';
import type * as TSNS from 'typescript';
import { loadTypeScript } from './transpile';

export interface OutlineFunction {
  qualname: string;
  kind: 'function' | 'staticmethod' | 'method' | 'nested';
  line: number;
  defLine: number;
  endLine: number;
  isAsync: boolean;
  isGenerator: boolean;
  exported: boolean;
  params: { name: string; required: boolean }[];
}

export type OutlineResult =
  | { ok: true; functions: OutlineFunction[] }
  | { ok: false; error: { kind: string; message: string; line?: number } };

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
    return { ok: false, error: { kind: 'syntax-error', message: `${ts.flattenDiagnosticMessageText(diag.messageText, '\n')} (line ${line})`, line } };
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
  for (const st of sf.statements) {
    const exported = hasMod(st, ts.SyntaxKind.ExportKeyword);
    if (ts.isFunctionDeclaration(st) && st.name) {
      add(st.name.text, 'function', st, st.name, st, exported);
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        const init = d.initializer && skipParens(ts, d.initializer);
        if (ts.isIdentifier(d.name) && init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) {
          add(d.name.text, 'function', st.declarationList.declarations.length === 1 ? st : d, d.name, init, exported);
        }
      }
    } else if (ts.isClassDeclaration(st) && st.name) {
      const cls = st.name.text;
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
  return { ok: true, functions: out };
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
