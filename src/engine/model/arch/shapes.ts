/**
 * Shape inference over an architecture: each node's output shape and the
 * shapes of its parameters and buffers, with an input error naming the layer
 * when shapes do not fit (a conv on flat features, a window larger than its
 * input, dense before flatten). A residual block whose shape changes gets a
 * 1×1 conv + bn shortcut, its bn's eps that of the body's bn layers. BatchNorm's running statistics are buffers,
 * not coordinates of the landscape.
 */
import { inputError } from '../../errors';
import { formatNodes } from './format';
import { attributed } from './source';
import { DEFAULT_BN_EPS, type Architecture, type LayerNode, type Shape } from './types';

export interface TensorShape {
  /** Role within its layer: weight, bias, running_mean, running_var. */
  role: string;
  shape: number[];
}

export interface NodeShapes {
  node: LayerNode;
  /** 1-based position in the spec, with ".k" for the k-th node inside a residual block. */
  position: string;
  input: Shape;
  output: Shape;
  params: TensorShape[];
  buffers: TensorShape[];
  /** Residual blocks: their body's nodes and the shortcut's (empty when it is the identity). */
  body?: NodeShapes[];
  shortcut?: NodeShapes[];
}

export interface ArchitectureShapes {
  nodes: NodeShapes[];
  output: Shape;
  paramCount: number;
  bufferCount: number;
}

/** Shapes of every layer; `source` names the spec's origin in error messages, as for parseArchitecture. */
export function inferShapes(arch: Architecture, source?: string): ArchitectureShapes {
  return attributed(source, () => inferAll(arch));
}

function inferAll(arch: Architecture): ArchitectureShapes {
  const first = arch.nodes[0];
  if (!first || first.op !== 'input') throw inputError('model spec must start with input(...)');
  const nodes = inferList(arch.nodes.slice(1), first.shape, '', 2);
  const output = nodes.length ? nodes[nodes.length - 1].output : first.shape;
  if (output.length !== 1) throw inputError(`model spec ends with a ${output.join('×')} feature map; end with flatten and dense(classes) (or gap and dense)`);
  return { nodes, output, paramCount: count(nodes, 'params'), bufferCount: count(nodes, 'buffers') };
}

function inferList(nodes: readonly LayerNode[], input: Shape, prefix: string, firstIndex: number): NodeShapes[] {
  const out: NodeShapes[] = [];
  let shape = input;
  nodes.forEach((node, i) => {
    const s = inferNode(node, shape, `${prefix}${firstIndex + i}`);
    out.push(s);
    shape = s.output;
  });
  return out;
}

function inferNode(node: LayerNode, input: Shape, position: string): NodeShapes {
  const at = (msg: string) => inputError(`model spec, layer ${position} (${label(node)}) on input ${input.join('×')}: ${msg}`);
  const base = { node, position, input, params: [] as TensorShape[], buffers: [] as TensorShape[] };
  switch (node.op) {
    case 'conv': {
      const [c, h, w] = image(input, at);
      const pad = node.pad === 'same' ? samePadding(node.kernel, node.stride, at) : node.pad === 'valid' ? 0 : node.pad;
      const params = [{ role: 'weight', shape: [node.out, c, node.kernel, node.kernel] }, ...(node.bias ? [{ role: 'bias', shape: [node.out] }] : [])];
      return { ...base, output: [node.out, windowed(h, node.kernel, node.stride, pad, at), windowed(w, node.kernel, node.stride, pad, at)], params };
    }
    case 'maxpool':
    case 'avgpool': {
      const [c, h, w] = image(input, at);
      return { ...base, output: [c, windowed(h, node.kernel, node.stride, 0, at), windowed(w, node.kernel, node.stride, 0, at)] };
    }
    case 'gap':
      return { ...base, output: [image(input, at)[0]] };
    case 'zeropad': {
      const [c, h, w] = image(input, at);
      return { ...base, output: [c, h + node.top + node.bottom, w + node.left + node.right] };
    }
    case 'bn': {
      const ch = [input[0]];
      return { ...base, output: input, params: [{ role: 'weight', shape: ch }, { role: 'bias', shape: ch }], buffers: [{ role: 'running_mean', shape: ch }, { role: 'running_var', shape: ch }] };
    }
    case 'flatten':
      return { ...base, output: [input.reduce((a, b) => a * b, 1)] };
    case 'dense': {
      if (input.length !== 1) throw at('dense needs flat features; put flatten (or gap) before it');
      return { ...base, output: [node.units], params: [{ role: 'weight', shape: [node.units, input[0]] }, ...(node.bias ? [{ role: 'bias', shape: [node.units] }] : [])] };
    }
    case 'res':
      return residual(node.body, input, position, base, at);
    case 'input':
      throw at('only the first token may be input(...)');
    default:
      return { ...base, output: input };
  }
}

