/**
 * Training as an async iterator of events. The caller (CLI, VS Code worker,
 * study) decides how to show them; this module owns the run folder:
 *
 *   <out>/run.json                       config, seed, backend, versions, checkpoints + metrics
 *   <out>/metrics.jsonl                  one JSON line per epoch event
 *   <out>/checkpoints/epoch-NNNN.safetensors
 *   <out>/best.safetensors               lowest test loss so far (the early-stopped solution)
 *   <out>/final.safetensors              written when the run completes
 *
 * Every file is written atomically, so a crash or a cancel leaves each
 * finished checkpoint loadable and run.json valid.
 */
import type { CheckpointInfo, RunStatus } from '../results/trainingRun';
import * as fs from 'fs';
import * as path from 'path';
import { tf, initBackend, BackendInfo } from './backend';
import { Rng } from './rng';
import { inputError, computeError, CancelledError, LandscapeError } from './errors';
import { LANDSCAPE_VERSION } from './version';
import { loadDataset } from './data';
import type { Split } from './data/types';
import { ModelSpec, makeSpec, initParams, paramCount, formatLayers, parseLayers, Activation, LossName } from './model/spec';
import { checkModelSize, checkTrainingMemory } from './limits';
import { networkObjective, miniBatchObjective, toDevice, evaluateModel, checkDataFitsModel, DeviceData } from './model/network';
import { lossAndGrad } from './objective';
import { createOptimizer, OptimizerName, OptimizerOptions } from './optim';
import { saveCheckpoint, CheckpointMeta, loadCheckpointSync } from './checkpoint';
import { writeJsonAtomic, writeFileAtomicSync, removeStaleTempFiles } from './checkpoint/atomic';
import { hessianTopEigenvalues, HvpUsed } from './analysis/hessian';
import { optimizerStability, OptimizerStabilityVerdict } from './trainingStability';

export interface TrainConfig {
  /** Built-in dataset name (digits, spirals, …) or a CSV file path. */
  dataset: string;
  /** Layer widths, e.g. "64-32-32-10". */
  model: string;
  activation?: Activation;
  bias?: boolean;
  /** Default: cross-entropy for classification, mse for regression. */
  loss?: LossName;
  optimizer: OptimizerName;
  lr?: number;
  momentum?: number;
  l2?: number;
  epochs: number;
  /** Mini-batch size for the SGD family (full-batch optimizers ignore it). */
  batch?: number;
  seed?: number;
  /** Seed of the dataset and its train/test split; defaults to `seed`. */
  dataSeed?: number;
  /** Write checkpoints/epoch-NNNN every this many epochs (0: only best and final). */
  checkpointEvery?: number;
  testFraction?: number;
  /** CSV options. */
  labelColumn?: string | number;
  task?: 'classification' | 'regression' | 'auto';
  /** Synthetic dataset size and noise. */
  n?: number;
  noise?: number;
  backend?: string;
  /** Run folder. */
  out: string;
  /** Extra optimizer options (history, rho, …). */
  optimizerOptions?: OptimizerOptions;
  /** Continue the run in `out` from its last checkpoint (same configuration required). */
  resume?: boolean;
  /** Replace a run already in `out` instead of refusing. */
  overwrite?: boolean;
  /**
   * Every this many epochs (the initial point included), estimate λmax of the
   * training loss by a few Lanczos steps and yield a 'stability' event (also
   * a line of metrics.jsonl). 0 or absent: off.
   */
  stabilityEvery?: number;
}

export interface ResolvedTrainConfig extends Required<Omit<TrainConfig, 'labelColumn' | 'task' | 'n' | 'noise' | 'backend' | 'optimizerOptions' | 'lr' | 'momentum' | 'resume' | 'overwrite' | 'stabilityEvery'>> {
  /** Present only when on, so run.json of runs without it is unchanged. */
  stabilityEvery?: number;
  labelColumn?: string | number;
  task?: 'classification' | 'regression' | 'auto';
  n?: number;
  noise?: number;
  backend?: string;
  lr?: number;
  momentum?: number;
  optimizerOptions: OptimizerOptions;
}

