/**
 * Training as an async iterator of events. The caller (CLI, VS Code worker,
 * study) decides how to show them; the run folder (runFolder.ts) keeps them.
 */
import * as path from 'path';
import { tf } from '../backend';
import { Rng } from '../rng';
import { computeError, CancelledError, LandscapeError } from '../errors';
import { initParams, paramCount, modelText } from '../model/spec';
import { networkObjective, miniBatchObjective, toDevice, DeviceData } from '../model/network';
import type { Objective } from '../objective';
import type { StepResult } from '../optim';
import { prepareTraining, type TrainingSetup } from './setup';
import { RunFolder, epochCheckpointName, statisticsBatch, type GoodPoint } from './runFolder';
import { EpochEvaluator, isFiniteEpoch } from './epochEvaluator';
import { StabilityProbe } from './stabilityProbe';
import type { CheckpointInfo, EpochEvent, RunJson, TrainConfig, TrainEvent } from './types';

export interface TrainOptions {
  signal?: AbortSignal;
  /**
   * Also write checkpoints/epoch-0000 with the initial weights (a fresh run
   * only): what copies of the run spawned at epoch 0 start from. A run-time
   * option, not a TrainConfig field: it changes no number of the run.
   */
  checkpointInitial?: boolean;
}

/**
 * Train a network. Yields events; the generator's return value is the final
 * run.json. Errors (bad input, NaN loss) are thrown after run.json records
 * them. Cancel with `signal`: the run stops between steps, the last finished
 * epoch is saved, and a CancelledError is thrown.
 */
