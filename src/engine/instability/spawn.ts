/**
 * Runs of the analysis: the parent, and the children spawned from its weights
 * at epoch k.
 *
 * A child is an ordinary run folder made to look like an interrupted run
 * that stopped at epoch k (the parent's checkpoint of epoch k copied in, the
 * parent's run.json and metrics.jsonl up to k), whose seed is the child's
 * batch-order seed; `train` then resumes it. Resuming takes the weights from
 * the checkpoint, so the seed decides nothing but the mini-batch order of
 * epochs k + 1 … E; the data split is pinned by the parent's data seed. Like
 * any resumed run, the child starts its optimizer state afresh (momentum,
 * Adam moments, L-BFGS history), from the same state for every child.
 */
import * as fs from 'fs';
import * as path from 'path';
import { computeError } from '../errors';
import { writeFileAtomicSync, writeJsonAtomic } from '../checkpoint/atomic';
import { resolveTrainConfig, train, type RunJson, type TrainConfig, type TrainEvent, type TrainOptions } from '../train';
import { epochCheckpointName, nowIso } from '../train/runFolder';
import { checkpointCadence, type InstabilityPlan } from './options';

/** An event of one of the analysis' training runs, named "parent" or "k-N/child-C". */
export interface RunEvent {
  type: 'train';
  run: string;
  event: TrainEvent;
}

/** The parent: the plan's training, with a checkpoint at every spawn epoch (epoch 0: see trainRun's `checkpointInitial`). */
export function parentConfig(plan: InstabilityPlan, dir: string, backend?: string): TrainConfig {
  return { ...plan.train, backend, out: dir, checkpointEvery: checkpointCadence(plan.spawnEpochs) };
}

/** Child `child` (1-based) of spawn epoch k: the parent's options with the child's batch-order seed, resumed in its own folder. */
export function childConfig(plan: InstabilityPlan, dir: string, child: number, backend?: string): TrainConfig {
  return { ...plan.train, backend, seed: plan.childSeeds[child - 1], dataSeed: plan.dataSeed, out: dir, checkpointEvery: 0, resume: true };
}

/** Run `config` to the end in its folder (as it is: the caller clears or seeds it), passing its events on; returns run.json. */
export async function* trainRun(name: string, config: TrainConfig, opts: TrainOptions): AsyncGenerator<RunEvent, RunJson> {
  const it = train(config, opts);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
    yield { type: 'train', run: name, event: r.value };
  }
}

/** Lay out the child's folder as a run interrupted at epoch k of the parent (see the file comment). */
export function seedChildFolder(parentDir: string, parent: RunJson, k: number, config: TrainConfig): void {
  const file = epochCheckpointName(k);
  const from = parent.checkpoints.find((c) => c.file === file);
  if (!from) throw computeError(`the parent run has no checkpoint of epoch ${k} (${file}); remove ${parentDir} and run again`);
  const dir = config.out;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
  writeFileAtomicSync(path.join(dir, file), fs.readFileSync(path.join(parentDir, file)));
  writeFileAtomicSync(path.join(dir, 'metrics.jsonl'), fs.readFileSync(path.join(parentDir, 'metrics.jsonl')));
  const cfg = { ...resolveTrainConfig(config), loss: parent.config.loss };
  const run: RunJson = { ...parent, status: 'cancelled', config: cfg, seed: cfg.seed, started: nowIso(), epochsCompleted: k, checkpoints: [from] };
  for (const key of ['finished', 'best', 'error', 'resumedAt'] as const) delete run[key];
  writeJsonAtomic(path.join(dir, 'run.json'), run);
}

/** A child run that did not start from the copied checkpoint would be a fresh run of another seed: refuse it. */
export function checkSpawnedFrom(run: RunJson, k: number, dir: string): void {
  const file = epochCheckpointName(k);
  if (run.resumedAt?.[0] !== k || !run.checkpoints.some((c) => c.file === file && c.epoch === k)) {
    throw computeError(`the child in ${dir} did not start from the parent's epoch-${k} weights (${file} did not load)`);
  }
}
