/**
 * Sharpness during training (TrainConfig.stabilityEvery): a few Lanczos steps
 * estimate λmax of the objective the optimizer descends, which is compared
 * with the bound the learning rate sets (see trainingStability.ts).
 */
import { computeError } from '../errors';
import type { Objective } from '../objective';
import type { Optimizer } from '../optim';
import { hessianTopEigenvalues } from '../analysis/hessian';
import { optimizerStability } from '../trainingStability';
import type { EpochEvent, ResolvedTrainConfig, StabilityEvent } from './types';

/** Lanczos steps per stability estimate: enough for λmax to a few digits on small nets, cheap next to an epoch. */
const STABILITY_ITERATIONS = 10;

export class StabilityProbe {
  constructor(
    /** The full-batch training loss (without the L2 penalty, whose l2 is added to λmax). */
    private readonly objective: Objective,
    private readonly cfg: ResolvedTrainConfig,
    private readonly optimizer: Optimizer,
    /** Date.now() when the run started: events carry seconds since then. */
    private readonly started: number,
    private readonly signal?: AbortSignal,
  ) {}

  /** Every `stabilityEvery` epochs, the initial point included; never when it is off. */
  due(epoch: number): boolean {
    const every = this.cfg.stabilityEvery ?? 0;
    return every > 0 && epoch % every === 0;
  }

  /** λmax at `values` (the parameters of `ev`), judged against `lastLr`, the rate of the last step (0: none yet). */
  async measure(ev: EpochEvent, values: Float32Array, lastLr: number): Promise<StabilityEvent> {
    const { cfg, optimizer } = this;
    const eig = await hessianTopEigenvalues(this.objective, values, { k: 1, iterations: STABILITY_ITERATIONS, seed: cfg.seed, signal: this.signal });
    const lambdaMax = eig.eigenvalues[0] + cfg.l2;
    if (!Number.isFinite(lambdaMax)) throw computeError(`the top Hessian eigenvalue at epoch ${ev.epoch} is not finite (${lambdaMax})`);
    const lr = lastLr > 0 ? lastLr : optimizer.options.lr;
    const s = optimizerStability(lambdaMax, cfg.optimizer, { lr, momentum: optimizer.options.momentum });
    return {
      type: 'stability',
      epoch: ev.epoch,
      step: ev.step,
      lambdaMax,
      errorEstimate: eig.errorEstimates[0],
      ...(s.threshold !== undefined ? { threshold: s.threshold } : {}),
      ...(s.lr !== undefined ? { lr: s.lr } : {}),
      ...(s.momentum !== undefined ? { momentum: s.momentum } : {}),
      ...(cfg.l2 > 0 ? { l2: cfg.l2 } : {}),
      verdict: s.verdict,
      message: s.message,
      hvp: eig.hvp,
      iterations: eig.iterations,
      seed: cfg.seed,
      time: (Date.now() - this.started) / 1000,
    };
  }
}