export async function* train(config: TrainConfig, opts: TrainOptions = {}): AsyncGenerator<TrainEvent, RunJson> {
  const setup = await prepareTraining(config);
  const folder = RunFolder.open(setup, config);
  const rng = new Rng(setup.cfg.seed);
  const initRng = rng.fork();
  const batchRng = rng.fork();
  const started = Date.now();
  const { theta, from } = folder.begin(initParams(setup.spec, initRng));
  const loop = new TrainingLoop(setup, folder, theta, batchRng, started, opts);
  yield startEvent(setup);
  try {
    yield* loop.firstPoint(from);
    for (let epoch = (from?.epoch ?? 0) + 1; epoch <= setup.cfg.epochs; epoch++) yield* loop.epoch(epoch);
    return yield* loop.complete();
  } catch (e) {
    loop.stopped(e);
    throw e instanceof LandscapeError || e instanceof Error ? e : new Error(String(e));
  } finally {
    loop.dispose();
  }
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

function startEvent({ cfg, backend, spec, split }: TrainingSetup): TrainEvent {
  return {
    type: 'start',
    runDir: cfg.out,
    backend,
    config: cfg,
    model: modelText(spec),
    paramCount: paramCount(spec),
    trainSize: split.train.n,
    testSize: split.test.n,
    epochs: cfg.epochs,
  };
}

/** The state of a run between epochs, and the steps `train` takes with it. */
class TrainingLoop {
  private readonly trainDev: DeviceData;
  private readonly testDev: DeviceData;
  private readonly objective: Objective;
  private readonly evaluator: EpochEvaluator;
  private readonly probe: StabilityProbe;
  private theta: tf.Tensor1D;
  private step = 0;
  /** The rate the last step used: the configured one, or L-BFGS' line-search step length. */
  private lastLr: number;
  private lastGood: GoodPoint | undefined;
  private bestTest: number;

  constructor(
    private readonly setup: TrainingSetup,
    private readonly folder: RunFolder,
    initial: Float32Array,
    private readonly batchRng: Rng,
    started: number,
    private readonly opts: TrainOptions,
  ) {
    const { spec, split, task, cfg, optimizer } = setup;
    this.trainDev = toDevice(split.train);
    this.testDev = toDevice(split.test);
    this.objective = networkObjective(spec, this.trainDev);
    this.theta = tf.tensor1d(initial);
    this.lastLr = optimizer.options.lr ?? 0;
    this.bestTest = folder.run.best ? folder.run.best.testLoss : Infinity;
    this.evaluator = new EpochEvaluator(spec, task, this.trainDev, this.testDev, this.objective, started, statisticsBatch(setup), folder.statistics);
    this.probe = new StabilityProbe(this.objective, cfg, optimizer, started, opts.signal);
  }

  /** Epoch 0 (the initial point, so curves start where training starts), or the checkpoint a resumed run continues from. */
  async *firstPoint(from: CheckpointInfo | undefined): AsyncGenerator<TrainEvent> {
    if (from) {
      // Mini-batch order stays the same as an uninterrupted run by replaying
      // the skipped permutations; optimizer state (momentum, Adam moments,
      // L-BFGS history) restarts.
      this.step = from.step;
      if (!this.setup.optimizer.fullBatch) for (let e = 1; e <= from.epoch; e++) this.batchRng.permutation(this.trainDev.n);
      this.lastGood = this.goodPoint(this.evaluate(from.epoch));
      return;
    }
    const ev = this.evaluate(0);
    if (!isFiniteEpoch(ev, false)) throw computeError(`initial loss is not finite (train ${ev.trainLoss}); check the data for extreme values`);
    this.folder.appendMetrics(ev);
    this.lastGood = this.goodPoint(ev);
    yield ev;
    yield* this.probeStability(this.lastGood);
    if (this.opts.checkpointInitial) {
      yield { type: 'checkpoint', ...this.folder.writeCheckpoint(epochCheckpointName(0), 'periodic', this.lastGood.theta, ev) };
    }
  }

  async *epoch(epoch: number): AsyncGenerator<TrainEvent> {
    this.descend();
    const ev = this.evaluate(epoch);
    if (!isFiniteEpoch(ev)) yield* this.diverged(ev);
    this.folder.appendMetrics(ev);
    const good = this.goodPoint(ev);
    this.lastGood = good;
    this.folder.epochCompleted(epoch);
    yield ev;
    yield* this.probeStability(good);
    yield* this.saveEpoch(good);
  }

  *complete(): Generator<TrainEvent, RunJson> {
    const { cfg } = this.setup;
    const good = this.lastGood!;
    const finalCk = this.folder.writeCheckpoint('final.safetensors', 'final', good.theta, good.ev);
    yield { type: 'checkpoint', ...finalCk };
    this.folder.finish('completed');
    const run = this.folder.run;
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
  }

  /** Record in the run folder how the run ended when `e` stopped it. */
  stopped(e: unknown): void {
    if (e instanceof CancelledError) this.folder.cancelled(this.lastGood);
    else this.folder.finish('failed', e instanceof Error ? e.message : String(e));
  }

  dispose(): void {
    this.theta.dispose();
    this.trainDev.dispose();
    this.testDev.dispose();
    this.setup.optimizer.dispose();
  }

  /** One epoch of optimizer steps: one full-batch step, or the mini-batches of this epoch's permutation. */
  private descend(): void {
    const { optimizer, spec, split, cfg } = this.setup;
    if (optimizer.fullBatch) {
      this.throwIfCancelled();
      this.take(optimizer.step(this.theta, this.objective));
      return;
    }
    const perm = this.batchRng.permutation(this.trainDev.n);
    for (let start = 0; start < perm.length; start += cfg.batch) {
      this.throwIfCancelled();
      const idx = perm.subarray(start, Math.min(start + cfg.batch, perm.length));
      const batch = miniBatchObjective(spec, split.train, this.trainDev, idx);
      const r = optimizer.step(this.theta, batch.objective);
      batch.dispose();
      this.take(r);
      // The rest of the epoch would only carry the NaN along; the evaluation reports the divergence.
      if (!Number.isFinite(r.loss)) break;
    }
  }

  private take(r: { theta: tf.Tensor1D } & StepResult): void {
    this.theta.dispose();
    this.theta = r.theta;
    this.lastLr = r.lr;
    this.step++;
  }

  private throwIfCancelled(): void {
    if (this.opts.signal?.aborted) throw new CancelledError();
  }

  private evaluate(epoch: number): EpochEvent {
    return this.evaluator.evaluate(this.theta, { epoch, step: this.step, lr: this.lastLr });
  }

  private goodPoint(ev: EpochEvent): GoodPoint {
    return { theta: Float32Array.from(this.theta.dataSync()), ev };
  }

  private async *probeStability(good: GoodPoint): AsyncGenerator<TrainEvent> {
    if (!this.probe.due(good.ev.epoch)) return;
    const st = await this.probe.measure(good.ev, good.theta, this.lastLr);
    this.folder.appendMetrics(st);
    yield st;
  }

  /** A periodic checkpoint when one is due, and best.safetensors when the test loss is the lowest so far. */
  private *saveEpoch({ theta, ev }: GoodPoint): Generator<TrainEvent> {
    const every = this.setup.cfg.checkpointEvery;
    if (every > 0 && ev.epoch % every === 0) {
      yield { type: 'checkpoint', ...this.folder.writeCheckpoint(epochCheckpointName(ev.epoch), 'periodic', theta, ev) };
    }
    if (ev.testLoss < this.bestTest) {
      this.bestTest = ev.testLoss;
      yield { type: 'checkpoint', ...this.folder.writeCheckpoint('best.safetensors', 'best', theta, ev) };
    }
  }

  /** The loss became NaN or infinite: save the last good state, then stop with an error that says where it is. */
  private *diverged(ev: EpochEvent): Generator<TrainEvent, never> {
    const good = this.lastGood!;
    const saved = this.folder.writeCheckpoint(epochCheckpointName(good.ev.epoch), 'interrupted', good.theta, good.ev);
    yield { type: 'checkpoint', ...saved };
    throw computeError(
      `training diverged at epoch ${ev.epoch}: the loss became ${ev.trainLoss} (try a smaller learning rate); ` +
        `the last good state (epoch ${good.ev.epoch}) is saved in ${saved.path}`,
    );
  }
}
