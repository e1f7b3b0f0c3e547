/**
 * The instability analysis (Frankle et al. 2020): train a parent; at each
 * spawn epoch k, train `children` copies of it from its epoch-k weights to
 * the last epoch, each with its own mini-batch order; measure the barrier
 * between the copies' final weights; report it against k with the first k
 * whose barrier is below the threshold. Finished runs and barriers of an
 * interrupted analysis are reused (folder.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../backend';
import { throwIfAborted } from '../errors';
import { validate, S } from '../../schema';
import { writeJsonAtomic } from '../checkpoint/atomic';
import { loadCheckpoint } from '../checkpoint';
import { loadAnyCheckpoint } from '../evaluate';
import { objectiveForCheckpoint, type CheckpointObjective } from '../checkpointObjective';
import { checkOutFolder, type RunJson } from '../train';
import { prepareTraining } from '../train/setup';
import { InstabilityChildSchema, InstabilityPairSchema, type InstabilityResult, type InstabilitySpawn } from '../../results/instability';
import { resolvePlan, resolveThreshold, type InstabilityOptions, type InstabilityPlan } from './options';
import { barriersFile, childDir, claimFolder, finishedRun, INSTABILITY_FILE, parentDir } from './folder';
import { checkSpawnedFrom, childConfig, parentConfig, seedChildFolder, trainRun, type RunEvent } from './spawn';
import { measurePairs } from './barrier';
import { childRecord, instabilityResult, spawnSummary, type SavedSpawn } from './result';

export type InstabilityEvent =
  | RunEvent
  | { type: 'run'; run: string; reused: boolean }
  | { type: 'spawn-done'; spawn: InstabilitySpawn; reused: boolean }
  | { type: 'done'; result: InstabilityResult; file: string };

/** The training loss every barrier is measured on, built once and only if a barrier is computed. */
class TrainingSurface {
  private made?: Promise<CheckpointObjective>;
  constructor(private readonly checkpoint: string) {}
  async objective(): Promise<CheckpointObjective['objective']> {
    this.made ??= loadAnyCheckpoint(this.checkpoint).then((ck) => objectiveForCheckpoint(ck));
    return (await this.made).objective;
  }
  async dispose(): Promise<void> {
    (await this.made?.catch(() => undefined))?.dispose();
  }
}

interface Analysis {
  plan: InstabilityPlan;
  out: string;
  parent: RunJson;
  backend?: string;
  signal?: AbortSignal;
  surface: TrainingSurface;
  reused: InstabilityResult['reused'];
  trained: InstabilityResult['trained'];
}

const SavedSpawnSchema = S.object({ epoch: S.int(0), children: S.array(InstabilityChildSchema, 100), pairs: S.array(InstabilityPairSchema, 10_000) });

/** barriers.json of spawn epoch k from an earlier run, when it is whole and made for this plan. */
function savedSpawn(file: string, plan: InstabilityPlan, k: number): SavedSpawn | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    const v = validate(SavedSpawnSchema, JSON.parse(fs.readFileSync(file, 'utf8')));
    if (!v.ok || v.value.epoch !== k || v.value.children.length !== plan.children) return undefined;
    return v.value.pairs.every((p) => Boolean(p.optimized) === plan.optimized) ? v.value : undefined;
  } catch {
    return undefined;
  }
}

