/**
 * The Hessian spectrum of a checkpoint: the top-k eigenvalues with their
 * error estimates (bars against the 2/η line), the trace with its standard
 * error, and the stability verdict of the learning rate it was trained with;
 * with --density the eigenvalue density on a log axis beside them, with
 * --per-layer a table of each layer's top eigenvalue and trace.
 */
import { formatNumber, type ResultData } from '../../src/protocol';
import { inspect } from '../api';
import { Chart, type Theme } from '../charts';
import { append, h, keyValueRows, kvTable, onActivate, pageHeader, section } from '../dom';

type Hessian = Extract<ResultData, { kind: 'hessian' }>;

const VERDICT: Record<Hessian['stability']['verdict'], string> = {
  stable: 'Stable',
  edge: 'At the edge of stability',
  unstable: 'Unstable',
  'not-applicable': 'No verdict',
};

function eigenFigure(d: Hessian) {
  return (t: Theme) => {
    const st = d.stability;
    const names = d.eigenvalues.map((_, i) => `λ${i + 1}`);
    const shapes: unknown[] = [];
    const annotations: unknown[] = [];
    // The 2/η line is drawn when it is on the chart's scale (within 20× of λmax); otherwise the verdict says it.
    const top = Math.max(...d.eigenvalues.map((v, i) => v + d.errorEstimates[i]), 0);
    const line = st.threshold !== undefined && st.threshold > 0 && st.threshold <= 20 * Math.max(top, 1e-12) ? st.threshold - (st.l2 ?? 0) : undefined;
    if (line !== undefined) {
      shapes.push({ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: line, y1: line, line: { color: t.colors.red, width: 2, dash: 'dash' } });
      annotations.push({
        xref: 'paper',
        x: 1,
        y: line,
        xanchor: 'right',
        yanchor: 'bottom',
        showarrow: false,
        text: `${st.limit === 2 ? '2/η' : `${formatNumber(st.limit, 3)}/η`} = ${formatNumber(st.threshold)}${st.l2 ? ` (− l2)` : ''}`,
        font: { color: t.colors.red },
      });
    }
    return {
      data: [
        {
          name: 'eigenvalue',
          type: 'bar' as const,
          x: names,
          y: d.eigenvalues,
          error_y: { type: 'data', array: d.errorEstimates, visible: true, color: t.fg, thickness: 1.5, width: 6 },
          marker: { color: d.eigenvalues.map((v) => (v >= 0 ? t.colors.blue : t.colors.orange)), line: { color: t.highContrast ? t.fg : t.colors.blue, width: t.highContrast ? 1 : 0 } },
          hovertext: d.eigenvalues.map((v, i) => `${names[i]} = ${formatNumber(v)} ± ${formatNumber(d.errorEstimates[i], 2)} (residual ${formatNumber(d.residuals[i], 2)})`),
          hovertemplate: '%{hovertext}<extra></extra>',
        },
      ],
      layout: {
        showlegend: false,
        margin: { l: 56, r: 12, t: 20, b: 36 },
        shapes,
        annotations,
        yaxis: { showticklabels: true, rangemode: 'tozero', ...(line !== undefined ? { range: [Math.min(0, ...d.eigenvalues) * 1.1, Math.max(top, line) * 1.15] } : {}) },
        xaxis: { showticklabels: true },
      },
    };
  };
}

/** Decades of density the log axis shows below the peak (the bulk dwarfs the outliers by about that much). */
const DENSITY_DECADES = 6;

/** The SLQ density on a log axis, values below the axis floor drawn at the floor. */
function densityFigure(dens: NonNullable<Hessian['density']>) {
  return (t: Theme) => {
    const peak = Math.max(...dens.density, Number.MIN_VALUE);
    const floor = peak * 10 ** -DENSITY_DECADES;
    return {
      data: [
        {
          name: 'density',
          type: 'scatter' as const,
          mode: 'lines' as const,
          x: dens.x,
          y: dens.density.map((v) => Math.max(v, floor)),
          line: { color: t.colors.blue, width: t.highContrast ? 3 : 2 },
          hovertemplate: 'λ = %{x:.4g}<br>density %{y:.3g}<extra></extra>',
        },
      ],
      layout: {
        showlegend: false,
        margin: { l: 56, r: 12, t: 20, b: 36 },
        shapes: [{ type: 'line', yref: 'paper', x0: 0, x1: 0, y0: 0, y1: 1, line: { color: t.muted, width: 1, dash: 'dot' } }],
        yaxis: { showticklabels: true, type: 'log', range: [Math.log10(floor), Math.log10(peak) + 0.3] },
        xaxis: { showticklabels: true },
      },
    };
  };
}

