/**
 * The run folder training writes:
 *
 *   <out>/run.json                       config, seed, backend, versions, checkpoints + metrics
 *   <out>/metrics.jsonl                  one JSON line per epoch event
 *   <out>/checkpoints/epoch-NNNN.safetensors
 *   <out>/best.safetensors               lowest test loss so far (the early-stopped solution)
 *   <out>/final.safetensors              written when the run completes
 *
 * Every file is written atomically, so a crash or a cancel leaves each
 * finished checkpoint loadable and run.json valid. Reading a run folder back
 * is in runFolderRead.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { inputError, LandscapeError } from '../errors';
import { LANDSCAPE_VERSION } from '../version';
import { modelText, paramCount } from '../model/spec';
import { saveCheckpoint, CheckpointMeta, loadCheckpointSync } from '../checkpoint';
import { writeJsonAtomic, writeFileAtomicSync, removeStaleTempFiles } from '../checkpoint/atomic';
import type { TrainingSetup } from './setup';
import { hasBatchNorm } from '../model/archModel';
import { populationStatistics } from '../model/runningStats';
import { StatisticsMemo } from '../model/statisticsMemo';
import { toDevice } from '../model/network';
import { isDatasetName, isImageDatasetName } from '../data';
import { keptMetrics, readRunJson } from './runFolderRead';
import type { CheckpointInfo, EpochEvent, ResolvedTrainConfig, RunJson, RunStatus, StabilityEvent, TrainConfig } from './types';

/** Rows per batch when BatchNorm's running statistics are estimated: the training batch, or all rows for full-batch optimizers. */
export function statisticsBatch(setup: TrainingSetup): number {
  return setup.optimizer.fullBatch ? setup.split.train.n : setup.cfg.batch;
}

/** Parameters at the end of an epoch that finished with finite losses, and that epoch's event. */
export interface GoodPoint {
  theta: Float32Array;
  ev: EpochEvent;
}

export type SavedCheckpoint = CheckpointInfo & { path: string };

/** Timestamps honour SOURCE_DATE_EPOCH so that reruns can be byte-identical. */
export function nowIso(): string {
  const sde = process.env.SOURCE_DATE_EPOCH;
  if (sde && /^\d+$/.test(sde)) return new Date(Number(sde) * 1000).toISOString();
  return new Date().toISOString();
}

export function epochCheckpointName(epoch: number): string {
  return `checkpoints/epoch-${String(epoch).padStart(4, '0')}.safetensors`;
}

export class RunFolder {
  readonly dir: string;
  readonly runJsonPath: string;
  readonly metricsPath: string;
  private readonly dataset: { dataset: string; extraMeta: Record<string, string> };
  /** BatchNorm statistics at the last weights, shared with the epoch's evaluation (see statisticsMemo.ts). */
  readonly statistics = new StatisticsMemo();

  private constructor(
    private readonly setup: TrainingSetup,
    /** The run.json of the run being resumed. */
    private readonly previous: RunJson | undefined,
    /** What run.json says; rewritten on every checkpoint and when the run ends. */
    readonly run: RunJson,
  ) {
    this.dir = setup.cfg.out;
    this.runJsonPath = path.join(this.dir, 'run.json');
    this.metricsPath = path.join(this.dir, 'metrics.jsonl');
    this.dataset = datasetReference(setup);
  }

  /**
   * Refuse, replace or take up a run already in the folder (see
   * claimRunFolder), and make the checkpoints folder. Nothing of run.json or
   * metrics.jsonl is written yet: that is `begin`.
   */
  static open(setup: TrainingSetup, given: TrainConfig): RunFolder {
    const { cfg } = setup;
    const previous = claimRunFolder(cfg, given, path.join(cfg.out, 'run.json'));
    try {
      fs.mkdirSync(path.join(cfg.out, 'checkpoints'), { recursive: true });
    } catch (e) {
      throw folderError(e, cfg.out);
    }
    return new RunFolder(setup, previous, newRunJson(setup));
  }

  /**
   * The parameters training starts from: `fresh`, or on resume those of the
   * latest checkpoint that still loads (whose record is returned as `from`).
   * Writes metrics.jsonl (the lines up to `from`) and run.json.
   */
  begin(fresh: Float32Array): { theta: Float32Array; from?: CheckpointInfo } {
    const resumed = this.previous ? this.takeUp(this.previous) : undefined;
    const from = resumed?.from;
    // metrics.jsonl keeps the lines up to the resumed epoch (a torn last line is dropped).
    // Atomic, so a resume killed right here still finds the kept lines next time.
    writeFileAtomicSync(this.metricsPath, from ? keptMetrics(this.metricsPath, from.epoch) : '');
    writeJsonAtomic(this.runJsonPath, this.run);
    return { theta: resumed?.theta ?? fresh, from };
  }

