/**
 * FourierPathFinder (Yu & Morozov 2026, section II.C, Algorithm 2):
 * ω(t) = (1 − t)·A + t·B + Σ_{n=1..N_F} b_n·sin(nπt), optimised with Adam on
 * the coefficients b_n. All M path points go through the objective in one
 * batched call per iteration; the coefficient gradient is Sᵀ·(w ⊙ G), where
 * G holds the per-point loss gradients, S the sine values and w the
 * derivative of the path objective with respect to each point's loss.
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { batchLossAndGrad } from '../objective';
import { Rng } from '../rng';
import { throwIfAborted } from '../errors';
import { TensorAdam } from './adam';
import { BasisPath, checkFinite, denseGridSize, evaluateAlong, evenGrid } from './heights';
import type { PathIteration, PathObjective, ResolvedPathOptions } from './types';

/** Writes sin(nπt), n = 1..N_F, into row; exactly zero at t = 0 and t = 1 so the endpoints never move. */
export function sineRow(t: number, nF: number, row: Float32Array | Float64Array, offset = 0): void {
  for (let n = 1; n <= nF; n++) row[offset + n - 1] = t === 0 || t === 1 ? 0 : Math.sin(n * Math.PI * t);
}

/** The Fourier path with coefficients `coef` [N_F, dim] as a basis path over [A; B; b_1..b_N_F]. */
export function fourierPath(ab: tf.Tensor2D, coef: tf.Tensor2D): { path: BasisPath; dispose(): void } {
  const nF = coef.shape[0];
  const basis = nF === 0 ? ab : (tf.concat([ab, coef], 0) as tf.Tensor2D);
  return {
    path: {
      basis,
      label: 'the optimised path',
      weights(t, row) {
        row[0] = t === 1 ? 0 : 1 - t;
        row[1] = t === 0 ? 0 : t;
        sineRow(t, nF, row, 2);
      },
    },
    dispose: () => {
      if (basis !== ab) basis.dispose();
    },
  };
}

/** Fixed tensors of one Fourier problem: grid, sine matrices and the straight-line part of the points. */
export interface FourierSetup {
  m: number;
  nF: number;
  dim: number;
  t: Float64Array;
  /** S [M, N_F]. */
  sines: tf.Tensor2D;
  /** Row differences of S, [M − 1, N_F], for the smoothness gradient. */
  sineDiffs: tf.Tensor2D;
  /**
   * Sᵀ and the differences transposed, [N_F, M] and [N_F, M − 1]: the
   * coefficient gradient multiplies by these, and a product with a
   * transposed operand is several times slower on the WASM backend.
   */
  sinesT: tf.Tensor2D;
  sineDiffsT: tf.Tensor2D;
  /** (1 − t_m)·A + t_m·B, [M, dim]. */
  base: tf.Tensor2D;
  dispose(): void;
}

export function fourierSetup(ab: tf.Tensor2D, m: number, nF: number): FourierSetup {
  const dim = ab.shape[1];
  const t = evenGrid(m);
  const s = new Float64Array(m * nF);
  for (let i = 0; i < m; i++) sineRow(t[i], nF, s, i * nF);
  const ds = new Float32Array(Math.max(m - 1, 0) * nF);
  for (let i = 0; i + 1 < m; i++) for (let n = 0; n < nF; n++) ds[i * nF + n] = s[(i + 1) * nF + n] - s[i * nF + n];
  const lin = new Float32Array(m * 2);
  for (let i = 0; i < m; i++) {
    lin[2 * i] = t[i] === 1 ? 0 : 1 - t[i];
    lin[2 * i + 1] = t[i];
  }
  const sines = tf.tensor2d(Float32Array.from(s), [m, nF]);
  const sineDiffs = tf.tensor2d(ds, [Math.max(m - 1, 0), nF]);
  const base = tf.tidy(() => tf.matMul(tf.tensor2d(lin, [m, 2]), ab)) as tf.Tensor2D;
  const sinesT = tf.transpose(sines) as tf.Tensor2D;
  const sineDiffsT = tf.transpose(sineDiffs) as tf.Tensor2D;
  return {
    m,
    nF,
    dim,
    t,
    sines,
    sineDiffs,
    sinesT,
    sineDiffsT,
    base,
    dispose: () => {
      sines.dispose();
      sineDiffs.dispose();
      sinesT.dispose();
      sineDiffsT.dispose();
      base.dispose();
    },
  };
}

