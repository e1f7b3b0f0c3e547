/**
 * A slice of the training loss: a line (1D) with the checkpoints marked, or a
 * plane (2D) as a contour with the checkpoints marked and a toggle to a 3D
 * surface. The axes, seeds and normalisation that reproduce it are listed.
 */
import { formatNumber, formatPercent, type ResultData } from '../../src/protocol';
import { inspect } from '../api';
import { Chart, type Theme } from '../charts';
import { append, h, kvTable, onActivate, pageHeader, plotlyText, section } from '../dom';
import { markerCheckpoint } from '../analysisSeries';
import { checkpointLabel } from '../../src/results/shapes';
import { useLogAxis } from './barrierPath';

type Slice = Extract<ResultData, { kind: 'slice' }>;
type Line = Extract<Slice, { dims: '1d' }>;
type Plane = Extract<Slice, { dims: '2d' }>;

const KIND_TEXT: Record<Slice['request']['kind'], string> = {
  line: 'the line through two checkpoints',
  random: 'a random filter-normalised direction',
  hessian: 'the top Hessian eigenvector',
  'random-plane': 'the plane of two random filter-normalised directions',
  plane: 'the plane through three checkpoints',
  trajectory: "the plane of the first two principal directions of the run's trajectory",
};

type Trajectory = NonNullable<Plane['trajectory']>;

/** The run's checkpoints on the contour: a line through them in epoch order, a marker at each. */
function trajectoryTrace(tr: Trajectory, t: Theme) {
  return {
    name: 'trajectory',
    type: 'scatter' as const,
    mode: 'lines+markers' as const,
    x: tr.points.map((p) => p.x),
    y: tr.points.map((p) => p.y),
    line: { color: '#ffffff', width: t.highContrast ? 3 : 2 },
    marker: { color: t.colors.orange, size: 7, line: { color: '#ffffff', width: 1 } },
    customdata: tr.points.map((p) => [p.epoch, p.loss, p.offPlane]),
    text: tr.points.map((p) => plotlyText(p.label)),
    hovertemplate: '%{text} (epoch %{customdata[0]})<br>loss %{customdata[1]:.5g}, %{customdata[2]:.3g} off the plane<extra></extra>',
    showlegend: false,
  };
}

/** "PC1 97.6%, PC2 1.9% of the trajectory's variance". */
function varianceText(tr: Trajectory): string {
  const [v1, v2] = tr.explainedVariance;
  return `PC1 ${formatPercent(v1)}, PC2 ${formatPercent(v2)} of the trajectory's variance`;
}

function lineFigure(d: Line) {
  const x = d.axes.x;
  const markers = d.meta.markers;
  return (t: Theme) => {
    const y = d.values;
    const log = useLogAxis([...y, ...markers.map((m) => m.loss)]);
    return {
      data: [
        {
          name: 'training loss',
          type: 'scatter' as const,
          mode: 'lines' as const,
          x: x.values,
          y,
          line: { color: t.colors.blue, width: t.highContrast ? 3 : 2 },
          hovertemplate: `${plotlyText(x.name)} = %{x:.4g}<br>loss %{y:.5g}<extra></extra>`,
        },
        {
          name: 'checkpoints',
          type: 'scatter' as const,
          mode: 'markers+text' as const,
          x: markers.map((m) => m.x),
          y: markers.map((m) => m.loss),
          text: markers.map((m) => plotlyText(m.label)),
          textposition: 'top center',
          textfont: { color: t.fg },
          marker: { color: t.colors.red, size: 10, symbol: 'diamond', line: { color: t.fg, width: 1 } },
          hovertemplate: '%{text}<br>loss %{y:.5g}<extra></extra>',
        },
      ],
      layout: {
        showlegend: true,
        margin: { l: 60, r: 12, t: 28, b: 44 },
        xaxis: { title: { text: plotlyText(x.label), font: { color: t.muted, size: t.fontSize - 1 } }, showticklabels: true },
        yaxis: { type: log ? 'log' : 'linear', exponentformat: 'power', showticklabels: true },
      },
    };
  };
}

/** Colour bar and hover of the log₁₀ loss over the plane (surface and contour alike). */
function logLossStyle(d: Plane, y: Plane['axes']['y'], t: Theme) {
  return {
    colorbar: { title: { text: 'log₁₀ loss', font: { color: t.muted } }, tickfont: { color: t.fg }, thickness: 12, outlinewidth: 0 },
    hovertemplate: `${plotlyText(d.axes.x.name)} %{x:.3g}, ${plotlyText(y.name)} %{y:.3g}<br>log₁₀ loss %{z:.3f}<extra></extra>`,
  };
}

