import * as path from 'path';
import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt, progressBar } from '../output';
import { train, TrainConfig, TrainEvent } from '../../engine/train';
import { describeBackend, BACKEND_CHOICES } from '../../engine/backend';
import { ACTIVATIONS, LOSSES, Activation, LossName } from '../../engine/model/spec';
import { OPTIMIZER_NAMES, OptimizerName } from '../../engine/optim';
import { inputError } from '../../engine/errors';
import { SUBSET_FLAG, subsetFlag } from './common-analysis';
import type { CommandDef } from './types';

/** The options of a training run; `landscape instability` trains its runs with the same ones. */
export const trainFlags: FlagSpec[] = [
  { name: 'dataset', type: 'string', description: 'built-in dataset (digits, spirals, moons, circles, blobs, xor, teacher), an image dataset (mnist, fashion-mnist, kmnist, cifar10), or a CSV, .npz or data folder', defaultText: 'digits', metavar: 'name|path' },
  SUBSET_FLAG,
  { name: 'model', type: 'string', description: 'layer widths from input to output', defaultText: '64-32-32-10', metavar: 'spec' },
  { name: 'activation', type: 'string', description: 'hidden activation', choices: ACTIVATIONS, defaultText: 'relu' },
  { name: 'bias', type: 'boolean', negatable: true, description: 'use biases (--no-bias for the paper\'s bias-free networks)', defaultText: 'on' },
  { name: 'loss', type: 'string', description: 'loss function', choices: LOSSES, defaultText: 'by task' },
  { name: 'optimizer', type: 'string', description: 'optimizer', choices: OPTIMIZER_NAMES, defaultText: 'sgd' },
  { name: 'lr', type: 'number', description: 'learning rate (rolling-ball: η)', defaultText: 'per optimizer' },
  { name: 'momentum', type: 'number', description: 'momentum for momentum/nesterov', defaultText: '0.9' },
  { name: 'epochs', type: 'int', description: 'training epochs (L-BFGS, rolling ball: full-batch iterations)', defaultText: '20' },
  { name: 'batch', type: 'int', description: 'mini-batch size for the SGD family', defaultText: '64' },
  { name: 'seed', type: 'int', description: 'seed for data, initial weights and batches', defaultText: '0' },
  { name: 'data-seed', type: 'int', description: 'seed of the dataset and its train/test split', defaultText: '--seed' },
  { name: 'l2', type: 'number', description: 'L2 weight decay', defaultText: '0' },
  { name: 'checkpoint-every', type: 'int', description: 'write checkpoints/epoch-NNNN every k epochs (0: only best and final)', defaultText: '10' },
  { name: 'stability-every', type: 'int', description: 'every k epochs, estimate λmax (10 Lanczos steps) and compare it with 2/η', defaultText: '0 (off)' },
  { name: 'test-fraction', type: 'number', description: 'held-out fraction', defaultText: '0.2' },
  { name: 'label', type: 'string', description: 'CSV label column, by name or index (negative counts from the end)', defaultText: 'last' },
  { name: 'task', type: 'string', description: 'CSV task', choices: ['auto', 'classification', 'regression'], defaultText: 'auto' },
  { name: 'samples', type: 'int', description: 'size of a synthetic dataset', defaultText: '1000' },
  { name: 'noise', type: 'number', description: 'noise of a synthetic dataset' },
  { name: 'backend', type: 'string', description: 'tfjs backend (also LANDSCAPE_BACKEND)', choices: BACKEND_CHOICES, defaultText: 'auto' },
  { name: 'out', type: 'string', description: 'run folder to write', defaultText: 'runs/<dataset>-<optimizer>-s<seed>', metavar: 'dir' },
  { name: 'resume', type: 'boolean', description: 'continue the run in --out from its last checkpoint (same options)' },
  { name: 'overwrite', type: 'boolean', description: 'replace a run already in --out' },
  { name: 'json', type: 'boolean', description: 'one JSON object per line on stdout' },
];

function labelColumn(v: string | undefined): string | number | undefined {
  if (v === undefined) return undefined;
  return /^-?\d+$/.test(v) ? Number(v) : v;
}

