/**
 * Where each parameter of an architecture sits in the flat vector, and its
 * checkpoint name. Names follow an nn.Sequential of the spec's layers after
 * the input, counted from 0: "layers.0.weight", "layers.4.bias"; inside a
 * residual block "layers.7.body.0.weight" and "layers.7.shortcut.0.weight"
 * (its 1×1 conv; ".1." its bn). Shapes are PyTorch's: conv weights
 * [out, in, k, k], dense weights [out, in], so a PyTorch state_dict maps
 * tensor by tensor. BatchNorm running statistics are buffers, laid out in a
 * vector of their own: they are not coordinates of the landscape.
 */
import type { ArchitectureShapes, NodeShapes } from './shapes';

export interface ArchTensor {
  name: string;
  shape: number[];
  offset: number;
  size: number;
  /** weight, bias, running_mean, running_var. */
  role: string;
  /** The layer owning it, for the forward pass. */
  owner: NodeShapes;
}

export interface ArchLayout {
  params: ArchTensor[];
  buffers: ArchTensor[];
  paramCount: number;
  bufferCount: number;
  /** Parameters of one layer by role. */
  paramOf(owner: NodeShapes, role: string): ArchTensor | undefined;
}

export function archLayout(shapes: ArchitectureShapes): ArchLayout {
  const params: ArchTensor[] = [];
  const buffers: ArchTensor[] = [];
  const counters = { params: 0, buffers: 0 };
  const visit = (nodes: readonly NodeShapes[], prefix: string) => {
    nodes.forEach((n, i) => {
      const name = `${prefix}${i}`;
      for (const t of n.params) counters.params = push(params, n, `${name}.${t.role}`, t.role, t.shape, counters.params);
      for (const t of n.buffers) counters.buffers = push(buffers, n, `${name}.${t.role}`, t.role, t.shape, counters.buffers);
      if (n.body) visit(n.body, `${name}.body.`);
      if (n.shortcut) visit(n.shortcut, `${name}.shortcut.`);
    });
  };
  visit(shapes.nodes, 'layers.');
  const byOwner = new Map<NodeShapes, Map<string, ArchTensor>>();
  for (const t of params) byOwner.set(t.owner, (byOwner.get(t.owner) ?? new Map()).set(t.role, t));
  return { params, buffers, paramCount: counters.params, bufferCount: counters.buffers, paramOf: (owner, role) => byOwner.get(owner)?.get(role) };
}

function push(list: ArchTensor[], owner: NodeShapes, name: string, role: string, shape: number[], offset: number): number {
  const size = shape.reduce((a, b) => a * b, 1);
  list.push({ name, shape, offset, size, role, owner });
  return offset + size;
}
