/**
 * A training run: its folder (run.json, metrics.jsonl, checkpoints), written
 * by src/engine/train.ts for the CLI and the extension alike. The run's
 * status and checkpoint records are declared here once (the engine's
 * run.json uses them), and the panel's view of a run: its curves, summary
 * and checkpoints.
 */
import { LIMITS, S, type Infer } from '../schema';
import { CheckpointRefSchema, count, EpochPointSchema, filePath, num, optNum, StabilityPointSchema, str } from './shapes';

/** Version of run.json's format (1: Landscape 0.1.0); metrics.jsonl lines carry none. */
export const RUN_FORMAT_VERSION = 1;
export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';

/** The states run.json records (a run that never started has no run.json). */
export const RUN_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** One checkpoint a run wrote, as run.json lists it. */
export const CheckpointInfoSchema = S.object({
  /** Relative to the run folder. */
  file: filePath,
  kind: S.oneOf(['periodic', 'best', 'final', 'interrupted'] as const),
  epoch: count,
  step: count,
  trainLoss: num,
  testLoss: num,
  accuracy: optNum,
  testAccuracy: optNum,
});
export type CheckpointInfo = Infer<typeof CheckpointInfoSchema>;

/** A run folder as the training-run panel shows it. */
export const TrainingRunSchema = S.object({
  kind: S.literal('trainingRun'),
  runDir: filePath,
  status: str,
  summary: S.array(S.tuple(S.string(LIMITS.string), S.string(LIMITS.text))),
  points: S.array(EpochPointSchema, LIMITS.points),
  checkpoints: S.array(CheckpointRefSchema),
  /** Stability checks from metrics.jsonl (runs trained with stabilityEvery). */
  stability: S.optional(S.array(StabilityPointSchema, LIMITS.list)),
});
export type TrainingRunData = Infer<typeof TrainingRunSchema>;
