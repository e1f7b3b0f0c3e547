/**
 * Import a TensorFlow.js LayersModel folder (`model.json` + binary weight
 * shards, as written by `model.save('file://…')` or tensorflowjs_converter
 * from Keras). A Sequential stack of Dense layers on flat inputs becomes the
 * dense spec ("64-32-10 relu"); anything else (convolutions, pooling,
 * BatchNormalization, residual Adds, functional models) goes to
 * keras-import.ts and becomes a layer-grammar model.
 *
 * Each weight group's shard files are concatenated in the order listed and
 * hold that group's weights back to back as little-endian float32. Dense
 * kernels are already [in, units], our layout, so no transpose is needed.
 *
 * Memory bound: model.json is read only when within maxJsonBytes (100 MB);
 * shard sizes come from stat and must equal what the manifest declares, with
 * their total within maxBytes (the checkpoint limit), before any shard is
 * read; the parameter vector is allocated only after every kernel and bias
 * shape matches the topology. An import therefore allocates a few copies of
 * the shard bytes plus the JSON text, whatever sizes the JSON claims
 * (test/unit/fuzz-tfjs.test.ts holds each case to 1 MiB + 8 × its input).
 */
import * as fs from 'fs';
import * as path from 'path';
import { LandscapeError } from '../errors';
import { ACTIVATIONS, MAX_LAYER_WIDTH, Activation, LossName, ModelSpec, paramCount, paramLayout, modelText, parseLoss } from '../model/spec';
import { MAX_HEADER_BYTES, maxCheckpointBytes, tooLargeError, fileAccessError, badInput } from './safetensors';
import { batchShapeOf, describeValue as str } from './keras-graph';
import { importKerasModel } from './keras-import';

export interface TfjsImportOptions {
  /** Loss to attach when the output layer is linear (default: from the training config, else mse). */
  loss?: LossName;
  /** Cap on the total size of the weight shards (default: the checkpoint limit). */
  maxBytes?: number;
  /** Cap on the size of model.json itself (default 100 MB). */
  maxJsonBytes?: number;
}

export interface ImportedTfjsModel {
  /** The model.json that was read. */
  file: string;
  spec: ModelSpec;
  theta: Float32Array;
  /** Names of the layers holding weights, in order. */
  layerNames: string[];
  /** BatchNorm moving statistics (running_mean/running_var buffers) of a layer-grammar import. */
  buffers?: Float32Array;
  /** True when a softmax on the output was left out (the cross-entropy loss adds it). */
  softmaxStripped?: boolean;
}

interface DenseInfo {
  name: string;
  units: number;
  activation: string;
  useBias: boolean;
}

interface ManifestWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}


/** Keras and tfjs spell activations the same (snake_case); a few aliases exist. */
function normaliseActivation(v: unknown, layer: string, file: string): string {
  if (v === undefined || v === null) return 'linear';
  if (typeof v !== 'string') throw badInput(`Dense layer "${layer}" has an activation we cannot read (${str(v)})`, file);
  const a = v.toLowerCase();
  return a === 'none' ? 'linear' : a;
}

function inputWidthFrom(shape: unknown[], where: string, file: string): number {
  const dims = shape.slice(1);
  const d = dims[0];
  if (dims.length !== 1 || typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1 || d > MAX_LAYER_WIDTH) {
    throw badInput(`${where} has input shape ${str(shape)}; only flat inputs [batch, features] are supported`, file);
  }
  return d;
}

function lossFromTrainingConfig(json: Json, topology: Json): LossName | undefined {
  const tc = (json.trainingConfig ?? topology.training_config ?? topology.trainingConfig) as unknown;
  if (!isObject(tc)) return undefined;
  const l = tc.loss;
  const name = typeof l === 'string' ? l : isObject(l) && typeof l.class_name === 'string' ? l.class_name : undefined;
  if (!name) return undefined;
  const n = name.toLowerCase().replace(/[_\s]/g, '');
  if (n.includes('crossentropy')) return 'cross-entropy';
  if (n === 'meansquarederror' || n === 'mse') return 'mse';
  return undefined;
}

