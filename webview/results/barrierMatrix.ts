/**
 * All-pairs barriers: the barrier matrix as a heatmap, the disconnectivity
 * graph (single-linkage tree by saddle height) as a dendrogram, the pairs as
 * a table, and the loss profile of the pair picked in the heatmap or table.
 */
import { barrierMatrixView, formatNumber, type BarrierMatrixView, type PairResult, type ResultData } from '../../src/protocol';
import { inspect } from '../api';
import { Chart, type Theme } from '../charts';
import { append, clear, h, kvTable, onActivate, pageHeader, plotlyText, section } from '../dom';
import { layoutDendrogram, shortLabels } from '../dendrogram';
import { barrierRows, barrierTable, profileFigure } from './barrierPath';

/** The result with the panel's reading of it (barrierMatrixView): minima, pairs with profiles, the flattened tree. */
type BarrierMatrix = Omit<Extract<ResultData, { kind: 'barrierMatrix' }>, keyof BarrierMatrixView> & BarrierMatrixView;

function dendrogramFigure(d: BarrierMatrix, names: readonly string[], t: Theme) {
  const n = d.minima.length;
  const L = layoutDendrogram(n, d.tree, d.minima.map((m) => m.loss));
  // One trace for all the lines (segments separated by nulls): fast and one legend entry.
  const lx: (number | null)[] = [];
  const ly: (number | null)[] = [];
  for (const [x0, y0, x1, y1] of L.segments) lx.push(x0, x1, null), ly.push(y0, y1, null);
  const mergeNodes = d.tree.map((m, k) => ({ k: n + k, m }));
  return {
    data: [
      { name: 'joins', type: 'scatter' as const, mode: 'lines' as const, x: lx, y: ly, line: { color: t.fg, width: t.highContrast ? 2 : 1.5 }, hoverinfo: 'skip', showlegend: false },
      {
        name: 'saddles',
        type: 'scatter' as const,
        mode: 'markers' as const,
        x: mergeNodes.map(({ k }) => L.x[k]),
        y: mergeNodes.map(({ k }) => L.y[k]),
        text: mergeNodes.map(({ m }) => (m.height === null ? 'never joined by a computed path' : `joined at H = ${formatNumber(m.height)}`)),
        hovertemplate: '%{text}<extra></extra>',
        marker: { color: t.colors.red, size: 7, symbol: 'diamond' },
        showlegend: false,
      },
      {
        name: 'minima',
        type: 'scatter' as const,
        mode: 'markers' as const,
        x: L.order.map((i) => L.x[i]),
        y: L.order.map((i) => L.y[i]),
        text: L.order.map((i) => `${plotlyText(d.minima[i].label)}<br>loss ${formatNumber(d.minima[i].loss)}`),
        hovertemplate: '%{text}<extra></extra>',
        marker: { color: t.colors.blue, size: 9 },
        showlegend: false,
      },
    ],
    layout: {
      showlegend: false,
      margin: { l: 56, r: 12, t: 16, b: 100 },
      xaxis: {
        tickmode: 'array',
        tickvals: L.order.map((i) => L.x[i]),
        ticktext: L.order.map((i) => plotlyText(names[i])),
        tickangle: -40,
        showgrid: false,
        zeroline: false,
        showticklabels: true,
        title: { text: '' },
      },
      yaxis: { showticklabels: true, zeroline: false },
      shapes:
        L.top !== null
          ? [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: L.top, y1: L.top, line: { color: t.muted, width: 1, dash: 'dot' } }]
          : [],
    },
  };
}

