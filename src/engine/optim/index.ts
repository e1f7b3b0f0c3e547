/** Optimizer construction: names, defaults and validation of user-supplied options. */
import { inputError } from '../errors';
import { Adam, AdaGrad, RmsProp } from './adaptive';
import { Lbfgs } from './lbfgs';
import { RollingBall } from './rolling-ball';
import { MomentumSgd } from './sgd';
import { OPTIMIZER_NAMES, OPTION_KEYS, Optimizer, OptimizerName, OptimizerOptions } from './types';

export * from './types';
export { goldenSectionSearch, GOLDEN_FRACTION } from './golden';
export type { GoldenSectionOptions, GoldenSectionResult } from './golden';
export { Lbfgs, LbfgsMemory, lbfgsDirection } from './lbfgs';
export type { LbfgsReset } from './lbfgs';
export { RollingBall } from './rolling-ball';
export { MomentumSgd } from './sgd';
export { AdaGrad, RmsProp, Adam } from './adaptive';

/** Default step sizes (rolling-ball: its η). lbfgs has none: the line search sets the step. */
export const DEFAULT_LR: Readonly<Record<Exclude<OptimizerName, 'lbfgs'>, number>> = {
  sgd: 0.1,
  momentum: 0.05,
  nesterov: 0.05,
  adagrad: 0.05,
  rmsprop: 0.001,
  adam: 0.001,
  'rolling-ball': 0.1,
};

const ALIASES: Record<string, OptimizerName> = {
  'l-bfgs': 'lbfgs',
  'lbfgs-gss': 'lbfgs',
  'l-bfgs-gss': 'lbfgs',
  rollingball: 'rolling-ball',
  rolling_ball: 'rolling-ball',
  nag: 'nesterov',
};

export function parseOptimizerName(name: string): OptimizerName {
  const v = name.trim().toLowerCase();
  const resolved = (ALIASES[v] ?? v) as OptimizerName;
  if (!OPTIMIZER_NAMES.includes(resolved)) {
    throw inputError(`unknown optimizer "${name}"; choose one of ${OPTIMIZER_NAMES.join(', ')}`);
  }
  return resolved;
}

type Check = { test: (v: number) => boolean; want: string };
const positive: Check = { test: (v) => Number.isFinite(v) && v > 0, want: 'a positive number' };
const nonNegative: Check = { test: (v) => Number.isFinite(v) && v >= 0, want: 'a number >= 0' };
const unitInterval: Check = { test: (v) => Number.isFinite(v) && v >= 0 && v < 1, want: 'a number in [0, 1)' };
const wholeAtLeast1: Check = { test: (v) => Number.isInteger(v) && v >= 1, want: 'a whole number >= 1' };
const OPTION_CHECKS: Record<keyof OptimizerOptions, Check> = {
  lr: positive,
  momentum: unitInterval,
  beta1: unitInterval,
  beta2: unitInterval,
  eps: positive,
  l2: nonNegative,
  history: wholeAtLeast1,
  maxEvals: wholeAtLeast1,
  tol: { test: (v) => Number.isFinite(v) && v > 0 && v < 1, want: 'a number in (0, 1)' },
  rho: nonNegative,
  innerSteps: wholeAtLeast1,
  innerLr: positive,
};

/**
 * Every provided option is checked, whether or not this optimizer uses it,
 * so a typo or a bad value in a config file is reported instead of silently
 * ignored.
 */
function validateOptions(name: OptimizerName, opts: OptimizerOptions): void {
  for (const [key, value] of Object.entries(opts)) {
    if (value === undefined) continue;
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw inputError(`unknown option "${key}" for optimizer ${name}; known options: ${OPTION_KEYS.join(', ')}`);
    }
    const check = OPTION_CHECKS[key as keyof OptimizerOptions];
    if (typeof value !== 'number' || !check.test(value)) {
      throw inputError(`optimizer ${name}: option ${key} must be ${check.want}, got ${JSON.stringify(value)}`);
    }
  }
}

export function createOptimizer(name: OptimizerName | string, opts: OptimizerOptions = {}): Optimizer {
  const n = parseOptimizerName(name);
  validateOptions(n, opts);
  const l2 = opts.l2 ?? 0;
  switch (n) {
    case 'sgd':
      return new MomentumSgd('sgd', opts.lr ?? DEFAULT_LR.sgd, 0, l2);
    case 'momentum':
    case 'nesterov':
      return new MomentumSgd(n, opts.lr ?? DEFAULT_LR[n], opts.momentum ?? 0.9, l2);
    case 'adagrad':
      return new AdaGrad(opts.lr ?? DEFAULT_LR.adagrad, opts.eps ?? 1e-10, l2);
    case 'rmsprop': {
      // `rho` means the rolling ball's radius elsewhere; RMSprop takes it as its decay only
      // when beta2 is absent and it is a valid decay.
      const decay = opts.beta2 ?? opts.rho ?? 0.99;
      if (!(decay < 1)) throw inputError(`optimizer rmsprop: decay (beta2 or rho) must be in [0, 1), got ${decay}`);
      return new RmsProp(opts.lr ?? DEFAULT_LR.rmsprop, decay, opts.eps ?? 1e-8, l2);
    }
    case 'adam':
      return new Adam(opts.lr ?? DEFAULT_LR.adam, opts.beta1 ?? 0.9, opts.beta2 ?? 0.999, opts.eps ?? 1e-8, l2);
    case 'lbfgs':
      return new Lbfgs(opts.history ?? 10, opts.maxEvals ?? 6, opts.tol ?? 1e-4, l2);
    case 'rolling-ball':
      return new RollingBall(opts.lr ?? DEFAULT_LR['rolling-ball'], opts.rho ?? 0.5, opts.innerSteps ?? 10, opts.innerLr ?? 0.01, l2);
  }
}
