/**
 * Opening any supported checkpoint (our safetensors, PyTorch safetensors with
 * a spec, tfjs model.json) as one shape, and re-evaluating it on the data it
 * was trained on. Shared by `landscape info`, the VS Code checkpoint viewer
 * and everything that takes checkpoints as input (paths, kPCA, slices).
 */
import * as fs from 'fs';
import * as path from 'path';
import { inputError } from './errors';
import { loadCheckpoint, importTfjsModel } from './checkpoint';
import { loadDataset } from './data';
import { dataRecipeForCheckpoint } from './checkpointObjective';
import { ModelSpec, modelText, paramLayout } from './model/spec';
import { modelSpecFromText } from './model/archModel';
import { evaluateModel, toDevice, checkDataFitsModel } from './model/network';

export interface TensorSummary {
  name: string;
  dtype: string;
  shape: number[];
  size: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  norm: number;
}

export interface OpenedCheckpoint {
  file: string;
  format: 'safetensors' | 'tfjs';
  spec: ModelSpec;
  specString: string;
  theta: Float32Array;
  /** Metadata as stored (string values); empty for files without ours. */
  meta: Record<string, string>;
  tensors: TensorSummary[];
  /** BatchNorm running statistics, when the file holds them: evaluation then runs in eval mode. */
  buffers?: Float32Array;
  /** What the import changed that a user should know (a tfjs model's output softmax left out). */
  notes?: string[];
}

export function summarizeTensor(name: string, dtype: string, shape: number[], data: ArrayLike<number>): TensorSummary {
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    sum += v;
    sq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const n = data.length;
  const mean = n ? sum / n : 0;
  const variance = n ? Math.max(0, sq / n - mean * mean) : 0;
  return { name, dtype, shape, size: n, mean, std: Math.sqrt(variance), min: n ? min : 0, max: n ? max : 0, norm: Math.sqrt(sq) };
}

/** Parse "64-32-10" plus optional activation/bias/loss words, e.g. "64-32-10 tanh no-bias", or a layer spec such as "lenet". */
export function parseSpecString(s: string): ModelSpec {
  return modelSpecFromText(s);
}

export async function loadAnyCheckpoint(file: string, modelSpec?: string | ModelSpec, opts: { tensorMap?: Record<string, string> } = {}): Promise<OpenedCheckpoint> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw inputError('file not found; check the path', file);
  }
  const spec = typeof modelSpec === 'string' ? parseSpecString(modelSpec) : modelSpec;
  if (stat.isDirectory()) {
    const mj = path.join(file, 'model.json');
    if (fs.existsSync(mj)) return loadAnyCheckpoint(mj, spec);
    throw inputError('is a folder, not a checkpoint; give a .safetensors file or a tfjs model.json', file);
  }
  if (path.basename(file).toLowerCase().endsWith('.json')) {
    const m = await importTfjsModel(file);
    const tensors = paramLayout(m.spec).map((e) => summarizeTensor(e.name, 'F32', e.shape, m.theta.subarray(e.offset, e.offset + e.size)));
    const notes = m.softmaxStripped ? ['the model\'s output softmax is left out: the cross-entropy loss applies it'] : [];
    return { file, format: 'tfjs', spec: m.spec, specString: modelText(m.spec), theta: m.theta, meta: {}, tensors, ...(m.buffers ? { buffers: m.buffers } : {}), ...(notes.length ? { notes } : {}) };
  }
  const ck = await loadCheckpoint(file, { ...(spec ? { spec } : {}), ...(opts.tensorMap ? { tensorMap: opts.tensorMap } : {}) });
  const meta: Record<string, string> = { ...(ck.rawMetadata ?? {}) };
  const tensors = paramLayout(ck.spec).map((e) => {
    const stored = ck.tensors.get(e.name);
    return summarizeTensor(e.name, stored?.dtype ?? 'F32', e.shape, ck.theta.subarray(e.offset, e.offset + e.size));
  });
  return { file, format: 'safetensors', spec: ck.spec, specString: modelText(ck.spec), theta: ck.theta, meta, tensors, ...(ck.buffers ? { buffers: ck.buffers } : {}) };
}

export interface Reevaluation {
  dataset: string;
  trainLoss: number;
  testLoss: number;
  trainAccuracy?: number;
  testAccuracy?: number;
}

/**
 * Rebuild the checkpoint's dataset and split from its metadata (dataset,
 * datasetSeed, testFraction, datasetOptions: subset, image normalisation)
 * and evaluate the weights on both parts.
 */
export async function reevaluateCheckpoint(ck: OpenedCheckpoint, opts: { dataset?: string; subset?: number } = {}): Promise<Reevaluation> {
  if (!opts.dataset && !ck.meta.dataset) {
    throw inputError('has no dataset in its metadata; pass one with --dataset to evaluate it', ck.file);
  }
  const recipe = dataRecipeForCheckpoint(ck, opts);
  const dataset = recipe.dataset;
  const split = await loadDataset(dataset, { seed: recipe.seed, testFraction: recipe.testFraction, ...recipe.options });
  checkDataFitsModel(ck.spec, split.train);
  const tr = toDevice(split.train);
  const te = toDevice(split.test);
  try {
    const a = evaluateModel(ck.spec, ck.theta, tr, split.train.task, ck.buffers);
    const b = evaluateModel(ck.spec, ck.theta, te, split.test.task, ck.buffers);
    return { dataset, trainLoss: a.loss, testLoss: b.loss, trainAccuracy: a.accuracy, testAccuracy: b.accuracy };
  } finally {
    tr.dispose();
    te.dispose();
  }
}
