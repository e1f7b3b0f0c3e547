/**
 * One barrier: the loss along the straight line and along the optimized path
 * with the barrier numbers, the path height per iteration, and the path in
 * the plane of A, B and its largest deviation (over the loss in that plane).
 */
import { barrierPathView, formatNumber, type BarrierPathView, type HeightNumbers, type MinimumRef, type ResultData } from '../../src/protocol';
import { inspect } from '../api';
import { Chart, type Theme } from '../charts';
import { append, h, kvTable, onActivate, pageHeader, section } from '../dom';

/** The result with the panel's reading of it (barrierPathView): both ends, the two paths' numbers side by side. */
type BarrierPath = Omit<Extract<ResultData, { kind: 'barrierPath' }>, keyof BarrierPathView> & BarrierPathView;

/** Log axis when the losses span more than this ratio (a near-zero minimum against a high wall). */
const LOG_RATIO = 50;

export function useLogAxis(values: readonly number[]): boolean {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo > 0 && hi / lo > LOG_RATIO;
}

/** The barrier numbers as table rows, one column per path. */
export function barrierRows(lossA: number | null, lossB: number | null, cols: HeightNumbers[]): [string, string[]][] {
  return [
    ['height H (largest loss along the path)', cols.map((c) => formatNumber(c.height))],
    ['t where the maximum lies', cols.map((c) => formatNumber(c.tAtMax, 3))],
    ['barrier from A: H − loss(A)', cols.map((c) => formatNumber(c.barrierFromA))],
    ['barrier from B: H − loss(B)', cols.map((c) => formatNumber(c.barrierFromB))],
    ['barrier from the mean: H − (loss(A) + loss(B)) / 2', cols.map((c) => formatNumber(c.barrierFromMean))],
    ['loss(A), loss(B)', cols.map(() => `${formatNumber(lossA)}, ${formatNumber(lossB)}`)],
  ];
}

export function barrierTable(id: string, headers: string[], rows: [string, string[]][], caption: string): HTMLTableElement {
  return h(
    'table',
    { id, class: 'data-table barrier-table', 'aria-label': caption },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: '' }), ...headers.map((t) => h('th', { scope: 'col', class: 'num', text: t })))),
    h('tbody', {}, ...rows.map(([k, vs]) => h('tr', {}, h('th', { scope: 'row', text: k }), ...vs.map((v) => h('td', { class: 'num', text: v }))))),
  );
}

/** Loss along t for the straight line and the optimized path (exactly these two traces). */
export function profileFigure(p: { t: number[]; straight: number[]; optimized: number[] }, straight: HeightNumbers, optimized: HeightNumbers) {
  return (t: Theme) => {
    const log = useLogAxis([...p.straight, ...p.optimized]);
    // Labels lean away from the edges so a maximum at an end point stays readable.
    const mark = (hn: HeightNumbers, color: string, label: string, dy: number) => ({
      x: hn.tAtMax,
      y: log ? Math.log10(hn.height) : hn.height,
      text: `${label}H = ${formatNumber(hn.height)}`,
      showarrow: true,
      arrowhead: 2,
      arrowcolor: color,
      ax: hn.tAtMax < 0.2 ? 40 : hn.tAtMax > 0.8 ? -40 : 0,
      ay: dy,
      xanchor: hn.tAtMax < 0.2 ? 'left' : hn.tAtMax > 0.8 ? 'right' : 'center',
      // Theme text on the chart's background, framed in the trace's colour: readable over grid lines in every theme.
      font: { color: t.fg },
      bgcolor: t.bg,
      bordercolor: color,
      borderpad: 2,
    });
    const same = straight.height === optimized.height && straight.tAtMax === optimized.tAtMax;
    const annotations = same
      ? [mark(optimized, t.fg, 'both: ', -24)]
      : [mark(straight, t.colors.orange, 'straight ', -24), mark(optimized, t.colors.blue, 'optimized ', optimized.height < straight.height ? -24 : -44)];
    return {
      data: [
        { name: 'straight line', type: 'scatter' as const, mode: 'lines' as const, x: p.t, y: p.straight, line: { color: t.colors.orange, width: t.highContrast ? 3 : 2, dash: 'dash' } },
        { name: 'optimized path', type: 'scatter' as const, mode: 'lines' as const, x: p.t, y: p.optimized, line: { color: t.colors.blue, width: t.highContrast ? 3 : 2 } },
      ],
      layout: {
        showlegend: true,
        margin: { l: 56, r: 12, t: 28, b: 40 },
        yaxis: { type: log ? 'log' : 'linear', exponentformat: 'power', showticklabels: true },
        xaxis: { range: [0, 1] },
        annotations,
      },
    };
  };
}

