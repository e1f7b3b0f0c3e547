/**
 * What a checkpoint's metadata says about how it was trained: the optimizer's
 * learning rate, momentum and L2 from the `hyperparameters` JSON the trainer
 * records. Pure (no tfjs): the VS Code extension host reads it from a
 * safetensors header to decide whether to ask for η before a Hessian job.
 */
import { inputError } from './errors';

export interface RecordedHyperparameters {
  lr?: number;
  momentum?: number;
  l2?: number;
}

/** The learning rate, momentum and L2 recorded in `meta.hyperparameters`; absent values stay absent (never NaN). */
export function recordedHyperparameters(meta: Record<string, string>, file: string): RecordedHyperparameters {
  if (!meta.hyperparameters) return {};
  let hp: unknown;
  try {
    hp = JSON.parse(meta.hyperparameters);
  } catch {
    throw inputError('has unreadable hyperparameters metadata (not JSON); pass --lr', file);
  }
  const o = typeof hp === 'object' && hp !== null ? (hp as Record<string, unknown>) : {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const out: RecordedHyperparameters = {};
  const lr = num(o.lr);
  const momentum = num(o.momentum);
  const l2 = num(o.l2);
  if (lr !== undefined) out.lr = lr;
  if (momentum !== undefined) out.momentum = momentum;
  if (l2 !== undefined) out.l2 = l2;
  return out;
}

/** Optimizers whose steps the λmax bound describes (plain and momentum gradient descent). */
export const GD_FAMILY = ['sgd', 'gd', 'momentum', 'nesterov'] as const;

/**
 * Whether a stability verdict for this checkpoint needs a learning rate from
 * the user: the recorded optimizer is missing or of the SGD family, and no
 * positive η is recorded. Adaptive optimizers, L-BFGS and the rolling ball get
 * no verdict whatever η is, so asking would be pointless.
 */
export function needsLearningRate(meta: Record<string, string>, file: string): boolean {
  const opt = meta.optimizer;
  if (opt && !(GD_FAMILY as readonly string[]).includes(opt)) return false;
  let lr: number | undefined;
  try {
    lr = recordedHyperparameters(meta, file).lr;
  } catch {
    return true;
  }
  return !(lr !== undefined && lr > 0);
}
