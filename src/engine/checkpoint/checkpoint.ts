/**
 * Model checkpoints: a safetensors file with one F32 tensor per entry of the
 * model's parameter layout ("layers.{i}.weight" [in, out], "layers.{i}.bias"
 * [out]) and string metadata describing how the weights came to be.
 *
 * Saving is deterministic (same inputs, same bytes; the caller supplies the
 * time) and atomic. Loading validates the file, then the tensor set against
 * the model spec, and also accepts PyTorch-written files when a spec is given.
 */
import { LandscapeError } from '../errors';
import {
  ModelSpec,
  Activation,
  LossName,
  paramCount,
  paramLayout,
  modelText,
  parseLayers,
  parseActivation,
  parseLoss,
} from '../model/spec';
import {
  DecodedSafetensors,
  DecodedTensor,
  ReadOptions,
  TensorHeaderEntry,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsSync,
  readSafetensorsHeader,
  maxCheckpointBytes,
  tooLargeError,
  toFloat32,
  badInput,
} from './safetensors';
import { writeFileAtomicSync, writeFileAtomic } from './atomic';
import { isLayerSpec, modelSpecFromText } from '../model/archModel';
import { thetaFromTorchTensors } from './torch-import';
import { buffersFromTorchArch, renamedTensors, thetaFromTorchArch } from './torch-arch-import';
import { importTfjsModel, TfjsImportOptions } from './tfjs-import';
import * as fs from 'fs';
import * as path from 'path';

export const CHECKPOINT_FORMAT_VERSION = '1';

/**
 * The metadata as stored: every value a string (a safetensors rule). Empty
 * strings stand for "not known" (e.g. accuracy of a regression model).
 */
export interface CheckpointMeta {
  formatVersion: string;
  /** Layer widths, e.g. "64-32-32-10". */
  model: string;
  activation: string;
  /** "true" or "false". */
  bias: string;
  loss: string;
  dataset: string;
  datasetSeed: string;
  testFraction: string;
  optimizer: string;
  /** JSON object of the optimizer's settings. */
  hyperparameters: string;
  seed: string;
  step: string;
  epoch: string;
  trainLoss: string;
  testLoss: string;
  trainAccuracy: string;
  testAccuracy: string;
  backend: string;
  /** ISO 8601; supplied by the caller so that saving stays deterministic. */
  time: string;
}

export const CHECKPOINT_META_KEYS: readonly (keyof CheckpointMeta)[] = [
  'formatVersion', 'model', 'activation', 'bias', 'loss', 'dataset', 'datasetSeed', 'testFraction', 'optimizer',
  'hyperparameters', 'seed', 'step', 'epoch', 'trainLoss', 'testLoss', 'trainAccuracy', 'testAccuracy', 'backend', 'time',
];

/** The metadata parsed into typed values; absent or empty fields are undefined. */
export interface ParsedCheckpointMeta {
  formatVersion: string;
  spec: ModelSpec;
  model: string;
  activation: Activation;
  bias: boolean;
  loss: LossName;
  dataset?: string;
  datasetSeed?: number;
  testFraction?: number;
  optimizer?: string;
  hyperparameters?: Record<string, unknown>;
  seed?: number;
  step?: number;
  epoch?: number;
  trainLoss?: number;
  testLoss?: number;
  trainAccuracy?: number;
  testAccuracy?: number;
  backend?: string;
  time?: string;
  /** Metadata keys this version does not know, kept verbatim. */
  extra: Record<string, string>;
}

export type CheckpointFormat = 'landscape' | 'torch';

/** Weights of a model from any supported file. */
export interface LoadedModel {
  file: string;
  /** Where the weights came from ('torch': transposed PyTorch Linear weights; 'tfjs': a LayersModel folder). */
  format: CheckpointFormat | 'tfjs';
  spec: ModelSpec;
  theta: Float32Array;
  /** Parsed Landscape metadata; undefined for files written by other tools. */
  meta?: ParsedCheckpointMeta;
  /** The raw "__metadata__" strings ({} for tfjs models). */
  rawMetadata: Record<string, string>;
  /** BatchNorm running statistics (layer-grammar models from PyTorch files that hold them). */
  buffers?: Float32Array;
}

export interface LoadedCheckpoint extends LoadedModel {
  format: CheckpointFormat;
  tensors: Map<string, DecodedTensor>;
}