function endpointItem(which: 'A' | 'B', m: MinimumRef): HTMLElement {
  const li = h(
    'li',
    { class: 'checkpoint-item', tabindex: 0, role: 'button', 'aria-label': `Inspect minimum ${which}, ${m.label}`, title: m.path },
    h('span', { class: 'item-label', text: `${which}: ${m.label}` }),
    h('span', { class: 'item-detail', text: `loss ${formatNumber(m.loss)}${m.path ? ` · ${m.path}` : ''}` }),
  );
  // A path on an analytic landscape has no checkpoint to inspect.
  if (m.path) onActivate(li, () => inspect(m.path));
  return li;
}

/** The path height per iteration and the best so far (#chart-history), in the result and while it is computed. */
export function pathHeightChart(ariaLabel: string, exportName: string, height: number, emptyText?: string): Chart {
  return new Chart({
    id: 'chart-history',
    title: 'Path height per iteration',
    ariaLabel,
    xTitle: 'iteration',
    yTitle: 'path height',
    traces: [
      { name: 'path height', color: 'blue', mode: 'lines' },
      { name: 'best so far', color: 'green', mode: 'lines', dash: 'dash' },
    ],
    emptyText,
    exportName,
    height,
  });
}

/** The three heights (straight, optimized, refined saddle) and the saddle's certificate. */
export function refinementRows(d: BarrierPath): [string, string][] {
  const r = d.refinement!;
  const rows: [string, string][] = [
    ['straight line H', formatNumber(d.straight.height)],
    ['optimized path H (before refinement)', formatNumber(r.optimizedHeight)],
    ['refined path H', `${formatNumber(r.refinedHeight)}${r.kept ? '' : ' (not kept: higher than the optimized path)'}`],
  ];
  const s = r.saddle;
  if (!s) return rows;
  const verdict = s.negativeEigenvalues === 1 ? 'index-1 saddle' : s.negativeEigenvalues === 0 ? 'not a saddle (no negative curvature)' : `${s.negativeEigenvalues} negative eigenvalues`;
  rows.push(
    ['saddle height (top of the refined path)', `${formatNumber(s.height)} at t = ${formatNumber(s.t, 3)}`],
    ['gradient norm at the saddle', formatNumber(s.gradNorm)],
    ['lowest Hessian eigenvalues', `${formatNumber(s.lowestEigenvalue)}${s.secondEigenvalue !== undefined ? `, ${formatNumber(s.secondEigenvalue)}` : ''} (${s.hvp} products): ${verdict}`],
  );
  return rows;
}

