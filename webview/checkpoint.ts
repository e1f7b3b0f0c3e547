/**
 * The checkpoint viewer page: metadata, model spec, tensor statistics,
 * per-layer weight histograms, re-evaluation on request, and the actions of
 * the explorer context menu. Every value from the file is shown as text.
 * The tables need no Plotly: they show as soon as the host's data arrives,
 * the histograms once Plotly has run.
 */
import { formatNumber, formatPercent, type Action, type CheckpointDetails, type EvalResult, type PageHostMessage } from '../src/protocol';
import { post, setState, startPage } from './api';
import { Chart } from './charts';
import { append, clear, h, keyValueRows } from './dom';
import { mark } from './timing';

type ButtonEl = HTMLElementTagNameMap['vscode-button'];
type Histogram = CheckpointDetails['histograms'][number];

const TENSOR_COLUMNS = ['name', 'shape', 'dtype', 'mean', 'std', 'min', 'max', 'norm'];

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function headerRow(columns: readonly string[]): HTMLElement {
  return h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col', text: c }))));
}

function section(id: string, heading: string, ...children: HTMLElement[]): HTMLElement {
  return h('section', { 'aria-labelledby': id }, h('h2', { id, text: heading }), ...children);
}

type Filters = NonNullable<NonNullable<CheckpointDetails['spec']>['filters']>;

/** One filter as a small image: grey levels from −m (black) to +m (white), m the largest |value| of all filters; RGB when it has 3 input channels. */
function filterCanvas(f: Filters, index: number, scale: number): HTMLCanvasElement {
  const [, inC, k] = f.shape;
  const m = f.values.reduce((a, v) => Math.max(a, Math.abs(v)), 0) || 1;
  const canvas = h('canvas', { width: String(k * scale), height: String(k * scale), 'aria-label': `filter ${index}` }) as HTMLCanvasElement;
  const ctx = canvas.getContext('2d');
  if (!ctx) return canvas;
  const level = (c: number, y: number, x: number) => Math.round(255 * (0.5 + f.values[((index * inC + c) * k + y) * k + x] / (2 * m)));
  for (let y = 0; y < k; y++) {
    for (let x = 0; x < k; x++) {
      const [r, g, b] = inC === 3 ? [level(0, y, x), level(1, y, x), level(2, y, x)] : [level(0, y, x), level(0, y, x), level(0, y, x)];
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(x * scale, y * scale, scale, scale);
    }
  }
  return canvas;
}

/** The first convolution's filters as a row of small images. */
function filterImages(f: Filters): HTMLElement {
  const [out, inC, k] = f.shape;
  const scale = Math.max(4, Math.floor(48 / k));
  const note = `${f.name}: ${out} filters of ${k}×${k}${inC === 3 ? ' (RGB)' : inC > 1 ? ` (channel 0 of ${inC})` : ''}; grey is 0, white and black the largest |weight|`;
  return h('figure', { class: 'filters', 'aria-label': 'First convolution filters' }, h('div', { class: 'filter-row' }, ...Array.from({ length: out }, (_, i) => filterCanvas(f, i, scale))), h('figcaption', { class: 'muted', text: note }));
}

/** The model spec as a line and one list item per layer (with the first convolution's filters), or why there is none. */
function modelSpecNodes(info: CheckpointDetails): HTMLElement[] {
  const s = info.spec;
  if (!s) return [h('p', { class: 'warning', text: `No Landscape model spec: ${info.specError ?? 'unknown layout'}` })];
  if (s.layerLines) {
    return [
      h('p', { class: 'spec-line', text: `${s.text} · ${s.paramCount.toLocaleString('en-US')} parameters` }),
      h('ol', { class: 'layers', 'aria-label': 'Layers' }, ...s.layerLines.map((l) => h('li', { text: l }))),
      ...(s.filters ? [filterImages(s.filters)] : []),
    ];
  }
  const layer = (w: number, i: number) =>
    h('li', { text: `dense ${s.layers[i]} → ${w}${s.bias ? ' + bias' : ''}${i < s.layers.length - 2 ? `, ${s.activation}` : `, output (${s.loss})`}` });
  return [
    h('p', { class: 'spec-line', text: `${s.text} · ${s.paramCount.toLocaleString('en-US')} parameters` }),
    h('ol', { class: 'layers', 'aria-label': 'Layers' }, ...s.layers.slice(1).map(layer)),
  ];
}

