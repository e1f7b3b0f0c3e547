/**
 * The layer graph of a Keras / tfjs LayersModel topology (Sequential, or a
 * functional "Model"/"Functional"), as the nested list the layer grammar can
 * express: a chain of layers in which each Add closes a residual block
 * (`res(...)`) whose two branches start at the same tensor, one of them the
 * block's input itself or a 1×1 Conv2D + BatchNormalization projection.
 *
 * Keras lists functional layers in topological order, so the block input of an
 * Add is the latest layer both of its branches descend from. Anything else
 * (several inputs or outputs, a layer feeding two branches that do not meet
 * at one Add, a merge other than Add) is refused with the layer named.
 */
import { MAX_NODES } from '../model/arch';
import { badInput } from './safetensors';

type Json = Record<string, unknown>;

export interface KerasLayer {
  name: string;
  className: string;
  config: Json;
  /** Names of the layers whose outputs this one reads, in order. */
  inputs: string[];
  /** Position in the topology's layer list (topological order). */
  index: number;
}

export type KerasItem = { layer: KerasLayer } | { add: KerasLayer; body: KerasItem[]; shortcut: KerasItem[] };

export interface KerasGraph {
  /** The batch input shape as written ([null, H, W, C] or [null, D]), when the topology gives one. */
  batchShape?: unknown[];
  items: KerasItem[];
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A JSON value for an error message, at most 60 characters. */
export function describeValue(v: unknown): string {
  // A missing field must not read as the word "undefined" in a message.
  if (v === undefined) return 'nothing';
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 60) + '…' : s;
}

export function batchShapeOf(cfg: Json): unknown[] | undefined {
  const s = cfg.batch_input_shape ?? cfg.batchInputShape ?? cfg.batch_shape;
  if (Array.isArray(s)) return s;
  const inShape = cfg.input_shape ?? cfg.inputShape;
  return Array.isArray(inShape) ? [null, ...inShape] : undefined;
}

/** The graph of `topology` (the object holding class_name and config). */
export function kerasGraph(topology: Json, file: string): KerasGraph {
  const cfg = topology.config;
  const list = Array.isArray(cfg) ? cfg : isObject(cfg) && Array.isArray(cfg.layers) ? cfg.layers : undefined;
  if (!list) throw badInput(`the ${describeValue(topology.class_name)} model has no list of layers in modelTopology.config`, file);
  if (list.length > MAX_NODES) throw badInput(`the model has ${list.length} layers; at most ${MAX_NODES} import`, file);
  const functional = topology.class_name !== 'Sequential';
  const layers = list.map((l: unknown, i: number) => readLayer(l, i, functional, file));
  if (!functional) {
    const graph = sequentialGraph(layers);
    // Keras 2 Sequential models built without an InputLayer record the shape as build_input_shape.
    const built = isObject(cfg) ? cfg.build_input_shape : undefined;
    return graph.batchShape === undefined && Array.isArray(built) ? { ...graph, batchShape: built } : graph;
  }
  return functionalGraph(layers, isObject(cfg) ? cfg : {}, file);
}

function readLayer(l: unknown, i: number, functional: boolean, file: string): KerasLayer {
  if (!isObject(l) || typeof l.class_name !== 'string') throw badInput(`layer ${i} of the model is not a {class_name, config} object`, file);
  const config = isObject(l.config) ? l.config : {};
  const named = typeof l.name === 'string' ? l.name : typeof config.name === 'string' ? config.name : undefined;
  const name = named ?? `layer ${i}`;
  const inputs = functional ? inboundNames(l.inbound_nodes, name, file) : [];
  return { name, className: l.class_name, config, inputs, index: i };
}

/** Sequential: each layer reads the one before; an InputLayer only declares the shape. */
function sequentialGraph(layers: KerasLayer[]): KerasGraph {
  let batchShape: unknown[] | undefined;
  const items: KerasItem[] = [];
  for (const layer of layers) {
    if (items.length === 0 && batchShape === undefined) batchShape = batchShapeOf(layer.config);
    if (layer.className !== 'InputLayer') items.push({ layer });
  }
  return { batchShape, items };
}

/**
 * The names a functional layer reads: Keras 2 and tfjs write
 * [[[name, node, tensor, kwargs], …]], Keras 3 writes [{args: [...]}] with
 * each tensor as {config: {keras_history: [name, node, tensor]}}.
 */
function inboundNames(nodes: unknown, layer: string, file: string): string[] {
  if (nodes === undefined || (Array.isArray(nodes) && nodes.length === 0)) return [];
  if (!Array.isArray(nodes)) throw badInput(`layer "${layer}" has inbound_nodes ${describeValue(nodes)}; expected a list`, file);
  if (nodes.length > 1) throw badInput(`layer "${layer}" is applied ${nodes.length} times (a shared layer); each layer must be used once`, file);
  const names: string[] = [];
  collectNames(nodes[0], names, 0);
  if (names.length === 0) throw badInput(`layer "${layer}" has inbound_nodes ${describeValue(nodes)} that name no input layer`, file);
  return names;
}

function collectNames(v: unknown, out: string[], depth: number): void {
  if (depth > 8) return;
  if (Array.isArray(v)) {
    if (typeof v[0] === 'string' && typeof v[1] === 'number') out.push(v[0]);
    else for (const x of v) collectNames(x, out, depth + 1);
    return;
  }
  if (!isObject(v)) return;
  const history = isObject(v.config) ? v.config.keras_history : undefined;
  if (Array.isArray(history) && typeof history[0] === 'string') out.push(history[0]);
  else if (Array.isArray(v.args)) collectNames(v.args, out, depth + 1);
}

