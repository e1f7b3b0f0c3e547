/**
 * Kernel PCA of checkpoints: the map (one colour per run or per optimizer,
 * hover with the file, loss and accuracy), the overlays projected into it (a
 * run's trajectory, points along a path), the spectrum, and the points.
 * The overlay buttons ask the host, which picks the run folder or path file
 * and computes the projection in the worker.
 */
import { formatNumber, formatPercent, type KpcaOverlay, type ResultData } from '../../src/protocol';
import { inspect, post } from '../api';
import { Chart, type ColorRole, type Theme } from '../charts';
import { append, clear, h, kvTable, onActivate, pageHeader, plotlyText, section } from '../dom';
import { coord, groupPoints, kpcaHover, type ColorBy } from '../analysisSeries';

type Kpca = Extract<ResultData, { kind: 'kpca' }>;

const COLORS: ColorRole[] = ['blue', 'orange', 'green', 'red', 'purple', 'yellow'];
const SYMBOLS = ['circle', 'square', 'diamond', 'triangle-up', 'x', 'cross', 'star', 'hexagon'];

function axisTitle(d: Kpca, c: number): string {
  const ev = d.explainedVariance[c];
  return `PC${c + 1}${ev !== undefined ? ` (${formatPercent(ev)})` : ''}`;
}

function overlayTrace(o: KpcaOverlay, i: number, t: Theme): Plotly.Trace {
  const color = o.kind === 'trajectory' ? t.colors.purple : t.fg;
  return {
    name: plotlyText(o.label),
    type: 'scatter',
    mode: 'lines+markers',
    x: o.points.map((p) => coord(p, 0)),
    y: o.points.map((p) => coord(p, 1)),
    line: { color, width: t.highContrast ? 3 : 2, dash: o.kind === 'path' ? 'dot' : 'solid' },
    marker: { color, size: o.kind === 'path' ? 5 : 7, symbol: o.kind === 'path' ? 'diamond' : 'circle-open' },
    text: o.points.map((p) => {
      const bits = [plotlyText(o.label), plotlyText(p.label)];
      if (p.epoch !== undefined) bits.push(`epoch ${p.epoch}`);
      if (p.t !== undefined) bits.push(`t = ${formatNumber(p.t, 3)}`);
      if (p.loss !== undefined) bits.push(`loss ${formatNumber(p.loss)}`);
      if (p.testAccuracy !== undefined) bits.push(`test accuracy ${formatPercent(p.testAccuracy)}`);
      return bits.join('<br>');
    }),
    hovertemplate: '%{text}<extra></extra>',
    legendgroup: `overlay-${i}`,
  };
}

export function kpcaFigure(d: Kpca, by: ColorBy) {
  return (t: Theme) => {
    const groups = groupPoints(d.points, by);
    const data: Plotly.Trace[] = groups.map((g, k) => ({
      name: plotlyText(g.name),
      type: 'scatter',
      mode: 'markers',
      x: g.indices.map((i) => coord(d.points[i], 0)),
      y: g.indices.map((i) => coord(d.points[i], 1)),
      customdata: g.indices,
      text: g.indices.map((i) => kpcaHover(d.points[i])),
      hovertemplate: '%{text}<extra></extra>',
      marker: {
        color: t.colors[COLORS[k % COLORS.length]],
        size: 10,
        symbol: SYMBOLS[Math.floor(k / COLORS.length) % SYMBOLS.length],
        line: { color: t.fg, width: 1 },
      },
    }));
    d.overlays.forEach((o, i) => data.push(overlayTrace(o, i, t)));
    return {
      data,
      layout: {
        showlegend: true,
        margin: { l: 56, r: 12, t: 28, b: 44 },
        xaxis: { title: { text: axisTitle(d, 0), font: { color: t.muted, size: t.fontSize - 1 } }, showticklabels: true, zeroline: false },
        yaxis: { title: { text: d.components > 1 ? axisTitle(d, 1) : '(one component)', font: { color: t.muted, size: t.fontSize - 1 } }, showticklabels: true, zeroline: false },
      },
    };
  };
}

function spectrumFigure(d: Kpca) {
  return (t: Theme) => {
    const positive = d.spectrum.filter((v) => v > 0);
    const sum = positive.reduce((a, b) => a + b, 0);
    const shown = d.spectrum.slice(0, 20).map((v) => (sum > 0 && v > 0 ? v / sum : 0));
    return {
      data: [
        {
          name: 'explained variance',
          type: 'bar' as const,
          x: shown.map((_, i) => `PC${i + 1}`),
          y: shown,
          marker: { color: shown.map((_, i) => (i < d.components ? t.colors.blue : t.muted)) },
          hovertemplate: '%{x}: %{y:.1%}<extra></extra>',
        },
      ],
      layout: { showlegend: false, yaxis: { tickformat: '.0%', rangemode: 'tozero', showticklabels: true }, xaxis: { showticklabels: true } },
    };
  };
}

/** The overlays projected into the map, each with a remove button. */
function overlayListOf(d: Kpca): HTMLElement {
  const overlays = h('ul', { id: 'overlay-list', class: 'runs-list', 'aria-label': 'Overlays' });
  d.overlays.forEach((o, i) => {
    const remove = h('button', { type: 'button', class: 'link-button overlay-button', text: 'remove', 'aria-label': `Remove the overlay ${o.label}` });
    remove.addEventListener('click', () => post({ type: 'removeOverlay', index: i }));
    overlays.appendChild(h('li', { class: 'overlay-item' }, h('span', { class: 'item-label', text: o.label }), ' ', h('span', { class: 'item-detail', text: `${o.points.length} points · ${o.source}` }), ' ', remove));
  });
  if (!d.overlays.length) overlays.appendChild(h('li', { class: 'empty', text: 'None yet: add a run’s trajectory or the points along a path.' }));

  return overlays;
}

