/**
 * The Hessian spectrum of a checkpoint: the top-k eigenvalues with their
 * error estimates (bars against the 2/η line), the trace with its standard
 * error, and the stability verdict of the learning rate it was trained with.
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
    h('div', { class: 'charts single' }, chart.card),
    h('p', { id: 'trace', class: 'hint', text: trace }),
    d.hvpFallbackReason ? h('p', { class: 'muted hint', text: `Hessian-vector products by finite differences: ${d.hvpFallbackReason}` }) : null,
    h('section', { 'aria-labelledby': 'h-eigen' }, h('h2', { id: 'h-eigen', text: 'Eigenvalues' }), eigenTable),
    h('section', { 'aria-labelledby': 'h-stability' }, h('h2', { id: 'h-stability', text: 'Stability' }), h('table', { id: 'stability-table', class: 'kv-table' }, stability)),
    section('h-settings', 'Settings', kvTable('hessian-settings', d.settings)),
  );
  chart.setFigure(eigenFigure(d));
}
