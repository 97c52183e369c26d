/**
 * Which target the user means, from the outline and the selection (pure, no vscode):
 * a selected whole function is that function; other selected lines are a snippet;
 * an empty selection means the innermost function around the cursor.
 */
import { Language, OutlineFunction } from '../engine/languageTools';
import { RUNTIME_OF, RuntimeName } from '../shared/modes';

/** How the refusals and the argument prompt speak each runtime's languages. */
interface SourceWording {
  /** Where a nested function should move to be measurable. */
  topLevel: string;
  /** How an instance method becomes callable without an instance. */
  makeStatic: string;
  /** A call that consumes a generator. */
  consume(fn: OutlineFunction): string;
  /** The argument prompt: how arguments are written. */
  argsHow: string;
}

const WORDING: { readonly [R in RuntimeName]: SourceWording } = {
  python: {
    topLevel: 'module level',
    makeStatic: 'make it a @staticmethod or @classmethod',
    consume: (fn) => `list(${fn.qualname}(...))`,
    argsHow: 'As written inside the call\'s parentheses, e.g. 365, 10**6 or data, n=5 (evaluated in the module)',
  },
  node: {
    topLevel: 'the top level of the module',
    makeStatic: 'make it static',
    consume: (fn) => (fn.isAsync ? `for await (const x of ${fn.qualname}(...)) {}` : `[...${fn.qualname}(...)]`),
    argsHow: 'As written inside the call\'s parentheses, e.g. 1000, "text" or data, { n: 5 } (evaluated in the module)',
  },
};

export interface Selection0 {
  /** 1-based lines; `endLine` is the last line that has selected characters. */
  startLine: number;
  endLine: number;
  empty: boolean;
  cursorLine: number;
}

export type Picked =
  | { kind: 'function'; fn: OutlineFunction }
  | { kind: 'snippet'; start: number; end: number }
  | { kind: 'refused'; message: string };

/** `language` only changes the wording: what to write instead is said in that language. */
export function pickTarget(functions: OutlineFunction[], sel: Selection0, language: Language = 'python'): Picked {
  if (!sel.empty) {
    const whole = functions.find((f) => (sel.startLine === f.line || sel.startLine === f.defLine) && sel.endLine === f.endLine);
    if (!whole) return { kind: 'snippet', start: sel.startLine, end: sel.endLine };
    return checkMeasurable(whole, functions, language);
  }
  const around = functions
    .filter((f) => f.line <= sel.cursorLine && sel.cursorLine <= f.endLine)
    .sort((a, b) => a.endLine - a.line - (b.endLine - b.line))[0];
  if (!around) {
    return { kind: 'refused', message: 'Put the cursor inside a function, select one, or select the lines to measure.' };
  }
  return checkMeasurable(around, functions, language);
}

/** A function of the outline as a target, or why it cannot be measured on its own (nested, instance method, generator). */
export function checkMeasurable(fn: OutlineFunction, all: OutlineFunction[], language: Language): Picked {
  const words = WORDING[RUNTIME_OF[language]];
  if (fn.kind === 'nested') {
    const outer = fn.qualname.split('.<locals>.')[0];
    const outerFn = all.find((f) => f.qualname === outer);
    return {
      kind: 'refused',
      message: `\`${fn.qualname.split('.').pop()}\` is nested inside \`${outer}\` and cannot be called on its own: ` +
        `measure \`${outer}\`${outerFn ? ` (line ${outerFn.defLine})` : ''}, select the lines that use it, or move it to ${words.topLevel}.`,
    };
  }
  if (fn.kind === 'method') {
    const cls = fn.qualname.split('.').slice(0, -1).join('.');
    return {
      kind: 'refused',
      message: `\`${fn.qualname}\` is an instance method: it needs an instance. Select lines that create a \`${cls}\` and call it ` +
        `(they run as a snippet), or ${words.makeStatic}.`,
    };
  }
  if (fn.isGenerator) {
    return { kind: 'refused', message: `\`${fn.qualname}\` is a generator: calling it runs nothing. Select lines that consume it, e.g. \`${words.consume(fn)}\`.` };
  }
  return { kind: 'function', fn };
}

/**
 * Parameters the user must give (self/cls are already dropped by the outline): those
 * without a default, and those whose default is a FastAPI marker (`Body(...)`,
 * `Depends(get_db)`), which called directly would be the marker object, not a value.
 */
export function requiredParams(fn: OutlineFunction): string[] {
  return fn.params.filter((p) => p.required || p.marker).map((p) => p.name);
}

/**
 * What the argument prompt opens with: the markers said first when there are any
 * (`password (Body(...)), db (Depends(...)) default to FastAPI markers, not values: …`),
 * and a placeholder that names them as keywords.
 */
export function argsPromptText(fn: OutlineFunction, language: Language): { prompt: string; placeholder: string } {
  const how = WORDING[RUNTIME_OF[language]].argsHow;
  const markers = fn.params.filter((p) => p.marker);
  if (!markers.length) return { prompt: how, placeholder: requiredParams(fn).join(', ') };
  const listed = markers.map((p) => `${p.name} (${p.marker}(...))`).join(', ');
  const plain = fn.params.filter((p) => p.required && !p.marker).map((p) => p.name);
  return {
    prompt: `${listed} default${markers.length === 1 ? 's' : ''} to FastAPI markers, not values: give ${markers.length === 1 ? 'it' : 'them'} here. ${how}`,
    placeholder: [...plain, ...markers.map((p) => `${p.name}=…`)].join(', '),
  };
}

export function signatureText(fn: OutlineFunction): string {
  return `${fn.qualname}(${fn.params.map((p) => (p.required ? p.name : `${p.name}=…`)).join(', ')})`;
}
