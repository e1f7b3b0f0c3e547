// Comparing vectors in numerical tests: one number for a whole gradient or product.

/** max_i |a_i − b_i| / max_i |b_i|: the largest difference relative to the reference's largest entry. */
export function maxRelError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(got[i] - ref[i]));
    s = Math.max(s, Math.abs(ref[i]));
  }
  return d / s;
}