function tensorRow(t: CheckpointDetails['tensors'][number]): HTMLElement {
  const cells = [t.name, `[${t.shape.join(', ')}]`, t.dtype, formatNumber(t.mean), formatNumber(t.std), formatNumber(t.min), formatNumber(t.max), formatNumber(t.norm)];
  return h('tr', {}, ...cells.map((c, i) => h('td', { class: i === 0 ? 'tensor-name' : i > 2 ? 'num' : undefined, text: c })));
}

function histogramChart(hist: Histogram, i: number, fileName: string): Chart {
  const width = (hist.max - hist.min) / hist.counts.length;
  const c = new Chart({
    id: `hist-${i}`,
    title: hist.name,
    ariaLabel: `Histogram of the values of ${hist.name}, from ${formatNumber(hist.min)} to ${formatNumber(hist.max)}`,
    xTitle: 'value',
    yTitle: 'count',
    traces: [{ name: hist.name, color: 'blue', type: 'bar' }],
    exportName: `${fileName.replace(/\.[^.]*$/, '')}-${hist.name}-histogram`,
    height: 160,
  });
  c.setData([{ x: hist.counts.map((_, k) => hist.min + (k + 0.5) * width), y: hist.counts }]);
  return c;
}

/** Re-evaluation: the button, its status line and the train/test table. */
class EvaluationView {
  readonly button = h('vscode-button', { id: 'btn-evaluate', 'aria-label': 'Re-evaluate train and test loss and accuracy', text: 'Re-evaluate loss and accuracy' }) as ButtonEl;
  private readonly status = h('p', { id: 'evaluation-status', class: 'muted', role: 'status', text: 'Not evaluated yet: press Re-evaluate to rebuild the dataset from the metadata and measure.' });
  private readonly body = h('tbody');
  private readonly table = h(
    'table',
    { id: 'evaluation-table', class: 'data-table', hidden: true, 'aria-label': 'Re-evaluated loss and accuracy' },
    headerRow(['', 'loss', 'accuracy']),
    this.body,
  );
  readonly element = section('h-eval', 'Loss and accuracy', this.status, this.table);

  constructor() {
    this.button.addEventListener('click', () => {
      if (!this.button.disabled) post({ type: 'evaluate' });
    });
  }

  evaluating(): void {
    this.button.disabled = true;
    this.status.textContent = 'Evaluating… (rebuilding the dataset and running the network on it)';
  }

  failed(message: string): void {
    this.button.disabled = false;
    this.status.textContent = `Could not evaluate: ${message}`;
  }

  show(r: EvalResult): void {
    this.button.disabled = false;
    this.table.hidden = false;
    this.status.textContent = `Evaluated on ${r.dataset} with the ${r.backend} backend in ${r.seconds.toFixed(1)} s.`;
    clear(this.body);
    const row = (label: string, p: EvalResult['train']) =>
      h('tr', {}, h('th', { scope: 'row', text: label }), h('td', { text: formatNumber(p.loss) }), h('td', { text: p.accuracy === undefined ? '–' : formatPercent(p.accuracy) }));
    append(this.body, row('train', r.train), row('test', r.test));
  }
}

class CheckpointPage {
  private readonly title = h('h1', { id: 'checkpoint-title', text: 'Checkpoint' });
  private readonly subtitle = h('p', { id: 'checkpoint-file', class: 'muted' });
  private readonly error = h('div', { id: 'error', class: 'error', role: 'alert', hidden: true });
  private readonly loading = h('p', { id: 'loading', class: 'muted', role: 'status', text: 'Reading the checkpoint…' });
  private readonly actions = h('div', { id: 'actions', class: 'buttons', role: 'group', 'aria-label': 'Checkpoint actions' });
  private readonly evaluation = new EvaluationView();
  private readonly modelSpec = h('div', { id: 'model-spec', class: 'model-spec', 'aria-label': 'Model' });
  private readonly metaBody = h('tbody');
  private readonly tensorBody = h('tbody');
  private readonly histograms = h('div', { id: 'histograms', class: 'charts' });
  private readonly content: HTMLElement;
  private charts: Chart[] = [];