function heatmapFigure(d: BarrierMatrix, names: readonly string[], t: Theme) {
  // File-derived labels: Plotly would read <b>, <a href> and entities in them as markup.
  const labels = d.minima.map((m) => plotlyText(m.label));
  const ticks = names.map(plotlyText);
  const hover = d.barriers.map((row, i) =>
    row.map((b, j) => {
      if (i === j) return `${labels[i]}<br>loss ${formatNumber(d.minima[i].loss)}`;
      if (b === null) return `${labels[i]} ↔ ${labels[j]}<br>not computed`;
      return `${labels[i]} ↔ ${labels[j]}<br>barrier ${formatNumber(b)}<br>H ${formatNumber(d.heights[i][j])} (straight ${formatNumber(d.straightHeights[i][j])})`;
    }),
  );
  return {
    data: [
      {
        name: 'barrier',
        type: 'heatmap' as const,
        // Indices on the axes (labels as tick text) so two minima with one label stay apart.
        x: labels.map((_, i) => i),
        y: labels.map((_, i) => i),
        z: d.barriers.map((row, i) => row.map((v, j) => (i === j ? null : v))),
        text: hover,
        hovertemplate: '%{text}<extra></extra>',
        colorscale: 'Viridis',
        colorbar: { title: { text: 'H − mean loss', font: { color: t.muted } }, tickfont: { color: t.fg }, thickness: 12, outlinewidth: 0 },
        hoverongaps: false,
        xgap: 1,
        ygap: 1,
      },
    ],
    layout: {
      showlegend: false,
      margin: { l: 100, r: 12, t: 16, b: 100 },
      xaxis: { tickmode: 'array', tickvals: labels.map((_, i) => i), ticktext: ticks, tickangle: -40, showgrid: false, showticklabels: true, title: { text: '' }, constrain: 'domain' },
      yaxis: {
        tickmode: 'array',
        tickvals: labels.map((_, i) => i),
        ticktext: ticks,
        autorange: 'reversed',
        showgrid: false,
        showticklabels: true,
        title: { text: '' },
        // Square cells: a matrix reads as one.
        scaleanchor: 'x',
        constrain: 'domain',
      },
    },
  };
}

/** The computed pairs, highest barrier first; a row shows its pair's path. */
function pairsTableOf(d: BarrierMatrix, sorted: readonly PairResult[], names: readonly string[], select: (p: PairResult) => void): HTMLElement {
  const rows = sorted.map((p) => {
    const tr = h(
      'tr',
      { tabindex: 0, role: 'button', class: 'clickable', 'aria-label': `Show the path ${d.minima[p.i].label} to ${d.minima[p.j].label}`, title: `${d.minima[p.i].label} ↔ ${d.minima[p.j].label}` },
      h('td', { text: names[p.i] }),
      h('td', { text: names[p.j] }),
      h('td', { class: 'num', text: formatNumber(p.straight.height) }),
      h('td', { class: 'num', text: formatNumber(p.optimized.height) }),
      h('td', { class: 'num', text: formatNumber(p.straight.barrierFromMean) }),
      h('td', { class: 'num', text: formatNumber(p.optimized.barrierFromMean) }),
      h('td', { class: 'num', text: formatNumber(p.optimized.tAtMax, 3) }),
    );
    onActivate(tr, () => select(p));
    return tr;
  });
  return h(
    'table',
    { id: 'pairs-table', class: 'data-table', 'aria-label': 'Computed pairs, highest barrier first' },
    h(
      'thead',
      {},
      h('tr', {}, ...['A', 'B', 'straight H', 'optimized H', 'straight barrier', 'optimized barrier', 't at max'].map((c) => h('th', { scope: 'col', text: c }))),
    ),
    h('tbody', {}, ...rows),
  );

}

/** The minima; one opens its checkpoint in the viewer. */
function minimaListOf(d: BarrierMatrix, names: readonly string[]): HTMLElement {
  const minimaList = h('ul', { id: 'minima-list', class: 'runs-list', 'aria-label': 'The minima' });
  d.minima.forEach((m, i) => {
    const li = h(
      'li',
      { class: 'checkpoint-item', tabindex: 0, role: 'button', 'aria-label': `Inspect ${m.label}`, title: m.path },
      h('span', { class: 'item-label', text: names[i] }),
      h('span', { class: 'item-detail', text: `loss ${formatNumber(m.loss)} · ${m.label}` }),
    );
    onActivate(li, () => inspect(m.path));
    minimaList.appendChild(li);
  });
  return minimaList;
}

