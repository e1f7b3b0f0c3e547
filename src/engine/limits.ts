/**
 * Size limits, checked before anything large is allocated, so that a typo
 * such as `--model 64-100000-100000-10` ends with a clear "too large"
 * message instead of an out-of-memory crash minutes later.
 *
 *   LANDSCAPE_MAX_PARAMS  most parameters a model may have (default 50,000,000:
 *                         200 MB per float32 copy, far beyond the small networks
 *                         Landscape is for)
 *   LANDSCAPE_MAX_MEMORY  most working memory a job may be estimated to need
 *                         (bytes, or with a K/M/G suffix; default half of this
 *                         machine's memory)
 *
 *   LANDSCAPE_MAX_DATA_BYTES  largest dataset file (IDX, CIFAR-10 batch, .npy,
 *                         .npz) read, and largest a compressed one may inflate
 *                         to (default 2 GiB)
 *
 * Checkpoint files have their own limit, LANDSCAPE_MAX_CHECKPOINT_BYTES
 * (src/engine/checkpoint/safetensors.ts); CSV files theirs (src/engine/data/csv.ts). The estimates are deliberately
 * rough upper bounds: they count every parameter-sized buffer a step keeps
 * alive and the activations of a full-batch gradient.
 */
import * as os from 'os';
import { inputError } from './errors';

export const MAX_PARAMS_ENV = 'LANDSCAPE_MAX_PARAMS';
export const MAX_MEMORY_ENV = 'LANDSCAPE_MAX_MEMORY';
export const DEFAULT_MAX_PARAMS = 50_000_000;
export const MAX_DATA_BYTES_ENV = 'LANDSCAPE_MAX_DATA_BYTES';
export const DEFAULT_MAX_DATA_BYTES = 2 * 1024 ** 3;

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A positive size from an environment variable: a whole number, or with a K/M/G/T suffix (powers of 1024). */
function envSize(name: string, allowSuffix: boolean): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const m = (allowSuffix ? /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i : /^\s*(\d+(?:\.\d+)?)()\s*$/).exec(raw);
  const v = m ? Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]) : NaN;
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw inputError(`environment variable ${name}="${raw.slice(0, 40)}" must be a positive ${allowSuffix ? 'size, e.g. 8G or 512M' : 'whole number'}`);
  }
  return v;
}

export function maxParams(): number {
  return envSize(MAX_PARAMS_ENV, false) ?? DEFAULT_MAX_PARAMS;
}

export function maxMemoryBytes(): number {
  return envSize(MAX_MEMORY_ENV, true) ?? Math.max(1024 ** 3, Math.floor(os.totalmem() / 2));
}

/** Largest dataset file read, and largest a compressed one may inflate to. */
export function maxDataBytes(): number {
  return envSize(MAX_DATA_BYTES_ENV, true) ?? DEFAULT_MAX_DATA_BYTES;
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** Parameters of a dense net, in float64 so that absurd specs do not overflow. */
export function countParams(layers: readonly number[], bias: boolean): number {
  let p = 0;
  for (let i = 0; i + 1 < layers.length; i++) p += layers[i] * layers[i + 1] + (bias ? layers[i + 1] : 0);
  return p;
}

/** Refuse a model with more than maxParams() parameters. Returns the parameter count. */
export function checkModelSize(layers: readonly number[], bias: boolean, layered?: { params: number; text: string }): number {
  const p = layered ? layered.params : countParams(layers, bias);
  const max = maxParams();
  if (p > max) {
    throw inputError(
      `model ${layered ? layered.text : layers.join('-')} is too large: ${p.toLocaleString('en-US')} parameters (${formatBytes(4 * p)} per float32 copy) ` +
        `exceed the limit of ${max.toLocaleString('en-US')}; use narrower layers, or raise ${MAX_PARAMS_ENV} if the machine has the memory`,
    );
  }
  return p;
}

/**
 * Refuse a job whose estimated working memory exceeds maxMemoryBytes().
 * `what` names the job ("training model 64-4096-10 on 1437 rows"), `parts`
 * break the estimate down, `advice` says how to make it smaller.
 */
export function checkMemory(bytes: number, what: string, parts: Record<string, number>, advice: string): void {
  const max = maxMemoryBytes();
  if (bytes <= max) return;
  const breakdown = Object.entries(parts)
    .filter(([, b]) => b > 0)
    .map(([k, b]) => `${k} ${formatBytes(b)}`)
    .join(', ');
  throw inputError(
    `${what} is too large for memory: it needs about ${formatBytes(bytes)} (${breakdown}), more than the limit of ${formatBytes(max)} ` +
      `(${MAX_MEMORY_ENV}, default half of this machine's memory); ${advice}, or raise ${MAX_MEMORY_ENV}`,
  );
}

export interface TrainingSize {
  layers: readonly number[];
  bias: boolean;
  optimizer: string;
  /** Rows of the training and test parts. */
  trainRows: number;
  testRows: number;
  features: number;
  outputs: number;
  /** L-BFGS memory (default 10). */
  history?: number;
  /** A layer-grammar model: its parameter count and activation floats per row (layers then name only its input and output). */
  layered?: { params: number; activationsPerRow: number; text: string };
}

/** Parameter-sized float32 copies alive during a step besides the optimizer's state. */
const STEP_COPIES = 8;

function optimizerStateBytes(name: string, p: number, history: number): number {
  switch (name) {
    case 'momentum':
    case 'nesterov':
    case 'adagrad':
    case 'rmsprop':
      return 4 * p;
    case 'adam':
      return 8 * p;
    case 'lbfgs':
      // (s, y) pairs in float64, plus the line search's trial points.
      return 16 * history * p + 16 * p;
    case 'rolling-ball':
      return 16 * p;
    default:
      return 0;
  }
}

/** Rough upper bound of training's working memory, in bytes, with its parts. */
export function estimateTrainingBytes(s: TrainingSize): { total: number; parts: Record<string, number> } {
  const p = s.layered ? s.layered.params : countParams(s.layers, s.bias);
  const widths = s.layered ? s.layered.activationsPerRow : s.layers.slice(1).reduce((a, w) => a + w, 0);
  const rows = s.trainRows + s.testRows;
  const parts = {
    parameters: 4 * p * STEP_COPIES + optimizerStateBytes(s.optimizer, p, s.history ?? 10),
    // Every epoch takes the full-batch gradient: each layer's pre-activation,
    // activation and gradient for every training row, plus the tiled input.
    activations: 4 * s.trainRows * (3 * widths + s.layers[0]),
    data: 4 * rows * (s.features + s.outputs) * 3,
  };
  return { total: parts.parameters + parts.activations + parts.data, parts };
}

/** checkMemory for a training run. */
export function checkTrainingMemory(s: TrainingSize): void {
  const e = estimateTrainingBytes(s);
  checkMemory(
    e.total,
    `training model ${s.layered ? s.layered.text : s.layers.join('-')} with ${s.optimizer} on ${s.trainRows} rows`,
    e.parts,
    'use narrower layers or fewer rows (--samples)',
  );
}