export interface EpochEvent {
  type: 'epoch';
  epoch: number;
  step: number;
  trainLoss: number;
  testLoss: number;
  /** Train accuracy (classification only). */
  accuracy?: number;
  testAccuracy?: number;
  /** Norm of the full-batch training gradient at the end of the epoch. */
  gradNorm: number;
  lr: number;
  /** Seconds since the run started. */
  time: number;
}

/**
 * Sharpness during training (TrainConfig.stabilityEvery): λmax of the
 * objective the optimizer descends (the full-batch training loss, plus the
 * L2 penalty's l2 when there is one) against the learning rate's bound.
 */
export interface StabilityEvent {
  type: 'stability';
  epoch: number;
  step: number;
  lambdaMax: number;
  /** Lanczos error estimate of lambdaMax (it excludes the products' own float32 error). */
  errorEstimate: number;
  /** The largest stable λmax at this rate, limit/η: 2/η for SGD, 2(1 + β)/η with momentum; absent without a rate. */
  threshold?: number;
  /** The rate of the last step (L-BFGS: its line-search step); absent before L-BFGS' first step. */
  lr?: number;
  /** Heavy-ball or Nesterov momentum the bound accounts for. */
  momentum?: number;
  /** L2 weight decay included in lambdaMax. */
  l2?: number;
  /** 'not-applicable' for adaptive optimizers, L-BFGS and the rolling ball (see trainingStability.ts). */
  verdict: OptimizerStabilityVerdict;
  message: string;
  hvp: HvpUsed;
  iterations: number;
  /** Seed of the Lanczos start vector. */
  seed: number;
  time: number;
}


export type TrainEvent =
  | {
      type: 'start';
      runDir: string;
      backend: BackendInfo;
      config: ResolvedTrainConfig;
      model: string;
      paramCount: number;
      trainSize: number;
      testSize: number;
      epochs: number;
    }
  | EpochEvent
  | StabilityEvent
  | ({ type: 'checkpoint'; path: string } & CheckpointInfo)
  | { type: 'done'; status: RunStatus; runDir: string; epochs: number; finalPath?: string; bestPath?: string; best?: CheckpointInfo; message?: string };

// A run's status and checkpoint records are declared once, with the training-run result kind.
export type { CheckpointInfo, RunStatus } from '../results/trainingRun';

export interface RunJson {
  formatVersion: 1;
  status: RunStatus;
  config: ResolvedTrainConfig;
  seed: number;
  backend: string;
  versions: { landscape: string; tfjs: string; node: string };
  model: { spec: string; activation: Activation; bias: boolean; loss: LossName; paramCount: number };
  dataset: { id: string; task: string; trainSize: number; testSize: number; features: number; outputs: number };
  started: string;
  finished?: string;
  epochsCompleted: number;
  checkpoints: CheckpointInfo[];
  best?: CheckpointInfo;
  error?: string;
  /** Epochs at which the run was resumed after an interruption. */
  resumedAt?: number[];
}

const FULL_BATCH_DEFAULT = 64;

