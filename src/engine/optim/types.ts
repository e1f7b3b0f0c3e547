/**
 * The optimizer contract. Every optimizer works on a flat parameter vector
 * (a [dim] tensor) and an Objective, so the trainer treats mini-batch and
 * full-batch methods alike: it asks `fullBatch` which objective to pass.
 */
import type { tf } from '../backend';
import type { Objective } from '../objective';

export type OptimizerName = 'sgd' | 'momentum' | 'nesterov' | 'adagrad' | 'rmsprop' | 'adam' | 'lbfgs' | 'rolling-ball';

export const OPTIMIZER_NAMES: readonly OptimizerName[] = [
  'sgd',
  'momentum',
  'nesterov',
  'adagrad',
  'rmsprop',
  'adam',
  'lbfgs',
  'rolling-ball',
];

export interface OptimizerOptions {
  /**
   * Step size. Defaults: sgd 0.1, momentum/nesterov 0.05, adagrad 0.05,
   * rmsprop 0.001, adam 0.001, rolling-ball 0.1 (its η). Not used by lbfgs,
   * whose step comes from the line search.
   */
  lr?: number;
  /** Momentum coefficient μ of momentum and nesterov (0.9). */
  momentum?: number;
  /** Adam's first-moment decay (0.9). */
  beta1?: number;
  /** Adam's second-moment decay (0.999); also RMSprop's decay (0.99) when given. */
  beta2?: number;
  /** Denominator guard: adagrad 1e-10, rmsprop and adam 1e-8. */
  eps?: number;
  /**
   * L2 weight decay λ: λ·θ is added to the gradient (and, for lbfgs and
   * rolling-ball, λ/2·‖θ‖² to the values their line search / projection
   * compare, so direction and values describe the same function). The loss an
   * optimizer reports is always the data loss without the penalty.
   */
  l2?: number;
  /** L-BFGS memory: how many (s, y) pairs to keep (10). */
  history?: number;
  /** L-BFGS line search: function evaluations per step, at most (6). */
  maxEvals?: number;
  /** L-BFGS line search: relative bracket width at which golden-section shrinking stops (1e-4). */
  tol?: number;
  /** Rolling ball: radius ρ (0.5). RMSprop also accepts it as its decay when beta2 is absent. */
  rho?: number;
  /** Rolling ball: gradient steps K of the projection onto the graph (10). */
  innerSteps?: number;
  /** Rolling ball: step size of those projection steps (0.01). */
  innerLr?: number;
}

export const OPTION_KEYS: readonly (keyof OptimizerOptions)[] = [
  'lr',
  'momentum',
  'beta1',
  'beta2',
  'eps',
  'l2',
  'history',
  'maxEvals',
  'tol',
  'rho',
  'innerSteps',
  'innerLr',
];

/**
 * The options an optimizer actually uses, every default filled in; a plain
 * JSON-able object for checkpoint metadata and run.json. Keys the optimizer
 * ignores are absent (e.g. no `lr` for lbfgs).
 */
export type ResolvedOptions = Readonly<OptimizerOptions>;

export interface StepResult {
  /** Data loss at the INPUT theta (without the L2 penalty). */
  loss: number;
  /** Norm of the gradient used for the update (L2 term included) at the input theta. */
  gradNorm: number;
  /**
   * The step size of this step: the configured lr for the gradient methods
   * (not Adam's bias-corrected effective rate), the line-search step length
   * ‖θ_new − θ‖ for lbfgs (0 when the step was rejected), η for rolling-ball.
   */
  lr: number;
  /**
   * Objective evaluations this step made, each of one parameter vector:
   * 1 (the gradient) for the gradient methods, 1 + line-search points for
   * lbfgs, 1 + K for rolling-ball (each inner step is a gradient).
   */
  evaluations: number;
}

export interface Optimizer {
  readonly name: OptimizerName;
  readonly options: ResolvedOptions;
  /** Whether it needs the full-batch objective (lbfgs, rolling-ball). */
  readonly fullBatch: boolean;
  /**
   * One update. Returns a NEW theta tensor (the caller disposes the old one;
   * the input is never disposed or returned) and the loss and gradient norm
   * at the input theta.
   */
  step(theta: tf.Tensor1D, f: Objective): { theta: tf.Tensor1D } & StepResult;
  /** Frees the optimizer's state tensors; the optimizer must not be used afterwards. */
  dispose(): void;
}