function planeFigure(d: Plane, surface: boolean) {
  const { x, y } = d.axes;
  const markers = d.meta.markers;
  return (t: Theme) => {
    // log10 so valleys keep their shape next to high walls.
    const z = d.values.map((row) => row.map((v) => (v > 0 ? Math.log10(v) : null)));
    const markerZ = markers.map((m) => (m.loss > 0 ? Math.log10(m.loss) : 0));
    const labels = markers.map((m) => plotlyText(m.label));
    if (surface) {
      return {
        data: [
          {
            name: 'training loss',
            type: 'surface' as const,
            x: x.values,
            y: y.values,
            z,
            colorscale: 'Viridis',
            ...logLossStyle(d, y, t),
          },
          {
            name: 'checkpoints',
            type: 'scatter3d' as const,
            mode: 'markers+text' as const,
            x: markers.map((m) => m.x),
            y: markers.map((m) => m.y ?? 0),
            z: markerZ,
            text: labels,
            textfont: { color: t.fg },
            marker: { color: t.colors.red, size: 5 },
            hovertemplate: '%{text}<br>log₁₀ loss %{z:.3f}<extra></extra>',
          },
        ],
        layout: {
          showlegend: false,
          margin: { l: 0, r: 0, t: 0, b: 0 },
          scene: {
            // A flatter box seen from further away keeps the whole surface in a 460-px panel.
            aspectmode: 'manual',
            aspectratio: { x: 1, y: 1, z: 0.6 },
            camera: { eye: { x: 1.5, y: -1.5, z: 0.9 } },
            xaxis: { title: { text: plotlyText(x.name) }, color: t.fg, gridcolor: t.grid },
            yaxis: { title: { text: plotlyText(y.name) }, color: t.fg, gridcolor: t.grid },
            zaxis: { title: { text: 'log₁₀ loss' }, color: t.fg, gridcolor: t.grid },
          },
        },
      };
    }
    return {
      data: [
        {
          name: 'training loss',
          type: 'contour' as const,
          x: x.values,
          y: y.values,
          z,
          colorscale: 'Viridis',
          ncontours: 24,
          contours: { coloring: 'heatmap', showlines: true },
          line: { width: 0.5, color: 'rgba(0,0,0,0.25)' },
          ...logLossStyle(d, y, t),
          showlegend: false,
        },
        {
          name: 'checkpoints',
          type: 'scatter' as const,
          mode: 'markers+text' as const,
          x: markers.map((m) => m.x),
          y: markers.map((m) => m.y ?? 0),
          text: labels,
          textposition: 'top center',
          textfont: { color: '#ffffff', size: t.fontSize + 1 },
          marker: { color: t.colors.red, size: 10, symbol: 'diamond', line: { color: '#ffffff', width: 1 } },
          customdata: markers.map((m) => m.loss),
          hovertemplate: '%{text}<br>loss %{customdata:.5g}<extra></extra>',
          showlegend: false,
        },
        ...(d.trajectory ? [trajectoryTrace(d.trajectory, t)] : []),
      ],
      layout: {
        showlegend: false,
        margin: { l: 60, r: 12, t: 20, b: 44 },
        xaxis: { title: { text: plotlyText(x.label), font: { color: t.muted, size: t.fontSize - 1 } }, showticklabels: true, range: [x.values[0], x.values[x.values.length - 1]] },
        yaxis: {
          title: { text: plotlyText(y.label), font: { color: t.muted, size: t.fontSize - 1 } },
          showticklabels: true,
          range: [y.values[0], y.values[y.values.length - 1]],
          // The plane through checkpoints and the trajectory plane have orthonormal axes: equal scales keep their distances true.
          ...(d.request.kind === 'plane' || d.request.kind === 'trajectory' ? { scaleanchor: 'x', scaleratio: 1 } : {}),
        },
      },
    };
  };
}

