/**
 * The fixed inputs of the convolutional workloads W7–W10, rebuilt
 * identically from seeds in every process, and their export to the PyTorch
 * reference (bench/reference_cnn.py):
 *
 *   lenet     `--model lenet` on 10,000 Fashion-MNIST training images: the
 *             seeded, class-stratified sample `--subset 11667` takes (it
 *             divides the subset between the files' 60,000 training and 10,000
 *             test images in their proportion, so the training part is 10,000),
 *             normalised per channel as `landscape train` normalises them.
 *             W8 and W10 use its first 2,000 rows. Parameters A and B are the
 *             engine's initialisation (PyTorch's defaults) with seeds 1 and 2.
 *   resnet20  `--model resnet20` on 128 synthetic 3×32×32 images (seeded
 *             normal pixels, uniform random labels), parameters with seed 1.
 *
 * Both are laid out as the engine lays them out (src/engine/model/arch/layout.ts):
 * PyTorch's state_dict order and shapes, images as C×H×W rows. The reference
 * gets the layers with each tensor's offset in the flat vector, so it builds
 * the very same network from the very same numbers.
 */
import { loadDataset, subsetDataset, type Dataset } from '../src/engine/data';
import { modelSpecFromText } from '../src/engine/model/archModel';
import { initParams, paramCount, type ModelSpec } from '../src/engine/model/spec';
import type { ArchLayout, NodeShapes } from '../src/engine/model/arch';
import { PATH_DEFAULTS } from '../src/engine/path/find';
import { Rng } from '../src/engine/rng';
import { SETTINGS } from './workloads';
import { writeArrayFile, type NamedArray } from './fixture';

export const CNN_SETTINGS = {
  dataset: 'fashion-mnist',
  /** `--subset` whose training part is 10,000 images (60,000 : 10,000 files). */
  subset: 11_667,
  trainRows: 10_000,
  batch: 64,
  sgdLr: SETTINGS.sgdLr,
  /** Rows of W8 and W10 (the first of the training sample). */
  pathRows: 2_000,
  points: 20,
  modes: 10,
  lambda: PATH_DEFAULTS.lambda,
  lanczosSteps: 20,
  resnetBatch: 128,
};

export interface CnnModel {
  /** A built-in name or a layer spec. */
  name: string;
  spec: ModelSpec;
  dim: number;
  /** Nominal FLOPs of one forward pass of one row (see cnnFlopsPerRow). */
  flopsPerRow: number;
}

export interface LenetFixture {
  model: CnnModel;
  /** The 10,000 training images (W7). */
  train: Dataset;
  /** Their first 2,000 rows (W8, W10, the agreement check). */
  rows: Dataset;
  a: Float32Array;
  b: Float32Array;
}

export interface ResnetFixture {
  model: CnnModel;
  data: Dataset;
  theta: Float32Array;
}

export function cnnModel(name: string): CnnModel {
  const spec = modelSpecFromText(name);
  return { name, spec, dim: paramCount(spec), flopsPerRow: cnnFlopsPerRow(spec) };
}

/**
 * Nominal FLOPs of one row's forward pass (a multiply-add is 2): a conv is
 * 2·out·in·k²·OH·OW, a dense layer 2·in·out; pooling, BatchNorm, activations,
 * residual additions and the loss are O(activations) and left out, as the
 * dense workloads leave them out. LeNet: 235,200 + 480,000 + 117,840 = 833,040.
 */
export function cnnFlopsPerRow(spec: ModelSpec): number {
  const visit = (nodes: readonly NodeShapes[]): number =>
    nodes.reduce((sum, s) => {
      const n = s.node;
      if (n.op === 'conv') return sum + 2 * n.out * s.input[0] * n.kernel * n.kernel * s.output[1] * s.output[2];
      if (n.op === 'dense') return sum + 2 * s.input[0] * n.units;
      return sum + visit(s.body ?? []) + visit(s.shortcut ?? []);
    }, 0);
  return visit(spec.arch!.shapes.nodes);
}

