/**
 * The mean of independent estimates and its standard error, for the
 * stochastic estimators (Hutchinson probes, SLQ runs) that report both.
 */
export interface MeanWithError {
  mean: number;
  /** Sample standard deviation / √n; NaN for a single sample. */
  standardError: number;
}

export function meanWithError(samples: readonly number[]): MeanWithError {
  const n = samples.length;
  if (n === 0) return { mean: NaN, standardError: NaN };
  const mean = samples.reduce((s, x) => s + x, 0) / n;
  // Two passes (mean first): exact for the few dozen samples these estimators take.
  const ss = samples.reduce((s, x) => s + (x - mean) * (x - mean), 0);
  return { mean, standardError: n > 1 ? Math.sqrt(ss / (n - 1) / n) : NaN };
}