/** A residual block: body(x) + shortcut(x), the shortcut a 1×1 conv with the block's stride plus bn when the shape changes. */
function residual(body: LayerNode[], input: Shape, position: string, base: Omit<NodeShapes, 'output'>, at: (m: string) => Error): NodeShapes {
  const inner = inferList(body, input, `${position}.`, 1);
  const output = inner.length ? inner[inner.length - 1].output : input;
  if (sameShape(input, output)) return { ...base, output, body: inner, shortcut: [] };
  if (input.length !== 3 || output.length !== 3) throw at(`the block maps ${input.join('×')} to ${output.join('×')}; a residual block over flat features must keep their width`);
  const stride = input[1] / output[1];
  if (!Number.isInteger(stride) || input[2] / output[2] !== stride) throw at(`the block maps ${input.join('×')} to ${output.join('×')}: no whole stride makes a 1×1 shortcut fit`);
  const shortcutNodes: LayerNode[] = [{ op: 'conv', out: output[0], kernel: 1, stride, pad: 'valid', bias: false }, shortcutBatchNorm(body)];
  const shortcut = inferList(shortcutNodes, input, `${position}.shortcut.`, 1);
  return { ...base, output, body: inner, shortcut };
}

/**
 * The shortcut's BatchNorm takes the eps of the body's BatchNorm layers when
 * they all use one (a Keras block's are all 1e-3), else PyTorch's default.
 */
function shortcutBatchNorm(body: readonly LayerNode[]): LayerNode {
  const eps = new Set(body.filter((n) => n.op === 'bn').map((n) => (n.op === 'bn' ? n.eps ?? DEFAULT_BN_EPS : DEFAULT_BN_EPS)));
  const [only] = eps;
  return eps.size === 1 && only !== DEFAULT_BN_EPS ? { op: 'bn', eps: only } : { op: 'bn' };
}

function image(input: Shape, at: (m: string) => Error): [number, number, number] {
  if (input.length !== 3) throw at('this layer needs an image (channels, height, width); the input here is flat');
  return [input[0], input[1], input[2]];
}

function samePadding(kernel: number, stride: number, at: (m: string) => Error): number {
  if (stride !== 1) throw at('pad=same needs stride 1 (as in PyTorch); give the padding as a number');
  if (kernel % 2 === 0) throw at('pad=same needs an odd kernel size; give the padding as a number');
  return (kernel - 1) / 2;
}

/** Output size of a sliding window, floor((n + 2p − k)/s) + 1, which must be at least 1. */
function windowed(n: number, kernel: number, stride: number, pad: number, at: (m: string) => Error): number {
  const span = n + 2 * pad - kernel;
  if (span < 0) throw at(`a window of ${kernel} does not fit in ${n}${pad ? ` with padding ${pad}` : ''}`);
  return Math.floor(span / stride) + 1;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function count(nodes: readonly NodeShapes[], key: 'params' | 'buffers'): number {
  let total = 0;
  for (const n of nodes) {
    for (const t of n[key]) total += t.shape.reduce((a, b) => a * b, 1);
    total += count(n.body ?? [], key) + count(n.shortcut ?? [], key);
  }
  return total;
}

function label(node: LayerNode): string {
  return node.op === 'res' ? 'res(...)' : formatNodes([node]);
}
