/**
 * The data behind the analysis panels' charts, pure (no DOM, no Plotly) so
 * unit tests run it in Node: kernel PCA groups (by run or optimizer), the
 * gradient check's per-probe series on a log axis, and slice markers.
 */
import { formatNumber, formatPercent, type GradProbe, type KpcaPoint } from '../src/protocol';
import { plotlyText } from './text';

export type ColorBy = 'run' | 'optimizer';

export interface PointGroup {
  name: string;
  /** Indices into the points, in their order. */
  indices: number[];
}

const NONE: Record<ColorBy, string> = { run: '(no run)', optimizer: '(optimizer not recorded)' };

/** Points grouped by run or optimizer, groups by name (the unnamed group last). */
export function groupPoints(points: readonly KpcaPoint[], by: ColorBy): PointGroup[] {
  const groups = new Map<string, number[]>();
  points.forEach((p, i) => {
    const key = (by === 'run' ? p.run : p.optimizer) ?? NONE[by];
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  return [...groups.entries()]
    .map(([name, indices]) => ({ name, indices }))
    .sort((a, b) => Number(a.name === NONE[by]) - Number(b.name === NONE[by]) || a.name.localeCompare(b.name, 'en', { numeric: true }));
}

/** Hover text of a map point: file, losses and accuracies as recorded (Plotly markup escaped). */
export function kpcaHover(p: KpcaPoint): string {
  const lines = [plotlyText(p.label), plotlyText(p.file)];
  const bits: string[] = [];
  if (p.run) bits.push(`run ${plotlyText(p.run)}`);
  if (p.optimizer) bits.push(plotlyText(p.optimizer));
  if (p.epoch !== undefined) bits.push(`epoch ${p.epoch}`);
  if (bits.length) lines.push(bits.join(' · '));
  lines.push(`train loss ${formatNumber(p.loss)} · accuracy ${formatPercent(p.accuracy)}`);
  lines.push(`test loss ${formatNumber(p.testLoss)} · accuracy ${formatPercent(p.testAccuracy)}`);
  return lines.join('<br>');
}

/** The second coordinate of a point (0 for a one-component map). */
export function coord(p: { coords: number[] }, c: number): number {
  return p.coords[c] ?? 0;
}

export function probeName(p: GradProbe): string {
  return p.kind === 'coordinate' ? `θ[${p.index ?? '?'}]` : p.kind === 'direction' ? `direction ${p.direction ?? '?'}` : 'gradient';
}

/** ok, ok although the probe straddles a ReLU kink, outside tolerance at a kink, failed. */
export type ProbeClass = 'ok' | 'ok-kink' | 'kink' | 'fail';

export function probeClass(p: GradProbe): ProbeClass {
  return p.status === 'ok' && p.kink ? 'ok-kink' : p.status;
}

export interface ProbeSeries {
  status: ProbeClass;
  /** Probe numbers (1-based, the table's order). */
  x: number[];
  /** Relative errors, zeros raised to `floor` so a log axis can show them. */
  y: number[];
  hover: string[];
}

/**
 * The relative error of every probe for a log axis, one series per status
 * (ok, ok across a kink, kink, fail). An exact match (error 0) is drawn at `floor`, the axis
 * bottom, and its hover says so. `floor` defaults to a decade below the
 * smallest positive error.
 */
export function probeSeries(probes: readonly GradProbe[], floor?: number): { floor: number; series: ProbeSeries[] } {
  const positive = probes.map((p) => p.relError).filter((v) => v > 0);
  const f = floor ?? (positive.length ? Math.min(...positive) / 10 : 1e-12);
  const series: ProbeSeries[] = (['ok', 'ok-kink', 'kink', 'fail'] as const).map((status) => ({ status, x: [], y: [], hover: [] }));
  probes.forEach((p, i) => {
    const s = series.find((q) => q.status === probeClass(p))!;
    s.x.push(i + 1);
    s.y.push(p.relError > 0 ? p.relError : f);
    const kink = p.kink ? `<br>straddles a ReLU kink${p.crossings ? ` (${p.crossings} sign changes)` : ''}` : '';
    s.hover.push(
      `${probeName(p)}: ${p.status}<br>relative error ${p.relError > 0 ? formatNumber(p.relError) : '0 (exact)'}` +
        `<br>analytic ${formatNumber(p.analytic)}, numeric ${formatNumber(p.numeric)}<br>step h ${formatNumber(p.h)}${kink}`,
    );
  });
  return { floor: f, series: series.filter((s) => s.x.length > 0) };
}

/** Which checkpoint a slice marker is (markers are the slice's checkpoints in order), or undefined for a marker of none. */
export function markerCheckpoint(markerIndex: number, checkpoints: number): number | undefined {
  return markerIndex < checkpoints ? markerIndex : undefined;
}