/** The TrainConfig the training flags describe (dataset, optimizer, seed and out already settled by the caller). */
export function trainConfigFromFlags(f: Record<string, unknown>, settled: Pick<TrainConfig, 'dataset' | 'optimizer' | 'seed' | 'out'>): TrainConfig {
  return {
    ...settled,
    model: (f.model as string | undefined) ?? '64-32-32-10',
    activation: f.activation as Activation | undefined,
    bias: f.bias as boolean | undefined,
    loss: f.loss as LossName | undefined,
    lr: f.lr as number | undefined,
    momentum: f.momentum as number | undefined,
    epochs: (f.epochs as number | undefined) ?? 20,
    batch: f.batch as number | undefined,
    dataSeed: f.dataSeed as number | undefined,
    l2: f.l2 as number | undefined,
    checkpointEvery: f.checkpointEvery as number | undefined,
    testFraction: f.testFraction as number | undefined,
    labelColumn: labelColumn(f.label as string | undefined),
    task: f.task as TrainConfig['task'],
    n: f.samples as number | undefined,
    noise: f.noise as number | undefined,
    subset: subsetFlag(f.subset),
    backend: f.backend as string | undefined,
    resume: Boolean(f.resume),
    overwrite: Boolean(f.overwrite),
    stabilityEvery: f.stabilityEvery as number | undefined,
  };
}

export const trainCommand: CommandDef = {
  name: 'train',
  usage: '[--dataset digits] [--model 64-32-32-10] [--optimizer sgd] [--epochs 20] [--out dir] [options]',
  summary: 'Train a dense network and write a run folder with safetensors checkpoints.',
  flags: trainFlags,
  fileArgs: {
    slots: [
      { at: '--dataset', kind: 'dataset' },
      { at: '--out', kind: 'outDir' },
    ],
    quick: ['--model', '2-4-2', '--epochs', '1', '--checkpoint-every', '0'],
  },
  async run(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
    const { flags: f, positionals } = parseArgs(argv, trainFlags, 'train');
    if (positionals.length) throw inputError(`unexpected argument "${positionals[0]}" for "landscape train"`);
    const dataset = (f.dataset as string | undefined) ?? 'digits';
    const optimizer = ((f.optimizer as string | undefined) ?? 'sgd') as OptimizerName;
    const seed = (f.seed as number | undefined) ?? 0;
    const out = (f.out as string | undefined) ?? path.join('runs', `${path.basename(path.resolve(dataset)).replace(/\.(csv|npz|npy)$/i, '')}-${optimizer}-s${seed}`);
    const config = trainConfigFromFlags(f, { dataset, optimizer, seed, out });
    const json = Boolean(f.json);
    let total = config.epochs;
    const print = (e: TrainEvent) => {
      if (json) {
        io.out(JSON.stringify(e.type === 'start' ? { ...e, backend: e.backend.name, backendInfo: e.backend } : e));
        return;
      }
      switch (e.type) {
        case 'start':
          total = e.epochs;
          io.err(`landscape train: ${e.model} on ${config.dataset} (${e.trainSize} train / ${e.testSize} test), ${e.paramCount} parameters, ${config.optimizer}; ${describeBackend(e.backend)}`);
          break;
        case 'epoch': {
          const acc = e.accuracy !== undefined ? ` acc ${fmt(e.accuracy, 3)}/${fmt(e.testAccuracy, 3)}` : '';
          const line = `epoch ${String(e.epoch).padStart(String(total).length)}/${total} train ${fmt(e.trainLoss)} test ${fmt(e.testLoss)}${acc} |g| ${fmt(e.gradNorm, 3)}`;
          if (io.tty) io.status(`${progressBar(e.epoch, total, 24)} ${line}`);
          else if (e.epoch === total || e.epoch % Math.max(1, Math.round(total / 10)) === 0) io.err(line);
          break;
        }
        case 'stability': {
          const line = `stability at epoch ${e.epoch}: λmax ${fmt(e.lambdaMax)}${e.threshold !== undefined ? ` vs ${e.momentum ? 'limit' : '2'}/η ${fmt(e.threshold)}` : ''}: ${e.verdict === 'not-applicable' ? `no verdict (${e.message})` : e.message}`;
          if (io.tty) io.status('');
          io.err(line);
          break;
        }
        case 'done':
          if (io.tty) io.status('');
          break;
        default:
          break;
      }
    };
    const it = train(config, { signal });
    for (;;) {
      const r = await it.next();
      if (r.done) {
        const run = r.value;
        if (!json) {
          const best = run.best;
          io.err(
            `done: ${run.epochsCompleted} epochs, final train loss ${fmt(run.checkpoints.find((c) => c.kind === 'final')?.trainLoss)}` +
              (best ? `, best test loss ${fmt(best.testLoss)} at epoch ${best.epoch}` : ''),
          );
          io.out(`checkpoints written to ${path.join(config.out, 'checkpoints')}/, ${path.join(config.out, 'best.safetensors')} and ${path.join(config.out, 'final.safetensors')}`);
          io.out(`inspect one with: landscape info ${path.join(config.out, 'final.safetensors')}`);
        }
        return 0;
      }
      print(r.value);
    }
  },
};