function readModelJson(file: string, maxJsonBytes: number): Json {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw fileAccessError(e, file, 'model.json');
  }
  if (st.isDirectory()) throw badInput('is a directory; pass the model.json inside the tfjs model folder', file);
  if (st.size > maxJsonBytes) throw tooLargeError(file, st.size, maxJsonBytes, 'model.json');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(fs.readFileSync(file));
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code) throw fileAccessError(e, file, 'model.json');
    throw badInput('model.json is not valid UTF-8 text', file);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw badInput(`model.json is not valid JSON (${(e instanceof Error ? e.message : String(e)).slice(0, 120)})`, file);
  }
  if (!isObject(json)) throw badInput('model.json must hold a JSON object', file);
  return json;
}

/** The layers model inside model.json (Keras-converted files wrap it in model_config). */
function layersTopology(json: Json, file: string): Json {
  if (json.format !== undefined && json.format !== 'layers-model') {
    const what = json.format === 'graph-model' ? ' (a converted SavedModel graph)' : '';
    throw badInput(`is a tfjs "${str(json.format)}"${what}, not a "layers-model"; only Layers models import`, file);
  }
  let topology = json.modelTopology;
  if (!isObject(topology)) throw badInput('model.json has no "modelTopology" object, so it is no tfjs layers-model; pass the model.json written by model.save(), or a .safetensors checkpoint', file);
  if (isObject(topology.model_config)) topology = topology.model_config;
  const t = topology as Json;
  if (!['Sequential', 'Model', 'Functional'].includes(t.class_name as string)) {
    const what = t.class_name === undefined ? 'modelTopology has no class_name' : `the model is a "${str(t.class_name)}"`;
    throw badInput(`${what}, but only Sequential and functional (Model, Functional) layers models import`, file);
  }
  return t;
}

const DENSE_STACK = new Set(['InputLayer', 'Dropout', 'Dense']);

/** A Sequential stack of Dense layers on flat inputs: the dense spec ("64-32-10 relu"), as before the layer grammar. */
function isDenseStack(t: Json): boolean {
  if (t.class_name !== 'Sequential') return false;
  const cfg = t.config;
  const layers = Array.isArray(cfg) ? cfg : isObject(cfg) && Array.isArray(cfg.layers) ? cfg.layers : undefined;
  if (!layers || layers.length === 0) return true;
  if (!layers.every((l: unknown) => isObject(l) && DENSE_STACK.has(l.class_name as string))) return false;
  const first = layers.map((l) => batchShapeOf(isObject((l as Json).config) ? ((l as Json).config as Json) : {})).find((x) => x !== undefined);
  return first === undefined || first.length <= 2;
}

function parseTopology(t: Json, file: string): { dense: DenseInfo[]; inputWidth?: number } {
  const cfg = t.config;
  const layers = Array.isArray(cfg) ? cfg : isObject(cfg) && Array.isArray(cfg.layers) ? cfg.layers : undefined;
  if (!layers) throw badInput('the Sequential model has no list of layers in modelTopology.config', file);
  const dense: DenseInfo[] = [];
  let inputWidth: number | undefined;
  layers.forEach((l: unknown, i: number) => {
    if (!isObject(l) || typeof l.class_name !== 'string') throw badInput(`layer ${i} of the Sequential model is not a {class_name, config} object`, file);
    const lc = isObject(l.config) ? l.config : {};
    const name = typeof lc.name === 'string' ? lc.name : `layer ${i}`;
    const shape = batchShapeOf(lc);
    if (shape && dense.length === 0 && inputWidth === undefined) inputWidth = inputWidthFrom(shape, `layer "${name}"`, file);
    switch (l.class_name) {
      case 'InputLayer':
        return;
      case 'Dropout':
        // Identity at inference, and it holds no weights.
        return;
      case 'Dense': {
        const units = lc.units;
        if (typeof units !== 'number' || !Number.isSafeInteger(units) || units < 1 || units > MAX_LAYER_WIDTH) {
          throw badInput(`Dense layer "${name}" has ${units === undefined ? 'no units' : `units ${str(units)}`}; expected a whole number in 1..${MAX_LAYER_WIDTH}`, file);
        }
        const useBias = lc.use_bias ?? lc.useBias ?? true;
        if (typeof useBias !== 'boolean') throw badInput(`Dense layer "${name}" has use_bias ${str(useBias)}; expected true or false`, file);
        dense.push({ name, units, activation: normaliseActivation(lc.activation, name, file), useBias });
        return;
      }
      default:
        throw badInput(
          `layer "${name}" is a ${str(l.class_name)}; only Dense layers (with InputLayer/Dropout) import`,
          file,
        );
    }
  });
  if (dense.length === 0) throw badInput('the model has no Dense layers', file);
  return { dense, inputWidth };
}