  constructor(app: HTMLElement) {
    const tensorTable = h('table', { id: 'tensor-table', class: 'data-table', 'aria-label': 'Tensors and their statistics' }, headerRow(TENSOR_COLUMNS), this.tensorBody);
    this.content = h(
      'div',
      { id: 'content', hidden: true },
      h('section', { 'aria-label': 'Actions' }, this.actions),
      this.evaluation.element,
      section('h-model', 'Model', this.modelSpec),
      section('h-meta', 'Metadata', h('table', { id: 'metadata-table', class: 'kv-table', 'aria-label': 'Checkpoint metadata' }, this.metaBody)),
      section('h-tensors', 'Tensors', h('div', { class: 'table-scroll' }, tensorTable)),
      section('h-hist', 'Weight histograms', this.histograms),
    );
    clear(app);
    app.removeAttribute('aria-busy');
    append(app, h('header', { class: 'page-header' }, this.title, this.subtitle), this.loading, this.error, this.content);
  }

  onMessage(m: PageHostMessage<'checkpoint'>): void {
    switch (m.type) {
      case 'checkpoint':
        mark('checkpoint');
        // Lets a panel opened on a model.json come back after a window reload.
        setState({ file: m.file });
        this.renderInfo(m.file, m.name, m.info, m.actions);
        mark('table');
        break;
      case 'checkpointError':
        setState({ file: m.file });
        this.showError(m.message);
        break;
      case 'actions':
        this.renderActions(m.actions);
        break;
      case 'evaluating':
        this.evaluation.evaluating();
        break;
      case 'evaluation':
        this.evaluation.show(m.result);
        break;
      case 'evaluationError':
        this.evaluation.failed(m.message);
        break;
    }
  }

  private showError(message: string): void {
    this.loading.hidden = true;
    this.content.hidden = true;
    this.error.hidden = false;
    this.error.textContent = message;
  }

  private renderActions(list: Action[]): void {
    clear(this.actions);
    for (const a of list) {
      const b = h('vscode-button', { secondary: true, 'aria-label': a.detail ? `${a.label} (${a.detail})` : a.label, title: a.detail ?? a.label, text: a.label, 'data-command': a.command });
      b.addEventListener('click', () => post({ type: 'runAction', command: a.command }));
      this.actions.appendChild(b);
    }
    this.actions.appendChild(this.evaluation.button);
  }

  private renderInfo(file: string, name: string, info: CheckpointDetails, acts: Action[]): void {
    this.title.textContent = name;
    this.subtitle.textContent = `${file} · ${info.format} · ${fmtBytes(info.fileSize)}`;
    this.loading.hidden = true;
    this.error.hidden = true;
    this.content.hidden = false;
    this.renderActions(acts);
    clear(this.modelSpec);
    append(this.modelSpec, ...modelSpecNodes(info));
    if (!info.spec) this.evaluation.button.disabled = true;
    keyValueRows(this.metaBody, info.metadata.length ? info.metadata : [['(none)', 'this file has no metadata']]);
    clear(this.tensorBody);
    append(this.tensorBody, ...info.tensors.map(tensorRow));
    this.renderHistograms(info.histograms, name);
  }

  private renderHistograms(list: readonly Histogram[], fileName: string): void {
    for (const c of this.charts) c.dispose();
    clear(this.histograms);
    this.charts = list.map((hist, i) => histogramChart(hist, i, fileName));
    append(this.histograms, ...this.charts.map((c) => c.card));
    if (!list.length) this.histograms.appendChild(h('p', { class: 'muted', text: 'No weight matrices to plot.' }));
  }
}

export function startCheckpoint(app: HTMLElement): void {
  const page = new CheckpointPage(app);
  startPage('checkpoint', (m) => page.onMessage(m));
}
