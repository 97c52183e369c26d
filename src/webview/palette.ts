/**
 * The charts' series colours: one palette per kind of VS Code theme, each colour at least
 * 3:1 against that kind's default editor background (WCAG 1.4.11, graphical objects),
 * which test/unit/palette.test.ts checks. VS Code's own `charts.*` colours are not used
 * for series: High Contrast's `charts.orange` (#AB5A00) drew thread mode dark brown on
 * black, and a theme's `charts.*` may sit at 1.8:1 on its own background. Pure data and
 * arithmetic (no DOM): the unit tests import it.
 */
import type { ModeName } from '../shared/modes';

/** VS Code's four kinds of theme (the webview body's `vscode-light` … classes). */
export type ThemeKind = 'light' | 'dark' | 'hc-dark' | 'hc-light';
export const THEME_KINDS: readonly ThemeKind[] = ['light', 'dark', 'hc-dark', 'hc-light'];

export type Hue = 'red' | 'orange' | 'green' | 'purple' | 'blue' | 'magenta' | 'yellow';

export interface Palette {
  hues: Record<Hue, string>;
  /** Axis text and tick labels when the theme sets neither `charts.foreground` nor `foreground`. */
  fg: string;
  /** The default editor background of the kind's built-in theme, which the hues are checked against. */
  background: string;
}

/**
 * Backgrounds and foregrounds are VS Code's defaults (`editor.background`, `foreground` in
 * src/vs/platform/theme/common/colors): Light+ #FFFFFF / #616161, Dark+ #1E1E1E / #CCCCCC,
 * High Contrast #000000 / #FFFFFF, High Contrast Light #FFFFFF / #292929.
 */
export const PALETTES: Record<ThemeKind, Palette> = {
  light: {
    hues: { red: '#e51400', orange: '#b35900', green: '#388a34', purple: '#652d90', blue: '#1a85ff', magenta: '#a0218f', yellow: '#a87600' },
    fg: '#616161',
    background: '#ffffff',
  },
  dark: {
    hues: { red: '#f14c4c', orange: '#e8a33d', green: '#89d185', purple: '#b180d7', blue: '#3794ff', magenta: '#d670d6', yellow: '#cca700' },
    fg: '#cccccc',
    background: '#1e1e1e',
  },
  'hc-dark': {
    hues: { red: '#f48771', orange: '#ffa94d', green: '#89d185', purple: '#d2a8ff', blue: '#6cb6ff', magenta: '#ff7ee2', yellow: '#ffd370' },
    fg: '#ffffff',
    background: '#000000',
  },
  'hc-light': {
    hues: { red: '#b5200d', orange: '#8f4700', green: '#374e06', purple: '#652d90', blue: '#0f4a85', magenta: '#a0218f', yellow: '#895503' },
    fg: '#292929',
    background: '#ffffff',
  },
};

/** Each mode's hue (every mode listed: a new mode fails to compile until it has one). */
export const MODE_HUES: Record<ModeName, Hue> = {
  inline: 'red',
  thread: 'orange',
  process: 'green',
  interpreter: 'purple',
  worker: 'blue',
  'free-threaded': 'magenta',
};

/** Service mode's server processes (and endpoints), in order; a process past the last reuses them. */
export const PROCESS_HUES: readonly Hue[] = ['blue', 'purple', 'orange', 'green'];

/** The stall threshold and the budget lines. */
export const THRESHOLD_HUE: Hue = 'yellow';

/** WCAG 2 relative luminance of `#rrggbb`. */
export function luminance(hex: string): number {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`not a #rrggbb colour: ${hex}`);
  const [r, g, b] = m.slice(1).map((x) => {
    const c = parseInt(x, 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2 contrast ratio of two `#rrggbb` colours (1 to 21). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The compare view's "better" and "worse" deltas (src/webview/compareView.ts): text, so
 * 4.5:1 on the kind's background (the light palette's green, 4.3:1, is a graphics colour
 * only). The ▲/▼ and the word beside them say the same without colour.
 */
export const DELTA_TEXT: Record<ThemeKind, { better: string; worse: string }> = {
  light: { better: '#2e7d32', worse: '#c62828' },
  dark: { better: '#89d185', worse: '#f48771' },
  'hc-dark': { better: '#89d185', worse: '#f48771' },
  'hc-light': { better: '#374e06', worse: '#b5200d' },
};