function densityChart(d: Hessian, dens: NonNullable<Hessian['density']>): Chart {
  const chart = new Chart({
    id: 'chart-density',
    title: 'Eigenvalue density (stochastic Lanczos quadrature)',
    ariaLabel: `Eigenvalue density of the Hessian on a log axis, ${dens.runs} runs of ${dens.steps} Lanczos steps, σ ${formatNumber(dens.sigma)}; mean eigenvalue ${formatNumber(dens.mean)}`,
    xTitle: 'eigenvalue λ',
    yTitle: 'density (fraction per unit λ)',
    logY: true,
    traces: [],
    exportName: `hessian-density-${d.label}`.replace(/[^A-Za-z0-9._-]+/g, '-'),
    height: 300,
  });
  chart.setFigure(densityFigure(dens));
  return chart;
}

function densityText(d: Hessian, dens: NonNullable<Hessian['density']>): string {
  const se = dens.meanStandardError;
  const mean = `${formatNumber(dens.mean)}${se !== undefined ? ` ± ${formatNumber(se, 2)}` : ''}`;
  const trace = `${formatNumber(dens.mean * d.dim)}${se !== undefined ? ` ± ${formatNumber(se * d.dim, 2)}` : ''}`;
  return (
    `Eigenvalue density from ${dens.runs} Rademacher start vectors × ${dens.steps} Lanczos steps, Gaussian broadening σ = ${formatNumber(dens.sigma)}` +
    `${dens.sigmaSource === 'default' ? ' (1 % of the Ritz values’ span)' : ''}; it integrates to 1. Mean eigenvalue (trace/P) ≈ ${mean}, so trace ≈ ${trace}.`
  );
}

/** One row per layer: the top eigenvalue and trace of its diagonal Hessian block. */
function perLayerSection(p: NonNullable<Hessian['perLayer']>): HTMLElement {
  const cols = ['layer', 'tensors', 'parameters', 'λmax', '± error', 'trace', '± s.e.', 'method'];
  const rows = p.layers.map((l) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row', text: l.name }),
      h('td', { text: l.tensors.map((t) => (t.startsWith(`${l.name}.`) ? t.slice(l.name.length + 1) : t)).join(' + ') }),
      ...[String(l.size), formatNumber(l.topEigenvalue), formatNumber(l.topEigenvalueError, 2), formatNumber(l.trace), formatNumber(l.traceStandardError, 2)].map((text) => h('td', { class: 'num', text })),
      h('td', { text: l.method === 'exact' ? 'exact block' : `Lanczos ${l.lanczosSteps} steps${l.converged ? '' : ' (not converged)'}, ${l.traceSamples} probes` }),
    ),
  );
  const table = h(
    'table',
    { id: 'per-layer-table', class: 'data-table barrier-table', 'aria-label': 'Top eigenvalue and trace of each layer’s diagonal Hessian block' },
    h('thead', {}, h('tr', {}, ...cols.map((c, i) => h('th', { scope: 'col', class: i >= 2 && i <= 6 ? 'num' : undefined, text: c })))),
    h('tbody', {}, ...rows),
  );
  const hint = `Each layer’s diagonal block of the Hessian (its weight and bias together), as if the other layers were frozen; blocks of at most ${p.exactUpTo} parameters are computed exactly.`;
  return h('section', { 'aria-labelledby': 'h-per-layer' }, h('h2', { id: 'h-per-layer', text: 'Curvature per layer' }), h('p', { class: 'hint', text: hint }), table);
}

/** The verdict as a sentence: the engine's message already starts with it ("stable: η·λmax = …"). */
export function verdictLine(st: Hessian['stability']): string {
  if (st.verdict === 'not-applicable') return `No verdict: ${st.message}`;
  return st.message.charAt(0).toUpperCase() + st.message.slice(1);
}