export function renderBarrierPath(root: HTMLElement, data: Extract<ResultData, { kind: 'barrierPath' }>): void {
  const d: BarrierPath = { ...data, ...barrierPathView(data) };
  const name = `${d.a.label} ↔ ${d.b.label}`;
  const exportBase = `barrier-${d.a.label}-${d.b.label}`.replace(/[^A-Za-z0-9._-]+/g, '-');
  const lowered = d.straight.barrierFromMean > 0 ? 1 - d.optimized.barrierFromMean / d.straight.barrierFromMean : NaN;
  // The highest point of the straight line is one of its ends: no wall between them to lower.
  const downhill = Math.min(d.straight.barrierFromA, d.straight.barrierFromB) <= 1e-9 * Math.max(1, Math.abs(d.straight.height));
  const verdict =
    d.iterations === 0
      ? 'No optimization was needed (A equals B, or no steps were asked for): the heights are the straight line’s.'
      : downhill && d.optimized.height >= d.straight.height
        ? `No barrier: the straight line runs downhill from ${d.straight.barrierFromA <= d.straight.barrierFromB ? 'A to B' : 'B to A'}, so its highest point is an end point ` +
          `(H = ${formatNumber(d.straight.height)}) and no path can cross lower.`
        : Number.isFinite(lowered)
        ? `The optimized path crosses at H = ${formatNumber(d.optimized.height)}, ${formatNumber(d.optimized.barrierFromMean)} above the mean end loss: ` +
          `${lowered >= 0 ? `${(100 * lowered).toFixed(0)}% lower` : `${(-100 * lowered).toFixed(0)}% higher`} than the straight line’s ${formatNumber(d.straight.barrierFromMean)}.`
        : `The straight line has no barrier above the mean end loss (${formatNumber(d.straight.barrierFromMean)}); the optimized path reaches H = ${formatNumber(d.optimized.height)}.`;

  const profile = new Chart({
    id: 'chart-profile',
    title: 'Loss along the path',
    ariaLabel: `Training loss along the straight line and along the optimized path from A (t = 0) to B (t = 1). ${verdict}`,
    xTitle: 't (A = 0, B = 1)',
    yTitle: 'training loss',
    traces: [],
    exportName: `${exportBase}-profile`,
    height: 300,
  });
  const history = pathHeightChart('Largest loss over the path points at each iteration of the optimizer, and the lowest kept so far', `${exportBase}-history`, 220);
  const drawn = d.plane;
  const plane = drawn
    ? new Chart({
        id: 'chart-plane',
        title: 'The path in its plane',
        ariaLabel:
          `The optimized path drawn in the plane through A spanned by B − A and the path's largest deviation from the straight line ` +
          `(${formatNumber(drawn.maxDeviation)} at t = ${formatNumber(drawn.tAtMaxDeviation, 3)})${drawn.surface ? ', over the training loss in that plane' : ''}`,
        xTitle: 'along B − A',
        yTitle: 'along the largest deviation',
        traces: [],
        exportName: `${exportBase}-plane`,
        height: 380,
      })
    : undefined;

  append(
    root,
    pageHeader(`Barrier ${name}`, `${d.dataset} · ${d.backend} backend · ${d.iterations} iterations (kept ${d.bestIteration}) · ${d.seconds.toFixed(1)} s`),
    h('ul', { id: 'endpoints', class: 'runs-list', 'aria-label': 'The two minima' }, endpointItem('A', d.a), endpointItem('B', d.b)),
    h('p', { id: 'verdict', class: 'verdict', text: verdict }),
    h(
      'section',
      { 'aria-labelledby': 'h-numbers' },
      h('h2', { id: 'h-numbers', text: 'Barrier' }),
      barrierTable('barrier-table', ['straight line', 'optimized path'], barrierRows(d.a.loss, d.b.loss, [d.straight, d.optimized]), 'Barrier numbers of the straight line and the optimized path'),
    ),
    h('section', { 'aria-labelledby': 'h-charts' }, h('h2', { id: 'h-charts', text: 'Charts' }), h('div', { class: 'charts wide' }, profile.card, ...(plane ? [plane.card] : []), history.card)),
    h('p', { class: 'muted hint', id: 'plane-note' }, planeNote(d)),
    ...(d.refinement ? [section('h-refinement', 'Refinement onto the saddle', kvTable('path-refinement', refinementRows(d)))] : []),
    section('h-settings', 'Settings', kvTable('path-settings', d.settings)),
  );

  profile.setFigure(profileFigure(d.profile, d.straight, d.optimized));
  const it = d.history.height.map((_, i) => i);
  history.setData([
    { x: it, y: d.history.height },
    { x: it.slice(), y: d.history.best },
  ]);
  if (drawn) plane?.setFigure((t) => planeFigure(d, drawn, t));
}

