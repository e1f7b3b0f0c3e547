/**
 * A tfjs / Keras LayersModel with convolutions, pooling, BatchNormalization
 * or residual Adds (Sequential or functional, channels_last, as tfjs'
 * model.save() and tensorflowjs_converter write them) as a layer-grammar
 * model: the spec text, θ in PyTorch's layout, and BatchNorm's moving
 * statistics as running-statistics buffers, so evaluation runs in inference
 * mode as Keras' predict() does. Images are [C, H, W] rows to Landscape,
 * [H, W, C] to Keras: data for the imported model is transposed to C,H,W.
 *
 * A softmax on the output is left out (Landscape's cross-entropy adds it).
 */
import type { LayerNode, NodeShapes } from '../model/arch';
import { formatNodes } from '../model/arch/format';
import { modelSpecFromText } from '../model/archModel';
import type { LossName, ModelSpec } from '../model/spec';
import { badInput } from './safetensors';
import { describeValue, kerasGraph } from './keras-graph';
import { LayerConverter, type ConvertedNode } from './keras-layers';
import { kerasWeightsToLayout, type NamedWeight } from './keras-weights';

type Json = Record<string, unknown>;

export interface KerasImportInputs {
  /** The loss the caller asked for, if any. */
  loss?: LossName;
  /** The loss the model's training config names, if any. */
  trainingLoss?: LossName;
  /** Reads the weight shards (only once the topology is known to import). */
  readWeights: () => NamedWeight[];
}

export interface ImportedKerasModel {
  spec: ModelSpec;
  theta: Float32Array;
  buffers?: Float32Array;
  /** Names of the layers that hold weights, in the spec's order. */
  layerNames: string[];
  /** True when a softmax on the output was left out. */
  softmaxStripped: boolean;
}

export function importKerasModel(topology: Json, file: string, inputs: KerasImportInputs): ImportedKerasModel {
  const graph = kerasGraph(topology, file);
  const state = { shape: inputShape(graph.batchShape, file), hwc: undefined as [number, number, number] | undefined };
  const input: LayerNode = { op: 'input', shape: [...state.shape] };
  const converter = new LayerConverter(file);
  const nodes = converter.convert(graph.items, state, true);
  if (state.shape.length !== 1) throw badInput(`the model's output is a ${state.shape.join('×')} feature map; it must end in flat features (Flatten or GlobalAveragePooling2D, then Dense)`, file);
  if (state.hwc && nodes.length > 0) throw badInput('the model ends with flattened image features and no Dense layer after them; their order (H,W,C) differs from Landscape\'s (C,H,W)', file);
  const loss = lossFor(converter.softmaxStripped, inputs, file);
  const spec = modelSpecFromText(formatNodes([input, ...nodes.map((n) => n.node)]), { loss, source: file });
  const arch = spec.arch!;
  const owners = new Map<NodeShapes, ConvertedNode>();
  pairOwners(nodes, arch.shapes.nodes, owners, file);
  const { theta, buffers } = kerasWeightsToLayout(owners, arch.layout, inputs.readWeights(), file);
  const layerNames = [...new Set(arch.layout.params.map((t) => owners.get(t.owner)?.layer?.name ?? t.name))];
  return { spec, theta, ...(arch.layout.bufferCount > 0 ? { buffers } : {}), layerNames, softmaxStripped: converter.softmaxStripped };
}

/** [null, H, W, C] → [C, H, W]; [null, D] → [D]. */
function inputShape(batchShape: unknown[] | undefined, file: string): number[] {
  if (!batchShape) throw badInput('the model declares no input shape (batch_input_shape or an InputLayer); save it after building it on an input', file);
  const dims = batchShape.slice(1);
  const ok = dims.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 1 && d <= 1 << 20);
  if (!ok || (dims.length !== 1 && dims.length !== 3)) {
    throw badInput(`the model's input shape ${describeValue(batchShape)} is neither [batch, features] nor [batch, height, width, channels] with known sizes`, file);
  }
  const d = dims as number[];
  return d.length === 1 ? d : [d[2], d[0], d[1]];
}

function lossFor(softmaxStripped: boolean, inputs: KerasImportInputs, file: string): LossName {
  if (!softmaxStripped) return inputs.loss ?? inputs.trainingLoss ?? 'mse';
  if (inputs.loss === 'mse') throw badInput('the output applies softmax, which only pairs with the cross-entropy loss', file);
  return 'cross-entropy';
}

/** Which Keras layer each node of the inferred shapes came from; a projection shortcut must be the one res(...) builds. */
function pairOwners(converted: readonly ConvertedNode[], shapes: readonly NodeShapes[], out: Map<NodeShapes, ConvertedNode>, file: string): void {
  converted.forEach((c, i) => {
    const s = shapes[i];
    out.set(s, c);
    if (c.body) pairOwners(c.body, s.body ?? [], out, file);
    if (!c.shortcut) return;
    const want = formatNodes((s.shortcut ?? []).map((n) => n.node));
    const have = formatNodes(c.shortcut.map((n) => n.node));
    if (want !== have) {
      throw badInput(
        `Add layer "${c.layer?.name}" has the shortcut ${have ? `"${have}"` : '(the block input)'}, but res(...) on this block builds ${want ? `"${want}"` : 'the identity'}; only that shortcut imports`,
        file,
      );
    }
    pairOwners(c.shortcut, s.shortcut ?? [], out, file);
  });
}
