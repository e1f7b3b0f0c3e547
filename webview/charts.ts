/**
 * Plotly charts that look like VS Code: colours and fonts come from the
 * theme's CSS variables and are re-applied when the theme changes (the body
 * class switches between vscode-light, vscode-dark, vscode-high-contrast and
 * vscode-high-contrast-light); charts resize with their panel; each has PNG
 * and SVG export buttons (the host saves the file: downloads do not work in
 * webviews).
 */
import type { EpochPoint } from '../src/protocol';
import { exportPlot, log } from './api';
import { h } from './dom';
import { plotlyNow, whenPlotly } from './plotly';
import { mark } from './timing';

export type ColorRole = 'blue' | 'orange' | 'green' | 'red' | 'purple' | 'yellow' | 'foreground';

export interface TraceSpec {
  name: string;
  color: ColorRole;
  dash?: 'solid' | 'dot' | 'dash';
  type?: 'scatter' | 'bar';
  mode?: 'lines' | 'markers' | 'lines+markers';
}

export interface ChartOptions {
  /** The id of the Plotly div (tests find charts by it). */
  id: string;
  title: string;
  /** What a screen reader announces for the chart. */
  ariaLabel: string;
  xTitle: string;
  yTitle: string;
  logY?: boolean;
  percentY?: boolean;
  /** Keep zero in view (e.g. a constant learning rate). */
  yFromZero?: boolean;
  /** Shown over an empty chart. */
  emptyText?: string;
  traces: TraceSpec[];
  /** File name suggested when exporting. */
  exportName: string;
  height?: number;
}

export interface Theme {
  fg: string;
  muted: string;
  grid: string;
  bg: string;
  font: string;
  fontSize: number;
  highContrast: boolean;
  colors: Record<ColorRole, string>;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function readTheme(): Theme {
  const cls = document.body.classList;
  const highContrast = cls.contains('vscode-high-contrast') || cls.contains('vscode-high-contrast-light');
  const light = cls.contains('vscode-light') || cls.contains('vscode-high-contrast-light');
  const fg = cssVar('--vscode-editor-foreground', cssVar('--vscode-foreground', light ? '#333333' : '#cccccc'));
  const bg = getComputedStyle(document.body).backgroundColor || cssVar('--vscode-editor-background', light ? '#ffffff' : '#1e1e1e');
  return {
    fg,
    muted: cssVar('--vscode-descriptionForeground', fg),
    grid: highContrast
      ? cssVar('--vscode-contrastBorder', fg)
      : cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', light ? 'rgba(0,0,0,0.15)' : 'rgba(255,255,255,0.15)')),
    bg,
    font: cssVar('--vscode-font-family', 'sans-serif'),
    fontSize: Number.parseFloat(cssVar('--vscode-font-size', '12')) || 12,
    highContrast,
    colors: {
      blue: cssVar('--vscode-charts-blue', '#3794ff'),
      orange: cssVar('--vscode-charts-orange', '#d18616'),
      green: cssVar('--vscode-charts-green', '#89d185'),
      red: cssVar('--vscode-charts-red', '#f14c4c'),
      purple: cssVar('--vscode-charts-purple', '#b180d7'),
      yellow: cssVar('--vscode-charts-yellow', '#cca700'),
      foreground: fg,
    },
  };
}

function isTransparent(c: string): boolean {
  return !c || c === 'transparent' || /^rgba\(.*,\s*0\)$/.test(c.replace(/\s+/g, ''));
}

/** The colour behind the chart as the user sees it, for exported images. */
function solidBackground(): string {
  for (const c of [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.documentElement).backgroundColor]) {
    if (!isTransparent(c)) return c;
  }
  const light = document.body.classList.contains('vscode-light') || document.body.classList.contains('vscode-high-contrast-light');
  return cssVar('--vscode-editor-background', light ? '#ffffff' : '#1e1e1e');
}

const charts = new Set<Chart>();
let themeObserver: MutationObserver | undefined;