export function renderSlice(root: HTMLElement, d: Slice): void {
  const { x } = d.axes;
  const y = d.dims === '2d' ? d.axes.y : undefined;
  const m = d.meta;
  const kind = d.request.kind;
  const trajectory = d.dims === '2d' ? d.trajectory : undefined;
  const checkpoints = d.request.files.map((path) => ({ path, label: checkpointLabel(path) }));
  const name = d.label || 'checkpoint';
  const chart = new Chart({
    id: 'chart-slice',
    title: trajectory ? `Training loss on the trajectory plane (log₁₀): ${varianceText(trajectory)}` : y ? 'Training loss on the plane (log₁₀)' : 'Training loss along the line',
    ariaLabel: `The training loss on ${KIND_TEXT[kind]} around ${name}: ${y ? `${x.points} × ${y.points} grid` : `${x.points} points`}, from ${formatNumber(m.min.loss)} to ${formatNumber(m.max.loss)}`,
    xTitle: x.label,
    yTitle: y ? y.label : 'training loss',
    traces: [],
    exportName: `slice-${name}-${kind}`.replace(/[^A-Za-z0-9._-]+/g, '-'),
    height: y ? 460 : 340,
  });
  const toggle = d.dims === '2d' ? surfaceToggle(chart, d) : null;
  const where = (p: { x: number; y?: number }) => (p.y === undefined ? `${x.name} = ${formatNumber(p.x, 3)}` : `(${formatNumber(p.x, 3)}, ${formatNumber(p.y, 3)})`);
  const summary = `Lowest loss ${formatNumber(m.min.loss)} at ${where(m.min)}, highest ${formatNumber(m.max.loss)} at ${where(m.max)}; the centre ${m.centre.label} has loss ${formatNumber(m.centre.loss)}.`;
  const markers = h('ul', { id: 'slice-markers', class: 'runs-list', 'aria-label': 'The checkpoints on the slice' });
  if (trajectory) trajectoryItems(trajectory, markers);
  else markerItems(m.markers, checkpoints, where, markers);
  append(
    root,
    pageHeader(`Slice around ${name}`, `along ${KIND_TEXT[kind]} · ${m.parameterization} · ${d.objective.dataset} (${d.objective.samples} samples) · ${d.backend} backend · ${d.seconds.toFixed(1)} s`),
    h('p', { id: 'slice-summary', class: 'verdict', text: summary }),
    toggle ? h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Chart options' }, toggle) : null,
    h('div', { class: 'charts single' }, chart.card),
    h('section', { 'aria-labelledby': 'h-markers' }, h('h2', { id: 'h-markers', text: 'Checkpoints' }), markers),
    section('h-settings', 'Reproduce it', kvTable('slice-settings', d.settings)),
  );
  chart.setFigure(d.dims === '2d' ? planeFigure(d, false) : lineFigure(d));
}

/** The slice's markers, the checkpoints among them inspectable. */
function markerItems(marks: Slice['meta']['markers'], checkpoints: { path: string; label: string }[], where: (p: { x: number; y?: number }) => string, list: HTMLElement): void {
  marks.forEach((mk, i) => {
    const k = markerCheckpoint(i, checkpoints.length);
    const ck = k !== undefined ? checkpoints[k] : undefined;
    const li = h(
      'li',
      { class: 'checkpoint-item', tabindex: ck ? 0 : undefined, role: ck ? 'button' : undefined, 'aria-label': ck ? `Inspect ${ck.label}` : undefined, title: ck?.path },
      h('span', { class: 'item-label', text: `${mk.label} at ${where(mk)}` }),
      h('span', { class: 'item-detail', text: `loss ${formatNumber(mk.loss)}${ck ? ` · ${ck.path}` : ''}` }),
    );
    if (ck) onActivate(li, () => inspect(ck.path));
    list.appendChild(li);
  });
}

/** The run's checkpoints, each inspectable, with its place on the plane, its distance from it and its own loss. */
function trajectoryItems(tr: Trajectory, list: HTMLElement): void {
  for (const p of tr.points) {
    const li = h(
      'li',
      { class: 'checkpoint-item', tabindex: 0, role: 'button', 'aria-label': `Inspect ${p.label}`, title: p.file },
      h('span', { class: 'item-label', text: `${p.label} (epoch ${p.epoch}) at (${formatNumber(p.x, 3)}, ${formatNumber(p.y, 3)})` }),
      h('span', { class: 'item-detail', text: `loss ${formatNumber(p.loss)} · ${formatNumber(p.offPlane, 3)} off the plane · ${p.file}` }),
    );
    onActivate(li, () => inspect(p.file));
    list.appendChild(li);
  }
}

/** The button that turns the plane's contour into a 3D surface and back. */
function surfaceToggle(chart: Chart, d: Plane): HTMLElement {
  let surface = false;
  const b = h('button', { type: 'button', class: 'toggle-button', id: 'toggle-3d', 'aria-pressed': 'false', text: '3D surface', title: 'Show the plane as a 3D surface (drag to turn it)' });
  b.addEventListener('click', () => {
    surface = !surface;
    b.setAttribute('aria-pressed', String(surface));
    chart.setFigure(planeFigure(d, surface));
  });
  return b;
}