export interface LoadOptions extends ReadOptions {
  /** Required for files without Landscape metadata (e.g. from PyTorch); checked against it otherwise. */
  spec?: ModelSpec;
  /** 'auto' (default) tells the layouts apart by metadata and tensor names/shapes. */
  format?: CheckpointFormat | 'auto';
  /** PyTorch files of layer-grammar models: our tensor name → the file's, where the names cannot decide the order (--tensor-map). */
  tensorMap?: Record<string, string>;
}

// ---------------------------------------------------------------- saving

/**
 * The metadata strings for a checkpoint: the caller's fields (plus `extra`
 * keys of its own), with the model fields taken from the spec (a conflicting
 * value is refused).
 */
export function checkpointMetadata(spec: ModelSpec, meta: Partial<CheckpointMeta>, extra: Record<string, string> = {}): Record<string, string> {
  const fromSpec: Record<string, string> = {
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    model: modelText(spec),
    // A layer-grammar model carries its activations and biases in its text.
    ...(spec.arch ? {} : { activation: spec.activation, bias: String(spec.bias) }),
    loss: spec.loss,
  };
  const out: Record<string, string> = {};
  for (const k of Object.keys(extra)) {
    if ((CHECKPOINT_META_KEYS as readonly string[]).includes(k)) throw badInput(`extra checkpoint metadata "${k}" clashes with a standard field`);
  }
  for (const [k, v] of [...Object.entries(meta), ...Object.entries(extra)] as [string, unknown][]) {
    if (v === undefined) continue;
    if (typeof v !== 'string') throw badInput(`checkpoint metadata "${k}" must be a string, got ${typeof v}`);
    out[k] = v;
  }
  for (const [k, v] of Object.entries(fromSpec)) {
    if (out[k] !== undefined && out[k] !== v) {
      throw badInput(`checkpoint metadata "${k}" is "${out[k]}" but the model spec says "${v}"`);
    }
    out[k] = v;
  }
  return out;
}

/** The checkpoint's bytes (deterministic for the same inputs). */
/** `buffers`: a layer-grammar model's BatchNorm running statistics, stored as its `running_mean`/`running_var` tensors. */
export function encodeCheckpoint(spec: ModelSpec, theta: Float32Array, meta: Partial<CheckpointMeta>, extra: Record<string, string> = {}, buffers?: Float32Array): Buffer {
  const p = paramCount(spec);
  if (theta.length !== p) {
    throw badInput(`parameter vector has ${theta.length} values but model ${modelText(spec)} needs ${p}`);
  }
  for (let i = 0; i < theta.length; i++) {
    const v = theta[i];
    // Such a file would be refused on load; failing here keeps the previous good checkpoint in place.
    if (v - v !== 0) throw new LandscapeError('compute', `refusing to save a checkpoint with a non-finite parameter (${v} at index ${i})`);
  }
  const tensors = paramLayout(spec).map((e) => ({
    name: e.name,
    dtype: 'F32' as const,
    shape: e.shape,
    data: theta.subarray(e.offset, e.offset + e.size),
  }));
  if (buffers && spec.arch) {
    if (buffers.length !== spec.arch.layout.bufferCount) throw badInput(`running statistics hold ${buffers.length} values but model ${modelText(spec)} needs ${spec.arch.layout.bufferCount}`);
    for (const b of spec.arch.layout.buffers) tensors.push({ name: b.name, dtype: 'F32' as const, shape: [...b.shape], data: buffers.subarray(b.offset, b.offset + b.size) });
  }
  return encodeSafetensors(tensors, checkpointMetadata(spec, meta, extra));
}

/** Save atomically (synchronous, so a training loop never has two writes of one file in flight). */
export function saveCheckpoint(
  file: string,
  spec: ModelSpec,
  theta: Float32Array,
  meta: Partial<CheckpointMeta>,
  extra: Record<string, string> = {},
  buffers?: Float32Array,
): void {
  writeFileAtomicSync(file, encodeCheckpoint(spec, theta, meta, extra, buffers));
}

export async function saveCheckpointAsync(
  file: string,
  spec: ModelSpec,
  theta: Float32Array,
  meta: Partial<CheckpointMeta>,
  extra: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(file, encodeCheckpoint(spec, theta, meta, extra));
}

// --------------------------------------------------------------- metadata