/**
 * The data term of each objective and its derivative with respect to each
 * point's loss, in float64 on the host (M numbers, so this is cheap and the
 * log-sum-exp keeps its precision at small temperatures).
 */
export function dataTerm(losses: ArrayLike<number>, objective: PathObjective, tau: number): { value: number; weights: Float64Array } {
  const m = losses.length;
  const w = new Float64Array(m);
  let value = 0;
  if (objective === 'sum') {
    for (let i = 0; i < m; i++) {
      value += losses[i];
      w[i] = 1;
    }
  } else if (objective === 'squared') {
    for (let i = 0; i < m; i++) {
      value += (losses[i] * losses[i]) / m;
      w[i] = (2 * losses[i]) / m;
    }
  } else {
    let mx = -Infinity;
    for (let i = 0; i < m; i++) mx = Math.max(mx, losses[i]);
    let z = 0;
    for (let i = 0; i < m; i++) {
      w[i] = Math.exp((losses[i] - mx) / tau);
      z += w[i];
    }
    for (let i = 0; i < m; i++) w[i] /= z;
    value = mx + tau * Math.log(z);
  }
  return { value, weights: w };
}

/**
 * What a kept iterate is judged by: its summed loss for `sum` (Eq. 4 as
 * published); its path height, the largest loss over the M points, for
 * `minimax` and `squared`. `squared` with gradient noise wanders, and its
 * mean of squares says little about the crossing, so the height decides.
 */
export function selectionScore(losses: ArrayLike<number>, objective: PathObjective): number {
  let s = 0;
  if (objective === 'sum') {
    for (let i = 0; i < losses.length; i++) s += losses[i];
  } else {
    s = -Infinity;
    for (let i = 0; i < losses.length; i++) s = Math.max(s, losses[i]);
  }
  return s;
}

export interface FourierEvaluation {
  losses: Float64Array;
  /** Data term plus smoothness. */
  value: number;
  smoothness: number;
  /** d value / d coefficients, [N_F, dim]; absent when not asked for. The caller disposes. */
  grad?: tf.Tensor2D;
}

/**
 * One batched evaluation of the path objective at coefficients `coef`:
 * losses at the M points, objective value and (optionally) its gradient.
 */
export function evaluateFourier(
  fn: Objective,
  setup: FourierSetup,
  coef: tf.Tensor2D,
  objective: PathObjective,
  lambda: number,
  /** Minimax temperature, or a function of the point losses that gives it. */
  tau: number | ((losses: Float64Array) => number),
  withGrad: boolean,
): FourierEvaluation & { tau: number } {
  const tauOf = (l: Float64Array) => (typeof tau === 'number' ? tau : tau(l));
  const { m, nF } = setup;
  const thetas = tf.tidy(() => (nF === 0 ? tf.clone(setup.base) : tf.add(setup.base, tf.matMul(setup.sines, coef)))) as tf.Tensor2D;
  try {
    const diffs = tf.tidy(() => tf.sub(tf.slice(thetas, [1, 0], [m - 1, -1]), tf.slice(thetas, [0, 0], [m - 1, -1]))) as tf.Tensor2D;
    try {
      const smoothT = tf.tidy(() => tf.sum(tf.square(diffs)));
      const smoothness = lambda * smoothT.dataSync()[0];
      smoothT.dispose();
      if (!withGrad) {
        const lossT = tf.tidy(() => fn.evaluate(thetas));
        const losses = Float64Array.from(lossT.dataSync());
        lossT.dispose();
        checkFinite(losses, setup.t, 'the path');
        const tv = tauOf(losses);
        return { losses, smoothness, value: dataTerm(losses, objective, tv).value + smoothness, tau: tv };
      }
      const { losses: lossT, grads } = batchLossAndGrad(fn, thetas);
      try {
        const losses = Float64Array.from(lossT.dataSync());
        checkFinite(losses, setup.t, 'the path');
        const tv = tauOf(losses);
        const { value, weights } = dataTerm(losses, objective, tv);
        const grad = tf.tidy(() => {
          // Σ_m S[m, n]·w[m]·G[m, :]: the weights scale Sᵀ's columns (N_F × M numbers), not G.
          const w = tf.tensor2d(Float32Array.from(weights), [1, m]);
          let g = tf.matMul(tf.mul(setup.sinesT, w), grads);
          if (lambda !== 0) g = tf.add(g, tf.mul(tf.matMul(setup.sineDiffsT, diffs), 2 * lambda));
          return g as tf.Tensor2D;
        });
        return { losses, smoothness, value: value + smoothness, grad, tau: tv };
      } finally {
        lossT.dispose();
        grads.dispose();
      }
    } finally {
      diffs.dispose();
    }
  } finally {
    thetas.dispose();
  }
}

