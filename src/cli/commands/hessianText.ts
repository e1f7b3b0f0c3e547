/**
 * The text of `landscape hessian --density` and `--per-layer`: a short
 * summary of the eigenvalue density with a table of the fraction of
 * eigenvalues per interval, and a table of each layer's curvature.
 */
import { fmt, table } from '../output';
import { binnedMass, massBelow, ritzRange } from '../../engine/analysis';
import type { HessianDensity, HessianPerLayer } from '../../results/hessian';

/** Intervals of the density table. */
const BINS = 12;
/** The bars span this many decades of the fraction (1e-6 … 1): the bulk holds nearly all of it, the outliers a tiny part. */
const DECADES = 6;
const BAR = 24;

function logBar(fraction: number): string {
  if (!(fraction > 0)) return '';
  const len = Math.round((BAR * (Math.log10(fraction) + DECADES)) / DECADES);
  return '#'.repeat(Math.max(1, Math.min(BAR, len)));
}

/** The density's support, σ, trace/P, the fraction of eigenvalues ≤ 0 with its bounds, and the mass per interval of the Ritz values' range. */
export function densityLines(d: HessianDensity, dim: number): string[] {
  const { lo, hi } = ritzRange(d.quadratures);
  const edges = Array.from({ length: BINS + 1 }, (_, b) => (hi > lo ? lo + ((hi - lo) * b) / BINS : lo + (b - BINS / 2) * d.sigma));
  const mass = binnedMass(d.quadratures, edges);
  const below = massBelow(d.quadratures, 0);
  const se = d.meanStandardError;
  const seText = se !== undefined ? ` ± ${fmt(se)} (standard error over ${d.runs} runs)` : ' (one run: no standard error)';
  const steps = d.quadratures.map((q) => q.steps);
  const stepText = Math.min(...steps) < d.steps ? `, ${Math.min(...steps)}–${Math.max(...steps)} taken (the Krylov space was exhausted)` : '';
  return [
    `eigenvalue density (stochastic Lanczos quadrature): ${d.runs} Rademacher start vectors × ${d.steps} Lanczos steps${stepText}, seed ${d.seed}`,
    `support: Ritz values in [${fmt(lo)}, ${fmt(hi)}]; Gaussian broadening σ = ${fmt(d.sigma)}${d.sigmaSource === 'default' ? ' (1 % of that span; --sigma to change)' : ' (--sigma)'}`,
    `mean eigenvalue (trace/P) ≈ ${fmt(d.mean)}${seText}; trace ≈ ${fmt(d.mean * dim)}${se !== undefined ? ` ± ${fmt(se * dim)}` : ''}`,
    `fraction of eigenvalues ≤ 0 ≈ ${fmt(below.estimate)} (quadrature bounds ${fmt(below.lower)} … ${fmt(below.upper)}; more --steps narrow them)`,
    '',
    table([['λ from', 'to', 'fraction', `(log scale, 1e-${DECADES} … 1)`], ...mass.map((m, b) => [fmt(edges[b]), fmt(edges[b + 1]), fmt(m), logBar(m)])]),
  ];
}

/** One row per layer: its tensors, size, top eigenvalue and trace of its diagonal block, with their errors. */
export function perLayerLines(p: HessianPerLayer): string[] {
  const rows = p.layers.map((l) => [
    l.name,
    l.tensors.map((t) => (t.startsWith(`${l.name}.`) ? t.slice(l.name.length + 1) : t)).join('+'),
    String(l.size),
    fmt(l.topEigenvalue),
    l.topEigenvalueError !== undefined ? fmt(l.topEigenvalueError) : '-',
    fmt(l.trace),
    l.traceStandardError !== undefined ? fmt(l.traceStandardError) : '-',
    l.method === 'exact' ? 'exact' : `Lanczos ${l.lanczosSteps}${l.converged ? '' : ' (not converged)'}, ${l.traceSamples} probes`,
  ]);
  return [
    `per-layer curvature: each layer's diagonal Hessian block (weight and bias together), seed ${p.seed}; exact for blocks of ≤ ${p.exactUpTo} parameters`,
    '',
    table([['layer', 'tensors', 'parameters', 'λmax', '± error', 'trace', '± s.e.', 'method'], ...rows]),
  ];
}