function field(raw: Record<string, string>, key: string): string | undefined {
  const v = Object.prototype.hasOwnProperty.call(raw, key) ? raw[key] : undefined;
  return v === undefined || v.trim() === '' ? undefined : v;
}

function wrap<T>(file: string, key: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof LandscapeError && e.file === undefined) throw badInput(`metadata "${key}": ${e.message}`, file);
    throw e;
  }
}

/**
 * Parse Landscape metadata. Returns undefined when the file carries none
 * (no "formatVersion"), e.g. a PyTorch file; throws on malformed values.
 */
export function parseCheckpointMeta(raw: Record<string, string>, file: string): ParsedCheckpointMeta | undefined {
  const version = field(raw, 'formatVersion');
  if (version === undefined) return undefined;
  if (version !== CHECKPOINT_FORMAT_VERSION) {
    throw badInput(
      `checkpoint format version "${version}" is not supported (this Landscape reads version ${CHECKPOINT_FORMAT_VERSION}); update Landscape`,
      file,
    );
  }
  const req = (key: string): string => {
    const v = field(raw, key);
    if (v === undefined) throw badInput(`checkpoint metadata has no "${key}" (needed to rebuild the model)`, file);
    return v;
  };
  const model = req('model');
  const loss = wrap(file, 'loss', () => parseLoss(req('loss')));
  const layered = isLayerSpec(model);
  const spec = layered ? wrap(file, 'model', () => modelSpecFromText(model, { loss })) : undefined;
  const layers = spec ? spec.layers : wrap(file, 'model', () => parseLayers(model));
  const activation = spec ? spec.activation : wrap(file, 'activation', () => parseActivation(req('activation')));
  const biasText = spec ? 'true' : req('bias');
  if (biasText !== 'true' && biasText !== 'false') throw badInput(`metadata "bias" must be "true" or "false", found "${biasText}"`, file);

  const int = (key: string): number | undefined => {
    const v = field(raw, key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw badInput(`metadata "${key}" must be a whole number, found "${v}"`, file);
    return n;
  };
  // Metrics may legitimately be NaN or Infinity (a diverged test loss), so those spellings pass.
  const num = (key: string): number | undefined => {
    const v = field(raw, key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (Number.isNaN(n) && v.trim() !== 'NaN') throw badInput(`metadata "${key}" must be a number, found "${v}"`, file);
    return n;
  };
  let hyperparameters: Record<string, unknown> | undefined;
  const hp = field(raw, 'hyperparameters');
  if (hp !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(hp);
    } catch {
      throw badInput(`metadata "hyperparameters" is not valid JSON: ${hp.slice(0, 80)}`, file);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw badInput('metadata "hyperparameters" must be a JSON object', file);
    }
    hyperparameters = parsed as Record<string, unknown>;
  }
  const known = new Set<string>(CHECKPOINT_META_KEYS);
  const extra = Object.fromEntries(Object.entries(raw).filter(([k]) => !known.has(k)));
  const bias = biasText === 'true';
  return {
    formatVersion: version,
    spec: spec ?? { layers, activation, bias, loss },
    model,
    activation,
    bias,
    loss,
    dataset: field(raw, 'dataset'),
    datasetSeed: int('datasetSeed'),
    testFraction: num('testFraction'),
    optimizer: field(raw, 'optimizer'),
    hyperparameters,
    seed: int('seed'),
    step: int('step'),
    epoch: int('epoch'),
    trainLoss: num('trainLoss'),
    testLoss: num('testLoss'),
    trainAccuracy: num('trainAccuracy'),
    testAccuracy: num('testAccuracy'),
    backend: field(raw, 'backend'),
    time: field(raw, 'time'),
    extra,
  };
}

// ---------------------------------------------------------------- loading

function checkSpecFits(spec: ModelSpec, maxBytes: number, file: string): void {
  const p = paramCount(spec);
  if (p * 4 > maxBytes) throw tooLargeError(file, p * 4, maxBytes, `model ${modelText(spec)} (${p} float32 parameters)`);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** True when the tensors are exactly our layout for the spec (names and shapes). */
export function matchesLandscapeLayout(tensors: Map<string, { shape: number[] }>, spec: ModelSpec): boolean {
  const layout = paramLayout(spec);
  if (tensors.size !== layout.length) return false;
  return layout.every((e) => {
    const t = tensors.get(e.name);
    return t !== undefined && sameShape(t.shape, e.shape);
  });
}

const OUR_NAME = /^layers\.\d+\.(weight|bias)$/;

/** The running statistics a Landscape checkpoint of a BatchNorm network holds (all of them, or none). */
export function buffersFromLandscapeTensors(tensors: Map<string, DecodedTensor>, spec: ModelSpec, file: string): Float32Array | undefined {
  const want = spec.arch?.layout.buffers ?? [];
  const present = want.filter((b) => tensors.has(b.name));
  if (present.length === 0) return undefined;
  const buffers = new Float32Array(spec.arch!.layout.bufferCount);
  for (const b of want) {
    const t = tensors.get(b.name);
    if (!t) throw badInput(`holds some BatchNorm running statistics but not "${b.name}"`, file);
    if (!sameShape(t.shape, b.shape)) throw badInput(`tensor "${b.name}" has shape [${t.shape.join(', ')}] but model ${modelText(spec)} needs [${b.shape.join(', ')}]`, file);
    buffers.set(toFloat32(b.name, t, file), b.offset);
  }
  return buffers;
}

/** Flat parameters from our layout; every missing, unexpected or misshapen tensor is named. */
export function thetaFromLandscapeTensors(tensors: Map<string, DecodedTensor>, spec: ModelSpec, file: string): Float32Array {
  const model = modelText(spec);
  const layout = paramLayout(spec);
  // A layer-grammar model's running statistics are buffers, read by buffersFromLandscapeTensors.
  const expected = new Set([...layout.map((e) => e.name), ...(spec.arch?.layout.buffers.map((b) => b.name) ?? [])]);
  const unexpected = [...tensors.keys()].filter((n) => !expected.has(n));
  for (const e of layout) {
    const t = tensors.get(e.name);
    if (!t) {
      const hint =
        e.kind === 'bias' && !unexpected.length && ![...tensors.keys()].some((n) => n.endsWith('.bias'))
          ? '; the file has no biases: load it with --no-bias'
          : '';
      throw badInput(`missing tensor "${e.name}" [${e.shape.join(', ')}] needed by model ${model}${hint}`, file);
    }
    if (!sameShape(t.shape, e.shape)) {
      throw badInput(`tensor "${e.name}" has shape [${t.shape.join(', ')}] but model ${model} needs [${e.shape.join(', ')}]`, file);
    }
  }
  if (unexpected.length > 0) {
    const list = unexpected.slice(0, 5).map((n) => `"${n}"`).join(', ') + (unexpected.length > 5 ? `, … (${unexpected.length} in all)` : '');
    const hint = !spec.bias && unexpected.every((n) => n.endsWith('.bias')) ? '; the file has biases: load it without --no-bias' : '';
    throw badInput(`unexpected tensor ${list} not part of model ${model}${hint}`, file);
  }
  const theta = new Float32Array(paramCount(spec));
  for (const e of layout) theta.set(toFloat32(e.name, tensors.get(e.name)!, file), e.offset);
  return theta;
}

/** Turn decoded safetensors into a checkpoint: spec from metadata or options, layout detection, validation. */
export function checkpointFromDecoded(decoded: DecodedSafetensors, file: string, opts: LoadOptions = {}): LoadedCheckpoint {
  const { tensors, metadata } = decoded;
  const meta = parseCheckpointMeta(metadata, file);
  let spec = opts.spec;
  if (spec && meta) {
    if (modelText(spec) !== modelText(meta.spec) || spec.bias !== meta.spec.bias) {
      throw badInput(
        `checkpoint holds model ${meta.model}${meta.bias ? '' : ' (no bias)'} but model ${modelText(spec)}${spec.bias ? '' : ' (no bias)'} was requested`,
        file,
      );
    }
  }
  spec ??= meta?.spec;
  if (!spec) {
    throw badInput(
      'has no Landscape metadata, so the model is unknown; pass a model spec (e.g. --model 64-32-10, plus --no-bias / --activation as needed) to load it',
      file,
    );
  }
  let format: CheckpointFormat;
  if (opts.format && opts.format !== 'auto') format = opts.format;
  else if (meta) format = 'landscape';
  else if (metadata.format === 'pt') format = 'torch';
  else if (matchesLandscapeLayout(tensors, spec)) format = 'landscape';
  // Our own names with the wrong shapes are better reported as our layout's error.
  else if (tensors.size > 0 && [...tensors.keys()].every((n) => OUR_NAME.test(n)) && !looksTransposed(tensors, spec)) format = 'landscape';
  else format = 'torch';
  if (format === 'torch') {
    // The PyTorch importer allocates the parameter vector before it matches
    // layers; a spec (typed by the user) that the file's values cannot fill is
    // refused first, so a huge spec never allocates more than the file holds.
    const need = paramCount(spec);
    let have = 0;
    for (const t of tensors.values()) have += t.data.length;
    if (need > have) {
      throw badInput(
        `model ${modelText(spec)} has ${need} parameters but the file holds only ${have} values; pass the model spec the weights were trained with (--model)`,
        file,
      );
    }
  }
  // A tensor map renames the file's tensors once, for the parameters and the running statistics alike.
  const torchTensors = format === 'torch' && spec.arch && opts.tensorMap ? renamedTensors(tensors, opts.tensorMap, spec, file) : tensors;
  const theta =
    format === 'landscape'
      ? thetaFromLandscapeTensors(tensors, spec, file)
      : spec.arch
        ? thetaFromTorchArch(torchTensors, spec, file)
        : thetaFromTorchTensors(tensors, spec, file);
  const buffers = !spec.arch ? undefined : format === 'torch' ? buffersFromTorchArch(torchTensors, spec, file) : buffersFromLandscapeTensors(tensors, spec, file);
  return { file, format, spec, theta, meta, rawMetadata: metadata, tensors, ...(buffers ? { buffers } : {}) };
}

/** "layers.{i}.weight" names are also what a PyTorch module with a `layers` Sequential writes. */
function looksTransposed(tensors: Map<string, DecodedTensor>, spec: ModelSpec): boolean {
  const w = tensors.get('layers.0.weight');
  return w !== undefined && w.shape.length === 2 && w.shape[0] === spec.layers[1] && w.shape[1] === spec.layers[0];
}

/**
 * Load a checkpoint. The model spec comes from the metadata, or from
 * opts.spec for files written elsewhere (PyTorch weights are transposed).
 */
export async function loadCheckpoint(file: string, opts: LoadOptions = {}): Promise<LoadedCheckpoint> {
  const maxBytes = opts.maxBytes ?? maxCheckpointBytes();
  if (opts.spec) checkSpecFits(opts.spec, maxBytes, file);
  const decoded = await readSafetensors(file, { ...opts, maxBytes });
  return checkpointFromDecoded(decoded, file, opts);
}

export function loadCheckpointSync(file: string, opts: LoadOptions = {}): LoadedCheckpoint {
  const maxBytes = opts.maxBytes ?? maxCheckpointBytes();
  if (opts.spec) checkSpecFits(opts.spec, maxBytes, file);
  const decoded = readSafetensorsSync(file, { ...opts, maxBytes });
  return checkpointFromDecoded(decoded, file, opts);
}

export interface CheckpointSummary {
  file: string;
  meta?: ParsedCheckpointMeta;
  rawMetadata: Record<string, string>;
  tensors: Map<string, TensorHeaderEntry>;
}

/** Metadata and tensor shapes from the header alone (no tensor data read): for listings and tooltips. */
export async function readCheckpointSummary(file: string): Promise<CheckpointSummary> {
  const h = await readSafetensorsHeader(file);
  return { file, meta: parseCheckpointMeta(h.metadata, file), rawMetadata: h.metadata, tensors: h.tensors };
}

/**
 * Load weights from whatever the user pointed at: a .safetensors checkpoint
 * (ours, or PyTorch's with opts.spec), a tfjs model.json, or a folder holding
 * a model.json.
 */
export async function loadModelFile(file: string, opts: LoadOptions & Pick<TfjsImportOptions, 'loss'> = {}): Promise<LoadedModel> {
  let target = file;
  try {
    if (fs.statSync(file).isDirectory() && fs.existsSync(path.join(file, 'model.json'))) target = path.join(file, 'model.json');
  } catch {
    // the loaders below report a missing path
  }
  if (path.basename(target).toLowerCase().endsWith('.json')) {
    const m = importTfjsModel(target, { loss: opts.loss, maxBytes: opts.maxBytes });
    return { file: m.file, format: 'tfjs', spec: m.spec, theta: m.theta, rawMetadata: {}, ...(m.buffers ? { buffers: m.buffers } : {}) };
  }
  return loadCheckpoint(target, opts);
}
