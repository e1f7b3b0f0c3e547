/**
 * Data shapes several result kinds share: how a checkpoint or a minimum is
 * named in a result, the height numbers of a path, a settings table, an epoch
 * and a stability check of a training run. Browser-safe (no Node imports):
 * the webviews validate what they are sent against these too.
 */
import { LIMITS, S, type Infer } from '../schema';

export const num = S.number();
export const optNum = S.optional(S.number());
export const str = S.string();
export const filePath = S.string(LIMITS.path);
export const count = S.int(0);
/** A series of numbers (a profile, a history, a grid axis). */
export const series = S.array(num, LIMITS.points);
/** A matrix entry: null where not computed or not finite. */
export const cell = S.nullable(num);
/** Display rows of a result panel: settings and provenance. */
export const kvRows = S.array(S.tuple(S.string(LIMITS.string), S.string(LIMITS.text)), 200);

/** One epoch event of a training run (epoch 0 is the initial point). */
export const EpochPointSchema = S.object({
  epoch: count,
  step: count,
  trainLoss: num,
  testLoss: num,
  accuracy: optNum,
  testAccuracy: optNum,
  gradNorm: num,
  lr: num,
  time: num,
});
export type EpochPoint = Infer<typeof EpochPointSchema>;

/** The verdicts of a stability check (see src/engine/trainingStability.ts). */
export const STABILITY_VERDICTS = ['stable', 'edge', 'unstable', 'not-applicable'] as const;

/**
 * One stability check of a training run (TrainConfig.stabilityEvery): λmax of
 * the training loss and the largest stable λmax at the learning rate (the 2/η
 * line; absent without a rate).
 */
export const StabilityPointSchema = S.object({
  epoch: count,
  step: count,
  lambdaMax: num,
  errorEstimate: optNum,
  threshold: optNum,
  lr: optNum,
  verdict: S.oneOf(STABILITY_VERDICTS),
  message: S.string(LIMITS.string),
});
export type StabilityPoint = Infer<typeof StabilityPointSchema>;

/** A checkpoint file shown in a list. */
export const CheckpointRefSchema = S.object({
  path: filePath,
  label: str,
  detail: S.optional(str),
});
export type CheckpointRef = Infer<typeof CheckpointRefSchema>;

/** The numbers of one path's height: H, where it lies, and the barriers from each end and their mean. */
export const HeightNumbersSchema = S.object({
  height: num,
  tAtMax: num,
  barrierFromA: num,
  barrierFromB: num,
  barrierFromMean: num,
});
export type HeightNumbers = Infer<typeof HeightNumbersSchema>;

/** A minimum named in a barrier result. `path` is absolute in messages, relative to the result file on disk. */
export const MinimumRefSchema = S.object({ path: filePath, label: str, loss: S.nullable(num) });
export type MinimumRef = Infer<typeof MinimumRefSchema>;

/** A checkpoint an analysis result is about. `path` is absolute in messages, relative to the result file on disk. */
export const AnalysisRefSchema = S.object({ path: filePath, label: str });
export type AnalysisRef = Infer<typeof AnalysisRefSchema>;

/** The training loss an analysis measured: its dataset, split, size and value at the checkpoint. */
export const ObjectiveSchema = S.object({ dataset: str, split: S.string(40), samples: count, loss: num });
export type Objective = Infer<typeof ObjectiveSchema>;

/**
 * How a checkpoint is labelled in panels: run/stem (a run's checkpoints/
 * folder looked through), or folder/stem. String work only, so the
 * webviews and the engine label alike.
 */
export function checkpointLabel(file: string): string {
  const parts = file.split(/[\\/]+/).filter((p) => p !== '');
  const base = parts.pop() ?? '';
  let stem = base.replace(/\.(safetensors|json)$/i, '');
  if (base.toLowerCase() === 'model.json') stem = parts.pop() || 'model';
  if (parts[parts.length - 1] === 'checkpoints') parts.pop();
  const parent = parts[parts.length - 1];
  const label = parent ? `${parent}/${stem}` : stem;
  return label.length > 80 ? `…${label.slice(-79)}` : label;
}

export type Json = Record<string, unknown>;

/**
 * The fields every format-2 result has, stamped on an upgraded format-1
 * document: kind, format version and command; a label, seconds and the
 * writing version when the old file lacked them; settings left empty (the
 * caller fills them from the validated result).
 */
export function upgradeStamp(up: Json, kind: string, version: number, label: string): Json {
  up.kind = kind;
  up.formatVersion = version;
  up.command = kind;
  up.label ??= label;
  up.seconds ??= 0;
  up.landscapeVersion ??= '0.1.0';
  up.settings = [];
  return up;
}
