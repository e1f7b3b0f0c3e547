/**
 * An instability analysis (Frankle et al. 2020): the barrier between copies
 * trained from the parent's weights at each spawn epoch k, against k, with the
 * threshold and the first stable k marked, and a table of every spawn epoch.
 */
import { formatNumber, formatPercent, type ResultData } from '../../src/protocol';
import { Chart, type Theme } from '../charts';
import { append, h, kvTable, pageHeader, section } from '../dom';

type Instability = Extract<ResultData, { kind: 'instability' }>;

function barrierFigure(d: Instability) {
  return (t: Theme) => {
    const k = d.spawns.map((s) => s.epoch);
    // The threshold is relative to each pair's loss: drawn as the largest barrier / loss against its line.
    const rel = d.spawns.map((s) => s.straight.maxRelative ?? NaN);
    const data: Plotly.Trace[] = [
      { name: 'straight line: largest barrier / loss', type: 'scatter', mode: 'lines+markers', x: k, y: rel, marker: { color: t.colors.blue, size: 9 }, line: { color: t.colors.blue } },
    ];
    if (d.spawns.some((s) => s.optimized)) {
      data.push({ name: 'optimized path: largest barrier / loss', type: 'scatter', mode: 'lines+markers', x: k, y: d.spawns.map((s) => s.optimized?.maxRelative ?? NaN), marker: { color: t.colors.green, size: 9, symbol: 'diamond' }, line: { color: t.colors.green, dash: 'dot' } });
    }
    const first = d.firstStableEpoch;
    const shapes = [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: d.config.threshold, y1: d.config.threshold, line: { color: t.colors.red, width: 1.5, dash: 'dash' } }];
    const annotations = [{ xref: 'paper', x: 1, y: d.config.threshold, xanchor: 'right', yanchor: 'bottom', showarrow: false, text: `threshold ${formatPercent(d.config.threshold)}`, font: { color: t.colors.red } }];
    if (first !== null) annotations.push({ xref: 'x', x: first, y: rel[k.indexOf(first)], xanchor: 'left', yanchor: 'bottom', showarrow: true, text: `first stable k = ${first}`, font: { color: t.fg } } as never);
    return {
      data,
      layout: { showlegend: true, margin: { l: 60, r: 12, t: 24, b: 40 }, shapes, annotations, yaxis: { tickformat: '.1%', rangemode: 'tozero', showticklabels: true }, xaxis: { showticklabels: true } },
    };
  };
}

function spawnTable(d: Instability): HTMLElement {
  const opt = d.spawns.some((s) => s.optimized);
  const head = ['k', 'straight barrier (max)', 'max / loss', ...(opt ? ['optimized (max)', 'max / loss'] : []), 'stable?'];
  const rows = d.spawns.map((s) =>
    h(
      'tr',
      { class: s.straight.belowThreshold ? undefined : 'row-kink' },
      h('td', { class: 'num', text: String(s.epoch) }),
      h('td', { class: 'num', text: formatNumber(s.straight.max) }),
      h('td', { class: 'num', text: s.straight.maxRelative === null ? '-' : formatPercent(s.straight.maxRelative) }),
      ...(opt ? [h('td', { class: 'num', text: s.optimized ? formatNumber(s.optimized.max) : '-' }), h('td', { class: 'num', text: s.optimized?.maxRelative == null ? '-' : formatPercent(s.optimized.maxRelative) })] : []),
      h('td', { text: `${s.straight.belowThreshold ? 'yes' : 'no'}${s.epoch === d.firstStableEpoch ? ' ← first' : ''}` }),
    ),
  );
  return h(
    'table',
    { id: 'spawn-table', class: 'data-table', 'aria-label': 'Each spawn epoch: the largest barrier between its copies, relative to the loss, and whether it is stable' },
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, ...rows),
  );
}

export function renderInstability(root: HTMLElement, d: Instability): void {
  const first = d.firstStableEpoch;
  const verdict = first === null ? 'No spawn epoch is stable: the copies end up separated by a barrier above the threshold from every spawn point.' : `Stable from spawn epoch ${first}: copies spawned there or later end up linearly connected (barrier at most ${formatPercent(d.config.threshold)} of the loss).`;
  const chart = new Chart({
    id: 'chart-instability',
    title: 'Barrier between the copies against the spawn epoch',
    ariaLabel: `The largest straight-line barrier between copies, relative to the loss, at spawn epochs ${d.spawns.map((s) => s.epoch).join(', ')}, against the threshold ${formatPercent(d.config.threshold)}. ${verdict}`,
    xTitle: 'spawn epoch k',
    yTitle: 'barrier / loss',
    traces: [],
    exportName: `instability-${d.model}`.replace(/[^A-Za-z0-9._-]+/g, '-'),
    height: 340,
  });
  append(
    root,
    pageHeader(`Instability of ${d.model}`, `${d.dataset.name} (${d.dataset.trainSize} samples) · ${d.config.epochs} epochs · ${d.config.children} copies per spawn epoch · ${d.backend} backend · ${d.seconds.toFixed(1)} s`),
    h('p', { id: 'verdict', class: `verdict ${first === null ? 'verdict-unstable' : 'verdict-stable'}`, text: verdict }),
    h('p', { class: 'hint', text: `Threshold rule: ${d.config.thresholdRule}.` }),
    h('div', { class: 'charts single' }, chart.card),
    section('h-spawns', 'Spawn epochs', h('div', { class: 'table-scroll' }, spawnTable(d))),
    section('h-config', 'Settings', kvTable('instability-settings', [['spawn epochs', d.config.spawnEpochs.join(', ')], ['copies', String(d.config.children)], ['threshold', formatPercent(d.config.threshold)], ['copies\' batch seeds', d.config.childSeeds.join(', ')], ['parent', d.parent.dir]])),
  );
  chart.setFigure(barrierFigure(d));
}
