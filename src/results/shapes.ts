/**
 * Data shapes several result kinds share: how a checkpoint or a minimum is
 * named in a result, the height numbers of a path, a settings table, an epoch
 * and a stability check of a training run. Browser-safe (no Node imports):
 * the webviews validate what they are sent against these too.
 */
import { LIMITS, S, type Infer, type Schema } from '../schema';

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
 * document: kind, format version and command; a label (unless null), seconds and the
 * writing version when the old file lacked them; settings left empty (the
 * caller fills them from the validated result).
 */
export function upgradeStamp(up: Json, kind: string, version: number, label: string | null, command = kind): Json {
  up.kind = kind;
  up.formatVersion = version;
  up.command = command;
  // Kinds about two or more checkpoints (path, barriers) name each of them instead (null).
  if (label !== null) up.label ??= label;
  up.seconds ??= 0;
  up.landscapeVersion ??= '0.1.0';
  up.settings = [];
  return up;
}

/**
 * Any JSON value, bounded (depth, lengths): for fields recorded as given,
 * such as a dataset's options, whose keys grow with new datasets.
 */
export function jsonValue(depth = 4): Schema<unknown> {
  const check = (v: unknown, at: string, d: number): string | null => {
    if (v === null || typeof v === 'boolean') return null;
    if (typeof v === 'number') return Number.isFinite(v) ? null : `${at}: expected a finite number`;
    if (typeof v === 'string') return v.length > LIMITS.text ? `${at}: string longer than ${LIMITS.text}` : null;
    if (d <= 0) return `${at}: nested too deeply`;
    if (Array.isArray(v)) {
      if (v.length > LIMITS.list) return `${at}: more than ${LIMITS.list} items`;
      for (let i = 0; i < v.length; i++) {
        const e = check(v[i], `${at}[${i}]`, d - 1);
        if (e) return e;
      }
      return null;
    }
    if (typeof v !== 'object') return `${at}: not a JSON value`;
    const keys = Object.keys(v);
    if (keys.length > 100) return `${at}: more than 100 entries`;
    for (const k of keys) {
      const e = check((v as Json)[k], `${at}.${k.slice(0, 60)}`, d - 1);
      if (e) return e;
    }
    return null;
  };
  return { check: (v, at) => check(v, at, depth) };
}

/** The data a path or barrier result was measured on, as the CLI records it (datasetRecord). */
export const DatasetRecordSchema = S.object({
  name: str,
  /** Seed, test fraction, options and size are absent in results the extension saved in format 1 (they named the dataset only). */
  seed: S.optional(S.int()),
  testFraction: optNum,
  options: S.optional(S.record(jsonValue(), 50)),
  split: S.string(40),
  trainSize: S.optional(count),
  /** The mini-batch size of the path optimisation, when smaller than the data. */
  batch: S.optional(count),
});
export type DatasetRecord = Infer<typeof DatasetRecordSchema>;
