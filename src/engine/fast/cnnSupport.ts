/**
 * Which layer-grammar models the convolutional kernels (conv.as, compiled by
 * cnnProgram.ts) compute. The kernels have no zero-padding layer of their
 * own (convolutions pad inside their own instruction), so a model with
 * `zeropad` runs on the tfjs path, which is slower but computes every layer;
 * the reason is kept so tools can tell the user why.
 */
import type { LayerNode } from '../model/arch/types';

/** Why the kernels decline these nodes (residual blocks searched too), or undefined when they compute them. */
export function kernelsDecline(nodes: readonly LayerNode[]): string | undefined {
  for (const n of nodes) {
    if (n.op === 'zeropad') return 'zeropad layers are not in the fast kernels, so this model runs on tfjs';
    if (n.op === 'res') {
      const inner = kernelsDecline(n.body);
      if (inner) return inner;
    }
  }
  return undefined;
}