  /** run.json of the interrupted run, carried over up to the checkpoint it resumes from. */
  private takeUp(previous: RunJson): { theta: Float32Array; from: CheckpointInfo } | undefined {
    removeStaleTempFiles(this.dir);
    removeStaleTempFiles(path.join(this.dir, 'checkpoints'));
    const loaded = latestLoadableCheckpoint(this.dir, previous);
    const run = this.run;
    run.started = previous.started;
    run.resumedAt = [...(previous.resumedAt ?? []), loaded?.from.epoch ?? 0];
    if (!loaded) return undefined;
    const from = loaded.from;
    run.checkpoints = previous.checkpoints.filter((c) => c.epoch <= from.epoch && c.kind !== 'final');
    if (previous.best && previous.best.epoch <= from.epoch) run.best = previous.best;
    run.epochsCompleted = from.epoch;
    return loaded;
  }

  appendMetrics(ev: EpochEvent | StabilityEvent): void {
    fs.appendFileSync(this.metricsPath, JSON.stringify(ev) + '\n');
  }

  /** Counted in run.json from the next time it is written. */
  epochCompleted(epoch: number): void {
    this.run.epochsCompleted = epoch;
  }

  /** A BatchNorm network's running statistics at `values` (see runningStats.ts); undefined for others. */
  private runningStatistics(values: Float32Array): Float32Array | undefined {
    if (!hasBatchNorm(this.setup.spec)) return undefined;
    return this.statistics.get(values, () => {
      const dev = toDevice(this.setup.split.train);
      try {
        return populationStatistics(this.setup.spec, values, dev, statisticsBatch(this.setup));
      } finally {
        dev.dispose();
      }
    });
  }

  /** Save parameters as `rel` and list them in run.json (best replaces best; a file written again replaces its entry). */
  writeCheckpoint(rel: string, kind: CheckpointInfo['kind'], values: Float32Array, ev: EpochEvent): SavedCheckpoint {
    const abs = path.join(this.dir, rel);
    saveCheckpoint(abs, this.setup.spec, values, this.checkpointMeta(ev), this.dataset.extraMeta, this.runningStatistics(values));
    const info: CheckpointInfo = {
      file: rel,
      kind,
      epoch: ev.epoch,
      step: ev.step,
      trainLoss: ev.trainLoss,
      testLoss: ev.testLoss,
      accuracy: ev.accuracy,
      testAccuracy: ev.testAccuracy,
    };
    const run = this.run;
    if (kind === 'best') run.best = info;
    else run.checkpoints = [...run.checkpoints.filter((c) => c.file !== rel), info];
    writeJsonAtomic(this.runJsonPath, run);
    return { ...info, path: abs };
  }

  private checkpointMeta(ev: EpochEvent): CheckpointMeta {
    const { cfg, spec, optimizer, backend } = this.setup;
    return {
      formatVersion: '1',
      model: modelText(spec),
      activation: spec.activation,
      bias: String(spec.bias),
      loss: spec.loss,
      dataset: this.dataset.dataset,
      datasetSeed: String(cfg.dataSeed),
      testFraction: String(cfg.testFraction),
      optimizer: cfg.optimizer,
      hyperparameters: JSON.stringify(optimizer.options),
      seed: String(cfg.seed),
      step: String(ev.step),
      epoch: String(ev.epoch),
      trainLoss: String(ev.trainLoss),
      testLoss: String(ev.testLoss),
      trainAccuracy: ev.accuracy === undefined ? '' : String(ev.accuracy),
      testAccuracy: ev.testAccuracy === undefined ? '' : String(ev.testAccuracy),
      backend: backend.name,
      time: nowIso(),
    };
  }

  /** Keep the last finished epoch, unless it is already on disk, and record the cancel. */
  cancelled(lastGood: GoodPoint | undefined): void {
    if (lastGood && lastGood.ev.epoch > 0 && !this.run.checkpoints.some((c) => c.epoch === lastGood.ev.epoch)) {
      try {
        this.writeCheckpoint(epochCheckpointName(lastGood.ev.epoch), 'interrupted', lastGood.theta, lastGood.ev);
      } catch {
        // the cancel is still reported; a failed save is not worse than no save
      }
    }
    this.finish('cancelled', `cancelled after epoch ${lastGood?.ev.epoch ?? 0}`);
  }

  finish(status: RunStatus, error?: string): void {
    const run = this.run;
    run.status = status;
    run.finished = nowIso();
    if (error) run.error = error;
    writeJsonAtomic(this.runJsonPath, run);
  }
}

