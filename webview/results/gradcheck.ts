/**
 * The gradient check of a checkpoint: PASS or FAIL, the largest relative
 * error, and every probe's relative error on a log axis (ReLU kinks marked)
 * against the tolerance.
 */
import { formatNumber, type ResultData } from '../../src/protocol';
import { inspect } from '../api';
import { Chart, type Theme } from '../charts';
import { append, h, keyValueRows, kvTable, onActivate, pageHeader, section } from '../dom';
import { probeName, probeSeries } from '../analysisSeries';

type Gradcheck = Extract<ResultData, { kind: 'gradcheck' }>;

function probesFigure(d: Gradcheck) {
  return (t: Theme) => {
    const { floor, series } = probeSeries(d.probes);
    const style = {
      ok: { name: 'ok', color: t.colors.green, symbol: 'circle' },
      'ok-kink': { name: 'ok, across a ReLU kink', color: t.colors.green, symbol: 'circle-open' },
      kink: { name: 'off at a ReLU kink', color: t.colors.yellow, symbol: 'x' },
      fail: { name: 'failed', color: t.colors.red, symbol: 'diamond' },
    } as const;
    const data: Plotly.Trace[] = series.map((s) => ({
      name: style[s.status].name,
      type: 'scatter',
      mode: 'markers',
      x: s.x,
      y: s.y,
      text: s.hover,
      hovertemplate: '%{text}<extra></extra>',
      marker: { color: style[s.status].color, size: s.status === 'ok' || s.status === 'ok-kink' ? 8 : 11, symbol: style[s.status].symbol, line: { color: s.status === 'ok-kink' ? style[s.status].color : t.fg, width: s.status === 'ok-kink' ? 2 : 1 } },
    }));
    const top = Math.max(d.tolerance, ...d.probes.map((p) => p.relError));
    return {
      data,
      layout: {
        showlegend: true,
        margin: { l: 60, r: 12, t: 24, b: 40 },
        shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: d.tolerance, y1: d.tolerance, line: { color: t.colors.red, width: 1.5, dash: 'dash' } }],
        annotations: [{ xref: 'paper', x: 1, y: Math.log10(d.tolerance), xanchor: 'right', yanchor: 'bottom', showarrow: false, text: `tolerance ${formatNumber(d.tolerance)}`, font: { color: t.colors.red } }],
        // One label per decade: the 2s and 5s of a log axis crowd a short chart.
        yaxis: { type: 'log', exponentformat: 'power', dtick: 1, showticklabels: true, range: [Math.log10(floor) - 0.3, Math.log10(top) + 0.5] },
        xaxis: { showticklabels: true, rangemode: 'tozero' },
      },
    };
  };
}

export function renderGradcheck(root: HTMLElement, d: Gradcheck): void {
  const offAtKinks = d.probes.filter((p) => p.status === 'kink').length;
  const verdict = d.passed
    ? `PASS: the gradient matches central differences (largest relative error ${formatNumber(d.maxRelError)})${offAtKinks ? `; ${offAtKinks} probe${offAtKinks === 1 ? '' : 's'} straddle${offAtKinks === 1 ? 's' : ''} a ReLU kink, where differences cannot match` : ''}.`
    : `FAIL: ${d.failures} probe${d.failures === 1 ? '' : 's'} disagree beyond tolerance without a kink to explain it (largest relative error ${formatNumber(d.maxRelError)}).`;
  const chart = new Chart({
    id: 'chart-probes',
    title: 'Relative error per probe',
    ariaLabel: `Relative error of each of the ${d.probes.length} probes on a log axis, against the tolerance ${formatNumber(d.tolerance)}. ${verdict}`,
    xTitle: 'probe',
    yTitle: 'relative error',
    traces: [],
    exportName: `gradcheck-${d.label}`.replace(/[^A-Za-z0-9._-]+/g, '-'),
    height: 320,
  });
  const numbers: [string, string][] = [
    ['largest relative error', `${formatNumber(d.maxRelError)}${d.worst >= 0 && d.probes[d.worst] ? ` (${probeName(d.probes[d.worst])})` : ''}`],
    ['largest away from kinks', formatNumber(d.maxRelErrorSmooth)],
    ['failed probes', String(d.failures)],
    ['probes across ReLU kinks', `${d.kinks}${d.kinks ? ` (${offAtKinks} outside tolerance because of it)` : ''}`],
    ['probes below float32 resolution', String(d.unresolved)],
    ['tolerance', formatNumber(d.tolerance)],
    ['measured loss noise (relative)', formatNumber(d.relativeNoise)],
    ['gradient norm', formatNumber(d.gradNorm)],
  ];
  const summary = h('tbody');
  keyValueRows(summary, numbers);
  const rows = d.probes.map((p, i) =>
    h(
      'tr',
      { class: p.status === 'fail' ? 'row-fail' : p.status === 'kink' ? 'row-kink' : undefined },
      h('td', { class: 'num', text: String(i + 1) }),
      h('td', { text: probeName(p) }),
      h('td', { class: 'num', text: formatNumber(p.analytic) }),
      h('td', { class: 'num', text: formatNumber(p.numeric) }),
      h('td', { class: 'num', text: formatNumber(p.relError) }),
      h('td', { text: p.status + (p.crossings ? ` (${p.crossings} sign changes)` : '') }),
    ),
  );
  const table = h(
    'table',
    { id: 'probe-table', class: 'data-table', 'aria-label': 'Every probe: analytic and numeric derivative, relative error, status' },
    h('thead', {}, h('tr', {}, ...['#', 'probe', 'analytic', 'numeric', 'relative error', 'status'].map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, ...rows),
  );
  const ck = h(
    'li',
    { class: 'checkpoint-item', tabindex: 0, role: 'button', 'aria-label': `Inspect ${d.label}`, title: d.file },
    h('span', { class: 'item-label', text: d.label }),
    h('span', { class: 'item-detail', text: `${d.model} ${d.activation} · ${d.dim} parameters · training loss ${formatNumber(d.loss)} · ${d.file}` }),
  );
  onActivate(ck, () => inspect(d.file));

  append(
    root,
    pageHeader(`Gradient check of ${d.label}`, `${d.objective.dataset} (${d.objective.samples} samples) · ${d.probes.length} probes · ${d.evaluations} loss evaluations · ${d.backend} backend · ${d.seconds.toFixed(1)} s`),
    h('ul', { class: 'runs-list', 'aria-label': 'The checkpoint' }, ck),
    h('p', { id: 'verdict', class: `verdict ${d.passed ? 'verdict-stable' : 'verdict-unstable'}`, text: verdict }),
    h('section', { 'aria-labelledby': 'h-numbers' }, h('h2', { id: 'h-numbers', text: 'Summary' }), h('table', { id: 'gradcheck-summary', class: 'kv-table' }, summary)),
    h('div', { class: 'charts single' }, chart.card),
    h('section', { 'aria-labelledby': 'h-probes' }, h('h2', { id: 'h-probes', text: 'Probes' }), h('div', { class: 'table-scroll' }, table)),
    section('h-settings', 'Settings', kvTable('gradcheck-settings', d.settings)),
  );
  chart.setFigure(probesFigure(d));
}
