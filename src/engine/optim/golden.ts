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

  const f = new CountedPhi(phi, opts.phiMany);
  const f0 = opts.f0 !== undefined ? f.known(0, opts.f0) : f.one(0);
  const result = (bracketed: boolean, lo: number, hi: number): GoldenSectionResult => {
    const improved = f.bestV < f0;
    return { alpha: improved ? f.bestA : 0, value: improved ? f.bestV : f0, evaluations: f.evals, bracketed, improved, lo, hi };
  };
  if (f.evals >= maxEvals) return result(false, 0, 0);
  const br = bracket(f, s, f0, maxEvals);
  if ('open' in br) return result(false, br.a, br.b);
  shrink(f, br, maxEvals, tol);
  return result(true, br.lo, br.hi);
}

/** φ with its evaluations counted and the lowest value seen remembered. */
class CountedPhi {
  evals = 0;
  bestA = 0;
  bestV = Infinity;

  constructor(
    private readonly phi: (alpha: number) => number,
    private readonly phiMany?: (alphas: number[]) => number[],
  ) {}

  /** A value the caller already knows (not counted). */
  known(a: number, v: number): number {
    const c = clean(v);
    this.note(a, c);
    return c;
  }

  one(a: number): number {
    this.evals++;
    return this.known(a, this.phi(a));
  }

  two(a1: number, a2: number): [number, number] {
    this.evals += 2;
    const r = this.phiMany ? this.phiMany([a1, a2]) : [this.phi(a1), this.phi(a2)];
    return [this.known(a1, r[0]), this.known(a2, r[1])];
  }

  private note(a: number, v: number): void {
    if (v < this.bestV) {
      this.bestV = v;
      this.bestA = a;
    }
  }
}

/** Non-finite values (overflow far along the line) count as +∞ so they end the bracket. */
function clean(v: number): number {
  return Number.isNaN(v) ? Infinity : v;
}

/**
 * State of the shrinking phase: lo < mid < hi with f(mid) below both ends,
 * or (hasMid = false) just [lo, hi] with f(lo) <= f(hi) and nothing inside.
 */
interface Bracket {
  lo: number;
  flo: number;
  hi: number;
  mid: number;
  fmid: number;
  hasMid: boolean;
}

/** Phase 1: s, 2s, 4s, … until φ stops decreasing; `open` when the budget ran out first (a, b: the last two trials). */
function bracket(f: CountedPhi, s: number, f0: number, maxEvals: number): Bracket | { open: true; a: number; b: number } {
  // (a, fa) and (b, fb) are the last two points, fb < fa.
  let a = 0;
  let fa = f0;
  let b = s;
  let fb = f.one(b);
  if (fb >= fa) return { lo: 0, flo: f0, hi: b, mid: NaN, fmid: NaN, hasMid: false };
  while (f.evals < maxEvals) {
    const c = 2 * b;
    const fc = f.one(c);
    if (fc >= fb) return { lo: a, flo: fa, mid: b, fmid: fb, hi: c, hasMid: true };
    a = b;
    fa = fb;
    b = c;
    fb = fc;
  }
  return { open: true, a, b };
}

/** Phase 2: golden-section shrinking of `br` in place until it is narrow enough or the budget is spent. */
function shrink(f: CountedPhi, br: Bracket, maxEvals: number, tol: number): void {
  let shrunk = false;
  while (f.evals < maxEvals && br.hi - br.lo > tol * (Math.abs(br.lo) + Math.abs(br.hi))) {
    if (br.hasMid) {
      shrinkAroundMid(f, br);
    } else if (!shrunk && maxEvals - f.evals >= 2) {
      // The classic first golden step: both interior points, in one batched call.
      // Only the first time: once both were rejected the minimum hugs 0, and
      // single points shrink the bracket faster per evaluation.
      firstGoldenPair(f, br);
      shrunk = true;
    } else {
      oneInteriorPoint(f, br);
    }
  }
}

function firstGoldenPair(f: CountedPhi, br: Bracket): void {
  const { lo, hi, flo } = br;
  const x1 = lo + GOLDEN_FRACTION * (hi - lo);
  const x2 = hi - GOLDEN_FRACTION * (hi - lo);
  const [f1, f2] = f.two(x1, x2);
  if (f1 < flo && f1 <= f2) {
    Object.assign(br, { mid: x1, fmid: f1, hi: x2, hasMid: true });
  } else if (f2 < flo && f2 < f1) {
    Object.assign(br, { lo: x1, flo: f1, mid: x2, fmid: f2, hasMid: true });
  } else {
    br.hi = x1;
  }
}

function oneInteriorPoint(f: CountedPhi, br: Bracket): void {
  const x1 = br.lo + GOLDEN_FRACTION * (br.hi - br.lo);
  const f1 = f.one(x1);
  if (f1 < br.flo) Object.assign(br, { mid: x1, fmid: f1, hasMid: true });
  else br.hi = x1;
}

/** A new point into the larger side of the bracket; keep the sub-bracket around the lower value. */
function shrinkAroundMid(f: CountedPhi, br: Bracket): void {
  const { lo, mid, hi } = br;
  const right = hi - mid > mid - lo;
  const x = right ? mid + GOLDEN_FRACTION * (hi - mid) : mid - GOLDEN_FRACTION * (mid - lo);
  const fx = f.one(x);
  if (fx < br.fmid) {
    if (right) {
      br.lo = mid;
      br.flo = br.fmid;
    } else {
      br.hi = mid;
    }
    br.mid = x;
    br.fmid = fx;
  } else if (right) {
    br.hi = x;
  } else {
    br.lo = x;
    br.flo = fx;
  }
}