function planeNote(d: BarrierPath): string {
  if (!d.plane) {
    return d.a.path
      ? 'The path is not drawn in a plane: this file holds none of its points (written by landscape path --json, without --out?).'
      : `The path is not drawn in a plane: it was found on the analytic landscape ${d.landscape ?? ''}, not between checkpoints.`;
  }
  return `The plane shows the path exactly up to ${formatNumber(d.plane.maxResidual)} (its largest distance from the plane); A is at (0, 0), B at (${formatNumber(d.plane.distanceAB)}, 0).`;
}

function planeFigure(d: BarrierPath, p: NonNullable<BarrierPath['plane']>, t: Theme) {
  const data: Plotly.Trace[] = [];
  if (p.surface) {
    data.push({
      name: 'training loss',
      type: 'contour',
      x: p.surface.x,
      y: p.surface.y,
      // log10 so the valleys near the minima keep their shape next to high walls.
      z: p.surface.z.map((row) => row.map((v) => (v !== null && v > 0 ? Math.log10(v) : null))),
      colorscale: 'Viridis',
      reversescale: false,
      ncontours: 24,
      contours: { coloring: 'heatmap', showlines: true },
      line: { width: 0.5, color: 'rgba(0,0,0,0.25)' },
      colorbar: { title: { text: 'log₁₀ loss', font: { color: t.muted } }, tickfont: { color: t.fg }, thickness: 12, outlinewidth: 0 },
      hovertemplate: 'x %{x:.3g}, y %{y:.3g}<br>log₁₀ loss %{z:.3f}<extra></extra>',
      showlegend: false,
    });
  }
  const atMax = nearestIndex(d.profile.t, d.optimized.tAtMax);
  data.push(
    { name: 'straight line', type: 'scatter', mode: 'lines', x: [0, p.distanceAB], y: [0, 0], line: { color: t.colors.orange, width: 2, dash: 'dash' } },
    {
      name: 'optimized path',
      type: 'scatter',
      mode: 'lines',
      x: p.x,
      y: p.y,
      line: { color: p.surface ? '#ffffff' : t.colors.blue, width: t.highContrast ? 4 : 3 },
      customdata: d.profile.t,
      hovertemplate: 't %{customdata:.3f}<extra>optimized path</extra>',
    },
    {
      name: 'minima and the highest point',
      type: 'scatter',
      mode: 'markers+text',
      x: [0, p.distanceAB, p.x[atMax] ?? 0],
      y: [0, 0, p.y[atMax] ?? 0],
      text: ['A', 'B', 'H'],
      textposition: ['bottom left', 'bottom right', 'top center'],
      textfont: { color: p.surface ? '#ffffff' : t.fg, size: t.fontSize + 1 },
      marker: { size: [10, 10, 9], color: [t.colors.green, t.colors.green, t.colors.red], line: { color: t.fg, width: 1 }, symbol: ['circle', 'circle', 'diamond'] },
      hoverinfo: 'skip',
      showlegend: false,
    },
  );
  const flat = p.maxDeviation === 0 || p.y.every((v) => v === 0);
  return {
    data,
    layout: {
      showlegend: true,
      margin: { l: 56, r: 12, t: 28, b: 40 },
      annotations: flat
        ? [{ text: 'The path is the straight line: it has no deviation to draw.', showarrow: false, xref: 'paper', yref: 'paper', x: 0.5, y: 0.85, font: { color: t.muted } }]
        : [],
      xaxis: { zeroline: false, showticklabels: true, ...(p.surface ? { range: [p.surface.x[0], p.surface.x[p.surface.x.length - 1]] } : {}) },
      yaxis: {
        zeroline: false,
        showticklabels: true,
        // One unit is one unit on both axes, so the drawing shows how far the path really bends.
        scaleanchor: 'x',
        scaleratio: 1,
        ...(p.surface ? { range: [p.surface.y[0], p.surface.y[p.surface.y.length - 1]] } : {}),
      },
    },
  };
}

function nearestIndex(t: readonly number[], v: number): number {
  let best = 0;
  for (let i = 1; i < t.length; i++) if (Math.abs(t[i] - v) < Math.abs(t[best] - v)) best = i;
  return best;
}