/** The resolved options FourierPathFinder reads, plus how it reports and stops. */
export interface FourierRunOptions
  extends Pick<ResolvedPathOptions, 'objective' | 'modes' | 'points' | 'lambda' | 'steps' | 'lr' | 'noise' | 'seed' | 'tauStart' | 'tauEnd'> {
  /** Judge `minimax` and `squared` iterates by their height on the dense grid (see PathOptions.denseSelect). */
  denseSelect?: boolean;
  signal?: AbortSignal;
  onIteration?: (it: PathIteration) => void | Promise<void>;
  batches?: (iteration: number) => Objective;
}

export interface FourierRun {
  /** The kept coefficients [N_F, dim]; the caller disposes. */
  coefficients: tf.Tensor2D;
  iterations: number;
  bestIteration: number;
  objectiveHistory: number[];
  heightHistory: number[];
  tauHistory: number[];
}

/** Temperature at iteration k: geometric from tauStart·spread to tauEnd·spread over the steps. */
export function minimaxTau(spread: number, k: number, steps: number, tauStart: number, tauEnd: number, scale: number): number {
  // A floor keeps τ positive when the straight line is flat (A equal to B, or a level line).
  const s = Math.max(spread, 1e-6 * Math.max(1, Math.abs(scale)));
  const frac = steps <= 1 ? 0 : Math.min(k, steps - 1) / (steps - 1);
  return s * tauStart * Math.pow(tauEnd / tauStart, frac);
}