function watchTheme(): void {
  if (themeObserver) return;
  themeObserver = new MutationObserver(() => {
    for (const c of charts) c.applyTheme();
  });
  themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

/** A figure drawn from the theme (heatmaps, dendrograms, anything beyond x/y traces); rebuilt when the theme changes. */
export type FigureBuilder = (t: Theme) => { data: Plotly.Trace[]; layout?: Plotly.Layout };

/** Base layout and a patch, merged one level deep for the axes (so a patch can add to the themed axes). */
function mergeLayout(base: Plotly.Layout, patch: Plotly.Layout | undefined): Plotly.Layout {
  if (!patch) return base;
  const out: Plotly.Layout = { ...base, ...patch };
  for (const k of Object.keys(patch)) {
    const b = base[k];
    const p = patch[k];
    if (/^[xy]axis\d*$/.test(k) && typeof b === 'object' && b !== null && typeof p === 'object' && p !== null) out[k] = { ...(b as object), ...(p as object) };
  }
  return out;
}

export class Chart {
  readonly card: HTMLElement;
  readonly el: HTMLElement;
  private ready: Promise<unknown> = Promise.resolve();
  private resizeQueued = false;
  private figure: FigureBuilder | undefined;
  private clickHandler: ((point: { x: unknown; y: unknown; curveNumber: number; pointIndex: unknown }) => void) | undefined;
  private clickBound = false;

  constructor(private readonly o: ChartOptions) {
    this.el = h('div', { id: o.id, class: 'chart', role: 'img', 'aria-label': o.ariaLabel });
    if (o.height) this.el.style.height = `${o.height}px`;
    const exportButton = (format: 'png' | 'svg') => {
      const b = h('button', {
        class: 'chart-export',
        type: 'button',
        text: format.toUpperCase(),
        title: `Save this chart as ${format.toUpperCase()}`,
        'aria-label': `Save the ${o.title} chart as ${format.toUpperCase()}`,
      });
      b.addEventListener('click', () => void this.export(format));
      return b;
    };
    this.card = h(
      'section',
      { class: 'chart-card', 'aria-label': o.title },
      h('header', { class: 'chart-header' }, h('h3', { text: o.title }), h('div', { class: 'chart-actions' }, exportButton('png'), exportButton('svg'))),
      this.el,
    );
    charts.add(this);
    watchTheme();
    whenPlotly().catch(() => {
      this.el.textContent = 'Plotly did not load, so charts cannot be shown.';
    });
    // Plot once Plotly has run and the caller has put the card into the page (at the earliest a
    // microtask after this constructor), so Plotly can measure it.
    this.queue((P) => P.newPlot(this.el, this.traces(this.o.traces.map(() => ({ x: [], y: [] }))), this.layout(), this.config()).then(() => mark('first-plot')));
    const ro = new ResizeObserver(() => this.queueResize());
    ro.observe(this.el);
  }

  /** Runs a Plotly call after the ones queued before it; none when Plotly cannot load (the chart says so). */
  private queue(op: (P: PlotlyStatic) => unknown): void {
    this.ready = this.ready
      .then(async () => {
        const P = await whenPlotly().catch(() => undefined);
        if (P) await op(P);
      })
      .catch((e) => this.fail(e));
  }

  private traces(data: { x: Plotly.Datum[]; y: Plotly.Datum[] }[]): Plotly.Trace[] {
    const t = readTheme();
    return this.o.traces.map((s, i) => {
      const color = t.colors[s.color];
      const tr: Plotly.Trace = { name: s.name, type: s.type ?? 'scatter', x: data[i]?.x ?? [], y: data[i]?.y ?? [] };
      if (tr.type === 'bar') tr.marker = { color, line: { color: t.highContrast ? t.fg : color, width: t.highContrast ? 1 : 0 } };
      else {
        tr.mode = s.mode ?? 'lines+markers';
        tr.line = { color, width: t.highContrast ? 3 : 2, dash: s.dash ?? 'solid' };
        tr.marker = { color, size: 4 };
      }
      return tr;
    });
  }

  private empty = true;

  private layout(): Plotly.Layout {
    const t = readTheme();
    const axis = (title: string) => ({
      title: { text: title, font: { color: t.muted, size: t.fontSize - 1 } },
      gridcolor: t.grid,
      zerolinecolor: t.grid,
      linecolor: t.grid,
      tickfont: { color: t.fg, size: t.fontSize - 2 },
      automargin: true,
    });
    return {
      autosize: true,
      margin: { l: 48, r: 12, t: 8, b: 36 },
      paper_bgcolor: t.bg,
      plot_bgcolor: t.bg,
      font: { family: t.font, color: t.fg, size: t.fontSize },
      showlegend: this.o.traces.length > 1,
      legend: { orientation: 'h', x: 0, y: 1.02, yanchor: 'bottom', font: { color: t.fg } },
      xaxis: axis(this.o.xTitle),
      yaxis: {
        ...axis(this.o.yTitle),
        type: this.o.logY ? 'log' : 'linear',
        // Without a cap Plotly labels the 2s and 5s of every decade, unreadable in a narrow panel.
        ...(this.o.logY ? { nticks: 5 } : {}),
        exponentformat: 'power',
        ...(this.o.percentY ? { tickformat: '.0%', range: [0, 1.02] } : {}),
        ...(this.o.yFromZero ? { rangemode: 'tozero' } : {}),
        ...(this.empty ? { showticklabels: false } : {}),
      },
      annotations: this.empty
        ? [{ text: this.o.emptyText ?? 'no data yet', showarrow: false, xref: 'paper', yref: 'paper', x: 0.5, y: 0.5, font: { color: t.muted } }]
        : [],
      hoverlabel: { font: { family: t.font } },
    };
  }

  private config(): Plotly.Config {
    return {
      displaylogo: false,
      responsive: false,
      displayModeBar: 'hover',
      // Plotly's own download button cannot save from a webview; ours post the image to the host.
      modeBarButtonsToRemove: ['toImage', 'select2d', 'lasso2d', 'sendDataToCloud'],
    };
  }

  /** Replace all data (one {x, y} per trace). */
  setData(data: { x: Plotly.Datum[]; y: Plotly.Datum[] }[]): void {
    this.empty = data.every((d) => d.x.length === 0);
    this.queue((P) => P.react(this.el, this.traces(data), this.layout(), this.config()));
  }

  /** Append points to every trace (data[i] for trace i). */
  extend(data: { x: Plotly.Datum[]; y: Plotly.Datum[] }[]): void {
    if (data.every((d) => d.x.length === 0)) return;
    if (this.empty) {
      // The first points: redraw once without the "no data" note, then extend from there.
      this.empty = false;
      this.queue((P) => P.relayout(this.el, this.layout()));
    }
    const idx = data.map((_, i) => i);
    this.queue((P) => P.extendTraces(this.el, { x: data.map((d) => d.x), y: data.map((d) => d.y) }, idx));
  }

  /** Replace the chart with a figure of its own (traces and a layout patch built from the theme). */
  setFigure(build: FigureBuilder): void {
    this.figure = build;
    this.empty = false;
    this.queue(async (P) => {
      const f = build(readTheme());
      await P.react(this.el, f.data, mergeLayout(this.layout(), f.layout), this.config());
      this.bindClick();
    });
  }

  /** Called with the clicked point (Plotly's plotly_click). */
  onClick(fn: (point: { x: unknown; y: unknown; curveNumber: number; pointIndex: unknown }) => void): void {
    this.clickHandler = fn;
    this.ready = this.ready.then(() => this.bindClick());
  }

  private bindClick(): void {
    const el = this.el as Plotly.PlotElement;
    if (this.clickBound || !this.clickHandler || typeof el.on !== 'function') return;
    this.clickBound = true;
    el.on('plotly_click', (ev: unknown) => {
      const p = (ev as { points?: { x: unknown; y: unknown; curveNumber: number; pointIndex?: unknown; pointNumber?: unknown }[] })?.points?.[0];
      if (p) this.clickHandler?.({ x: p.x, y: p.y, curveNumber: p.curveNumber, pointIndex: p.pointIndex ?? p.pointNumber });
    });
  }

  applyTheme(): void {
    // Before Plotly has run nothing is drawn: the queued calls read the theme when they run.
    if (!plotlyNow()) return;
    if (this.figure) {
      this.setFigure(this.figure);
      return;
    }
    const current = (this.el as Plotly.PlotElement).data ?? [];
    const data = current.map((tr) => ({ x: (tr.x ?? []) as Plotly.Datum[], y: (tr.y ?? []) as Plotly.Datum[] }));
    this.setData(data);
  }

  private queueResize(): void {
    if (this.resizeQueued) return;
    this.resizeQueued = true;
    requestAnimationFrame(() => {
      this.resizeQueued = false;
      const P = plotlyNow();
      if (P && this.el.isConnected && this.el.clientWidth > 0) void Promise.resolve(P.Plots.resize(this.el)).catch(() => undefined);
    });
  }

  private async export(format: 'png' | 'svg'): Promise<void> {
    await this.ready;
    const P = plotlyNow();
    if (!P) return;
    try {
      const w = Math.max(300, this.el.clientWidth);
      const hgt = Math.max(200, this.el.clientHeight);
      // The page shows charts on a transparent background; a saved image needs a solid one.
      const el = this.el as Plotly.PlotElement;
      const bg = solidBackground();
      const figure = { data: el.data ?? [], layout: { ...(el.layout ?? {}), paper_bgcolor: bg, plot_bgcolor: bg } };
      const dataUrl = await P.toImage(figure, { format, width: w, height: hgt, scale: format === 'png' ? 2 : 1 });
      exportPlot(format, dataUrl, this.o.exportName);
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    log('error', `chart ${this.o.id}: ${e instanceof Error ? e.message : String(e)}`);
  }

  dispose(): void {
    charts.delete(this);
    plotlyNow()?.purge(this.el);
  }
}

/** The four training charts shared by the side view and the run panel. */
export class TrainingCharts {
  readonly loss: Chart;
  readonly accuracy: Chart;
  readonly gradNorm: Chart;
  readonly lr: Chart;
  readonly element: HTMLElement;

  /** `prefix` keeps ids unique ("chart" in the side view: chart-loss, chart-accuracy, …). */
  constructor(prefix: string, exportPrefix: string) {
    this.loss = new Chart({
      id: `${prefix}-loss`,
      title: 'Loss',
      ariaLabel: 'Training and test loss per epoch, log scale',
      xTitle: 'epoch',
      yTitle: 'loss',
      logY: true,
      traces: [
        { name: 'train loss', color: 'blue' },
        { name: 'test loss', color: 'orange', dash: 'dash' },
      ],
      exportName: `${exportPrefix}-loss`,
    });
    this.accuracy = new Chart({
      id: `${prefix}-accuracy`,
      title: 'Accuracy',
      ariaLabel: 'Training and test accuracy per epoch',
      xTitle: 'epoch',
      yTitle: 'accuracy',
      percentY: true,
      traces: [
        { name: 'train accuracy', color: 'green' },
        { name: 'test accuracy', color: 'purple', dash: 'dash' },
      ],
      exportName: `${exportPrefix}-accuracy`,
    });
    this.gradNorm = new Chart({
      id: `${prefix}-gradnorm`,
      title: 'Gradient norm',
      ariaLabel: 'Norm of the full-batch training gradient per epoch, log scale',
      xTitle: 'epoch',
      yTitle: '‖∇L‖',
      logY: true,
      traces: [{ name: 'gradient norm', color: 'red' }],
      exportName: `${exportPrefix}-gradient-norm`,
    });
    this.lr = new Chart({
      id: `${prefix}-lr`,
      title: 'Learning rate',
      ariaLabel: 'Learning rate per epoch',
      xTitle: 'epoch',
      yTitle: 'learning rate',
      yFromZero: true,
      traces: [{ name: 'learning rate', color: 'yellow' }],
      exportName: `${exportPrefix}-learning-rate`,
    });
    this.element = h('div', { class: 'charts' }, this.loss.card, this.accuracy.card, this.gradNorm.card, this.lr.card);
  }

  private static split(points: readonly EpochPoint[]) {
    const e = points.map((p) => p.epoch);
    const acc = points.filter((p) => p.accuracy !== undefined);
    const tacc = points.filter((p) => p.testAccuracy !== undefined);
    return {
      loss: [
        { x: e, y: points.map((p) => p.trainLoss) },
        { x: e.slice(), y: points.map((p) => p.testLoss) },
      ],
      accuracy: [
        { x: acc.map((p) => p.epoch), y: acc.map((p) => p.accuracy!) },
        { x: tacc.map((p) => p.epoch), y: tacc.map((p) => p.testAccuracy!) },
      ],
      gradNorm: [{ x: e.slice(), y: points.map((p) => p.gradNorm) }],
      lr: [{ x: e.slice(), y: points.map((p) => p.lr) }],
    };
  }

  set(points: readonly EpochPoint[]): void {
    const s = TrainingCharts.split(points);
    this.loss.setData(s.loss);
    this.accuracy.setData(s.accuracy);
    this.gradNorm.setData(s.gradNorm);
    this.lr.setData(s.lr);
  }

  extend(points: readonly EpochPoint[]): void {
    if (points.length === 0) return;
    const s = TrainingCharts.split(points);
    this.loss.extend(s.loss);
    this.accuracy.extend(s.accuracy);
    this.gradNorm.extend(s.gradNorm);
    this.lr.extend(s.lr);
  }
}