/** The checkpoints with their coordinates; a row opens its checkpoint in the viewer. */
function pointsTableOf(d: Kpca): HTMLElement {
  const pcs = Array.from({ length: d.components }, (_, c) => `PC${c + 1}`);
  const rows = d.points.map((p) => {
    const tr = h(
      'tr',
      { tabindex: 0, role: 'button', class: 'clickable', 'aria-label': `Inspect ${p.label}`, title: p.file },
      h('td', { text: p.label }),
      h('td', { text: p.run ?? '–' }),
      h('td', { text: p.optimizer ?? '–' }),
      h('td', { class: 'num', text: p.epoch === undefined ? '–' : String(p.epoch) }),
      h('td', { class: 'num', text: formatNumber(p.loss) }),
      h('td', { class: 'num', text: formatPercent(p.testAccuracy) }),
      ...p.coords.map((c) => h('td', { class: 'num', text: formatNumber(c) })),
    );
    onActivate(tr, () => inspect(p.file));
    return tr;
  });
  return h(
    'table',
    { id: 'kpca-points', class: 'data-table', 'aria-label': 'The checkpoints and their coordinates (click one to inspect it)' },
    h('thead', {}, h('tr', {}, ...['checkpoint', 'run', 'optimizer', 'epoch', 'train loss', 'test accuracy', ...pcs].map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, ...rows),
  );
}

export function renderKpca(root: HTMLElement, d: Kpca): void {
  const exportBase = `kpca-${d.points.length}`;
  let by: ColorBy = d.points.some((p) => p.run) ? 'run' : 'optimizer';
  const map = new Chart({
    id: 'chart-kpca',
    title: 'The checkpoints in the kernel PCA map',
    ariaLabel: `Kernel PCA map of ${d.points.length} checkpoints (${d.kernel.kernel} kernel): first two components, coloured by run or optimizer${d.overlays.length ? `, with ${d.overlays.length} overlays` : ''}`,
    xTitle: axisTitle(d, 0),
    yTitle: axisTitle(d, 1),
    traces: [],
    exportName: `${exportBase}-map`,
    height: 460,
  });
  const spectrum = new Chart({
    id: 'chart-spectrum',
    title: 'Explained variance per component',
    ariaLabel: 'Share of the centred kernel matrix’s positive eigenvalues per component, the first twenty',
    xTitle: 'component',
    yTitle: 'explained variance',
    traces: [],
    exportName: `${exportBase}-spectrum`,
    height: 220,
  });
  const toggle = (value: ColorBy, label: string) => {
    const b = h('button', { type: 'button', class: 'toggle-button', id: `color-by-${value}`, 'aria-pressed': String(by === value), text: label });
    b.addEventListener('click', () => {
      by = value;
      for (const el of [byRun, byOpt]) el.setAttribute('aria-pressed', String(el === b));
      map.setFigure(kpcaFigure(d, by));
    });
    return b;
  };
  const byRun = toggle('run', 'Run');
  const byOpt = toggle('optimizer', 'Optimizer');
  const overlayButton = (source: 'trajectory' | 'path', label: string, title: string) => {
    const b = h('button', { type: 'button', class: 'action-button overlay-button', id: `add-${source}`, title, text: label });
    b.addEventListener('click', () => {
      if (!b.disabled) post({ type: 'kpcaOverlay', source });
    });
    return b;
  };
  const status = h('p', { id: 'result-status', class: 'muted', role: 'status' });

  const overlays = overlayListOf(d);
  const table = pointsTableOf(d);
  const warnings = d.warnings.map((w) => h('p', { class: 'warning', role: 'note', text: `Note: ${w}` }));

  append(
    root,
    pageHeader(`Kernel PCA of ${d.points.length} checkpoints`, `${d.kernel.kernel} kernel · ${d.dim} parameters · explained variance ${d.explainedVariance.map((v, c) => `PC${c + 1} ${formatPercent(v)}`).join(', ')} · ${d.backend} backend · ${d.seconds.toFixed(1)} s`),
    ...warnings,
    h(
      'div',
      { class: 'toolbar', role: 'group', 'aria-label': 'Map options' },
      h('span', { class: 'muted', text: 'Colour by ' }),
      byRun,
      byOpt,
      h('span', { class: 'toolbar-gap' }),
      overlayButton('trajectory', 'Add trajectory…', 'Project a run’s periodic checkpoints (its training trajectory) into this map'),
      overlayButton('path', 'Add path points…', 'Project 21 points along a saved path between minima (.path.json) into this map'),
    ),
    status,
    h('div', { class: 'charts single' }, map.card),
    h('div', { class: 'charts wide' }, spectrum.card),
    h('section', { 'aria-labelledby': 'h-overlays' }, h('h2', { id: 'h-overlays', text: 'Overlays' }), overlays),
    h('section', { 'aria-labelledby': 'h-points' }, h('h2', { id: 'h-points', text: 'Checkpoints' }), h('div', { class: 'table-scroll' }, table)),
    section('h-settings', 'Settings', kvTable('kpca-settings', d.settings)),
  );
  map.setFigure(kpcaFigure(d, by));
  map.onClick((pt) => {
    const el = map.el as Plotly.PlotElement;
    const trace = el.data?.[pt.curveNumber];
    const custom = trace?.customdata as number[] | undefined;
    const i = custom && typeof pt.pointIndex === 'number' ? custom[pt.pointIndex] : undefined;
    if (i !== undefined && d.points[i]) inspect(d.points[i].file);
  });
  spectrum.setFigure(spectrumFigure(d));
  clear(status);
}