function newRunJson({ cfg, backend, split, task, spec }: TrainingSetup): RunJson {
  return {
    formatVersion: 1,
    status: 'running',
    config: cfg,
    seed: cfg.seed,
    backend: backend.name,
    versions: { landscape: LANDSCAPE_VERSION, tfjs: backend.tfjsVersion, node: process.versions.node },
    model: { spec: modelText(spec), activation: spec.activation, bias: spec.bias, loss: spec.loss, paramCount: paramCount(spec) },
    dataset: {
      id: split.train.id,
      task,
      trainSize: split.train.n,
      testSize: split.test.n,
      features: split.train.features,
      outputs: split.train.outputs,
      ...(split.train.image ? { image: split.train.image } : {}),
      ...(split.normalization ? { normalization: split.normalization } : {}),
    },
    started: nowIso(),
    epochsCompleted: 0,
    checkpoints: [],
  };
}

/**
 * How checkpoints name their data so that `info` can rebuild exactly this
 * set: a file or folder by its absolute path (a name such as fashion-mnist
 * as given, found again where it was found), a synthetic set with its size
 * and noise, a subset by its size, and images with the per-channel
 * statistics they were normalised with (in the extra metadata, absent when
 * there is nothing to add).
 */
function datasetReference({ cfg, split }: Pick<TrainingSetup, 'cfg' | 'split'>): { dataset: string; extraMeta: Record<string, string> } {
  const isPath = !isDatasetName(cfg.dataset) && !isImageDatasetName(cfg.dataset) && fs.existsSync(cfg.dataset);
  const dataset = isPath ? path.resolve(cfg.dataset) : cfg.dataset;
  const datasetOptions: Record<string, unknown> = {};
  for (const k of ['n', 'noise', 'labelColumn', 'task', 'subset'] as const) if (cfg[k] !== undefined) datasetOptions[k] = cfg[k];
  if (split.normalization) datasetOptions.normalization = split.normalization;
  const extraMeta: Record<string, string> = Object.keys(datasetOptions).length ? { datasetOptions: JSON.stringify(datasetOptions) } : {};
  return { dataset, extraMeta };
}

/** The latest checkpoint of `previous` that still loads; a torn or missing file is skipped. */
function latestLoadableCheckpoint(dir: string, previous: RunJson): { theta: Float32Array; from: CheckpointInfo } | undefined {
  const candidates = [...previous.checkpoints].filter((c) => c.kind !== 'best').sort((a, b) => b.epoch - a.epoch);
  for (const c of candidates) {
    try {
      return { theta: loadCheckpointSync(path.join(dir, c.file)).theta, from: c };
    } catch {
      // try an older one
    }
  }
  return undefined;
}

/** The run folder may exist (as a folder) or not yet; anything else in its place is refused. */
export function checkOutFolder(out: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw inputError('cannot be a folder: part of the path is a file; choose another --out folder', out);
    return;
  }
  if (!st.isDirectory()) throw inputError('is a file, not a folder; choose another --out folder', out);
}

function folderError(e: unknown, out: string): LandscapeError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOTDIR' || code === 'EEXIST') return inputError('cannot create the run folder: a file is in the way; choose another --out', out);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return inputError(`cannot create the run folder: permission denied (${code}); choose another --out`, out);
  return inputError(`cannot create the run folder (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`, out);
}

/** Options a resumed run must share with the run it continues. */
const RESUME_KEYS = ['dataset', 'model', 'activation', 'bias', 'optimizer', 'lr', 'momentum', 'l2', 'batch', 'seed', 'dataSeed', 'testFraction', 'n', 'noise', 'subset'] as const;

/**
 * Decide what to do with an existing run folder: refuse (nothing is lost by
 * accident), replace it (overwrite), or return its run.json to resume from.
 */
function claimRunFolder(cfg: ResolvedTrainConfig, given: TrainConfig, runJsonPath: string): RunJson | undefined {
  if (!fs.existsSync(runJsonPath)) return undefined;
  if (given.overwrite) {
    fs.rmSync(path.join(cfg.out, 'checkpoints'), { recursive: true, force: true });
    for (const f of ['best.safetensors', 'final.safetensors', 'metrics.jsonl', 'run.json']) fs.rmSync(path.join(cfg.out, f), { force: true });
    return undefined;
  }
  if (!given.resume) {
    throw inputError('already holds a run; continue it with --resume, replace it with --overwrite, or choose another --out', cfg.out);
  }
  let prev: RunJson;
  try {
    prev = readRunJson(cfg.out);
  } catch (e) {
    throw inputError(`cannot resume: ${(e as Error).message}`, cfg.out);
  }
  for (const k of RESUME_KEYS) {
    const a = (prev.config as unknown as Record<string, unknown>)[k];
    const b = (cfg as unknown as Record<string, unknown>)[k];
    if (k === 'dataset' && typeof a === 'string' && typeof b === 'string' && path.resolve(a) === path.resolve(b)) continue;
    if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) {
      throw inputError(`cannot resume: the run was trained with ${k} = ${JSON.stringify(a)}, now ${JSON.stringify(b)}; use the same options or another --out`, cfg.out);
    }
  }
  return prev;
}