/** Activation, bias and loss from the topology alone, so these faults are reported before any shard is read. */
function kindFrom(dense: DenseInfo[], json: Json, topology: Json, file: string, lossOpt?: LossName): Omit<ModelSpec, 'layers'> {
  const hidden = dense.slice(0, -1);
  const out = dense[dense.length - 1];
  let activation: Activation = 'linear';
  if (hidden.length > 0) {
    const first = hidden[0].activation;
    const other = hidden.find((d) => d.activation !== first);
    if (other) {
      throw badInput(
        `hidden Dense layers mix activations ("${hidden[0].name}" uses ${first}, "${other.name}" uses ${other.activation}); Landscape models use one hidden activation`,
        file,
      );
    }
    if (!(ACTIVATIONS as readonly string[]).includes(first)) {
      throw badInput(`hidden activation "${first}" of layer "${hidden[0].name}" is not supported; use one of ${ACTIVATIONS.join(', ')}`, file);
    }
    activation = first as Activation;
  }
  const mixedBias = dense.find((d) => d.useBias !== dense[0].useBias);
  if (mixedBias) {
    throw badInput(`Dense layers mix use_bias ("${dense[0].name}": ${dense[0].useBias}, "${mixedBias.name}": ${mixedBias.useBias}); all layers must agree`, file);
  }
  let loss: LossName;
  if (out.activation === 'softmax') {
    if (lossOpt === 'mse') throw badInput(`output layer "${out.name}" applies softmax, which only pairs with the cross-entropy loss`, file);
    loss = 'cross-entropy';
  } else if (out.activation === 'linear') {
    loss = lossOpt ?? lossFromTrainingConfig(json, topology) ?? 'mse';
  } else {
    throw badInput(
      `output layer "${out.name}" uses activation ${out.activation}; only linear (logits or regression) or softmax outputs import`,
      file,
    );
  }
  return { activation, bias: dense[0].useBias, loss };
}

/** Resolve a shard path listed in model.json, refusing anything that leaves the model's folder. */
function shardPath(dir: string, p: unknown, file: string): string {
  if (typeof p !== 'string' || p.length === 0) throw badInput(`weightsManifest lists a shard path ${str(p)} that is not a file name`, file);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) throw badInput(`weight shard "${p}" is a URL; download the shards next to model.json first`, file);
  if (path.isAbsolute(p) || path.win32.isAbsolute(p)) throw badInput(`weight shard path "${p}" is absolute; shard paths must be relative to model.json`, file);
  const resolved = path.resolve(dir, p);
  const rel = path.relative(dir, resolved);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw badInput(`weight shard path "${p}" points outside the model folder`, file);
  }
  return resolved;
}