export function resolveTrainConfig(c: TrainConfig): ResolvedTrainConfig {
  if (!c.out) throw inputError('no output folder given (--out <dir>)');
  if (!Number.isInteger(c.epochs) || c.epochs < 1) throw inputError(`epochs must be a whole number ≥ 1, got ${c.epochs}`);
  const batch = c.batch ?? FULL_BATCH_DEFAULT;
  if (!Number.isInteger(batch) || batch < 1) throw inputError(`batch must be a whole number ≥ 1, got ${c.batch}`);
  const every = c.checkpointEvery ?? 10;
  if (!Number.isInteger(every) || every < 0) throw inputError(`checkpoint-every must be a whole number ≥ 0, got ${c.checkpointEvery}`);
  const seed = c.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw inputError(`seed must be a whole number ≥ 0, got ${c.seed}`);
  if (c.dataSeed !== undefined && (!Number.isInteger(c.dataSeed) || c.dataSeed < 0)) throw inputError(`data seed must be a whole number ≥ 0, got ${c.dataSeed}`);
  const testFraction = c.testFraction ?? 0.2;
  if (!(testFraction > 0 && testFraction < 1)) throw inputError(`test fraction must be between 0 and 1, got ${testFraction}`);
  if (c.lr !== undefined && !(c.lr > 0 && Number.isFinite(c.lr))) throw inputError(`learning rate must be a positive number, got ${c.lr}`);
  if (c.l2 !== undefined && !(c.l2 >= 0 && Number.isFinite(c.l2))) throw inputError(`l2 must be ≥ 0, got ${c.l2}`);
  const stabilityEvery = c.stabilityEvery ?? 0;
  if (!Number.isInteger(stabilityEvery) || stabilityEvery < 0) throw inputError(`stability-every must be a whole number ≥ 0, got ${c.stabilityEvery}`);
  return {
    dataset: c.dataset,
    model: c.model,
    activation: c.activation ?? 'relu',
    bias: c.bias ?? true,
    loss: c.loss ?? ('' as LossName),
    optimizer: c.optimizer,
    lr: c.lr,
    momentum: c.momentum,
    l2: c.l2 ?? 0,
    epochs: c.epochs,
    batch,
    seed,
    dataSeed: c.dataSeed ?? seed,
    checkpointEvery: every,
    testFraction,
    labelColumn: c.labelColumn,
    task: c.task,
    n: c.n,
    noise: c.noise,
    backend: c.backend,
    out: path.resolve(c.out),
    optimizerOptions: c.optimizerOptions ?? {},
    ...(stabilityEvery > 0 ? { stabilityEvery } : {}),
  };
}

/** Timestamps honour SOURCE_DATE_EPOCH so that reruns can be byte-identical. */
export function nowIso(): string {
  const sde = process.env.SOURCE_DATE_EPOCH;
  if (sde && /^\d+$/.test(sde)) return new Date(Number(sde) * 1000).toISOString();
  return new Date().toISOString();
}

/** Lanczos steps per stability estimate: enough for λmax to a few digits on small nets, cheap next to an epoch. */
const STABILITY_ITERATIONS = 10;

function epochName(epoch: number): string {
  return `checkpoints/epoch-${String(epoch).padStart(4, '0')}.safetensors`;
}

function isFiniteNum(x: number): boolean {
  return Number.isFinite(x);
}

/**
 * Train a network. Yields events; the generator's return value is the final
 * run.json. Errors (bad input, NaN loss) are thrown after run.json records
 * them. Cancel with `signal`: the run stops between steps, the last finished
 * epoch is saved, and a CancelledError is thrown.
 */
