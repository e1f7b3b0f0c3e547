/**
 * Instability analysis (`<out>/instability.json`, written by `landscape
 * instability`; Frankle et al. 2020): children trained from the parent's
 * weights at each spawn epoch k with different mini-batch orders, and the
 * barrier between their final weights against k. The engine's result is this
 * schema's type.
 *
 * Browser-safe (no Node imports).
 */
import { LIMITS, S, type Infer } from '../schema';
import { count, HeightNumbersSchema, jsonValue, num, optNum, series, str } from './shapes';

/** Version of this kind's format. */
export const INSTABILITY_FORMAT_VERSION = 1;

/** How the threshold is applied, in words, for the result and the help. */
export const THRESHOLD_RULE = 'a spawn epoch is stable when, for every pair of its children, the barrier is at most threshold × the mean of the pair\'s two endpoint training losses';

/** One child's final state. */
export const InstabilityChildSchema = S.object({
  child: S.int(1),
  /** Seed of its mini-batch order. */
  seed: S.int(0),
  /** Run folder, relative to the analysis folder. */
  dir: S.string(LIMITS.path),
  trainLoss: num,
  testLoss: num,
  accuracy: optNum,
  testAccuracy: optNum,
});
export type InstabilityChild = Infer<typeof InstabilityChildSchema>;

/** The barrier between two children (numbered from 1). */
export const InstabilityPairSchema = S.object({
  a: S.int(1),
  b: S.int(1),
  lossA: num,
  lossB: num,
  /** Bit-identical weights: the line is one point and every barrier is 0 exactly. */
  identical: S.boolean(),
  straight: HeightNumbersSchema,
  optimized: S.optional(S.object({ ...HeightNumbersSchema.shape, iterations: count })),
  profile: S.object({ t: series, straight: series, optimizedT: S.optional(series), optimized: S.optional(series) }),
});
export type InstabilityPair = Infer<typeof InstabilityPairSchema>;

/** Barriers of one spawn epoch summarised over its pairs. */
export const PairStatisticsSchema = S.object({
  mean: num,
  max: num,
  /** Largest barrier / mean endpoint loss; null when a pair's loss is 0 and its barrier is not. */
  maxRelative: S.nullable(num),
  belowThreshold: S.boolean(),
});
export type PairStatistics = Infer<typeof PairStatisticsSchema>;

export const InstabilitySpawnSchema = S.object({
  epoch: count,
  children: S.array(InstabilityChildSchema, 100),
  pairs: S.array(InstabilityPairSchema, 10_000),
  straight: PairStatisticsSchema,
  optimized: S.optional(PairStatisticsSchema),
});
export type InstabilitySpawn = Infer<typeof InstabilitySpawnSchema>;

export const InstabilitySchema = S.object({
  kind: S.literal('instability'),
  formatVersion: S.int(1, INSTABILITY_FORMAT_VERSION),
  /** The parent's training options (as given) and the analysis' settings. */
  config: S.object({
    train: S.record(jsonValue(), 100),
    epochs: S.int(1),
    seed: S.int(0),
    dataSeed: S.int(0),
    spawnEpochs: S.array(count, 10_000),
    children: S.int(2),
    childSeeds: S.array(S.int(0), 100),
    points: S.int(2),
    optimized: S.boolean(),
    threshold: num,
    thresholdRule: S.string(LIMITS.text),
  }),
  model: str,
  paramCount: count,
  dataset: S.object({ name: str, trainSize: count }),
  parent: S.object({ dir: S.string(LIMITS.path), trainLoss: num, testLoss: num, accuracy: optNum, testAccuracy: optNum }),
  spawns: S.array(InstabilitySpawnSchema, 10_000),
  /** The first spawn epoch whose straight-line barrier is below the threshold; null if none is. */
  firstStableEpoch: S.nullable(count),
  /** The same for the optimized barrier (with `optimized`). */
  firstStableEpochOptimized: S.optional(S.nullable(count)),
  reused: S.object({ parent: S.boolean(), children: count, barriers: count }),
  trained: S.object({ runs: count }),
  backend: str,
  seconds: num,
  landscapeVersion: str,
});
export type InstabilityResult = Infer<typeof InstabilitySchema>;
