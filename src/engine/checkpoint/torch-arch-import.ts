/**
 * PyTorch weights for a layer-grammar model: a state_dict of an
 * nn.Sequential (names "0.weight", "3.body.1.running_mean", "3.shortcut.0.weight",
 * or the same under a prefix such as "layers.") saved with safetensors. The
 * spec's layers consume the file's parameters in module order: conv weights
 * [out, in, k, k], Linear weights [out, in] and BatchNorm weight and bias,
 * exactly our layout's names' shapes, so nothing is transposed. A safetensors
 * file does not keep insertion order, so module order is recovered from the
 * names (numbers compare as numbers; a residual block's body comes before its
 * shortcut) and every tensor's shape is checked against the one the spec
 * expects. BatchNorm's running statistics are buffers, not parameters: they
 * are read the same way, into the layout's buffer vector, for evaluation in
 * eval mode (num_batches_tracked is not needed and is skipped).
 */
import type { ModelSpec } from '../model/spec';
import { badInput, type DecodedTensor, toFloat32 } from './safetensors';

const BUFFER = /\.(running_mean|running_var|num_batches_tracked)$/;
const STATISTIC = /\.(running_mean|running_var)$/;
/**
 * Module names without an index, as torchvision's ResNets and their CIFAR
 * ports write them (conv1, bn1, layer2, downsample, fc): within one number,
 * convolution before its BatchNorm before a stage; unnumbered shortcuts after
 * the block's body; the classifier last.
 */
const CLASSIFIER = 9;
const WORD_RANK: [RegExp, number][] = [
  [/^(conv|body)$/, 0],
  [/^(bn|norm)$/, 1],
  [/^layer$/, 2],
  [/^(shortcut|proj|downsample)$/, 3],
  [/^(fc|linear|classifier|head)$/, CLASSIFIER],
];

function wordKey(word: string): [number, number, string] {
  const m = /^([A-Za-z_]*?)(\d*)$/.exec(word);
  const stem = m ? m[1] : word;
  const n = m && m[2] !== '' ? Number(m[2]) : Number.POSITIVE_INFINITY;
  const rank = WORD_RANK.find(([re]) => re.test(stem))?.[1] ?? 5;
  return [n, rank, stem];
}

function sortKey(name: string): (number | string)[] {
  const parts = name.split('.');
  const role = parts.pop()!;
  return [...parts.map((p) => (/^\d+$/.test(p) ? Number(p) : p)), role === 'weight' || role === 'running_mean' ? 0 : 1];
}

function compareParts(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    const [na, ra, sa] = wordKey(a);
    const [nb, rb, sb] = wordKey(b);
    // The classifier comes after everything else, whatever its number.
    if (ra === CLASSIFIER || rb === CLASSIFIER) return ra - rb || (sa < sb ? -1 : sa > sb ? 1 : 0);
    return (na === nb ? 0 : na < nb ? -1 : 1) || ra - rb || (sa < sb ? -1 : sa > sb ? 1 : 0);
  }
  return typeof a === 'number' ? -1 : 1;
}

/** The file's parameter tensors in module order. */
export function torchParametersInOrder(tensors: Map<string, DecodedTensor>): string[] {
  return inModuleOrder([...tensors.keys()].filter((n) => !BUFFER.test(n) && /\.(weight|bias)$|^(weight|bias)$/.test(n)));
}

/** Names sorted by module path (see the file comment), weight before bias, running_mean before running_var. */
function inModuleOrder(list: string[]): string[] {
  const names = [...list];
  const keys = new Map(names.map((n) => [n, sortKey(n)]));
  return names.sort((x, y) => {
    const a = keys.get(x)!;
    const b = keys.get(y)!;
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareParts(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  });
}

export function thetaFromTorchArch(tensors: Map<string, DecodedTensor>, spec: ModelSpec, file: string): Float32Array {
  const arch = spec.arch!;
  const names = torchParametersInOrder(tensors);
  const want = arch.layout.params;
  if (names.length !== want.length) {
    throw badInput(`holds ${names.length} parameter tensors but model ${arch.text} has ${want.length} (${want.map((t) => t.name).join(', ')})`, file);
  }
  const theta = new Float32Array(arch.layout.paramCount);
  names.forEach((name, i) => {
    const t = tensors.get(name)!;
    const w = want[i];
    if (t.shape.length !== w.shape.length || t.shape.some((d, k) => d !== w.shape[k])) {
      throw badInput(`tensor "${name}" has shape [${t.shape.join(', ')}] but the model's ${w.role} of layer ${w.owner.position} (${w.name}) needs [${w.shape.join(', ')}]`, file);
    }
    theta.set(toFloat32(name, t, file), w.offset);
  });
  return theta;
}

/** BatchNorm running statistics in the layout's buffer order; undefined when the file holds none. */
export function buffersFromTorchArch(tensors: Map<string, DecodedTensor>, spec: ModelSpec, file: string): Float32Array | undefined {
  const arch = spec.arch!;
  const names = inModuleOrder([...tensors.keys()].filter((n) => STATISTIC.test(n)));
  if (names.length === 0) return undefined;
  const want = arch.layout.buffers;
  if (names.length !== want.length) {
    throw badInput(`holds ${names.length} BatchNorm running statistics but model ${arch.text} has ${want.length} (${want.map((t) => t.name).join(', ')})`, file);
  }
  const buffers = new Float32Array(arch.layout.bufferCount);
  names.forEach((name, i) => {
    const t = tensors.get(name)!;
    const w = want[i];
    if (t.shape.length !== 1 || t.shape[0] !== w.size || !name.endsWith(w.role)) {
      throw badInput(`tensor "${name}" has shape [${t.shape.join(', ')}] but the model's ${w.role} of layer ${w.owner.position} (${w.name}) needs [${w.size}]`, file);
    }
    buffers.set(toFloat32(name, t, file), w.offset);
  });
  return buffers;
}

/**
 * The file's tensors renamed by a tensor map (our name → the file's name,
 * `--tensor-map`), for files whose names cannot decide the module order: the
 * map must name a tensor the file holds for every parameter of the spec
 * (running statistics too, when it names any); the result uses our names,
 * which sort in module order.
 */
export function renamedTensors(tensors: Map<string, DecodedTensor>, map: Record<string, string>, spec: ModelSpec, file: string): Map<string, DecodedTensor> {
  const layout = spec.arch!.layout;
  const known = new Set([...layout.params, ...layout.buffers].map((t) => t.name));
  const stray = Object.keys(map).filter((k) => !known.has(k));
  if (stray.length) throw badInput(`the tensor map names "${stray[0]}", which model ${spec.arch!.text} does not have (its tensors: ${[...known].slice(0, 8).join(', ')}…)`, file);
  const missing = layout.params.filter((t) => map[t.name] === undefined);
  if (missing.length) throw badInput(`the tensor map does not name a tensor for "${missing[0].name}" (${missing.length} of the model's parameters are missing)`, file);
  const out = new Map<string, DecodedTensor>();
  for (const [ours, theirs] of Object.entries(map)) {
    const t = tensors.get(theirs);
    if (!t) throw badInput(`the tensor map names "${theirs}" for "${ours}", but the file has no such tensor`, file);
    out.set(ours, t);
  }
  return out;
}
