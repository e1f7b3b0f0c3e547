/**
 * The result of an instability analysis from its parts: each spawn epoch's
 * children and pair barriers (as saved), summarised against the threshold,
 * and the first spawn epoch that is stable. The threshold is applied here,
 * not when the parts are computed, so re-running with another --threshold
 * reuses every part.
 */
import * as path from 'path';
import { computeError } from '../errors';
import type { RunJson } from '../train';
import { LANDSCAPE_VERSION } from '../version';
import { INSTABILITY_FORMAT_VERSION, THRESHOLD_RULE, type InstabilityChild, type InstabilityPair, type InstabilityResult, type InstabilitySpawn } from '../../results/instability';
import { pairStatistics } from './barrier';
import type { InstabilityPlan } from './options';

/** What barriers.json of one spawn epoch holds. */
export interface SavedSpawn {
  epoch: number;
  children: InstabilityChild[];
  pairs: InstabilityPair[];
}

export function spawnSummary(saved: SavedSpawn, threshold: number, optimized: boolean): InstabilitySpawn {
  return {
    epoch: saved.epoch,
    children: saved.children,
    pairs: saved.pairs,
    straight: pairStatistics(saved.pairs, (p) => p.straight.barrierFromMean, threshold),
    ...(optimized ? { optimized: pairStatistics(saved.pairs, (p) => p.optimized?.barrierFromMean ?? NaN, threshold) } : {}),
  };
}

/** Child `child`'s record: its seed, folder (relative to `out`) and final losses. */
export function childRecord(out: string, dir: string, child: number, run: RunJson): InstabilityChild {
  const final = finalCheckpoint(run);
  return {
    child,
    seed: run.config.seed,
    dir: path.relative(out, dir),
    trainLoss: final.trainLoss,
    testLoss: final.testLoss,
    ...(final.accuracy !== undefined ? { accuracy: final.accuracy } : {}),
    ...(final.testAccuracy !== undefined ? { testAccuracy: final.testAccuracy } : {}),
  };
}

function finalCheckpoint(run: RunJson): RunJson['checkpoints'][number] {
  const final = run.checkpoints.find((c) => c.kind === 'final');
  if (!final) throw computeError('run.json of a completed run lists no final checkpoint; remove that run folder and run again');
  return final;
}

export interface ResultParts {
  plan: InstabilityPlan;
  threshold: number;
  out: string;
  parentDir: string;
  parent: RunJson;
  spawns: InstabilitySpawn[];
  reused: InstabilityResult['reused'];
  trained: InstabilityResult['trained'];
  backend: string;
  seconds: number;
}

export function instabilityResult(p: ResultParts): InstabilityResult {
  const final = finalCheckpoint(p.parent);
  const firstStable = (pick: (s: InstabilitySpawn) => boolean | undefined) => p.spawns.find(pick)?.epoch ?? null;
  return {
    kind: 'instability',
    formatVersion: INSTABILITY_FORMAT_VERSION,
    config: { ...p.plan, train: JSON.parse(JSON.stringify(p.plan.train)) as Record<string, unknown>, threshold: p.threshold, thresholdRule: THRESHOLD_RULE },
    model: p.parent.model.spec,
    paramCount: p.parent.model.paramCount,
    dataset: { name: p.plan.train.dataset, trainSize: p.parent.dataset.trainSize },
    parent: {
      dir: path.relative(p.out, p.parentDir),
      trainLoss: final.trainLoss,
      testLoss: final.testLoss,
      ...(final.accuracy !== undefined ? { accuracy: final.accuracy } : {}),
      ...(final.testAccuracy !== undefined ? { testAccuracy: final.testAccuracy } : {}),
    },
    spawns: p.spawns,
    firstStableEpoch: firstStable((s) => s.straight.belowThreshold),
    ...(p.plan.optimized ? { firstStableEpochOptimized: firstStable((s) => s.optimized?.belowThreshold) } : {}),
    reused: p.reused,
    trained: p.trained,
    backend: p.backend,
    seconds: p.seconds,
    landscapeVersion: LANDSCAPE_VERSION,
  };
}
