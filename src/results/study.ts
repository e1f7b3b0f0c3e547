/**
 * The optimizer study (`<out>/study.json`, written by `landscape study` and
 * by the extension's study job): the solutions, the barriers between pairs
 * of them, the kernel PCA map and the verdicts on the paper's findings. The
 * engine's StudyResult is this schema's type; report.html is drawn from it.
 */
import { LIMITS, S, type Infer } from '../schema';
import { count, HeightNumbersSchema, num, optNum, series, str } from './shapes';

/** Version of this kind's format (1: Landscape 0.1.0). */
export const STUDY_FORMAT_VERSION = 1;
export const STUDY_FILE = 'study.json';

export const STUDY_PRESETS = ['quick', 'default'] as const;
export const OPTIMIZER_GROUPS = ['sgd', 'lbfgs'] as const;

export const StudyConfigSchema = S.object({
  preset: S.oneOf(STUDY_PRESETS),
  dataset: str,
  model: str,
  bias: S.boolean(),
  /** Seeds per optimizer: 1..seeds. */
  seeds: S.int(1),
  sgd: S.object({ epochs: count, lr: num, batch: S.int(1) }),
  lbfgs: S.object({ epochs: count }),
  /** Random pairs per optimizer group (all pairs when larger than the number of pairs). */
  pairsPerGroup: count,
  path: S.object({ points: S.int(2), modes: count, steps: count, lr: num, lambda: num, objective: S.literal('minimax') }),
  /** Seed of the pair choice and of everything not tied to a run's own seed. */
  seed: S.int(),
});
export type StudyConfig = Infer<typeof StudyConfigSchema>;

export const StudySolutionSchema = S.object({
  /** e.g. "sgd-s1/final", "lbfgs-s2/early". */
  id: str,
  optimizer: S.oneOf(OPTIMIZER_GROUPS),
  seed: S.int(),
  kind: S.oneOf(['final', 'early'] as const),
  /** Relative to the study folder. */
  file: S.string(LIMITS.path),
  epoch: count,
  trainLoss: num,
  testLoss: num,
  trainAccuracy: optNum,
  testAccuracy: optNum,
});
export type StudySolution = Infer<typeof StudySolutionSchema>;

export const StudyBarrierSchema = S.object({
  optimizer: S.oneOf(OPTIMIZER_GROUPS),
  a: str,
  b: str,
  lossA: num,
  lossB: num,
  straight: HeightNumbersSchema,
  optimized: S.object({ ...HeightNumbersSchema.shape, iterations: count }),
  profile: S.object({ t: series, straight: series, optimized: series }),
  /** Relative to the study folder. */
  file: S.string(LIMITS.path),
});
export type StudyBarrier = Infer<typeof StudyBarrierSchema>;

export const VerdictSchema = S.object({
  id: S.oneOf(['deeper-minima', 'lower-sgd-barriers', 'kpca-separates'] as const),
  claim: S.string(LIMITS.text),
  reproduced: S.boolean(),
  evidence: S.string(LIMITS.text),
  numbers: S.record(num, 100),
});
export type Verdict = Infer<typeof VerdictSchema>;

export const StudySchema = S.object({
  formatVersion: S.int(1, STUDY_FORMAT_VERSION),
  config: StudyConfigSchema,
  backend: str,
  versions: S.object({ landscape: str, tfjs: str, node: str }),
  paramCount: count,
  solutions: S.array(StudySolutionSchema),
  barriers: S.array(StudyBarrierSchema),
  kpca: S.object({
    kernel: str,
    gamma: num,
    ids: S.array(str),
    projections: S.array(S.array(num, 100)),
    explainedVariance: S.array(num, 100),
  }),
  verdicts: S.array(VerdictSchema, 100),
  timing: S.object({ trainSeconds: num, pathSeconds: num, totalSeconds: num }),
  reused: S.object({ runs: count, paths: count }),
});
export type StudyResult = Infer<typeof StudySchema>;
