/** The 'epoch' event: losses and accuracies on both splits, and the full-batch gradient's norm. */
import { tf } from '../backend';
import type { Task } from '../data/types';
import type { ModelSpec } from '../model/spec';
import { evaluateModel, type DeviceData } from '../model/network';
import { lossAndGrad, type Objective } from '../objective';
import { hasBatchNorm } from '../model/archModel';
import { populationStatistics } from '../model/runningStats';
import type { StatisticsMemo } from '../model/statisticsMemo';
import type { EpochEvent } from './types';

export class EpochEvaluator {
  constructor(
    private readonly spec: ModelSpec,
    private readonly task: Task,
    private readonly trainDev: DeviceData,
    private readonly testDev: DeviceData,
    /** The full-batch training objective, whose gradient norm is reported. */
    private readonly objective: Objective,
    /** Date.now() when the run started: events carry seconds since then. */
    private readonly started: number,
    /** Rows per batch for BatchNorm's running statistics (see runningStats.ts). */
    private readonly statisticsBatch: number,
    /** Shared with the run folder, which needs the same statistics for the epoch's checkpoints. */
    private readonly statistics: StatisticsMemo,
  ) {}

  /** `lr` is the rate of the last step: the configured one, or L-BFGS' line-search step length. */
  evaluate(theta: tf.Tensor1D, at: { epoch: number; step: number; lr: number }): EpochEvent {
    // BatchNorm networks are evaluated in eval mode, with running statistics of the training data, as a checkpoint holds them.
    const buffers = hasBatchNorm(this.spec)
      ? this.statistics.get(theta.dataSync() as Float32Array, () => populationStatistics(this.spec, theta, this.trainDev, this.statisticsBatch))
      : undefined;
    const tr = evaluateModel(this.spec, theta, this.trainDev, this.task, buffers);
    const te = evaluateModel(this.spec, theta, this.testDev, this.task, buffers);
    const { grad } = lossAndGrad(this.objective, theta);
    const gradNorm = tf.tidy(() => tf.norm(grad).dataSync()[0]);
    grad.dispose();
    return {
      type: 'epoch',
      epoch: at.epoch,
      step: at.step,
      trainLoss: tr.loss,
      testLoss: te.loss,
      accuracy: tr.accuracy,
      testAccuracy: te.accuracy,
      gradNorm,
      lr: at.lr,
      time: (Date.now() - this.started) / 1000,
    };
  }
}

/** Whether an epoch ended in a usable state (a NaN or infinite loss is divergence). */
export function isFiniteEpoch(ev: EpochEvent, withGradient = true): boolean {
  const values = withGradient ? [ev.trainLoss, ev.testLoss, ev.gradNorm] : [ev.trainLoss, ev.testLoss];
  return values.every((x) => Number.isFinite(x));
}
