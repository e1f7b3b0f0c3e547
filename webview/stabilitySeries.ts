/**
 * The series of the stability chart (stabilityEvery): λmax at each check and
 * the 2/η line, with the verdict for the hover. Pure (no DOM, no Plotly), so
 * unit tests run it in Node.
 */
import { formatNumber, type StabilityPoint } from '../src/protocol';
import { plotlyText } from './text';

export interface StabilitySeries {
  epochs: number[];
  lambda: number[];
  /** ± the Lanczos error estimate (0 where unknown). */
  errors: number[];
  verdicts: StabilityPoint['verdict'][];
  hover: string[];
  /**
   * The 2/η line: one horizontal segment from the first check to `lastEpoch`
   * when η is constant, else the step line through each check's threshold;
   * null when no check has a learning rate to compare with.
   */
  threshold: { x: number[]; y: number[]; constant: boolean } | null;
}

const VERDICT_TEXT: Record<StabilityPoint['verdict'], string> = {
  stable: 'stable',
  edge: 'at the edge of stability',
  unstable: 'unstable',
  'not-applicable': 'no verdict',
};

export function stabilitySeries(points: readonly StabilityPoint[], lastEpoch?: number): StabilitySeries {
  const sorted = [...points].sort((a, b) => a.epoch - b.epoch);
  const epochs = sorted.map((p) => p.epoch);
  const hover = sorted.map((p) => {
    const lines = [`epoch ${p.epoch}: λmax ${formatNumber(p.lambdaMax)}${p.errorEstimate !== undefined ? ` ± ${formatNumber(p.errorEstimate, 2)}` : ''}`];
    if (p.threshold !== undefined) lines.push(`2/η line ${formatNumber(p.threshold)}${p.lr !== undefined ? ` (η = ${formatNumber(p.lr)})` : ''}`);
    lines.push(`${VERDICT_TEXT[p.verdict]}: ${plotlyText(p.message)}`);
    return lines.join('<br>');
  });
  const withT = sorted.filter((p) => p.threshold !== undefined);
  let threshold: StabilitySeries['threshold'] = null;
  if (withT.length > 0) {
    const t0 = withT[0].threshold!;
    const constant = withT.every((p) => Math.abs(p.threshold! - t0) <= 1e-12 * Math.abs(t0));
    if (constant) {
      const x0 = withT[0].epoch;
      const x1 = Math.max(withT[withT.length - 1].epoch, lastEpoch ?? 0, x0 + 1);
      threshold = { x: [x0, x1], y: [t0, t0], constant: true };
    } else {
      threshold = { x: withT.map((p) => p.epoch), y: withT.map((p) => p.threshold!), constant: false };
    }
  }
  return {
    epochs,
    lambda: sorted.map((p) => p.lambdaMax),
    errors: sorted.map((p) => p.errorEstimate ?? 0),
    verdicts: sorted.map((p) => p.verdict),
    hover,
    threshold,
  };
}
