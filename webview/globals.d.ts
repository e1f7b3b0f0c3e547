/** What the webview page gets from its surroundings: VS Code's API and Plotly (a separate <script>). */

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** The parts of Plotly we use (plotly.js-strict-dist-min ships no types). */
declare namespace Plotly {
  type Datum = number | string | null;
  interface Trace {
    name?: string;
    type?: 'scatter' | 'bar' | 'heatmap' | 'contour' | 'surface' | 'scatter3d';
    mode?: 'lines' | 'markers' | 'lines+markers' | 'markers+text' | 'lines+markers+text' | 'text';
    x?: Datum[];
    y?: Datum[];
    line?: { color?: string; width?: number; dash?: string; shape?: 'linear' | 'hv' | 'spline' };
    marker?: { color?: string | string[]; size?: number | number[]; symbol?: string | string[]; line?: { color?: string; width?: number } };
    hovertemplate?: string;
    showlegend?: boolean;
    [key: string]: unknown;
  }
  type Layout = Record<string, unknown>;
  type Config = Record<string, unknown>;
  interface PlotElement extends HTMLElement {
    data?: Trace[];
    layout?: Layout;
    /** Plotly's event hook (plotly_click and friends), present once the plot exists. */
    on?: (event: string, handler: (ev: unknown) => void) => void;
  }
}
interface PlotlyStatic {
  newPlot(el: HTMLElement, data: Plotly.Trace[], layout?: Plotly.Layout, config?: Plotly.Config): Promise<Plotly.PlotElement>;
  react(el: HTMLElement, data: Plotly.Trace[], layout?: Plotly.Layout, config?: Plotly.Config): Promise<Plotly.PlotElement>;
  extendTraces(el: HTMLElement, update: { x: Plotly.Datum[][]; y: Plotly.Datum[][] }, indices: number[]): Promise<Plotly.PlotElement>;
  relayout(el: HTMLElement, update: Plotly.Layout): Promise<Plotly.PlotElement>;
  restyle(el: HTMLElement, update: Record<string, unknown>, indices?: number[]): Promise<Plotly.PlotElement>;
  purge(el: HTMLElement): void;
  toImage(el: HTMLElement | { data: Plotly.Trace[]; layout: Plotly.Layout }, opts: { format: 'png' | 'svg'; width?: number; height?: number; scale?: number }): Promise<string>;
  Plots: { resize(el: HTMLElement): Promise<void> | void };
}
declare const Plotly: PlotlyStatic | undefined;