export function renderBarrierMatrix(root: HTMLElement, data: Extract<ResultData, { kind: 'barrierMatrix' }>): void {
  const d: BarrierMatrix = { ...data, ...barrierMatrixView(data) };
  const n = d.minima.length;
  const names = shortLabels(d.minima.map((m) => m.label));
  const exportBase = `barriers-${d.folder.split(/[\\/]/).pop() ?? 'folder'}`.replace(/[^A-Za-z0-9._-]+/g, '-');
  const size = Math.min(720, Math.max(300, 60 + 28 * n));
  const matrix = new Chart({
    id: 'chart-matrix',
    title: 'Barrier matrix (click a cell for its path)',
    ariaLabel: `Barrier above the mean end loss for each computed pair of the ${n} minima`,
    xTitle: '',
    yTitle: '',
    traces: [],
    exportName: `${exportBase}-matrix`,
    height: size + 80,
  });
  const tree = new Chart({
    id: 'chart-tree',
    title: 'Disconnectivity graph',
    ariaLabel: 'Single-linkage tree of the minima by the saddle height of the lowest computed paths between them',
    xTitle: '',
    yTitle: 'training loss (saddle height)',
    traces: [],
    exportName: `${exportBase}-disconnectivity`,
    height: 360,
  });
  const pairChart = new Chart({
    id: 'chart-pair',
    title: 'Loss along the selected pair’s path',
    ariaLabel: 'Training loss along the straight line and the optimized path of the selected pair',
    xTitle: 't (A = 0, B = 1)',
    yTitle: 'training loss',
    traces: [],
    exportName: `${exportBase}-pair`,
    height: 280,
  });
  const pairTitle = h('p', { id: 'pair-title', class: 'muted' });
  const pairNumbers = h('div', { id: 'pair-numbers' });

  const select = (p: PairResult) => {
    const a = d.minima[p.i];
    const b = d.minima[p.j];
    pairTitle.textContent = `${a.label} ↔ ${b.label}: ${p.iterations} iterations`;
    clear(pairNumbers);
    pairNumbers.appendChild(barrierTable('pair-table', ['straight line', 'optimized path'], barrierRows(a.loss, b.loss, [p.straight, p.optimized]), 'Barrier numbers of the selected pair'));
    pairChart.setFigure(profileFigure(p.profile, p.straight, p.optimized));
  };
  const pairOf = (i: number, j: number) => d.pairs.find((p) => (p.i === i && p.j === j) || (p.i === j && p.j === i));

  const sorted = [...d.pairs].sort((x, y) => y.optimized.barrierFromMean - x.optimized.barrierFromMean);
  const pairsTable = pairsTableOf(d, sorted, names, select);
  const minimaList = minimaListOf(d, names);
  const mstText = d.mst.length
    ? `Minimum spanning tree of saddle heights: ${d.mst.map((e) => `${names[e.i]} – ${names[e.j]} at ${formatNumber(e.height)}`).join('; ')}.`
    : 'No computed path links two minima.';

  append(
    root,
    pageHeader(`Barriers between ${n} minima`, `${d.folder} · ${d.pairs.length} pairs (${d.selection}) · ${d.dataset} · ${d.backend} backend · ${d.seconds.toFixed(1)} s`),
    h('section', { 'aria-labelledby': 'h-matrix' }, h('h2', { id: 'h-matrix', text: 'Barriers' }), h('div', { class: 'charts wide' }, matrix.card, tree.card)),
    h('p', { id: 'mst', class: 'muted hint', text: mstText }),
    h('section', { 'aria-labelledby': 'h-pair' }, h('h2', { id: 'h-pair', text: 'Selected pair' }), pairTitle, pairNumbers, h('div', { class: 'charts wide' }, pairChart.card)),
    h('section', { 'aria-labelledby': 'h-pairs' }, h('h2', { id: 'h-pairs', text: 'Pairs' }), h('div', { class: 'table-scroll' }, pairsTable)),
    h('section', { 'aria-labelledby': 'h-minima' }, h('h2', { id: 'h-minima', text: 'Minima' }), minimaList),
    section('h-settings', 'Settings', kvTable('barrier-settings', d.settings)),
  );

  matrix.setFigure((t) => heatmapFigure(d, names, t));
  matrix.onClick((pt) => {
    const i = Number(pt.y);
    const j = Number(pt.x);
    const p = Number.isInteger(i) && Number.isInteger(j) ? pairOf(i, j) : undefined;
    if (p) select(p);
  });
  tree.setFigure((t) => dendrogramFigure(d, names, t));
  if (sorted.length) select(sorted[0]);
}
