/**
 * Weights written by PyTorch's `safetensors.torch.save_file(model.state_dict())`
 * for an nn.Sequential (or any module) of Linear layers. Names look like
 * "0.weight", "0.bias", "2.weight" (activations take indices but hold no
 * tensors), "layers.0.weight" or "fc1.weight". PyTorch stores a Linear weight
 * as [out, in] and computes x·Wᵀ + b; our layout is [in, out] with x·W + b,
 * so every weight is transposed on the way in.
 */
import { ModelSpec, paramCount, paramLayout, modelText } from '../model/spec';
import { DecodedTensor, ReadOptions, readSafetensors, toFloat32, maxCheckpointBytes, tooLargeError, badInput } from './safetensors';

export interface TorchLinearLayer {
  /** Module path of the layer, e.g. "0", "layers.2", "fc1". */
  prefix: string;
  weightName: string;
  biasName?: string;
}

export interface ImportedWeights {
  file: string;
  spec: ModelSpec;
  theta: Float32Array;
  metadata: Record<string, string>;
  tensors: Map<string, DecodedTensor>;
}

const LINEAR_PARAM = /^(?:(.*)\.)?(weight|bias)$/;

function numericKey(prefix: string): number[] | undefined {
  const m = prefix.match(/\d+/g);
  return m ? m.map(Number) : undefined;
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Group tensors into Linear layers and order them: by the numbers in the
 * module path when every layer has one ("0" < "2" < "10", "fc1" < "fc2"),
 * else in file order.
 */
export function findTorchLinearLayers(tensors: Map<string, DecodedTensor>, file: string): TorchLinearLayer[] {
  const byPrefix = new Map<string, { weight?: string; bias?: string }>();
  for (const [name, t] of tensors) {
    const m = LINEAR_PARAM.exec(name);
    if (!m) {
      throw badInput(
        `tensor "${name}" is not a Linear layer's weight or bias; only stacks of nn.Linear layers import (names like "0.weight", "0.bias")`,
        file,
      );
    }
    const prefix = m[1] ?? '';
    const kind = m[2] as 'weight' | 'bias';
    if (kind === 'weight' && t.shape.length !== 2) {
      throw badInput(`tensor "${name}" has shape [${t.shape.join(', ')}]; a Linear weight is 2-D [out, in] (only nn.Linear layers import)`, file);
    }
    if (kind === 'bias' && t.shape.length !== 1) {
      throw badInput(`tensor "${name}" has shape [${t.shape.join(', ')}]; a Linear bias is 1-D [out]`, file);
    }
    const slot = byPrefix.get(prefix) ?? {};
    slot[kind] = name;
    byPrefix.set(prefix, slot);
  }
  const layers: TorchLinearLayer[] = [];
  for (const [prefix, slot] of byPrefix) {
    if (!slot.weight) throw badInput(`tensor "${slot.bias}" is a bias without a matching "${prefix ? prefix + '.' : ''}weight"`, file);
    layers.push({ prefix, weightName: slot.weight, biasName: slot.bias });
  }
  const keys = layers.map((l) => numericKey(l.prefix));
  if (keys.every((k) => k !== undefined)) {
    const order = layers.map((l, i) => ({ l, k: keys[i]! }));
    order.sort((a, b) => compareKeys(a.k, b.k) || (a.l.prefix < b.l.prefix ? -1 : a.l.prefix > b.l.prefix ? 1 : 0));
    return order.map((o) => o.l);
  }
  return layers;
}

/** Our flat parameter vector from PyTorch Linear tensors, checked against the spec. */
export function thetaFromTorchTensors(tensors: Map<string, DecodedTensor>, spec: ModelSpec, file: string): Float32Array {
  const model = modelText(spec);
  const layers = findTorchLinearLayers(tensors, file);
  const need = spec.layers.length - 1;
  if (layers.length !== need) {
    const found = layers.map((l) => l.weightName).join(', ') || 'none';
    throw badInput(`holds ${layers.length} Linear layer(s) (${found}) but model ${model} has ${need}`, file);
  }
  const theta = new Float32Array(paramCount(spec));
  const layout = paramLayout(spec);
  layers.forEach((l, i) => {
    const fanIn = spec.layers[i];
    const fanOut = spec.layers[i + 1];
    const w = tensors.get(l.weightName)!;
    if (w.shape[0] !== fanOut || w.shape[1] !== fanIn) {
      throw badInput(
        `tensor "${l.weightName}" has shape [${w.shape.join(', ')}], but layer ${i} of model ${model} needs a PyTorch Linear weight [out, in] = [${fanOut}, ${fanIn}]`,
        file,
      );
    }
    const src = toFloat32(l.weightName, w, file);
    const wEntry = layout.find((e) => e.layer === i && e.kind === 'weight')!;
    for (let o = 0; o < fanOut; o++) {
      for (let k = 0; k < fanIn; k++) theta[wEntry.offset + k * fanOut + o] = src[o * fanIn + k];
    }
    if (spec.bias) {
      if (!l.biasName) {
        throw badInput(
          `missing tensor "${l.prefix ? l.prefix + '.' : ''}bias": model ${model} has biases; use --no-bias if the PyTorch layers were built with bias=False`,
          file,
        );
      }
      const b = tensors.get(l.biasName)!;
      if (b.shape[0] !== fanOut) {
        throw badInput(`tensor "${l.biasName}" has shape [${b.shape.join(', ')}], but layer ${i} of model ${model} needs [${fanOut}]`, file);
      }
      const bEntry = layout.find((e) => e.layer === i && e.kind === 'bias')!;
      theta.set(toFloat32(l.biasName, b, file), bEntry.offset);
    } else if (l.biasName) {
      throw badInput(`holds bias tensor "${l.biasName}" but the model spec has no biases; drop --no-bias to load it`, file);
    }
  });
  return theta;
}

/** Load a PyTorch-written safetensors file for a given model spec. */
export async function importTorchSafetensors(file: string, spec: ModelSpec, opts: ReadOptions = {}): Promise<ImportedWeights> {
  const maxBytes = opts.maxBytes ?? maxCheckpointBytes();
  // A spec too big for the limit cannot match any acceptable file: say so before reading anything.
  const p = paramCount(spec);
  if (p * 4 > maxBytes) throw tooLargeError(file, p * 4, maxBytes, `model ${modelText(spec)} (${p} float32 parameters)`);
  const { tensors, metadata } = await readSafetensors(file, { ...opts, maxBytes });
  return { file, spec, theta: thetaFromTorchTensors(tensors, spec, file), metadata, tensors };
}