function readWeights(json: Json, file: string, maxBytes: number): ManifestWeight[] {
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) throw badInput('model.json has no "weightsManifest" list; the weights are missing', file);
  const dir = path.dirname(file);
  const out: ManifestWeight[] = [];
  let total = 0;
  manifest.forEach((group: unknown, g: number) => {
    const where = `weightsManifest[${g}]`;
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw badInput(`${where} must have "paths" and "weights" lists`, file);
    }
    const specs: { name: string; shape: number[]; count: number }[] = [];
    let need = 0;
    for (const w of group.weights as unknown[]) {
      if (!isObject(w) || typeof w.name !== 'string') throw badInput(`${where} has a weight entry without a name`, file);
      const dtype = w.dtype ?? 'float32';
      if (dtype !== 'float32') throw badInput(`weight "${w.name}" has dtype ${str(dtype)}; only float32 weights import`, file);
      if (w.quantization !== undefined) {
        throw badInput(`weight "${w.name}" is quantized; re-export the model without weight quantization`, file);
      }
      const shape = w.shape;
      let count = 1;
      if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
        throw badInput(`weight "${w.name}" has ${shape === undefined ? 'no shape' : `shape ${str(shape)}`}; expected a list of whole numbers`, file);
      }
      for (const d of shape as number[]) count *= d;
      if (!Number.isSafeInteger(count * 4)) throw badInput(`weight "${w.name}" shape ${str(shape)} is impossibly large`, file);
      specs.push({ name: w.name, shape: [...(shape as number[])], count });
      need += count * 4;
    }
    // Sizes come from stat, so an oversized or mismatched group is refused before any read.
    const files = (group.paths as unknown[]).map((p) => shardPath(dir, p, file));
    let have = 0;
    for (const f of files) {
      let st: fs.Stats;
      try {
        st = fs.statSync(f);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          throw badInput(`weight shard "${path.relative(dir, f)}" listed in model.json is missing; copy every shard file next to model.json`, file);
        }
        throw fileAccessError(e, f, 'weight shard');
      }
      if (!st.isFile()) throw badInput(`weight shard "${path.relative(dir, f)}" is not a file`, file);
      have += st.size;
    }
    total += have;
    if (total > maxBytes) throw tooLargeError(file, total, maxBytes, 'tfjs model (weight shards)');
    if (have !== need) {
      throw badInput(
        `${where}: the shard files (${files.map((f) => path.relative(dir, f)).join(', ')}) hold ${have} bytes but its weights need ${need} (truncated or mismatched shard?)`,
        file,
      );
    }
    const bytes = new Uint8Array(need);
    let pos = 0;
    for (const f of files) {
      let b: Buffer;
      try {
        b = fs.readFileSync(f);
      } catch (e) {
        throw fileAccessError(e, f, 'weight shard');
      }
      if (pos + b.length > need) throw badInput(`weight shard "${path.relative(dir, f)}" changed size while reading`, file);
      bytes.set(b, pos);
      pos += b.length;
    }
    if (pos !== need) throw badInput(`${where}: weight shards changed size while reading`, file);
    const view = new DataView(bytes.buffer);
    let off = 0;
    for (const s of specs) {
      const data = new Float32Array(s.count);
      for (let i = 0; i < s.count; i++) {
        const v = view.getFloat32(off + 4 * i, true);
        if (v - v !== 0) throw badInput(`weight "${s.name}" holds a non-finite value (${v}) at flat index ${i}`, file);
        data[i] = v;
      }
      off += 4 * s.count;
      out.push({ name: s.name, shape: s.shape, data });
    }
  });
  return out;
}

/** Pick each Dense layer's kernel and bias: by name when every one is found, else by manifest order. */
function matchWeights(dense: DenseInfo[], weights: ManifestWeight[], file: string): { kernel: ManifestWeight; bias?: ManifestWeight }[] {
  const byName = (layer: string, kind: 'kernel' | 'bias'): ManifestWeight | undefined => {
    const hits = weights.filter((w) => w.name === `${layer}/${kind}` || w.name.endsWith(`/${layer}/${kind}`));
    return hits.length === 1 ? hits[0] : undefined;
  };
  const named = dense.map((d) => ({ kernel: byName(d.name, 'kernel'), bias: d.useBias ? byName(d.name, 'bias') : undefined }));
  const needed = dense.reduce((n, d) => n + (d.useBias ? 2 : 1), 0);
  if (named.every((m, i) => m.kernel && (!dense[i].useBias || m.bias)) && weights.length === needed) {
    return named as { kernel: ManifestWeight; bias?: ManifestWeight }[];
  }
  if (weights.length !== needed) {
    throw badInput(
      `weightsManifest lists ${weights.length} weights but the ${dense.length} Dense layer(s) need ${needed} (kernel${dense[0].useBias ? ' and bias' : ''} each)`,
      file,
    );
  }
  let k = 0;
  return dense.map((d) => ({ kernel: weights[k++], bias: d.useBias ? weights[k++] : undefined }));
}