export function renderHessian(root: HTMLElement, d: Hessian): void {
  const st = d.stability;
  const chart = new Chart({
    id: 'chart-eigenvalues',
    title: `Top ${d.eigenvalues.length} Hessian eigenvalues`,
    ariaLabel: `Top ${d.eigenvalues.length} eigenvalues of the Hessian of the training loss with their error estimates; λmax ${formatNumber(d.eigenvalues[0])}`,
    xTitle: '',
    yTitle: 'eigenvalue',
    traces: [],
    exportName: `hessian-${d.label}`.replace(/[^A-Za-z0-9._-]+/g, '-'),
    height: 300,
  });
  const eigenRows = d.eigenvalues.map((v, i) =>
    h('tr', {}, h('th', { scope: 'row', text: `λ${i + 1}` }), h('td', { class: 'num', text: formatNumber(v) }), h('td', { class: 'num', text: formatNumber(d.errorEstimates[i], 2) }), h('td', { class: 'num', text: formatNumber(d.residuals[i], 2) })),
  );
  const eigenTable = h(
    'table',
    { id: 'eigen-table', class: 'data-table barrier-table', 'aria-label': 'Eigenvalues, error estimates and Lanczos residuals' },
    h('thead', {}, h('tr', {}, ...['', 'eigenvalue', '± error estimate', 'residual'].map((c) => h('th', { scope: 'col', class: c ? 'num' : undefined, text: c })))),
    h('tbody', {}, ...eigenRows),
  );
  const lrText =
    st.lr === undefined
      ? 'none recorded (no verdict)'
      : `${formatNumber(st.lr)} (${st.lrSource === 'metadata' ? `${st.optimizer ?? 'the optimizer'}, from the checkpoint’s hyperparameters` : st.lrSource === 'asked' ? 'as given, for plain gradient descent' : st.lrSource === 'flag' ? 'from --lr, for plain gradient descent' : '–'})`;
  const stabilityRows: [string, string][] = [
    ['verdict', `${VERDICT[st.verdict]}${st.verdict === 'not-applicable' ? '' : ` (η·λmax / limit = ${formatNumber(st.ratio, 3)})`}`],
    ['λmax', `${formatNumber(st.lambdaMax)}${st.l2 ? ` (λ1 + l2 = ${formatNumber(st.l2)}: training descended the loss plus the L2 penalty)` : ''}`],
    ['learning rate η', lrText],
    ...(st.momentum !== undefined ? ([['momentum β', formatNumber(st.momentum)]] as [string, string][]) : []),
    ['bound on η·λmax', formatNumber(st.limit, 4)],
    ['the 2/η line (largest stable λmax)', formatNumber(st.threshold)],
    ['largest stable η at this λmax', formatNumber(st.maxStableLr)],
  ];
  const stability = h('tbody');
  keyValueRows(stability, stabilityRows);
  const trace = d.trace
    ? `Trace of the Hessian ≈ ${formatNumber(d.trace.estimate)} ± ${formatNumber(d.trace.standardError, 2)} (standard error over ${d.trace.samples} Rademacher probes).`
    : 'Trace not computed (landscape.hessian.traceSamples is 0).';
  const ck = h(
    'li',
    { class: 'checkpoint-item', tabindex: 0, role: 'button', 'aria-label': `Inspect ${d.label}`, title: d.file },
    h('span', { class: 'item-label', text: d.label }),
    h('span', { class: 'item-detail', text: `${d.model} · ${d.dim} parameters · training loss ${formatNumber(d.objective.loss)} · ${d.file}` }),
  );
  onActivate(ck, () => inspect(d.file));

  append(
    root,
    pageHeader(`Hessian spectrum of ${d.label}`, `${d.objective.dataset} (${d.objective.samples} samples) · ${d.iterations} Lanczos steps${d.converged ? ', converged' : ', not converged'} · ${d.hvp} Hessian-vector products · ${d.backend} backend · ${d.seconds.toFixed(1)} s`),
    h('ul', { class: 'runs-list', 'aria-label': 'The checkpoint' }, ck),
    h('p', { id: 'verdict', class: `verdict verdict-${st.verdict}`, text: verdictLine(st) }),
    h('div', { class: d.density ? 'charts' : 'charts single' }, chart.card, d.density ? densityChart(d, d.density).card : null),
    h('p', { id: 'trace', class: 'hint', text: trace }),
    d.density ? h('p', { id: 'density', class: 'hint', text: densityText(d, d.density) }) : null,
    d.hvpFallbackReason ? h('p', { class: 'muted hint', text: `Hessian-vector products by finite differences: ${d.hvpFallbackReason}` }) : null,
    h('section', { 'aria-labelledby': 'h-eigen' }, h('h2', { id: 'h-eigen', text: 'Eigenvalues' }), eigenTable),
    d.perLayer ? perLayerSection(d.perLayer) : null,
    h('section', { 'aria-labelledby': 'h-stability' }, h('h2', { id: 'h-stability', text: 'Stability' }), h('table', { id: 'stability-table', class: 'kv-table' }, stability)),
    section('h-settings', 'Settings', kvTable('hessian-settings', d.settings)),
  );
  chart.setFigure(eigenFigure(d));
}
