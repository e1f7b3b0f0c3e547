/**
 * A slice of the training loss: a line (1D) with the checkpoints marked, or a
 * plane (2D) as a contour with the checkpoints marked and a toggle to a 3D
 * surface. The axes, seeds and normalisation that reproduce it are listed.
 */
import { formatNumber, type ResultData } from '../../src/protocol';
import { inspect } from '../api';
import { Chart, type Theme } from '../charts';
import { append, h, kvTable, onActivate, pageHeader, plotlyText, section } from '../dom';
import { markerCheckpoint } from '../analysisSeries';
import { useLogAxis } from './barrierPath';

type Slice = Extract<ResultData, { kind: 'slice' }>;

const KIND_TEXT: Record<Slice['sliceKind'], string> = {
  line: 'the line through two checkpoints',
  random: 'a random filter-normalised direction',
  hessian: 'the top Hessian eigenvector',
  'random-plane': 'the plane of two random filter-normalised directions',
  plane: 'the plane through three checkpoints',
};

function lineFigure(d: Slice) {
  return (t: Theme) => {
    const y = d.values[0] ?? [];
    const log = useLogAxis([...y, ...d.markers.map((m) => m.loss)]);
    return {
      data: [
        {
          name: 'training loss',
          type: 'scatter' as const,
          mode: 'lines' as const,
          x: d.x.values,
          y,
          line: { color: t.colors.blue, width: t.highContrast ? 3 : 2 },
          hovertemplate: `${plotlyText(d.x.name)} = %{x:.4g}<br>loss %{y:.5g}<extra></extra>`,
        },
        {
          name: 'checkpoints',
          type: 'scatter' as const,
          mode: 'markers+text' as const,
          x: d.markers.map((m) => m.x),
          y: d.markers.map((m) => m.loss),
          text: d.markers.map((m) => plotlyText(m.label)),
          textposition: 'top center',
          textfont: { color: t.fg },
          marker: { color: t.colors.red, size: 10, symbol: 'diamond', line: { color: t.fg, width: 1 } },
          hovertemplate: '%{text}<br>loss %{y:.5g}<extra></extra>',
        },
      ],
      layout: {
        showlegend: true,
        margin: { l: 60, r: 12, t: 28, b: 44 },
        xaxis: { title: { text: plotlyText(d.x.label), font: { color: t.muted, size: t.fontSize - 1 } }, showticklabels: true },
        yaxis: { type: log ? 'log' : 'linear', exponentformat: 'power', showticklabels: true },
      },
    };
  };
}

/** Colour bar and hover of the log₁₀ loss over the plane (surface and contour alike). */
function logLossStyle(d: Slice, y: NonNullable<Slice['y']>, t: Theme) {
  return {
    colorbar: { title: { text: 'log₁₀ loss', font: { color: t.muted } }, tickfont: { color: t.fg }, thickness: 12, outlinewidth: 0 },
    hovertemplate: `${plotlyText(d.x.name)} %{x:.3g}, ${plotlyText(y.name)} %{y:.3g}<br>log₁₀ loss %{z:.3f}<extra></extra>`,
  };
}