export async function* train(config: TrainConfig, opts: { signal?: AbortSignal } = {}): AsyncGenerator<TrainEvent, RunJson> {
  const cfg = resolveTrainConfig(config);
  // A model too large, or an output path that cannot be a folder, is refused
  // before the backend starts or anything is allocated.
  checkModelSize(parseLayers(cfg.model), cfg.bias);
  checkOutFolder(cfg.out);
  const backend = await initBackend(cfg.backend);
  const split: Split = await loadDataset(cfg.dataset, {
    seed: cfg.dataSeed,
    testFraction: cfg.testFraction,
    labelColumn: cfg.labelColumn,
    task: cfg.task,
    n: cfg.n,
    noise: cfg.noise,
  });
  const task = split.train.task;
  const loss: LossName = cfg.loss || (task === 'classification' ? 'cross-entropy' : 'mse');
  cfg.loss = loss;
  const spec: ModelSpec = makeSpec(cfg.model, { activation: cfg.activation, bias: cfg.bias, loss });
  checkDataFitsModel(spec, split.train);
  checkTrainingMemory({
    layers: spec.layers,
    bias: spec.bias,
    optimizer: cfg.optimizer,
    trainRows: split.train.n,
    testRows: split.test.n,
    features: split.train.features,
    outputs: split.train.outputs,
    history: cfg.optimizerOptions.history,
  });
  const optimizer = createOptimizer(cfg.optimizer, { ...cfg.optimizerOptions, lr: cfg.lr, momentum: cfg.momentum, l2: cfg.l2 });
  const P = paramCount(spec);
  // Checkpoints must let `info` rebuild exactly this data: a CSV by its
  // absolute path, a synthetic set with its size and noise.
  const datasetRef = fs.existsSync(cfg.dataset) && /\.csv$/i.test(cfg.dataset) ? path.resolve(cfg.dataset) : cfg.dataset;
  const datasetOptions: Record<string, unknown> = {};
  for (const k of ['n', 'noise', 'labelColumn', 'task'] as const) if (cfg[k] !== undefined) datasetOptions[k] = cfg[k];
  const extraMeta: Record<string, string> = Object.keys(datasetOptions).length ? { datasetOptions: JSON.stringify(datasetOptions) } : {};

  const runJsonPath = path.join(cfg.out, 'run.json');
  const metricsPath = path.join(cfg.out, 'metrics.jsonl');
  const previous = prepareRunFolder(cfg, config, runJsonPath);
  try {
    fs.mkdirSync(path.join(cfg.out, 'checkpoints'), { recursive: true });
  } catch (e) {
    throw folderError(e, cfg.out);
  }

  const rng = new Rng(cfg.seed);
  const initRng = rng.fork();
  const batchRng = rng.fork();
  const started = Date.now();
  const run: RunJson = {
    formatVersion: 1,
    status: 'running',
    config: cfg,
    seed: cfg.seed,
    backend: backend.name,
    versions: { landscape: LANDSCAPE_VERSION, tfjs: backend.tfjsVersion, node: process.versions.node },
    model: { spec: formatLayers(spec.layers), activation: spec.activation, bias: spec.bias, loss, paramCount: P },
    dataset: {
      id: split.train.id,
      task,
      trainSize: split.train.n,
      testSize: split.test.n,
      features: split.train.features,
      outputs: split.train.outputs,
    },
    started: nowIso(),
    epochsCompleted: 0,
    checkpoints: [],
  };
  let initial = initParams(spec, initRng);
  let resumeFrom: CheckpointInfo | undefined;
  if (previous) {
    removeStaleTempFiles(cfg.out);
    removeStaleTempFiles(path.join(cfg.out, 'checkpoints'));
    // The latest checkpoint that still loads; a torn or missing file is skipped.
    const candidates = [...previous.checkpoints].filter((c) => c.kind !== 'best').sort((a, b) => b.epoch - a.epoch);
    for (const c of candidates) {
      try {
        const ck = loadCheckpointSync(path.join(cfg.out, c.file));
        initial = ck.theta;
        resumeFrom = c;
        break;
      } catch {
        // try an older one
      }
    }
    run.started = previous.started;
    run.resumedAt = [...(previous.resumedAt ?? []), resumeFrom?.epoch ?? 0];
    if (resumeFrom) {
      run.checkpoints = previous.checkpoints.filter((c) => c.epoch <= resumeFrom!.epoch && c.kind !== 'final');
      if (previous.best && previous.best.epoch <= resumeFrom.epoch) run.best = previous.best;
      run.epochsCompleted = resumeFrom.epoch;
    }
  }
  // metrics.jsonl keeps the lines up to the resumed epoch (a torn last line is dropped).
  // Atomic, so a resume killed right here still finds the kept lines next time.
  writeFileAtomicSync(metricsPath, resumeFrom ? keptMetrics(metricsPath, resumeFrom.epoch) : '');
  writeJsonAtomic(runJsonPath, run);

  const trainDev: DeviceData = toDevice(split.train);
  const testDev: DeviceData = toDevice(split.test);
  const fullObjective = networkObjective(spec, trainDev);
  let theta: tf.Tensor1D = tf.tensor1d(initial);
  let lastGood: { theta: Float32Array; ev: EpochEvent } | undefined;
  let step = 0;
  let epoch = 0;
  // The rate the last step used: the configured one, or L-BFGS' line-search step length.
  let lastLr = optimizer.options.lr ?? 0;

  const metaFor = (ev: EpochEvent): CheckpointMeta => ({
    formatVersion: '1',
    model: formatLayers(spec.layers),
    activation: spec.activation,
    bias: String(spec.bias),
    loss,
    dataset: datasetRef,
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
  });

  const writeCkpt = (rel: string, kind: CheckpointInfo['kind'], values: Float32Array, ev: EpochEvent): CheckpointInfo & { path: string } => {
    const abs = path.join(cfg.out, rel);
    saveCheckpoint(abs, spec, values, metaFor(ev), extraMeta);
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
    if (kind === 'best') run.best = info;
    else run.checkpoints = [...run.checkpoints.filter((c) => c.file !== rel), info];
    writeJsonAtomic(runJsonPath, run);
    return { ...info, path: abs };
  };

  const evaluateEpoch = (): EpochEvent => {
    const tr = evaluateModel(spec, theta, trainDev, task);
    const te = evaluateModel(spec, theta, testDev, task);
    const { grad } = lossAndGrad(fullObjective, theta);
    const gradNorm = tf.tidy(() => tf.norm(grad).dataSync()[0]);
    grad.dispose();
    return {
      type: 'epoch',
      epoch,
      step,
      trainLoss: tr.loss,
      testLoss: te.loss,
      accuracy: tr.accuracy,
      testAccuracy: te.accuracy,
      gradNorm,
      lr: lastLr,
      time: (Date.now() - started) / 1000,
    };
  };

  const stabilityAt = async (ev: EpochEvent, values: Float32Array): Promise<StabilityEvent> => {
    const eig = await hessianTopEigenvalues(fullObjective, values, { k: 1, iterations: STABILITY_ITERATIONS, seed: cfg.seed, signal: opts.signal });
    const lambdaMax = eig.eigenvalues[0] + cfg.l2;
    if (!Number.isFinite(lambdaMax)) throw computeError(`the top Hessian eigenvalue at epoch ${ev.epoch} is not finite (${lambdaMax})`);
    const lr = lastLr > 0 ? lastLr : optimizer.options.lr;
    const s = optimizerStability(lambdaMax, cfg.optimizer, { lr, momentum: optimizer.options.momentum });
    return {
      type: 'stability',
      epoch: ev.epoch,
      step: ev.step,
      lambdaMax,
      errorEstimate: eig.errorEstimates[0],
      ...(s.threshold !== undefined ? { threshold: s.threshold } : {}),
      ...(s.lr !== undefined ? { lr: s.lr } : {}),
      ...(s.momentum !== undefined ? { momentum: s.momentum } : {}),
      ...(cfg.l2 > 0 ? { l2: cfg.l2 } : {}),
      verdict: s.verdict,
      message: s.message,
      hvp: eig.hvp,
      iterations: eig.iterations,
      seed: cfg.seed,
      time: (Date.now() - started) / 1000,
    };
  };
  const stabilityDue = (e: number) => (cfg.stabilityEvery ?? 0) > 0 && e % cfg.stabilityEvery! === 0;

  const finish = (status: RunStatus, error?: string) => {
    run.status = status;
    run.finished = nowIso();
    if (error) run.error = error;
    writeJsonAtomic(runJsonPath, run);
  };

  yield {
    type: 'start',
    runDir: cfg.out,
    backend,
    config: cfg,
    model: formatLayers(spec.layers),
    paramCount: P,
    trainSize: split.train.n,
    testSize: split.test.n,
    epochs: cfg.epochs,
  };

  try {
    let ev: EpochEvent;
    let bestTest = run.best ? run.best.testLoss : Infinity;
    let firstEpoch = 1;
    if (resumeFrom) {
      // Continue where the checkpoint left off. Mini-batch order stays the
      // same as an uninterrupted run by replaying the skipped permutations;
      // optimizer state (momentum, Adam moments, L-BFGS history) restarts.
      step = resumeFrom.step;
      epoch = resumeFrom.epoch;
      if (!optimizer.fullBatch) for (let e = 1; e <= resumeFrom.epoch; e++) batchRng.permutation(trainDev.n);
      ev = evaluateEpoch();
      lastGood = { theta: Float32Array.from(theta.dataSync()), ev };
      firstEpoch = resumeFrom.epoch + 1;
    } else {
      // Epoch 0 is the initial point, so curves start where training starts.
      ev = evaluateEpoch();
      if (![ev.trainLoss, ev.testLoss].every(isFiniteNum)) throw computeError(`initial loss is not finite (train ${ev.trainLoss}); check the data for extreme values`);
      fs.appendFileSync(metricsPath, JSON.stringify(ev) + '\n');
      lastGood = { theta: Float32Array.from(theta.dataSync()), ev };
      yield ev;
      if (stabilityDue(0)) {
        const st = await stabilityAt(ev, lastGood.theta);
        fs.appendFileSync(metricsPath, JSON.stringify(st) + '\n');
        yield st;
      }
    }

    for (epoch = firstEpoch; epoch <= cfg.epochs; epoch++) {
      if (optimizer.fullBatch) {
        if (opts.signal?.aborted) throw new CancelledError();
        const r = optimizer.step(theta, fullObjective);
        theta.dispose();
        theta = r.theta;
        lastLr = r.lr;
        step++;
      } else {
        const perm = batchRng.permutation(trainDev.n);
        for (let start = 0; start < perm.length; start += cfg.batch) {
          if (opts.signal?.aborted) throw new CancelledError();
          const idx = perm.subarray(start, Math.min(start + cfg.batch, perm.length));
          const batch = miniBatchObjective(spec, split.train, trainDev, idx);
          const r = optimizer.step(theta, batch.objective);
          batch.dispose();
          theta.dispose();
          theta = r.theta;
          lastLr = r.lr;
          step++;
          if (!Number.isFinite(r.loss)) break;
        }
      }
      ev = evaluateEpoch();
      if (![ev.trainLoss, ev.testLoss, ev.gradNorm].every(isFiniteNum)) {
        const good = lastGood!;
        const saved = writeCkpt(epochName(good.ev.epoch), 'interrupted', good.theta, good.ev);
        yield { type: 'checkpoint', ...saved };
        throw computeError(
          `training diverged at epoch ${epoch}: the loss became ${ev.trainLoss} (try a smaller learning rate); ` +
            `the last good state (epoch ${good.ev.epoch}) is saved in ${saved.path}`,
        );
      }
      fs.appendFileSync(metricsPath, JSON.stringify(ev) + '\n');
      const values = Float32Array.from(theta.dataSync());
      lastGood = { theta: values, ev };
      run.epochsCompleted = epoch;
      yield ev;
      if (stabilityDue(epoch)) {
        const st = await stabilityAt(ev, values);
        fs.appendFileSync(metricsPath, JSON.stringify(st) + '\n');
        yield st;
      }

      if (cfg.checkpointEvery > 0 && epoch % cfg.checkpointEvery === 0) {
        yield { type: 'checkpoint', ...writeCkpt(epochName(epoch), 'periodic', values, ev) };
      }
      if (ev.testLoss < bestTest) {
        bestTest = ev.testLoss;
        yield { type: 'checkpoint', ...writeCkpt('best.safetensors', 'best', values, ev) };
      }
    }
    const finalCk = writeCkpt('final.safetensors', 'final', lastGood.theta, lastGood.ev);
    yield { type: 'checkpoint', ...finalCk };
    finish('completed');
    yield {
      type: 'done',
      status: 'completed',
      runDir: cfg.out,
      epochs: cfg.epochs,
      finalPath: finalCk.path,
      bestPath: run.best ? path.join(cfg.out, run.best.file) : undefined,
      best: run.best,
    };
    return run;
  } catch (e) {
    if (e instanceof CancelledError) {
      // Keep the last finished epoch, unless it is already on disk.
      if (lastGood && lastGood.ev.epoch > 0 && !run.checkpoints.some((c) => c.epoch === lastGood!.ev.epoch)) {
        try {
          writeCkpt(epochName(lastGood.ev.epoch), 'interrupted', lastGood.theta, lastGood.ev);
        } catch {
          // the cancel is still reported; a failed save is not worse than no save
        }
      }
      finish('cancelled', `cancelled after epoch ${lastGood?.ev.epoch ?? 0}`);
    } else {
      finish('failed', e instanceof Error ? e.message : String(e));
    }
    throw e instanceof LandscapeError || e instanceof Error ? e : new Error(String(e));
  } finally {
    theta.dispose();
    trainDev.dispose();
    testDev.dispose();
    optimizer.dispose();
  }
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

/**
 * Decide what to do with an existing run folder: refuse (nothing is lost by
 * accident), replace it (overwrite), or return its run.json to resume from.
 */
function prepareRunFolder(cfg: ResolvedTrainConfig, given: TrainConfig, runJsonPath: string): RunJson | undefined {
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
  const keys = ['dataset', 'model', 'activation', 'bias', 'optimizer', 'lr', 'momentum', 'l2', 'batch', 'seed', 'dataSeed', 'testFraction', 'n', 'noise'] as const;
  for (const k of keys) {
    const a = (prev.config as unknown as Record<string, unknown>)[k];
    const b = (cfg as unknown as Record<string, unknown>)[k];
    if (k === 'dataset' && typeof a === 'string' && typeof b === 'string' && path.resolve(a) === path.resolve(b)) continue;
    if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) {
      throw inputError(`cannot resume: the run was trained with ${k} = ${JSON.stringify(a)}, now ${JSON.stringify(b)}; use the same options or another --out`, cfg.out);
    }
  }
  return prev;
}

function keptMetrics(metricsPath: string, upToEpoch: number): string {
  let text = '';
  try {
    text = fs.readFileSync(metricsPath, 'utf8');
  } catch {
    return '';
  }
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    try {
      const e = JSON.parse(line) as EpochEvent | StabilityEvent;
      if ((e.type === 'epoch' || e.type === 'stability') && e.epoch <= upToEpoch) kept.push(line);
    } catch {
      // torn or empty line
    }
  }
  return kept.length ? kept.join('\n') + '\n' : '';
}

/** Run training to the end, calling `onEvent` for each event. */
export async function trainToEnd(config: TrainConfig, onEvent?: (e: TrainEvent) => void, signal?: AbortSignal): Promise<RunJson> {
  const it = train(config, { signal });
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
    onEvent?.(r.value);
  }
}

/** Read a run folder's run.json with a clear error when it is missing or broken. */
export function readRunJson(dir: string): RunJson {
  const p = path.join(dir, 'run.json');
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch {
    throw inputError('no run.json here; is this a Landscape run folder?', p);
  }
  try {
    return JSON.parse(text) as RunJson;
  } catch (e) {
    throw inputError(`run.json is not valid JSON (${(e as Error).message})`, p);
  }
}
