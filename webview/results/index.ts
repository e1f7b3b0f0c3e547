/**
 * Result panels: one renderer per result kind. The page stores {kind, file}
 * with setState so VS Code's WebviewPanelSerializer can reopen it after a
 * window reload; the host then re-reads the file and sends the data again.
 *
 * While a result is still being computed the page shows the job's status
 * line and the path height per iteration (resultProgress messages); the
 * saved result replaces that view when it arrives.
 */
import { formatNumber, type PageHostMessage, type ResultData } from '../../src/protocol';
import { requestSnapshot, setState, startPage } from '../api';
import { Chart } from '../charts';
import { append, clear, h } from '../dom';
import { renderBarrierMatrix } from './barrierMatrix';
import { pathHeightChart, renderBarrierPath } from './barrierPath';
import { renderGradcheck } from './gradcheck';
import { renderHessian } from './hessian';
import { renderKpca } from './kpca';
import { renderSlice } from './slice';
import { renderTrainingRun } from './trainingRun';
import { renderInstability } from './instability';

type Renderers = { [K in ResultData['kind']]: (root: HTMLElement, data: Extract<ResultData, { kind: K }>) => void };

const RENDERERS: Renderers = {
  trainingRun: renderTrainingRun,
  barrierPath: renderBarrierPath,
  barrierMatrix: renderBarrierMatrix,
  kpca: renderKpca,
  hessian: renderHessian,
  gradcheck: renderGradcheck,
  slice: renderSlice,
  instability: renderInstability,
};

function render(root: HTMLElement, data: ResultData): void {
  const r = RENDERERS[data.kind] as (root: HTMLElement, d: ResultData) => void;
  r(root, data);
}

type Progress = Extract<PageHostMessage<'result'>, { type: 'resultProgress' }>;

/** The page of a result being computed: a status line and the live height chart. */
class LiveView {
  private readonly status: HTMLElement;
  private readonly title: HTMLElement;
  private readonly chart: Chart;
  private seriesId: string | null = null;
  private heights: number[] = [];
  private best: number[] = [];
  private resyncing = false;

  constructor(app: HTMLElement) {
    this.title = h('h1', { id: 'live-title', text: 'Computing…' });
    this.status = h('div', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite', 'data-state': 'running', text: 'starting…' });
    this.chart = pathHeightChart('Largest loss over the path points at each iteration of the optimizer, live', 'path-height-live', 300, 'the path search has not started yet');
    append(
      app,
      h('header', { class: 'page-header' }, this.title, h('p', { class: 'muted', text: 'The path height falls as the optimizer bends the path; the result opens here when it is saved.' })),
      this.status,
      h('div', { class: 'charts wide' }, this.chart.card),
    );
  }

  update(m: Progress): void {
    this.title.textContent = m.title;
    this.status.textContent = m.status;
    const s = m.series;
    if (!s) return;
    if (s.from === 0) {
      this.seriesId = s.id;
      this.heights = s.heights.slice();
      this.best = s.best.slice();
      this.resyncing = false;
      this.draw();
      return;
    }
    if (s.id !== this.seriesId || s.from !== this.heights.length) {
      // A gap (or another path's points): ask for everything rather than draw a wrong curve.
      if (!this.resyncing) {
        this.resyncing = true;
        requestSnapshot();
      }
      return;
    }
    const start = this.heights.length;
    this.heights.push(...s.heights);
    this.best.push(...s.best);
    const it = s.heights.map((_, i) => start + i);
    this.chart.extend([
      { x: it, y: s.heights },
      { x: it.slice(), y: s.best },
    ]);
    if (s.straight !== undefined) this.chart.card.title = `straight line (path points): ${formatNumber(s.straight)}`;
  }

  private draw(): void {
    const it = this.heights.map((_, i) => i);
    this.chart.setData([
      { x: it, y: this.heights },
      { x: it.slice(), y: this.best },
    ]);
  }

  dispose(): void {
    this.chart.dispose();
  }
}

export function startResult(app: HTMLElement): void {
  let live: LiveView | undefined;
  const reset = () => {
    live?.dispose();
    live = undefined;
    clear(app);
    app.removeAttribute('aria-busy');
  };
  startPage('result', (m) => {
    if (m.type === 'result') {
      setState({ kind: m.data.kind, file: m.file });
      reset();
      render(app, m.data);
    } else if (m.type === 'resultError') {
      reset();
      app.appendChild(h('div', { id: 'error', class: 'error', role: 'alert', text: m.message }));
    } else if (m.type === 'resultStatus') {
      // A line under the shown result (e.g. an overlay being computed); its buttons wait while busy.
      const status = document.getElementById('result-status');
      if (status) status.textContent = m.text;
      for (const b of Array.from(app.querySelectorAll<HTMLButtonElement>('button.overlay-button'))) b.disabled = m.busy;
      app.setAttribute('aria-busy', String(m.busy));
    } else if (m.type === 'resultProgress') {
      setState({ kind: m.kind, file: m.file });
      if (!live) {
        reset();
        live = new LiveView(app);
      }
      live.update(m);
    }
  });
}
