/**
 * A Keras model's weights in the layer grammar's layout (PyTorch's):
 * Conv2D kernels [kh, kw, in, out] become [out, in, kh, kw], Dense kernels
 * [in, out] become [out, in] with their rows reordered from H,W,C to C,H,W
 * after a channels_last Flatten, and BatchNormalization's gamma/beta are the
 * bn weight/bias while moving_mean/moving_variance are its running_mean/
 * running_var buffers (gamma 1 and beta 0 when the layer has scale or center
 * off). Every weight is found by name and its shape checked before the
 * parameter vector is allocated; weights no layer uses are refused.
 */
import type { ArchLayout, ArchTensor, NodeShapes } from '../model/arch';
import { badInput } from './safetensors';
import type { ConvertedNode } from './keras-layers';

export interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** One tensor of ours filled from a Keras weight (or a constant), element k of ours from element index(k) of theirs. */
interface Copy {
  target: ArchTensor;
  buffer: boolean;
  source?: NamedWeight;
  fill?: number;
  index?: (k: number) => number;
}

export function kerasWeightsToLayout(owners: Map<NodeShapes, ConvertedNode>, layout: ArchLayout, weights: NamedWeight[], file: string): { theta: Float32Array; buffers: Float32Array } {
  const used = new Set<NamedWeight>();
  const find = (layer: string, kind: string): NamedWeight => {
    const hits = weights.filter((w) => [`${layer}/${kind}`, `${layer}/${kind}:0`].some((n) => w.name === n || w.name.endsWith(`/${n}`)));
    if (hits.length === 0) throw badInput(`weightsManifest has no weight "${layer}/${kind}" for layer "${layer}"; the weight shards do not match the topology`, file);
    if (hits.length > 1) throw badInput(`weightsManifest has ${hits.length} weights named like "${layer}/${kind}" (${hits.map((h) => h.name).join(', ')})`, file);
    used.add(hits[0]);
    return hits[0];
  };
  const copies: Copy[] = [];
  for (const [owner, c] of owners) if (c.layer) copies.push(...copiesFor(owner, c, layout, find, file));
  const stray = weights.find((w) => !used.has(w));
  if (stray) throw badInput(`weight "${stray.name}" in weightsManifest belongs to no layer of the model`, file);
  const theta = new Float32Array(layout.paramCount);
  const buffers = new Float32Array(layout.bufferCount);
  for (const cp of copies) {
    const dst = (cp.buffer ? buffers : theta).subarray(cp.target.offset, cp.target.offset + cp.target.size);
    if (cp.source === undefined) dst.fill(cp.fill ?? 0);
    else for (let k = 0; k < dst.length; k++) dst[k] = cp.source.data[cp.index ? cp.index(k) : k];
  }
  return { theta, buffers };
}

type Find = (layer: string, kind: string) => NamedWeight;

function copiesFor(owner: NodeShapes, c: ConvertedNode, layout: ArchLayout, find: Find, file: string): Copy[] {
  const layer = c.layer!;
  const param = (role: string) => layout.paramOf(owner, role);
  const expect = (w: NamedWeight, shape: number[]): NamedWeight => {
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw badInput(`weight "${w.name}" has shape [${w.shape.join(', ')}], but layer "${layer.name}" (${layer.className}) needs [${shape.join(', ')}]`, file);
    }
    return w;
  };
  const bias = (): Copy[] => {
    const t = param('bias');
    return t ? [{ target: t, buffer: false, source: expect(find(layer.name, 'bias'), t.shape) }] : [];
  };
  switch (owner.node.op) {
    case 'conv': {
      const t = param('weight')!;
      const [out, cin, k] = t.shape;
      const w = expect(find(layer.name, 'kernel'), [k, k, cin, out]);
      return [{ target: t, buffer: false, source: w, index: convIndex(out, cin, k) }, ...bias()];
    }
    case 'dense': {
      const t = param('weight')!;
      const [out, fin] = t.shape;
      const w = expect(find(layer.name, 'kernel'), [fin, out]);
      const rows = c.hwc ? hwcIndex(c.hwc) : (f: number) => f;
      return [{ target: t, buffer: false, source: w, index: (k) => rows(k % fin) * out + Math.floor(k / fin) }, ...bias()];
    }
    case 'bn':
      return batchNormCopies(owner, c, layout, find, expect);
    default:
      return [];
  }
}

function batchNormCopies(owner: NodeShapes, c: ConvertedNode, layout: ArchLayout, find: Find, expect: (w: NamedWeight, shape: number[]) => NamedWeight): Copy[] {
  const layer = c.layer!;
  const index = c.hwc ? hwcIndex(c.hwc) : undefined;
  const vector = (target: ArchTensor, buffer: boolean, kind: string, present: boolean, fill: number): Copy =>
    present ? { target, buffer, source: expect(find(layer.name, kind), target.shape), ...(index ? { index } : {}) } : { target, buffer, fill };
  const buffer = (role: string) => layout.buffers.find((b) => b.owner === owner && b.role === role)!;
  return [
    vector(layout.paramOf(owner, 'weight')!, false, 'gamma', layer.config.scale !== false, 1),
    vector(layout.paramOf(owner, 'bias')!, false, 'beta', layer.config.center !== false, 0),
    vector(buffer('running_mean'), true, 'moving_mean', true, 0),
    vector(buffer('running_var'), true, 'moving_variance', true, 1),
  ];
}

/** Element of a Keras kernel [k, k, in, out] for element ((o·in + i)·k + y)·k + x of ours [out, in, k, k]. */
function convIndex(out: number, cin: number, k: number): (n: number) => number {
  return (n) => {
    const x = n % k;
    const y = Math.floor(n / k) % k;
    const i = Math.floor(n / (k * k)) % cin;
    const o = Math.floor(n / (k * k * cin));
    return ((y * k + x) * cin + i) * out + o;
  };
}

/** Position in H,W,C order of feature f in C,H,W order. */
function hwcIndex([C, H, W]: [number, number, number]): (f: number) => number {
  const hw = H * W;
  return (f) => (f % hw) * C + Math.floor(f / hw);
}
