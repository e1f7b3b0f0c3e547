/**
 * BatchNorm's population statistics at the last weights asked for. A
 * training epoch needs them twice or more at the same weights: to evaluate
 * the epoch in eval mode, then for each checkpoint written at its end (best,
 * periodic, final), and each time is a full pass over the training data.
 */
export class StatisticsMemo {
  private last?: { values: Float32Array; statistics: Float32Array };

  /** The statistics of `values`: the last ones when the weights are the same, else `compute()`'s. */
  get(values: Float32Array, compute: () => Float32Array): Float32Array {
    if (this.last && sameValues(this.last.values, values)) return this.last.statistics;
    const statistics = compute();
    // A copy: the caller may reuse its array for the next weights.
    this.last = { values: values.slice(), statistics };
    return statistics;
  }
}

/** Bit-for-bit equal (so -0 and 0 differ, and a NaN equals the same NaN), as the statistics would be. */
function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
