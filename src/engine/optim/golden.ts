/**
 * Line search by bracketing and golden-section shrinking, the step-size rule
 * of Yu & Morozov's L-BFGS-GSS (arXiv 2602.21276, Algorithm 1):
 *
 *  1. Bracket: try α = s, 2s, 4s, … until φ stops decreasing, i.e. until a
 *     trial is not below the previous one (or the first trial is not below
 *     φ(0)). The last three points (or [0, s]) enclose a minimum.
 *  2. Shrink: place a new point a fraction 0.382 into the larger part of the
 *     bracket and keep the sub-bracket around the lower value, until the
 *     bracket is narrower than `tol` relative to its position or the
 *     evaluation budget is spent.
 *
 * The budget counts every φ evaluation of both phases (and φ(0) when the
 * caller does not supply it), so a step never costs more than `maxEvals`
 * objective evaluations. The best point seen is returned, not the bracket's
 * midpoint: it has a known value, and a step whose value is not below φ(0)
 * is reported as `improved: false` (α = 0) rather than taken.
 */

/** (3 − √5)/2 ≈ 0.381966: the golden-section fraction. */
export const GOLDEN_FRACTION = (3 - Math.sqrt(5)) / 2;

export interface GoldenSectionOptions {
  /** First trial step s (> 0); bracketing tries s·2^k. */
  initialStep: number;
  /** φ(0) when the caller knows it (not counted); evaluated and counted otherwise. */
  f0?: number;
  /** Most φ evaluations in total (6). */
  maxEvals?: number;
  /** Stop shrinking when (hi − lo) ≤ tol·(|lo| + |hi|) (1e-4). */
  tol?: number;
  /**
   * Batched φ over several steps at once. Used where the search needs two
   * new points together (the first shrink of a bracket [0, s] with no
   * interior point), so a batched objective evaluates both in one pass.
   */
  phiMany?: (alphas: number[]) => number[];
}

export interface GoldenSectionResult {
  /** The best step found; 0 when no trial was below φ(0). */
  alpha: number;
  /** φ(alpha). */
  value: number;
  /** φ evaluations made (never more than maxEvals). */
  evaluations: number;
  /** Whether a minimum was enclosed (false: the budget ran out while φ kept decreasing). */
  bracketed: boolean;
  /** Whether value < φ(0). */
  improved: boolean;
  /** The final bracket; hi is the largest trial when not bracketed. */
  lo: number;
  hi: number;
}

export function goldenSectionSearch(phi: (alpha: number) => number, opts: GoldenSectionOptions): GoldenSectionResult {
  const maxEvals = opts.maxEvals ?? 6;
  const tol = opts.tol ?? 1e-4;
  const s = opts.initialStep;
  if (!(Number.isFinite(s) && s > 0)) throw new RangeError(`goldenSectionSearch: initialStep must be a positive finite number, got ${s}`);
  if (!(Number.isInteger(maxEvals) && maxEvals >= 1)) throw new RangeError(`goldenSectionSearch: maxEvals must be a whole number >= 1, got ${maxEvals}`);
  if (!(tol > 0)) throw new RangeError(`goldenSectionSearch: tol must be positive, got ${tol}`);

  let evals = 0;
  let bestA = 0;
  let bestV = Infinity;
  // Non-finite values (overflow far along the line) count as +∞ so they end the bracket.
  const clean = (v: number) => (Number.isNaN(v) ? Infinity : v);
  const note = (a: number, v: number) => {
    if (v < bestV) {
      bestV = v;
      bestA = a;
    }
  };
  const one = (a: number): number => {
    evals++;
    const v = clean(phi(a));
    note(a, v);
    return v;
  };
  const two = (a1: number, a2: number): [number, number] => {
    evals += 2;
    const r = opts.phiMany ? opts.phiMany([a1, a2]) : [phi(a1), phi(a2)];
    const v1 = clean(r[0]);
    const v2 = clean(r[1]);
    note(a1, v1);
    note(a2, v2);
    return [v1, v2];
  };

  let f0: number;
  if (opts.f0 !== undefined) {
    f0 = clean(opts.f0);
    note(0, f0);
  } else {
    f0 = one(0);
  }
  const result = (bracketed: boolean, lo: number, hi: number): GoldenSectionResult => {
    const improved = bestV < f0;
    return { alpha: improved ? bestA : 0, value: improved ? bestV : f0, evaluations: evals, bracketed, improved, lo, hi };
  };
  if (evals >= maxEvals) return result(false, 0, 0);

  // Bracketing. (a, fa) and (b, fb) are the last two points, fb < fa.
  let a = 0;
  let fa = f0;
  let b = s;
  let fb = one(b);
  // State of the shrinking phase: lo < mid < hi with f(mid) below both ends,
  // or (hasMid = false) just [lo, hi] with f(lo) <= f(hi) and nothing inside.
  let lo: number;
  let hi: number;
  let mid = NaN;
  let fmid = NaN;
  let hasMid: boolean;
  let flo: number;
  if (fb >= fa) {
    lo = 0;
    flo = f0;
    hi = b;
    hasMid = false;
  } else {
    let closed = false;
    let c = b;
    while (evals < maxEvals) {
      c = 2 * b;
      const fc = one(c);
      if (fc >= fb) {
        closed = true;
        break;
      }
      a = b;
      fa = fb;
      b = c;
      fb = fc;
    }
    if (!closed) return result(false, a, b);
    lo = a;
    flo = fa;
    mid = b;
    fmid = fb;
    hi = c;
    hasMid = true;
  }

  // Golden-section shrinking.
  let shrunk = false;
  while (evals < maxEvals && hi - lo > tol * (Math.abs(lo) + Math.abs(hi))) {
    if (!hasMid) {
      const x1 = lo + GOLDEN_FRACTION * (hi - lo);
      if (!shrunk && maxEvals - evals >= 2) {
        // The classic first golden step: both interior points, in one batched call.
        // Only the first time: once both were rejected the minimum hugs 0, and
        // single points shrink the bracket faster per evaluation.
        const x2 = hi - GOLDEN_FRACTION * (hi - lo);
        const [f1, f2] = two(x1, x2);
        if (f1 < flo && f1 <= f2) {
          mid = x1;
          fmid = f1;
          hi = x2;
          hasMid = true;
        } else if (f2 < flo && f2 < f1) {
          lo = x1;
          flo = f1;
          mid = x2;
          fmid = f2;
          hasMid = true;
        } else {
          hi = x1;
        }
        shrunk = true;
      } else {
        const f1 = one(x1);
        if (f1 < flo) {
          mid = x1;
          fmid = f1;
          hasMid = true;
        } else {
          hi = x1;
        }
      }
      continue;
    }
    const right = hi - mid > mid - lo;
    const x = right ? mid + GOLDEN_FRACTION * (hi - mid) : mid - GOLDEN_FRACTION * (mid - lo);
    const fx = one(x);
    if (fx < fmid) {
      if (right) lo = mid;
      else hi = mid;
      flo = right ? fmid : flo;
      mid = x;
      fmid = fx;
    } else if (right) {
      hi = x;
    } else {
      lo = x;
      flo = fx;
    }
  }
  return result(true, lo, hi);
}
