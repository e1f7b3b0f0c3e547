/**
 * Dense sequential networks described by a spec such as "64-32-32-10":
 * layer widths from input to output. The flat parameter vector lays the
 * layers out in order, each as its weight [in, out] (row-major) followed by
 * its bias [out] when biases are on.
 */
import { inputError } from '../errors';
import { Rng } from '../rng';
import { quoteText } from '../text';
import type { ArchModel } from './archModel';
import { initArchParams } from './arch/init';

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'softplus', 'elu', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const LOSSES = ['cross-entropy', 'mse'] as const;
export type LossName = (typeof LOSSES)[number];

export interface ModelSpec {
  /** Widths from input to output, at least two entries. */
  layers: number[];
  /** Hidden-layer activation; the output layer is always linear (the loss adds softmax). */
  activation: Activation;
  bias: boolean;
  loss: LossName;
  /**
   * A model in the layer grammar (conv, pooling, BatchNorm, residual blocks):
   * its layers, shapes and parameter layout. `layers` is then only
   * [input features, outputs], and activation and bias are unused.
   */
  arch?: ArchModel;
}

export interface ParamEntry {
  /** Tensor name in checkpoints: "layers.{i}.weight" or "layers.{i}.bias". */
  name: string;
  shape: number[];
  offset: number;
  size: number;
  layer: number;
  kind: 'weight' | 'bias';
}

export const MAX_LAYER_WIDTH = 1 << 20;

export function parseLayers(spec: string): number[] {
  const parts = spec.trim().split(/[-x,\s]+/).filter((s) => s.length > 0);
  if (parts.length < 2) throw inputError(`model spec ${quoteText(spec)} needs at least an input and an output width, e.g. 64-32-10`);
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw inputError(`model spec ${quoteText(spec)}: ${quoteText(p)} is not a positive whole number`);
    const n = Number(p);
    if (n < 1 || n > MAX_LAYER_WIDTH) throw inputError(`model spec ${quoteText(spec)}: width ${quoteText(p, 12)} is out of range 1..${MAX_LAYER_WIDTH}`);
    return n;
  });
}

export function formatLayers(layers: readonly number[]): string {
  return layers.join('-');
}

export function parseActivation(a: string): Activation {
  if (!(ACTIVATIONS as readonly string[]).includes(a)) {
    throw inputError(`unknown activation "${a}"; choose one of ${ACTIVATIONS.join(', ')}`);
  }
  return a as Activation;
}

export function parseLoss(l: string): LossName {
  const alias: Record<string, LossName> = { ce: 'cross-entropy', 'softmax-cross-entropy': 'cross-entropy', crossentropy: 'cross-entropy' };
  const v = alias[l] ?? l;
  if (!(LOSSES as readonly string[]).includes(v)) throw inputError(`unknown loss "${l}"; choose one of ${LOSSES.join(', ')}`);
  return v as LossName;
}

export function makeSpec(
  layers: string | number[],
  opts: { activation?: Activation; bias?: boolean; loss?: LossName } = {},
): ModelSpec {
  return {
    layers: typeof layers === 'string' ? parseLayers(layers) : [...layers],
    activation: opts.activation ?? 'relu',
    bias: opts.bias ?? true,
    loss: opts.loss ?? 'cross-entropy',
  };
}

export function paramLayout(spec: ModelSpec): ParamEntry[] {
  if (spec.arch) {
    // PyTorch's names and shapes ([out, in, k, k], [out, in]); `layer` counts the tensors' owners in order.
    const owners = [...new Set(spec.arch.layout.params.map((t) => t.owner))];
    return spec.arch.layout.params.map((t) => ({ name: t.name, shape: [...t.shape], offset: t.offset, size: t.size, layer: owners.indexOf(t.owner), kind: t.role === 'bias' ? 'bias' : 'weight' }));
  }
  const out: ParamEntry[] = [];
  let offset = 0;
  for (let i = 0; i + 1 < spec.layers.length; i++) {
    const fanIn = spec.layers[i];
    const fanOut = spec.layers[i + 1];
    out.push({ name: `layers.${i}.weight`, shape: [fanIn, fanOut], offset, size: fanIn * fanOut, layer: i, kind: 'weight' });
    offset += fanIn * fanOut;
    if (spec.bias) {
      out.push({ name: `layers.${i}.bias`, shape: [fanOut], offset, size: fanOut, layer: i, kind: 'bias' });
      offset += fanOut;
    }
  }
  return out;
}

export function paramCount(spec: ModelSpec): number {
  if (spec.arch) return spec.arch.layout.paramCount;
  let p = 0;
  for (let i = 0; i + 1 < spec.layers.length; i++) p += spec.layers[i] * spec.layers[i + 1] + (spec.bias ? spec.layers[i + 1] : 0);
  return p;
}

/**
 * Initial weights from the seeded generator: He-uniform for ReLU-like
 * activations, Glorot-uniform otherwise; biases start at zero.
 */
export function initParams(spec: ModelSpec, rng: Rng): Float32Array {
  if (spec.arch) return initArchParams(spec.arch.layout, rng);
  const theta = new Float32Array(paramCount(spec));
  const reluLike = spec.activation === 'relu' || spec.activation === 'elu' || spec.activation === 'softplus';
  for (const e of paramLayout(spec)) {
    if (e.kind === 'bias') continue;
    const [fanIn, fanOut] = e.shape;
    const last = e.layer === spec.layers.length - 2;
    const limit = reluLike && !last ? Math.sqrt(6 / fanIn) : Math.sqrt(6 / (fanIn + fanOut));
    for (let k = 0; k < e.size; k++) theta[e.offset + k] = (2 * rng.uniform() - 1) * limit;
  }
  return theta;
}

/** Split a flat vector into named tensors (views, not copies). */
export function unpack(spec: ModelSpec, theta: Float32Array): Map<string, Float32Array> {
  if (theta.length !== paramCount(spec)) {
    throw inputError(`parameter vector has ${theta.length} values but model ${modelText(spec)} needs ${paramCount(spec)}`);
  }
  const m = new Map<string, Float32Array>();
  for (const e of paramLayout(spec)) m.set(e.name, theta.subarray(e.offset, e.offset + e.size));
  return m;
}

/** Inverse of unpack; every tensor must be present with the right size. */
export function pack(spec: ModelSpec, tensors: Map<string, ArrayLike<number>>, file?: string): Float32Array {
  const theta = new Float32Array(paramCount(spec));
  for (const e of paramLayout(spec)) {
    const t = tensors.get(e.name);
    if (!t) throw inputError(`missing tensor "${e.name}" for model ${modelText(spec)}`, file);
    if (t.length !== e.size) throw inputError(`tensor "${e.name}" has ${t.length} values, expected ${e.size} (shape [${e.shape.join(', ')}])`, file);
    theta.set(t, e.offset);
  }
  return theta;
}

/** The model part of a spec: the layer text, or the dense widths. */
export function modelText(spec: ModelSpec): string {
  return spec.arch ? spec.arch.text : formatLayers(spec.layers);
}

export function specToString(spec: ModelSpec): string {
  if (spec.arch) return spec.arch.text;
  return `${formatLayers(spec.layers)} ${spec.activation}${spec.bias ? '' : ' no-bias'} ${spec.loss}`;
}