/** Import a tfjs LayersModel; `modelJsonPath` may be the model.json or its folder. */
export function importTfjsModel(modelJsonPath: string, opts: TfjsImportOptions = {}): ImportedTfjsModel {
  let file = modelJsonPath;
  try {
    if (fs.statSync(file).isDirectory()) file = path.join(file, 'model.json');
  } catch {
    // readModelJson reports the missing path
  }
  try {
    const json = readModelJson(file, opts.maxJsonBytes ?? MAX_HEADER_BYTES);
    const topology = layersTopology(json, file);
    const maxBytes = opts.maxBytes ?? maxCheckpointBytes();
    const loss = opts.loss ? parseLoss(opts.loss) : undefined;
    if (!isDenseStack(topology)) {
      const m = importKerasModel(topology, file, { loss, trainingLoss: lossFromTrainingConfig(json, topology), readWeights: () => readWeights(json, file, maxBytes) });
      return { file, ...m };
    }
    const { dense, inputWidth: declared } = parseTopology(topology, file);
    const kind = kindFrom(dense, json, topology, file, loss);
    const weights = readWeights(json, file, maxBytes);
    const matched = matchWeights(dense, weights, file);
    const firstKernel = matched[0].kernel;
    const inputWidth = declared ?? firstKernel.shape[0];
    if (typeof inputWidth !== 'number' || !Number.isSafeInteger(inputWidth) || inputWidth < 1) {
      throw badInput(`cannot tell the input width: no input shape in the topology and kernel "${firstKernel.name}" has shape ${str(firstKernel.shape)}`, file);
    }
    const spec: ModelSpec = { layers: [inputWidth, ...dense.map((d) => d.units)], ...kind };
    // Every shape is checked before the parameter vector is allocated, so a
    // topology declaring huge layers cannot allocate past the shards' size.
    matched.forEach((m, i) => {
      const fanIn = spec.layers[i];
      const fanOut = spec.layers[i + 1];
      const k = m.kernel;
      if (k.shape.length !== 2 || k.shape[0] !== fanIn || k.shape[1] !== fanOut) {
        throw badInput(
          `weight "${k.name}" has shape ${str(k.shape)}, but Dense layer "${dense[i].name}" of model ${modelText(spec)} needs a kernel [${fanIn}, ${fanOut}]`,
          file,
        );
      }
      if (m.bias && (m.bias.shape.length !== 1 || m.bias.shape[0] !== fanOut)) {
        throw badInput(`weight "${m.bias.name}" has shape ${str(m.bias.shape)}, but Dense layer "${dense[i].name}" needs a bias [${fanOut}]`, file);
      }
    });
    const layout = paramLayout(spec);
    const theta = new Float32Array(paramCount(spec));
    matched.forEach((m, i) => {
      theta.set(m.kernel.data, layout.find((e) => e.layer === i && e.kind === 'weight')!.offset);
      if (m.bias) theta.set(m.bias.data, layout.find((e) => e.layer === i && e.kind === 'bias')!.offset);
    });
    return { file, spec, theta, layerNames: dense.map((d) => d.name), softmaxStripped: dense[dense.length - 1].activation === 'softmax' };
  } catch (e) {
    if (e instanceof LandscapeError) throw e;
    // Unexpected shapes of JSON that slipped past the checks above still get a typed, file-naming error.
    throw badInput(`cannot import the tfjs model: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, file);
  }
}
