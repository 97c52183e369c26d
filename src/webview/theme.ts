/**
 * The theme the charts are drawn in: the series from the palette of the theme's kind
 * (palette.ts), the axes, grid and labels from the theme's own variables, read at draw
 * time; and a watch that tells when the theme changed, so every chart is drawn again
 * (a canvas keeps the colours it was drawn with: a light → dark switch left light-theme
 * grey axes on a dark background, where they vanished).
 */
import { ModeName, MODES } from '../shared/modes';
import { DELTA_TEXT, Hue, MODE_HUES, PALETTES, PROCESS_HUES, THRESHOLD_HUE, ThemeKind } from './palette';

export interface Theme {
  kind: ThemeKind;
  /** The kind's palette. */
  hues: Record<Hue, string>;
  /** Axis values, labels and ticks' text. */
  fg: string;
  grid: string;
  threshold: string;
  mode(mode: string): string;
  /** The i-th server process (or endpoint) of a service-mode chart. */
  process(i: number): string;
  queued: string;
}

/**
 * The kind VS Code says (the body's `data-vscode-theme-kind`, else its classes: High
 * Contrast Light has both `vscode-high-contrast` and `vscode-high-contrast-light`); a
 * standalone page follows the OS preference, as media/report.css does.
 */
export function themeKind(body: HTMLElement = document.body): ThemeKind {
  const named = body.dataset.vscodeThemeKind;
  const has = (c: string) => (named ? named === c : body.classList.contains(c));
  if (has('vscode-high-contrast-light')) return 'hc-light';
  if (has('vscode-high-contrast')) return 'hc-dark';
  if (has('vscode-dark')) return 'dark';
  if (has('vscode-light')) return 'light';
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** An unknown mode is drawn as `worker` (as the swatches are). */
function modeHue(mode: string): Hue {
  return Object.prototype.hasOwnProperty.call(MODES, mode) ? MODE_HUES[mode as ModeName] : MODE_HUES.worker;
}

export function readTheme(body: HTMLElement = document.body): Theme {
  const kind = themeKind(body);
  const palette = PALETTES[kind];
  const css = getComputedStyle(body);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return {
    kind,
    hues: palette.hues,
    fg: v('--vscode-charts-foreground') || v('--vscode-foreground') || palette.fg,
    grid: v('--vscode-charts-lines') || 'rgba(128,128,128,0.25)',
    threshold: palette.hues[THRESHOLD_HUE],
    queued: 'rgba(128,128,128,0.35)',
    mode: (m) => palette.hues[modeHue(m)],
    process: (i) => palette.hues[PROCESS_HUES[i % PROCESS_HUES.length]],
  };
}

/**
 * The palette as CSS variables on <body> (`--looplag-orange` …), for what the stylesheet
 * colours (the blocked lines' share bars). Set through the CSSOM, which the CSP allows.
 */
export function publishHues(theme: Theme, body: HTMLElement = document.body): void {
  for (const [hue, colour] of Object.entries(theme.hues)) body.style.setProperty(`--looplag-${hue}`, colour);
  // The compare view's deltas (--looplag-better, --looplag-worse).
  for (const [judgement, colour] of Object.entries(DELTA_TEXT[theme.kind])) body.style.setProperty(`--looplag-${judgement}`, colour);
}

/** What a chart's colours depend on: when it changes, the charts are drawn again. */
function themeKey(): string {
  const css = getComputedStyle(document.body);
  return [themeKind(), ...['--vscode-charts-foreground', '--vscode-foreground', '--vscode-charts-lines', '--vscode-editor-background'].map((n) => css.getPropertyValue(n).trim())].join('|');
}

/**
 * Calls `changed` when the theme changes: VS Code sets the body's class and
 * `data-vscode-theme-kind`, and the `--vscode-*` variables on the root element; a
 * standalone page follows the OS preference. Returns the disposer.
 */
export function watchTheme(changed: () => void): () => void {
  let key = themeKey();
  const check = () => {
    const now = themeKey();
    if (now === key) return;
    key = now;
    changed();
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  scheme.addEventListener('change', check);
  return () => {
    observer.disconnect();
    scheme.removeEventListener('change', check);
  };
}
