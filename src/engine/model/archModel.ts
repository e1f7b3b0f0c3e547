/**
 * A model spec in the layer grammar (conv, pooling, BatchNorm, residual
 * blocks; src/engine/model/arch) as a ModelSpec: the same value every tool
 * already takes, with `arch` carrying the parsed layers, their shapes and
 * the parameter layout. The dense form ("64-32-32-10 relu no-bias") stays a
 * plain ModelSpec without `arch`, so its fast kernels and its checkpoints
 * are exactly as before.
 */
import { formatArchitecture, inferShapes, isLegacySpec, parseArchitecture, archLayout, expandModelName, type ArchLayout, type ArchitectureShapes, type NodeShapes } from './arch';
import { LOSSES, makeSpec, parseActivation, parseLoss, type Activation, type LossName, type ModelSpec } from './spec';

export interface ArchModel {
  /** The canonical spec text (built-in names expanded), as checkpoints record it. */
  text: string;
  shapes: ArchitectureShapes;
  layout: ArchLayout;
  /** [C, H, W] or [D]. */
  inputShape: number[];
}

/**
 * True when `text` (after expanding a built-in name) is the layer grammar,
 * not the dense form. Anything starting with a digit is the dense form, so a
 * mistyped "64-x" is reported as a width, not as an unknown layer.
 */
export function isLayerSpec(text: string): boolean {
  const expanded = expandModelName(text);
  return !isLegacySpec(expanded) && !/^\s*\d/.test(expanded);
}

export function archModelFromText(text: string, source?: string): ArchModel {
  const arch = parseArchitecture(text, source);
  const shapes = inferShapes(arch, source);
  const input = arch.nodes[0];
  if (input.op !== 'input') throw new Error('parseArchitecture returned no input node');
  return { text: formatArchitecture(arch), shapes, layout: archLayout(shapes), inputShape: [...input.shape] };
}

/**
 * The ModelSpec of a --model value: the dense form as before (its words set
 * activation, bias and loss), or the layer grammar. `layers` is then
 * [input features, outputs], which is all the data checks read.
 */
export function modelSpecFromText(text: string, opts: { activation?: Activation; bias?: boolean; loss?: LossName; source?: string } = {}): ModelSpec {
  if (!isLayerSpec(text)) return denseSpec(text, opts);
  const arch = archModelFromText(text, opts.source);
  const features = arch.inputShape.reduce((a, b) => a * b, 1);
  const outputs = arch.shapes.output.reduce((a, b) => a * b, 1);
  return { layers: [features, outputs], activation: 'relu', bias: true, loss: opts.loss ?? 'cross-entropy', arch };
}

/** "64-32-10 [activation] [no-bias] [loss]": words in the text win over the options (they are what the user wrote). */
function denseSpec(text: string, opts: { activation?: Activation; bias?: boolean; loss?: LossName }): ModelSpec {
  const [widths, ...words] = text.trim().split(/\s+/);
  const spec = makeSpec(widths, opts);
  for (const w of words) {
    if (w === 'no-bias' || w === 'nobias') spec.bias = false;
    else if (w === 'bias') spec.bias = true;
    else if ((LOSSES as readonly string[]).includes(w) || ['ce', 'crossentropy', 'softmax-cross-entropy'].includes(w)) spec.loss = parseLoss(w);
    else spec.activation = parseActivation(w);
  }
  return spec;
}

/** Whether the model has a convolution anywhere (residual blocks included). */
export function hasConvolution(spec: ModelSpec): boolean {
  return spec.arch?.layout.params.some((t) => t.owner.node.op === 'conv') ?? false;
}

/** Whether the model has BatchNorm layers, whose running statistics are buffers, not parameters. */
export function hasBatchNorm(spec: ModelSpec): boolean {
  return (spec.arch?.layout.bufferCount ?? 0) > 0;
}

/** Floats of every layer's output for one row (residual blocks' bodies and shortcuts included): what a backward pass keeps. */
export function activationsPerRow(arch: ArchModel): number {
  const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const visit = (nodes: readonly NodeShapes[]): number => nodes.reduce((sum, n) => sum + size(n.output) + (n.body ? visit(n.body) : 0) + (n.shortcut ? visit(n.shortcut) : 0), 0);
  return visit(arch.shapes.nodes);
}

/** What the size and memory checks need of a layer-grammar model. */
export function layeredSize(spec: ModelSpec): { params: number; activationsPerRow: number; text: string } | undefined {
  return spec.arch ? { params: spec.arch.layout.paramCount, activationsPerRow: activationsPerRow(spec.arch), text: spec.arch.text } : undefined;
}
