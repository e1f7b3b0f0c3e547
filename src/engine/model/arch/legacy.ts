/**
 * Today's dense form, "64-32-32-10 [activation] [no-bias] [loss]", as the
 * grammar's nodes: input(64) dense(32) relu dense(32) relu dense(10), every
 * dense with or without bias. specToString writes this form, so every
 * existing checkpoint's spec keeps meaning the same network.
 */
import { inputError } from '../../errors';
import { ACTIVATIONS, LOSSES, parseLayers, parseLoss, type Activation, type LossName } from '../spec';
import type { Architecture, LayerNode } from './types';
import { quoteText } from '../../text';

/** The dense form starts with widths joined by "-", "x" or ",", such as 64-32-10. */
export function isLegacySpec(text: string): boolean {
  return /^\s*\d+\s*[-x,]\s*\d+/.test(text);
}

export function parseLegacySpec(text: string): Architecture {
  const [widths, ...words] = text.trim().split(/\s+/);
  const layers = parseLayers(widths);
  let activation: Activation = 'relu';
  let bias = true;
  let loss: LossName | undefined;
  for (const w of words) {
    if ((ACTIVATIONS as readonly string[]).includes(w)) activation = w as Activation;
    else if (w === 'no-bias' || w === 'bias') bias = w === 'bias';
    else if ((LOSSES as readonly string[]).includes(w) || ['ce', 'crossentropy', 'softmax-cross-entropy'].includes(w)) loss = parseLoss(w);
    else throw inputError(`model spec ${quoteText(text)}: ${quoteText(w)} is not an activation (${ACTIVATIONS.join(', ')}), no-bias or a loss (${LOSSES.join(', ')})`);
  }
  const nodes: LayerNode[] = [{ op: 'input', shape: [layers[0]] }];
  layers.slice(1).forEach((units, i) => {
    nodes.push({ op: 'dense', units, bias });
    // 'linear' hidden layers have no activation node: the identity.
    if (i < layers.length - 2 && activation !== 'linear') nodes.push({ op: 'activation', fn: activation });
  });
  return loss ? { nodes, loss } : { nodes };
}
