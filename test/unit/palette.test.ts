/**
 * The charts' palettes against the default editor backgrounds of VS Code's built-in
 * themes (src/vs/platform/theme/common/colors/editorColors.ts `editor.background`:
 * Light+ #FFFFFF, Dark+ #1E1E1E, High Contrast #000000, High Contrast Light #FFFFFF; Dark
 * Modern's is #1F1F1F): every series at WCAG's 3:1 for graphics, the axis text at 4.5:1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MODE_NAMES } from '../../src/shared/modes';
import { contrastRatio, MODE_HUES, PALETTES, PROCESS_HUES, THEME_KINDS, ThemeKind, THRESHOLD_HUE } from '../../src/webview/palette';

const BACKGROUNDS: Record<ThemeKind, Record<string, string>> = {
  light: { 'Light+': '#ffffff', 'Light Modern': '#ffffff' },
  dark: { 'Dark+': '#1e1e1e', 'Dark Modern': '#1f1f1f' },
  'hc-dark': { 'High Contrast': '#000000' },
  'hc-light': { 'High Contrast Light': '#ffffff' },
};

test('contrastRatio is WCAG 2\'s: black on white 21:1, a colour on itself 1:1, #767676 on white 4.54:1', () => {
  assert.equal(contrastRatio('#000000', '#ffffff'), 21);
  assert.equal(contrastRatio('#ffffff', '#000000'), 21);
  assert.equal(contrastRatio('#1a85ff', '#1a85ff'), 1);
  assert.equal(contrastRatio('#767676', '#ffffff').toFixed(2), '4.54');
});

test('every series colour of every palette is at 3:1 or more on its themes\' editor backgrounds', () => {
  const used = new Set([...MODE_NAMES.map((m) => MODE_HUES[m]), ...PROCESS_HUES, THRESHOLD_HUE]);
  for (const kind of THEME_KINDS) {
    const p = PALETTES[kind];
    for (const [theme, bg] of Object.entries(BACKGROUNDS[kind])) {
      for (const hue of used) {
        const ratio = contrastRatio(p.hues[hue], bg);
        assert.ok(ratio >= 3, `${theme}: ${hue} ${p.hues[hue]} on ${bg} is ${ratio.toFixed(2)}:1`);
      }
      const fg = contrastRatio(p.fg, bg);
      assert.ok(fg >= 4.5, `${theme}: axis text ${p.fg} on ${bg} is ${fg.toFixed(2)}:1`);
    }
    assert.equal(p.background, Object.values(BACKGROUNDS[kind])[0], `${kind}: the palette's background is its built-in theme's`);
  }
});

test('the colours VS Code itself gives would fail where the issue saw it: High Contrast\'s charts.orange on black, light-theme axis grey on Dark+', () => {
  // What the palette replaces (VS Code's defaults): a check that the test can fail.
  assert.ok(contrastRatio('#616161', '#1e1e1e') < 3, 'Light+ foreground on Dark+ (the axes after a switch)');
  assert.ok(contrastRatio('#ab5a00', '#000000') < 4.5, 'High Contrast charts.orange on black: dark brown');
  assert.ok(contrastRatio(PALETTES['hc-dark'].hues.orange, '#000000') >= 7, 'the high-contrast palette\'s orange is high-contrast');
});

test('modes and server processes each get distinct colours', () => {
  for (const kind of THEME_KINDS) {
    const modeColours = MODE_NAMES.map((m) => PALETTES[kind].hues[MODE_HUES[m]]);
    assert.equal(new Set(modeColours).size, MODE_NAMES.length, `${kind}: ${modeColours.join(' ')}`);
    assert.equal(new Set(PROCESS_HUES.map((h) => PALETTES[kind].hues[h])).size, PROCESS_HUES.length);
  }
});
