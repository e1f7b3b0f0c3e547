/**
 * Stability of gradient descent from the sharpness λmax (the top Hessian
 * eigenvalue). On a quadratic, GD with learning rate η multiplies the error
 * along the top eigenvector by (1 − ηλmax) each step, so it converges along
 * it only while η·λmax < 2, i.e. η < 2/λmax. Full-batch training is observed
 * to drive λmax up until η·λmax hovers at 2 ("edge of stability", Cohen et
 * al. 2021); the verdict names that regime explicitly.
 *
 * With heavy-ball momentum β the bound is η·λmax < 2(1 + β). Adaptive
 * optimizers (Adam, RMSprop) precondition the Hessian, so the plain λmax bound
 * does not apply to them; callers should say so rather than show a verdict.
 */
import { inputError } from '../errors';

export type StabilityVerdict = 'stable' | 'edge' | 'unstable';

export interface StabilityOptions {
  /**
   * Half-width of the "edge of stability" band around the threshold, as a
   * fraction: with the default 0.1, η·λmax within ±10 % of 2(1 + β) is 'edge'.
   */
  band?: number;
  /** Heavy-ball momentum β in [0, 1); default 0 (plain GD). */
  momentum?: number;
}

export interface StabilityResult {
  verdict: StabilityVerdict;
  lambdaMax: number;
  lr: number;
  momentum: number;
  band: number;
  /** 2(1 + β) / λmax: the largest stable learning rate (Infinity when λmax ≤ 0). */
  maxStableLr: number;
  /** η·λmax, compared with `limit`. */
  sharpnessTimesLr: number;
  /** 2(1 + β). */
  limit: number;
  /** η·λmax / limit: below 1 − band stable, above 1 + band unstable, 'edge' between. */
  ratio: number;
  /** One line for people, e.g. "unstable: η·λmax = 2.6 > 2 (η must be below 0.0769)". */
  message: string;
}

export const DEFAULT_STABILITY_BAND = 0.1;

export function stabilityVerdict(lambdaMax: number, lr: number, opts: StabilityOptions = {}): StabilityResult {
  if (!Number.isFinite(lambdaMax)) throw inputError(`λmax must be a finite number, got ${lambdaMax}`);
  if (!Number.isFinite(lr) || lr <= 0) throw inputError(`learning rate must be a positive number, got ${lr}`);
  const band = opts.band ?? DEFAULT_STABILITY_BAND;
  if (!Number.isFinite(band) || band < 0 || band >= 1) throw inputError(`band must be in [0, 1), got ${opts.band}`);
  const momentum = opts.momentum ?? 0;
  if (!Number.isFinite(momentum) || momentum < 0 || momentum >= 1) throw inputError(`momentum must be in [0, 1), got ${opts.momentum}`);

  const limit = 2 * (1 + momentum);
  const sharpnessTimesLr = lr * lambdaMax;
  const ratio = sharpnessTimesLr / limit;
  const maxStableLr = lambdaMax > 0 ? limit / lambdaMax : Infinity;
  // No positive curvature: nothing for the step to overshoot, whatever η is.
  const verdict: StabilityVerdict = ratio < 1 - band ? 'stable' : ratio > 1 + band ? 'unstable' : 'edge';
  const lim = momentum > 0 ? `2(1 + β) = ${num(limit)}` : '2';
  const bound = Number.isFinite(maxStableLr) ? ` (stable for η < ${num(maxStableLr)})` : '';
  const message =
    verdict === 'stable'
      ? `stable: η·λmax = ${num(sharpnessTimesLr)} < ${lim}${bound}`
      : verdict === 'unstable'
        ? `unstable: η·λmax = ${num(sharpnessTimesLr)} > ${lim}${bound}`
        : `at the edge of stability: η·λmax = ${num(sharpnessTimesLr)} is within ±${Math.round(band * 100)} % of ${lim}${bound}`;
  return { verdict, lambdaMax, lr, momentum, band, maxStableLr, sharpnessTimesLr, limit, ratio, message };
}

function num(x: number): string {
  return Number(x.toPrecision(3)).toString();
}
