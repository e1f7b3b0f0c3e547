/**
 * The stability verdict for a given optimizer: which bound on η·λmax applies
 * to it, shared by training (`stabilityEvery`) and `landscape hessian`.
 *
 * On a quadratic with curvature λ the SGD family converges along the top
 * eigenvector only while η·λ stays below a limit that depends on the update
 * rule: 2 for plain gradient descent, 2(1 + β) for heavy-ball momentum, and
 * 2(1 + β)/(1 + 2β) for Nesterov (the Jury conditions of its two-step
 * recurrence; PyTorch's form has the same one). Adaptive methods precondition
 * the Hessian and L-BFGS and the rolling ball do not take plain gradient
 * steps, so no λmax bound describes them: the verdict is 'not-applicable',
 * with the plain 2/η line kept for reference when there is an η.
 */
import { DEFAULT_STABILITY_BAND, StabilityVerdict, stabilityVerdict } from './analysis/stability';

export type OptimizerStabilityVerdict = StabilityVerdict | 'not-applicable';

export interface OptimizerStability {
  verdict: OptimizerStabilityVerdict;
  lambdaMax: number;
  /** The learning rate compared with; absent when there is none (L-BFGS, files without metadata). */
  lr?: number;
  momentum?: number;
  /** 2, 2(1 + β) or 2(1 + β)/(1 + 2β): the bound on η·λmax (2 for optimizers it does not apply to). */
  limit: number;
  /** limit / η: the largest λmax at which this η is stable (the "2/η line"); absent without η. */
  threshold?: number;
  /** η·λmax / limit (absent without η). */
  ratio?: number;
  /** The largest stable learning rate at this λmax, limit / λmax (absent when λmax ≤ 0). */
  maxStableLr?: number;
  message: string;
}

const ADAPTIVE = new Set(['adam', 'rmsprop', 'adagrad']);

export function optimizerStability(lambdaMax: number, optimizer: string | undefined, hp: { lr?: number; momentum?: number } = {}): OptimizerStability {
  const lr = hp.lr !== undefined && Number.isFinite(hp.lr) && hp.lr > 0 ? hp.lr : undefined;
  const beta = hp.momentum !== undefined && Number.isFinite(hp.momentum) && hp.momentum >= 0 && hp.momentum < 1 ? hp.momentum : 0;
  const num = (x: number) => Number(x.toPrecision(3)).toString();
  const na = (why: string): OptimizerStability => ({
    verdict: 'not-applicable',
    lambdaMax,
    ...(lr !== undefined ? { lr, threshold: 2 / lr, ratio: (lr * lambdaMax) / 2 } : {}),
    limit: 2,
    ...(lambdaMax > 0 ? { maxStableLr: 2 / lambdaMax } : {}),
    message: why,
  });
  if (optimizer === undefined || optimizer === '') {
    return na('no optimizer recorded: give the learning rate to compare λmax with 2/η');
  }
  if (ADAPTIVE.has(optimizer)) {
    return na(`${optimizer} rescales the gradient per coordinate, so the 2/η bound of gradient descent does not apply (shown for reference only)`);
  }
  if (optimizer === 'lbfgs') return na('L-BFGS steps along a quasi-Newton direction with a line search; the 2/η bound of gradient descent does not apply');
  if (optimizer === 'rolling-ball') return na('the rolling ball does not take plain gradient steps; the 2/η bound of gradient descent does not apply (shown for reference only)');
  if (optimizer !== 'sgd' && optimizer !== 'gd' && optimizer !== 'momentum' && optimizer !== 'nesterov') {
    return na(`no stability bound is known for optimizer "${optimizer}"`);
  }
  if (lr === undefined) return na(`no learning rate recorded for ${optimizer}: give one to compare λmax with 2/η`);
  if (optimizer === 'nesterov' && beta > 0) {
    const limit = (2 * (1 + beta)) / (1 + 2 * beta);
    const ratio = (lr * lambdaMax) / limit;
    const band = DEFAULT_STABILITY_BAND;
    const verdict: StabilityVerdict = ratio < 1 - band ? 'stable' : ratio > 1 + band ? 'unstable' : 'edge';
    const bound = lambdaMax > 0 ? ` (stable for η < ${num(limit / lambdaMax)})` : '';
    const lim = `2(1 + β)/(1 + 2β) = ${num(limit)}`;
    const message =
      verdict === 'stable'
        ? `stable: η·λmax = ${num(lr * lambdaMax)} < ${lim}${bound}`
        : verdict === 'unstable'
          ? `unstable: η·λmax = ${num(lr * lambdaMax)} > ${lim}${bound}`
          : `at the edge of stability: η·λmax = ${num(lr * lambdaMax)} is within ±${Math.round(band * 100)} % of ${lim}${bound}`;
    return { verdict, lambdaMax, lr, momentum: beta, limit, threshold: limit / lr, ratio, ...(lambdaMax > 0 ? { maxStableLr: limit / lambdaMax } : {}), message };
  }
  const momentum = optimizer === 'momentum' ? beta : 0;
  const r = stabilityVerdict(lambdaMax, lr, { momentum });
  return {
    verdict: r.verdict,
    lambdaMax,
    lr,
    ...(momentum > 0 ? { momentum } : {}),
    limit: r.limit,
    threshold: r.limit / lr,
    ratio: r.ratio,
    ...(Number.isFinite(r.maxStableLr) ? { maxStableLr: r.maxStableLr } : {}),
    message: r.message,
  };
}
