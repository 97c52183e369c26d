/**
 * The charts on show, each with how to draw it: resized with the panel, drawn again in
 * the new colours when the theme changes (keeping a zoom or hidden series), and destroyed
 * before the next render (uPlot holds window listeners and canvases until `destroy`).
 */
import { Chart, ChartView, paintSwatches } from './charts';
import { publishHues, readTheme, Theme } from './theme';

/** Draws a chart into its figure in the given theme, restoring `view` if any. */
export type DrawChart = (theme: Theme, view: ChartView | null) => Chart;

export class ChartSet {
  private items: { el: HTMLElement; draw: DrawChart; chart: Chart }[] = [];

  get length(): number {
    return this.items.length;
  }

  /** Draws the chart now and keeps it. */
  add(el: HTMLElement, draw: DrawChart, theme: Theme): void {
    this.items.push({ el, draw, chart: draw(theme, null) });
    document.body.dataset.chartsTheme = theme.kind; // for the tests: the kind the charts were drawn in
  }

  resize(): void {
    for (const it of this.items) it.chart.resize(chartWidth(it.el));
  }

  /** Every chart (and swatch under `root`) again in the theme as it is now. */
  retheme(root: ParentNode): void {
    const theme = readTheme();
    publishHues(theme);
    paintSwatches(root, theme);
    for (const it of this.items) {
      const view = it.chart.view();
      it.chart.destroy();
      it.chart = it.draw(theme, view);
    }
    document.body.dataset.chartsTheme = theme.kind;
  }

  destroy(): void {
    for (const it of this.items) it.chart.destroy();
    this.items = [];
  }
}

export function chartWidth(el: HTMLElement): number {
  return Math.max(240, Math.floor(el.clientWidth || el.parentElement?.clientWidth || 600) - 8);
}
