/**
 * A network as the model-spec grammar describes it (issue "Your own
 * networks"): a list of layer nodes, the first of them the input. Shapes are
 * PyTorch's without the batch axis: [features] or [channels, height, width].
 */
import type { LossName } from '../spec';

export const NODE_ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'softplus', 'elu'] as const;
export type NodeActivation = (typeof NODE_ACTIVATIONS)[number];

export type Shape = readonly number[];

/** PyTorch's BatchNorm epsilon, used when a bn layer names none. */
export const DEFAULT_BN_EPS = 1e-5;

/** Convolution padding: 'same' (stride 1, odd kernels), 'valid' (none) or that many zeros on each side. */
export type Padding = 'same' | 'valid' | number;

export type LayerNode =
  | { op: 'input'; shape: Shape }
  | { op: 'conv'; out: number; kernel: number; stride: number; pad: Padding; bias: boolean }
  | { op: 'maxpool' | 'avgpool'; kernel: number; stride: number }
  | { op: 'gap' }
  /** Zeros around the image: rows on top and bottom, columns left and right (Keras' ZeroPadding2D, and its uneven 'same'). */
  | { op: 'zeropad'; top: number; bottom: number; left: number; right: number }
  /** eps: added to the variance (PyTorch's default 1e-5 when absent; Keras writes 1e-3). */
  | { op: 'bn'; eps?: number }
  | { op: 'activation'; fn: NodeActivation }
  | { op: 'flatten' }
  | { op: 'dense'; units: number; bias: boolean }
  | { op: 'res'; body: LayerNode[] };

export interface Architecture {
  /** The nodes in order; nodes[0] is the input. */
  nodes: LayerNode[];
  /** A loss named in a legacy spec ("64-32-10 relu mse"); the grammar itself leaves the loss to its own option. */
  loss?: LossName;
}