function planeFigure(d: Slice, surface: boolean) {
  return (t: Theme) => {
    const y = d.y!;
    // log10 so valleys keep their shape next to high walls.
    const z = d.values.map((row) => row.map((v) => (v > 0 ? Math.log10(v) : null)));
    const markerZ = d.markers.map((m) => (m.loss > 0 ? Math.log10(m.loss) : 0));
    const labels = d.markers.map((m) => plotlyText(m.label));
    if (surface) {
      return {
        data: [
          {
            name: 'training loss',
            type: 'surface' as const,
            x: d.x.values,
            y: y.values,
            z,
            colorscale: 'Viridis',
            ...logLossStyle(d, y, t),
          },
          {
            name: 'checkpoints',
            type: 'scatter3d' as const,
            mode: 'markers+text' as const,
            x: d.markers.map((m) => m.x),
            y: d.markers.map((m) => m.y ?? 0),
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
            xaxis: { title: { text: plotlyText(d.x.name) }, color: t.fg, gridcolor: t.grid },
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
          x: d.x.values,
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
          x: d.markers.map((m) => m.x),
          y: d.markers.map((m) => m.y ?? 0),
          text: labels,
          textposition: 'top center',
          textfont: { color: '#ffffff', size: t.fontSize + 1 },
          marker: { color: t.colors.red, size: 10, symbol: 'diamond', line: { color: '#ffffff', width: 1 } },
          customdata: d.markers.map((m) => m.loss),
          hovertemplate: '%{text}<br>loss %{customdata:.5g}<extra></extra>',
          showlegend: false,
        },
      ],
      layout: {
        showlegend: false,
        margin: { l: 60, r: 12, t: 20, b: 44 },
        xaxis: { title: { text: plotlyText(d.x.label), font: { color: t.muted, size: t.fontSize - 1 } }, showticklabels: true, range: [d.x.values[0], d.x.values[d.x.values.length - 1]] },
        yaxis: {
          title: { text: plotlyText(y.label), font: { color: t.muted, size: t.fontSize - 1 } },
          showticklabels: true,
          range: [y.values[0], y.values[y.values.length - 1]],
          // The plane through checkpoints has orthonormal axes: equal scales keep its distances true.
          ...(d.sliceKind === 'plane' ? { scaleanchor: 'x', scaleratio: 1 } : {}),
        },
      },
    };
  };
}

export function renderSlice(root: HTMLElement, d: Slice): void {
  const twoD = d.y !== undefined;
  const name = d.checkpoints[0]?.label ?? 'checkpoint';
  const chart = new Chart({
    id: 'chart-slice',
    title: twoD ? 'Training loss on the plane (log₁₀)' : 'Training loss along the line',
    ariaLabel: `The training loss on ${KIND_TEXT[d.sliceKind]} around ${name}: ${twoD ? `${d.x.points} × ${d.y!.points} grid` : `${d.x.points} points`}, from ${formatNumber(d.min.loss)} to ${formatNumber(d.max.loss)}`,
    xTitle: d.x.label,
    yTitle: twoD ? d.y!.label : 'training loss',
    traces: [],
    exportName: `slice-${name}-${d.sliceKind}`.replace(/[^A-Za-z0-9._-]+/g, '-'),
    height: twoD ? 460 : 340,
  });
  let surface = false;
  const toggle = twoD
    ? (() => {
        const b = h('button', { type: 'button', class: 'toggle-button', id: 'toggle-3d', 'aria-pressed': 'false', text: '3D surface', title: 'Show the plane as a 3D surface (drag to turn it)' });
        b.addEventListener('click', () => {
          surface = !surface;
          b.setAttribute('aria-pressed', String(surface));
          chart.setFigure(planeFigure(d, surface));
        });
        return b;
      })()
    : null;
  const where = (p: { x: number; y?: number }) => (p.y === undefined ? `${d.x.name} = ${formatNumber(p.x, 3)}` : `(${formatNumber(p.x, 3)}, ${formatNumber(p.y, 3)})`);
  const summary = `Lowest loss ${formatNumber(d.min.loss)} at ${where(d.min)}, highest ${formatNumber(d.max.loss)} at ${where(d.max)}; the centre ${d.centre.label} has loss ${formatNumber(d.centre.loss)}.`;
  const markers = h('ul', { id: 'slice-markers', class: 'runs-list', 'aria-label': 'The checkpoints on the slice' });
  d.markers.forEach((m, i) => {
    const k = markerCheckpoint(i, d.checkpoints.length);
    const ck = k !== undefined ? d.checkpoints[k] : undefined;
    const li = h(
      'li',
      { class: 'checkpoint-item', tabindex: ck ? 0 : undefined, role: ck ? 'button' : undefined, 'aria-label': ck ? `Inspect ${ck.label}` : undefined, title: ck?.path },
      h('span', { class: 'item-label', text: `${m.label} at ${where(m)}` }),
      h('span', { class: 'item-detail', text: `loss ${formatNumber(m.loss)}${ck ? ` · ${ck.path}` : ''}` }),
    );
    if (ck) onActivate(li, () => inspect(ck.path));
    markers.appendChild(li);
  });
  append(
    root,
    pageHeader(`Slice around ${name}`, `along ${KIND_TEXT[d.sliceKind]} · ${d.parameterization} · ${d.dataset} (${d.samples} samples) · ${d.backend} backend · ${d.seconds.toFixed(1)} s`),
    h('p', { id: 'slice-summary', class: 'verdict', text: summary }),
    toggle ? h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Chart options' }, toggle) : null,
    h('div', { class: 'charts single' }, chart.card),
    h('section', { 'aria-labelledby': 'h-markers' }, h('h2', { id: 'h-markers', text: 'Checkpoints' }), markers),
    section('h-settings', 'Reproduce it', kvTable('slice-settings', d.settings)),
  );
  chart.setFigure(twoD ? planeFigure(d, false) : lineFigure(d));
}
