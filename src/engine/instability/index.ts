/** Instability analysis (Frankle et al. 2020): barriers between copies of a run spawned at epoch k, against k. */
export { runInstability, type InstabilityEvent } from './run';
export { parseSpawnEpochs, resolvePlan, resolveThreshold, checkpointCadence, DEFAULT_CHILDREN, DEFAULT_THRESHOLD, MAX_CHILDREN, type InstabilityOptions, type InstabilityPlan, type ParentTrainOptions } from './options';
export { INSTABILITY_FILE, PLAN_FILE } from './folder';
export { measurePair, measurePairs, pairStatistics } from './barrier';