export async function runFourier(fn: Objective, ab: tf.Tensor2D, o: FourierRunOptions): Promise<FourierRun> {
  const setup = fourierSetup(ab, o.points, o.modes);
  const adam = new TensorAdam({ lr: o.lr });
  const rng = new Rng(o.seed);
  const { nF, dim } = setup;
  let coef = tf.zeros([nF, dim]) as tf.Tensor2D;
  let best = coef;
  let bestScore = Infinity;
  let bestIteration = 0;
  const objectiveHistory: number[] = [];
  const heightHistory: number[] = [];
  const tauHistory: number[] = [];
  let spread = 0;
  let scale = 0;
  let iterations = 0;
  try {
    for (let k = 0; k <= o.steps; k++) {
      throwIfAborted(o.signal);
      const obj = o.batches ? o.batches(k) : fn;
      const last = k === o.steps || nF === 0;
      const tauFor = (losses: Float64Array): number => {
        if (k === 0) {
          // The straight line's loss spread sets the temperature scale for the whole run.
          let lo = Infinity;
          let hi = -Infinity;
          for (const v of losses) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
          spread = hi - lo;
          scale = hi;
        }
        return minimaxTau(spread, k, o.steps, o.tauStart, o.tauEnd, scale);
      };
      const ev = evaluateFourier(obj, setup, coef, o.objective, o.lambda, tauFor, !last);
      const tau = o.objective === 'minimax' ? ev.tau : Number.NaN;
      let score = selectionScore(ev.losses, o.objective);
      let height = -Infinity;
      for (const v of ev.losses) height = Math.max(height, v);
      // The dense height is never below the point height, so an iterate whose point height
      // does not beat the best dense height so far cannot win and is not re-evaluated.
      if (o.denseSelect && o.objective !== 'sum') score = score < bestScore ? denseHeightOf(fn, ab, coef, o.points) : Infinity;
      objectiveHistory.push(ev.value);
      heightHistory.push(height);
      tauHistory.push(tau);
      if (score < bestScore) {
        bestScore = score;
        bestIteration = k;
        if (best !== coef) best.dispose();
        best = coef;
      }
      if (o.onIteration) {
        const info: PathIteration = { iteration: k, height, bestHeight: heightHistory[bestIteration], objective: ev.value };
        if (o.objective === 'minimax') info.tau = tau;
        try {
          await o.onIteration(info);
        } catch (e) {
          ev.grad?.dispose();
          throw e;
        }
      }
      if (last || !ev.grad) {
        ev.grad?.dispose();
        break;
      }
      let grad = ev.grad;
      if (o.noise > 0) {
        const z = new Float32Array(nF * dim);
        for (let i = 0; i < z.length; i++) z[i] = o.noise * rng.normal();
        const noisy = tf.tidy(() => tf.add(grad, tf.tensor2d(z, [nF, dim])));
        grad.dispose();
        grad = noisy as tf.Tensor2D;
      }
      const next = adam.step(coef, grad);
      grad.dispose();
      if (coef !== best) coef.dispose();
      coef = next;
      iterations++;
      // Let timers, aborts and message handlers run between iterations.
      await new Promise<void>((r) => setImmediate(r));
    }
  } catch (e) {
    if (coef !== best) coef.dispose();
    best.dispose();
    throw e;
  } finally {
    adam.dispose();
    setup.dispose();
  }
  if (coef !== best) coef.dispose();
  return { coefficients: best, iterations, bestIteration, objectiveHistory, heightHistory, tauHistory };
}

/** Largest loss of a Fourier path on the dense grid for M points. */
function denseHeightOf(fn: Objective, ab: tf.Tensor2D, coef: tf.Tensor2D, m: number): number {
  const fp = fourierPath(ab, coef);
  try {
    const loss = evaluateAlong(fn, fp.path, evenGrid(denseGridSize(m)), m);
    let h = -Infinity;
    for (const v of loss) h = Math.max(h, v);
    return h;
  } finally {
    fp.dispose();
  }
}

/**
 * The path objective and its coefficient gradient at given coefficients, as
 * host arrays (for gradient checks and for callers that drive their own
 * optimiser). `coefficients` holds N_F rows of length dim.
 */
export function fourierObjectiveAndGrad(
  fn: Objective,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  coefficients: ArrayLike<number>[],
  opts: { objective: PathObjective; lambda: number; points: number; tau?: number },
): { value: number; losses: Float64Array; smoothness: number; grad: Float64Array[] } {
  const dim = fn.dim;
  const nF = coefficients.length;
  const ab = tf.tensor2d([...Array.from(a), ...Array.from(b)], [2, dim]);
  const flat = new Float32Array(nF * dim);
  coefficients.forEach((c, i) => flat.set(Array.from(c), i * dim));
  const coef = tf.tensor2d(flat, [nF, dim]);
  const setup = fourierSetup(ab, opts.points, nF);
  try {
    const ev = evaluateFourier(fn, setup, coef, opts.objective, opts.lambda, opts.tau ?? 1, true);
    const g = ev.grad!.dataSync();
    ev.grad!.dispose();
    const grad = Array.from({ length: nF }, (_, i) => Float64Array.from(g.subarray(i * dim, (i + 1) * dim)));
    return { value: ev.value, losses: ev.losses, smoothness: ev.smoothness, grad };
  } finally {
    setup.dispose();
    coef.dispose();
    ab.dispose();
  }
}
