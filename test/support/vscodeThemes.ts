/**
 * The four kinds of VS Code theme as a webview sees them: the body's classes and
 * `data-vscode-theme-kind`, and the `--vscode-*` variables on the root element's style
 * (VS Code's webview page sets both on every theme change). The values are the built-in
 * themes' (Light+, Dark+, High Contrast, High Contrast Light: the defaults registered in
 * src/vs/platform/theme/common/colors/*.ts) for the variables the report uses.
 */
import type { Page } from 'playwright-core';
import type { ThemeKind } from '../../src/webview/palette';

export const THEME_CLASSES: Record<ThemeKind, { classes: string[]; kind: string }> = {
  light: { classes: ['vscode-light'], kind: 'vscode-light' },
  dark: { classes: ['vscode-dark'], kind: 'vscode-dark' },
  'hc-dark': { classes: ['vscode-high-contrast'], kind: 'vscode-high-contrast' },
  'hc-light': { classes: ['vscode-high-contrast', 'vscode-high-contrast-light'], kind: 'vscode-high-contrast-light' },
};

export const THEME_VARIABLES: Record<ThemeKind, Record<string, string>> = {
  light: {
    'font-family': 'system-ui, sans-serif', 'font-size': '13px', 'editor-font-family': 'monospace',
    foreground: '#616161', descriptionForeground: '#717171', 'editor-background': '#ffffff', 'panel-border': 'rgba(128, 128, 128, 0.35)',
    'button-background': '#007acc', 'button-foreground': '#ffffff', 'button-secondaryBackground': '#5f6a79', 'button-secondaryForeground': '#ffffff',
    focusBorder: '#0090f1', 'textLink-foreground': '#006ab1', 'textCodeBlock-background': 'rgba(220, 220, 220, 0.4)', errorForeground: '#a1260d',
    'editorWarning-foreground': '#bf8803', 'testing-iconPassed': '#388a34',
    'charts-red': '#e51400', 'charts-orange': '#d18616', 'charts-green': '#388a34', 'charts-purple': '#652d90', 'charts-blue': '#1a85ff', 'charts-yellow': '#bf8803',
    'charts-foreground': '#616161', 'charts-lines': 'rgba(97, 97, 97, 0.5)', 'inputValidation-errorBackground': '#f2dede', 'inputValidation-warningBackground': '#f6f5d2',
  },
  dark: {
    'font-family': 'system-ui, sans-serif', 'font-size': '13px', 'editor-font-family': 'monospace',
    foreground: '#cccccc', descriptionForeground: 'rgba(204, 204, 204, 0.7)', 'editor-background': '#1e1e1e', 'panel-border': 'rgba(128, 128, 128, 0.35)',
    'button-background': '#0e639c', 'button-foreground': '#ffffff', 'button-secondaryBackground': '#3a3d41', 'button-secondaryForeground': '#ffffff',
    focusBorder: '#007fd4', 'textLink-foreground': '#3794ff', 'textCodeBlock-background': 'rgba(10, 10, 10, 0.4)', errorForeground: '#f48771',
    'editorWarning-foreground': '#cca700', 'testing-iconPassed': '#73c991',
    'charts-red': '#f14c4c', 'charts-orange': '#d18616', 'charts-green': '#89d185', 'charts-purple': '#b180d7', 'charts-blue': '#3794ff', 'charts-yellow': '#cca700',
    'charts-foreground': '#cccccc', 'charts-lines': 'rgba(204, 204, 204, 0.5)', 'inputValidation-errorBackground': '#5a1d1d', 'inputValidation-warningBackground': '#352a05',
  },
  'hc-dark': {
    'font-family': 'system-ui, sans-serif', 'font-size': '13px', 'editor-font-family': 'monospace',
    foreground: '#ffffff', descriptionForeground: 'rgba(255, 255, 255, 0.7)', 'editor-background': '#000000', 'panel-border': '#6fc3df', contrastBorder: '#6fc3df',
    'button-background': '#000000', 'button-foreground': '#ffffff', 'button-secondaryBackground': '#000000', 'button-secondaryForeground': '#ffffff',
    focusBorder: '#f38518', 'textLink-foreground': '#21a6ff', 'textCodeBlock-background': '#000000', errorForeground: '#f48771',
    'editorWarning-foreground': '#ffd370', 'testing-iconPassed': '#73c991',
    'charts-red': '#f48771', 'charts-orange': '#ab5a00', 'charts-green': '#89d185', 'charts-purple': '#b180d7', 'charts-blue': '#3794ff', 'charts-yellow': '#ffd370',
    'charts-foreground': '#ffffff', 'charts-lines': 'rgba(255, 255, 255, 0.5)', 'inputValidation-errorBackground': '#000000', 'inputValidation-warningBackground': '#000000',
  },
  'hc-light': {
    'font-family': 'system-ui, sans-serif', 'font-size': '13px', 'editor-font-family': 'monospace',
    foreground: '#292929', descriptionForeground: 'rgba(41, 41, 41, 0.7)', 'editor-background': '#ffffff', 'panel-border': '#0f4a85', contrastBorder: '#0f4a85',
    'button-background': '#0f4a85', 'button-foreground': '#ffffff', 'button-secondaryBackground': '#ffffff', 'button-secondaryForeground': '#292929',
    focusBorder: '#006bbd', 'textLink-foreground': '#0f4a85', 'textCodeBlock-background': '#f2f2f2', errorForeground: '#b5200d',
    'editorWarning-foreground': '#895503', 'testing-iconPassed': '#374e06',
    'charts-red': '#b5200d', 'charts-orange': '#0f4a85', 'charts-green': '#374e06', 'charts-purple': '#652d90', 'charts-blue': '#1a85ff', 'charts-yellow': '#895503',
    'charts-foreground': '#292929', 'charts-lines': 'rgba(41, 41, 41, 0.5)', 'inputValidation-errorBackground': '#ffffff', 'inputValidation-warningBackground': '#ffffff',
  },
};

/** Switches the page to `kind` as VS Code does: the variables on <html>, the classes and kind on <body>, in one task. */
export async function applyTheme(page: Page, kind: ThemeKind): Promise<void> {
  const { classes, kind: name } = THEME_CLASSES[kind];
  const vars = Object.entries(THEME_VARIABLES[kind]).map(([k, v]) => [`--vscode-${k}`, v]);
  // Through the CSSOM, as VS Code does: the panel's CSP blocks style attributes.
  await page.evaluate(([v, cls, n]) => {
    const style = document.documentElement.style;
    for (const name of Array.from(style)) if (name.startsWith('--vscode-')) style.removeProperty(name);
    for (const [name, value] of v) style.setProperty(name, value);
    document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast', 'vscode-high-contrast-light');
    document.body.classList.add(...cls);
    document.body.dataset.vscodeThemeKind = n;
  }, [vars, classes, name] as [string[][], string[], string]);
}
