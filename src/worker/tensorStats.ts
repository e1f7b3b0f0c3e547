/**
 * Numbers the checkpoint viewer shows, computed in the worker. Pure and
 * float64 throughout (sums of many float32 values lose digits otherwise).
 */
import type { Histogram, TensorStat } from '../protocol';

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** mean, std (population), min, max and L2 norm; nulls for an empty tensor or non-finite values. */
export function tensorStat(name: string, dtype: string, shape: number[], data: ArrayLike<number>): TensorStat {
  const n = data.length;
  if (n === 0) return { name, dtype, shape, size: 0, mean: null, std: null, min: null, max: null, norm: null };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  // Two passes: the one-pass formula cancels badly when |mean| >> std.
  let ss = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = data[i] - mean;
    ss += d * d;
    sq += data[i] * data[i];
  }
  return {
    name,
    dtype,
    shape,
    size: n,
    mean: finiteOrNull(mean),
    std: finiteOrNull(Math.sqrt(ss / n)),
    min: finiteOrNull(min),
    max: finiteOrNull(max),
    norm: finiteOrNull(Math.sqrt(sq)),
  };
}

/**
 * Equal-width histogram over [min, max]; the last bin includes max. A constant
 * tensor gets a unit-wide range around its value so the bar is visible.
 * Non-finite values are left out.
 */
export function histogram(name: string, data: ArrayLike<number>, bins: number): Histogram | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) return undefined;
  if (min === max) {
    min -= 0.5;
    max += 0.5;
  }
  const counts = new Array<number>(bins).fill(0);
  const scale = bins / (max - min);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    const k = Math.min(bins - 1, Math.max(0, Math.floor((v - min) * scale)));
    counts[k]++;
  }
  return { name, min, max, counts };
}