/** Throws the loader's own "not found, apt-get install dataset-fashion-mnist" error when the files are missing. */
export async function makeLenetFixture(): Promise<LenetFixture> {
  const model = cnnModel('lenet');
  const split = await loadDataset(CNN_SETTINGS.dataset, { subset: CNN_SETTINGS.subset, seed: 0 });
  // Another copy of the files (LANDSCAPE_DATA) may split differently: keep at most 10,000 rows either way.
  const train = split.train.n > CNN_SETTINGS.trainRows ? firstRows(split.train, CNN_SETTINGS.trainRows) : split.train;
  return {
    model,
    train,
    rows: firstRows(train, Math.min(CNN_SETTINGS.pathRows, train.n)),
    a: initParams(model.spec, new Rng(1)),
    b: initParams(model.spec, new Rng(2)),
  };
}

export function makeResnetFixture(): ResnetFixture {
  const model = cnnModel('resnet20');
  const n = CNN_SETTINGS.resnetBatch;
  const rng = new Rng(5);
  const x = new Float32Array(n * 3 * 32 * 32);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const labels = new Int32Array(n);
  const y = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) y[i * 10 + (labels[i] = rng.int(10))] = 1;
  const data: Dataset = { id: 'synthetic-3x32x32', task: 'classification', n, features: 3 * 32 * 32, x, outputs: 10, y, labels, image: { channels: 3, height: 32, width: 32 } };
  return { model, data, theta: initParams(model.spec, new Rng(1)) };
}

function firstRows(ds: Dataset, n: number): Dataset {
  return subsetDataset(ds, Array.from({ length: n }, (_, i) => i));
}

/** One layer for the reference: its op, settings and each tensor as [offset, shape] in the flat vector. */
function nodeJson(s: NodeShapes, layout: ArchLayout): Record<string, unknown> {
  const n = s.node;
  const tensor = (role: string) => {
    const t = layout.paramOf(s, role);
    return t ? [t.offset, t.shape] : null;
  };
  switch (n.op) {
    case 'conv':
      return { op: 'conv', weight: tensor('weight'), bias: tensor('bias'), stride: n.stride, pad: n.pad === 'same' ? (n.kernel - 1) / 2 : n.pad === 'valid' ? 0 : n.pad };
    case 'dense':
    case 'bn':
      return { op: n.op, weight: tensor('weight'), bias: tensor('bias') };
    case 'maxpool':
    case 'avgpool':
      return { op: n.op, kernel: n.kernel, stride: n.stride };
    case 'activation':
      return { op: 'activation', fn: n.fn };
    case 'res':
      return { op: 'res', body: (s.body ?? []).map((b) => nodeJson(b, layout)), shortcut: (s.shortcut ?? []).map((b) => nodeJson(b, layout)) };
    default:
      return { op: n.op };
  }
}

function modelJson(m: CnnModel): Record<string, unknown> {
  const arch = m.spec.arch!;
  return { input: arch.inputShape, dim: m.dim, nodes: arch.shapes.nodes.map((s) => nodeJson(s, arch.layout)) };
}

/** A data set's images and labels (named `prefix` + x, labels), then parameter vectors of `dim` numbers each. */
function namedArrays(prefix: string, data: Dataset, vectors: Record<string, Float32Array>, dim: number): NamedArray[] {
  return [
    [`${prefix}x`, data.x, [data.n, data.features]],
    [`${prefix}labels`, data.labels!, [data.n]],
    ...Object.entries(vectors).map(([name, v]): NamedArray => [name, v, [dim]]),
  ];
}

/**
 * Writes the reference's input in bench/fixture.ts' format (8-byte header
 * length, JSON header, raw arrays), so reference.py's `load` reads it.
 * `lenet` is absent when Fashion-MNIST is not installed; then W7, W8 and W10
 * fail on both sides with the loader's message and W9 still runs.
 */
export function exportCnnFixture(file: string, lenet: LenetFixture | undefined, resnet: ResnetFixture): void {
  const arrays = [
    ...(lenet ? namedArrays('', lenet.train, { a: lenet.a, b: lenet.b }, lenet.model.dim) : []),
    ...namedArrays('r', resnet.data, { rtheta: resnet.theta }, resnet.model.dim),
  ];
  const models = { lenet: lenet ? modelJson(lenet.model) : null, resnet20: modelJson(resnet.model) };
  writeArrayFile(file, arrays, { models }, CNN_SETTINGS);
}