function endpoint(cfg: Json, key: 'input_layers' | 'output_layers', file: string): string {
  const v = cfg[key];
  const names: string[] = [];
  collectNames(v, names, 0);
  if (names.length !== 1) throw badInput(`the model has ${names.length} ${key === 'input_layers' ? 'inputs' : 'outputs'} (${describeValue(v)}); only models with one input and one output import`, file);
  return names[0];
}

function functionalGraph(layers: KerasLayer[], cfg: Json, file: string): KerasGraph {
  const byName = new Map<string, KerasLayer>();
  for (const l of layers) {
    if (byName.has(l.name)) throw badInput(`two layers are named "${l.name}"`, file);
    byName.set(l.name, l);
  }
  const input = endpoint(cfg, 'input_layers', file);
  const output = endpoint(cfg, 'output_layers', file);
  const inputLayer = byName.get(input);
  if (!inputLayer) throw badInput(`the model's input "${input}" is not among its layers`, file);
  const walk = new GraphWalk(byName, file);
  const items = walk.chain(output, input);
  const unused = layers.find((l) => l !== inputLayer && !walk.used.has(l));
  if (unused) throw badInput(`layer "${unused.name}" (${unused.className}) is not on the way from the input to the output, or feeds branches that do not meet at one Add`, file);
  return { batchShape: batchShapeOf(inputLayer.config), items };
}

class GraphWalk {
  readonly used = new Set<KerasLayer>();

  constructor(
    private readonly byName: Map<string, KerasLayer>,
    private readonly file: string,
  ) {}

  private layer(name: string, reader: string): KerasLayer {
    const l = this.byName.get(name);
    if (!l) throw badInput(`layer "${reader}" reads "${name}", which is not a layer of the model`, this.file);
    return l;
  }

  /** The layers from tensor `stop` (exclusive) to tensor `end`, in order; each Add becomes a residual block. */
  chain(end: string, stop: string): KerasItem[] {
    const items: KerasItem[] = [];
    let t = end;
    let reader = end;
    while (t !== stop) {
      const l = this.layer(t, reader);
      if (l.className === 'InputLayer' || l.inputs.length === 0) throw badInput(`layer "${reader}" is reached from "${l.name}" as well as from the model's input "${stop}"; only residual Add blocks may join branches`, this.file);
      if (this.used.has(l)) throw badInput(`layer "${l.name}" (${l.className}) feeds two branches that do not meet at one Add; res(...) cannot express that`, this.file);
      this.used.add(l);
      if (l.className === 'Add') {
        const x = this.blockInput(l);
        items.push(this.residual(l, x));
        t = x;
      } else {
        if (l.inputs.length !== 1) throw badInput(`layer "${l.name}" is a ${l.className} reading ${l.inputs.length} tensors; only Add may merge branches`, this.file);
        items.push({ layer: l });
        t = l.inputs[0];
      }
      reader = l.name;
    }
    return items.reverse();
  }

  /** The latest layer (in topological order) that both inputs of the Add descend from. */
  private blockInput(add: KerasLayer): string {
    if (add.inputs.length !== 2) throw badInput(`Add layer "${add.name}" adds ${add.inputs.length} tensors; a residual block adds two`, this.file);
    const [a, b] = add.inputs.map((n) => this.ancestors(n, add.name));
    let best: KerasLayer | undefined;
    for (const l of a) if (b.has(l) && (!best || l.index > best.index)) best = l;
    if (!best) throw badInput(`the two inputs of Add layer "${add.name}" share no earlier layer`, this.file);
    return best.name;
  }

  private ancestors(name: string, reader: string): Set<KerasLayer> {
    const seen = new Set<KerasLayer>();
    const stack = [this.layer(name, reader)];
    while (stack.length) {
      const l = stack.pop()!;
      if (seen.has(l)) continue;
      seen.add(l);
      for (const i of l.inputs) stack.push(this.layer(i, l.name));
    }
    return seen;
  }

  private residual(add: KerasLayer, x: string): KerasItem {
    const [a, b] = add.inputs.map((n) => this.chain(n, x));
    if (a.length === 0 && b.length === 0) throw badInput(`Add layer "${add.name}" adds a tensor to itself; that is no residual block`, this.file);
    if (a.length === 0) return { add, body: b, shortcut: [] };
    if (b.length === 0) return { add, body: a, shortcut: [] };
    // Keras code writes add([body, shortcut]), so the second branch is taken as the shortcut when both could be.
    if (isProjection(b)) return { add, body: a, shortcut: b };
    if (isProjection(a)) return { add, body: b, shortcut: a };
    throw badInput(
      `Add layer "${add.name}" joins two branches neither of which is the block's input or a 1×1 Conv2D + BatchNormalization projection; res(...) cannot express it`,
      this.file,
    );
  }
}

/** A projection shortcut as Keras ResNets write it: Conv2D then BatchNormalization, nothing else. */
function isProjection(items: KerasItem[]): boolean {
  return items.length === 2 && items.every((it) => 'layer' in it) && (items[0] as { layer: KerasLayer }).layer.className === 'Conv2D' && (items[1] as { layer: KerasLayer }).layer.className === 'BatchNormalization';
}