async function* parentPhase(plan: InstabilityPlan, out: string, o: InstabilityOptions, counts: Pick<Analysis, 'reused' | 'trained'>): AsyncGenerator<InstabilityEvent, RunJson> {
  const dir = parentDir(out);
  const done = finishedRun(dir);
  yield { type: 'run', run: 'parent', reused: Boolean(done) };
  if (done) {
    counts.reused.parent = true;
    return done;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const run = yield* trainRun('parent', parentConfig(plan, dir, o.train.backend), { signal: o.signal, checkpointInitial: plan.spawnEpochs[0] === 0 });
  counts.trained.runs++;
  return run;
}

/** Child `child` of spawn epoch k: reused when finished, else seeded from the parent and trained. */
async function* childPhase(a: Analysis, k: number, child: number): AsyncGenerator<InstabilityEvent, RunJson> {
  const dir = childDir(a.out, k, child);
  const name = path.relative(a.out, dir);
  throwIfAborted(a.signal);
  const done = finishedRun(dir);
  yield { type: 'run', run: name, reused: Boolean(done) };
  if (done) {
    checkSpawnedFrom(done, k, dir);
    a.reused.children++;
    return done;
  }
  const config = childConfig(a.plan, dir, child, a.backend);
  seedChildFolder(parentDir(a.out), a.parent, k, config);
  const run = yield* trainRun(name, config, { signal: a.signal });
  checkSpawnedFrom(run, k, dir);
  a.trained.runs++;
  return run;
}

/** Spawn epoch k: its children and the barriers between them, saved as soon as they are known. */
async function* spawnPhase(a: Analysis, k: number): AsyncGenerator<InstabilityEvent, SavedSpawn> {
  const file = barriersFile(a.out, k);
  const saved = savedSpawn(file, a.plan, k);
  if (saved) {
    a.reused.barriers++;
    a.reused.children += a.plan.children;
    return saved;
  }
  const runs: RunJson[] = [];
  for (let c = 1; c <= a.plan.children; c++) runs.push(yield* childPhase(a, k, c));
  throwIfAborted(a.signal);
  const thetas = await Promise.all(runs.map((_, i) => loadCheckpoint(path.join(childDir(a.out, k, i + 1), 'final.safetensors')).then((ck) => ck.theta)));
  const pairs = await measurePairs(await a.surface.objective(), thetas, { points: a.plan.points, optimized: a.plan.optimized, signal: a.signal });
  const spawn: SavedSpawn = { epoch: k, children: runs.map((r, i) => childRecord(a.out, childDir(a.out, k, i + 1), i + 1, r)), pairs };
  writeJsonAtomic(file, spawn);
  return spawn;
}

/**
 * Run the analysis. Yields progress events and returns the result, which is
 * also written to <out>/instability.json. Cancel with `signal`: finished
 * runs and barriers stay on disk for the re-run.
 */
export async function* runInstability(o: InstabilityOptions): AsyncGenerator<InstabilityEvent, InstabilityResult> {
  const plan = resolvePlan(o);
  const threshold = resolveThreshold(o.threshold);
  const out = path.resolve(o.out);
  checkOutFolder(out);
  const backend = await initBackend(o.train.backend);
  // Data and model that cannot train are refused before the folder is claimed.
  if (!finishedRun(parentDir(out))) (await prepareTraining(parentConfig(plan, parentDir(out), o.train.backend))).optimizer.dispose();
  claimFolder(out, plan);
  const t0 = Date.now();
  const counts = { reused: { parent: false, children: 0, barriers: 0 }, trained: { runs: 0 } };
  const parent = yield* parentPhase(plan, out, o, counts);
  const a: Analysis = { plan, out, parent, backend: o.train.backend, signal: o.signal, surface: new TrainingSurface(path.join(parentDir(out), 'final.safetensors')), ...counts };
  const spawns: InstabilitySpawn[] = [];
  try {
    for (const k of plan.spawnEpochs) {
      const before = a.reused.barriers;
      const spawn = spawnSummary(yield* spawnPhase(a, k), threshold, plan.optimized);
      spawns.push(spawn);
      yield { type: 'spawn-done', spawn, reused: a.reused.barriers > before };
    }
  } finally {
    await a.surface.dispose();
  }
  const result = instabilityResult({ plan, threshold, out, parentDir: parentDir(out), parent, spawns, ...counts, backend: backend.name, seconds: (Date.now() - t0) / 1000 });
  const file = path.join(out, INSTABILITY_FILE);
  writeJsonAtomic(file, result);
  yield { type: 'done', result, file };
  return result;
}
