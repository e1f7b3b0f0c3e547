/**
 * `landscape.json`: the experiment file at the workspace root. It names the
 * dataset, the model and the training settings with the same words as the
 * CLI flags (camelCase). This module parses and checks it (every fault names
 * the file and the field), fills defaults, and turns it into the engine's
 * TrainConfig. No vscode and no tfjs (only a file read), so the host can use
 * it and tests can fuzz it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { inputError } from '../engine/errors';
import { escapeControl, quoteText } from '../engine/text';
import { ACTIVATIONS, LOSSES } from '../engine/model/spec';
import { modelSpecProblem, modelSpecText } from '../engine/model/specCheck';
import { OPTIMIZER_NAMES, OPTION_KEYS } from '../engine/optim/types';
import type { TrainConfig } from '../engine/train';
import type { TrainForm } from '../protocol';

export const EXPERIMENT_FILE = 'landscape.json';

/**
 * Built-in datasets and backends, kept here rather than imported so that the
 * extension host never pulls in the data loaders or tfjs; a unit test checks
 * these lists against the engine's.
 */
export const BUILTIN_DATASETS = ['digits', 'spirals', 'moons', 'circles', 'blobs', 'xor', 'teacher'] as const;
export const BACKEND_SETTING_VALUES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendSetting = (typeof BACKEND_SETTING_VALUES)[number];
export const TASKS = ['classification', 'regression', 'auto'] as const;

/**
 * The training settings of TrainConfig, minus what the extension decides
 * itself (the run folder, resume/overwrite). `dataset` may be a CSV path
 * relative to the experiment file; `backend` is one of the setting's values.
 */
export interface Experiment extends Omit<TrainConfig, 'out' | 'backend' | 'resume' | 'overwrite'> {
  backend?: BackendSetting;
  /** Prefix of the run folder name. */
  name?: string;
}

/** What "Landscape: Train" runs when the workspace has no landscape.json. */
export const DEFAULT_EXPERIMENT: Readonly<Experiment> = Object.freeze({
  dataset: 'digits',
  model: '64-32-32-10',
  activation: 'relu',
  bias: false,
  optimizer: 'sgd',
  lr: 0.1,
  epochs: 30,
  batch: 32,
  seed: 0,
});

type FieldCheck = (v: unknown) => string | null;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const intAtLeast = (min: number): FieldCheck => (v) => (isInt(v) && v >= min ? null : `must be a whole number ≥ ${min}`);
const oneOf = (values: readonly string[]): FieldCheck => (v) => (typeof v === 'string' && values.includes(v) ? null : `must be one of ${values.join(', ')}`);
const nonEmptyString = (max: number): FieldCheck => (v) =>
  typeof v === 'string' && v.trim().length > 0 && v.length <= max ? null : `must be a non-empty string of at most ${max} characters`;

const FIELDS: Record<keyof Experiment | '$schema', FieldCheck> = {
  $schema: (v) => (typeof v === 'string' ? null : 'must be a string'),
  dataset: nonEmptyString(4096),
  // Dense widths, a layer spec or a built-in name; in landscape.json also a list of layer tokens.
  model: modelSpecProblem,
  activation: oneOf(ACTIVATIONS),
  bias: (v) => (typeof v === 'boolean' ? null : 'must be true or false'),
  loss: oneOf(LOSSES),
  optimizer: oneOf(OPTIMIZER_NAMES),
  lr: (v) => (isNum(v) && v > 0 ? null : 'must be a positive number'),
  momentum: (v) => (isNum(v) && v >= 0 && v < 1 ? null : 'must be a number in [0, 1)'),
  l2: (v) => (isNum(v) && v >= 0 ? null : 'must be a number ≥ 0'),
  epochs: (v) => (isInt(v) && v >= 1 && v <= 1_000_000 ? null : 'must be a whole number from 1 to 1000000'),
  batch: intAtLeast(1),
  seed: (v) => (isInt(v) && v >= 0 && v <= 0xffffffff ? null : 'must be a whole number from 0 to 4294967295'),
  dataSeed: (v) => (isInt(v) && v >= 0 && v <= 0xffffffff ? null : 'must be a whole number from 0 to 4294967295'),
  checkpointEvery: intAtLeast(0),
  stabilityEvery: (v) => (isInt(v) && v >= 0 && v <= 1_000_000 ? null : 'must be a whole number from 0 (off) to 1000000'),
  testFraction: (v) => (isNum(v) && v > 0 && v < 1 ? null : 'must be a number between 0 and 1'),
  labelColumn: (v) => (isInt(v) || (typeof v === 'string' && v.length > 0 && v.length <= 1000) ? null : 'must be a column name or index'),
  task: oneOf(TASKS),
  n: intAtLeast(1),
  noise: (v) => (isNum(v) && v >= 0 ? null : 'must be a number ≥ 0'),
  subset: intAtLeast(2),
  backend: oneOf(BACKEND_SETTING_VALUES),
  name: (v) =>
    typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v)
      ? null
      : 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  optimizerOptions: (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'must be an object of numbers';
    for (const [k, x] of Object.entries(v)) {
      if (!(OPTION_KEYS as readonly string[]).includes(k)) return `has an unknown option ${quoteText(k)}; known options: ${OPTION_KEYS.join(', ')}`;
      if (!isNum(x)) return `option "${k}" must be a finite number`;
    }
    return null;
  },
};

export const EXPERIMENT_FIELDS = Object.keys(FIELDS).filter((k) => k !== '$schema') as (keyof Experiment)[];

/** A landscape.json holds a few settings; anything far larger is not one. */
export const MAX_EXPERIMENT_CHARS = 1024 * 1024;

/**
 * The text of landscape.json on disk, or null when there is none. Its size is
 * checked from stat before reading: a huge file (or a folder by that name)
 * gets a clear error instead of being read into memory first.
 */
export function readExperimentFile(file: string): string | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (!st.isFile()) throw inputError('is not a file; landscape.json should be a small JSON file of settings', file);
  // A character takes at most 4 bytes in UTF-8, so beyond this the text is surely over the limit.
  if (st.size > 4 * MAX_EXPERIMENT_CHARS) {
    throw inputError(`is too large for a landscape.json (${st.size} bytes, at most ${MAX_EXPERIMENT_CHARS} characters); it should hold a few settings`, file);
  }
  return fs.readFileSync(file, 'utf8');
}

/**
 * Parse and check the text of landscape.json. Throws an input error naming
 * `file` and the field. Bound: text over MAX_EXPERIMENT_CHARS is refused
 * before parsing; otherwise the cost is one JSON.parse plus linear checks of
 * bounded fields (test/unit/fuzz-experiment.test.ts).
 */
export function parseExperiment(text: string, file: string): Experiment {
  if (text.length > MAX_EXPERIMENT_CHARS) {
    throw inputError(`is too large for a landscape.json (${text.length} characters, at most ${MAX_EXPERIMENT_CHARS}); it should hold a few settings`, file);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    // V8 quotes a bounded snippet of the text, which may hold control characters.
    throw inputError(`not valid JSON (${escapeControl((e as Error).message).slice(0, 300)})`, file);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw inputError('must hold a JSON object such as {"dataset": "digits", "model": "64-32-32-10", "optimizer": "sgd", "epochs": 30}', file);
  }
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!Object.prototype.hasOwnProperty.call(FIELDS, key)) {
      throw inputError(`unknown field ${quoteText(key, 80)}; known fields: ${EXPERIMENT_FIELDS.join(', ')}`, file);
    }
    const why = FIELDS[key as keyof typeof FIELDS](o[key]);
    if (why) throw inputError(`field "${key}" ${why}`, file);
  }
  // Fields left out take the defaults of "New Experiment", so a file holding
  // only {"epochs": 5} trains the default network for 5 epochs.
  const exp = { ...DEFAULT_EXPERIMENT } as Experiment;
  for (const key of EXPERIMENT_FIELDS) {
    if (key in o) (exp as unknown as Record<string, unknown>)[key] = key === 'model' ? modelSpecText(o[key] as string | string[]) : o[key];
  }
  // The default learning rate suits SGD; another optimizer gets its own default.
  if (!('lr' in o) && exp.optimizer !== DEFAULT_EXPERIMENT.optimizer) delete exp.lr;
  return exp;
}

export function isBuiltinDataset(name: string): boolean {
  return (BUILTIN_DATASETS as readonly string[]).includes(name);
}

/** Replace the fields the side view's form edits. */
export function applyForm(exp: Experiment, form: TrainForm, file = 'the training form'): Experiment {
  const patch: Record<string, unknown> = { dataset: form.dataset.trim(), model: form.model.trim(), optimizer: form.optimizer, epochs: form.epochs };
  if (form.stabilityEvery !== undefined) patch.stabilityEvery = form.stabilityEvery;
  for (const [k, v] of Object.entries(patch)) {
    const why = FIELDS[k as keyof typeof FIELDS](v);
    if (why) throw inputError(`${k} ${why}`, file);
  }
  const out: Experiment = { ...exp, ...(patch as Pick<Experiment, 'dataset' | 'model' | 'optimizer' | 'epochs' | 'stabilityEvery'>) };
  // The form's empty "stability every" field means off.
  if (out.stabilityEvery === 0) delete out.stabilityEvery;
  // A learning rate chosen for another optimizer would be wrong for the new one.
  if (form.optimizer !== exp.optimizer) delete out.lr;
  return out;
}

export function formFromExperiment(exp: Experiment): TrainForm {
  const form: TrainForm = { dataset: exp.dataset, model: exp.model, optimizer: exp.optimizer, epochs: exp.epochs };
  if (exp.stabilityEvery) form.stabilityEvery = exp.stabilityEvery;
  return form;
}

/** Run folder name: `<name or dataset-optimizer>-<UTC yyyymmdd-hhmmss>`, made unique with a counter. */
export function runFolderName(exp: Experiment, now: Date, exists: (name: string) => boolean): string {
  const dataset = isBuiltinDataset(exp.dataset) ? exp.dataset : path.basename(exp.dataset).replace(/\.[^.]*$/, '');
  const prefix = (exp.name ?? `${dataset}-${exp.optimizer}`).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64) || 'run';
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}-${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  const base = `${prefix}-${stamp}`;
  if (!exists(base)) return base;
  for (let i = 2; i < 10_000; i++) if (!exists(`${base}-${i}`)) return `${base}-${i}`;
  throw inputError(`too many runs named ${base}`);
}

export interface TrainConfigContext {
  /** Folder of landscape.json (the workspace root); relative CSV paths resolve against it. */
  root: string;
  /** Absolute run folder. */
  out: string;
  /** landscape.backend setting, used unless the experiment names a backend. */
  backend?: string;
  /** landscape.checkpointEvery setting, used unless the experiment sets it. */
  checkpointEvery?: number;
}

export function experimentToTrainConfig(exp: Experiment, ctx: TrainConfigContext): TrainConfig {
  const dataset = isBuiltinDataset(exp.dataset) ? exp.dataset : path.resolve(ctx.root, exp.dataset);
  const cfg: TrainConfig = {
    dataset,
    model: exp.model,
    optimizer: exp.optimizer,
    epochs: exp.epochs,
    out: ctx.out,
  };
  const copy = ['activation', 'bias', 'loss', 'lr', 'momentum', 'l2', 'batch', 'seed', 'dataSeed', 'testFraction', 'labelColumn', 'task', 'n', 'noise'] as const;
  for (const k of copy) if (exp[k] !== undefined) (cfg as unknown as Record<string, unknown>)[k] = exp[k];
  if (exp.optimizerOptions) cfg.optimizerOptions = { ...exp.optimizerOptions };
  if (exp.stabilityEvery) cfg.stabilityEvery = exp.stabilityEvery;
  cfg.checkpointEvery = exp.checkpointEvery ?? ctx.checkpointEvery;
  if (cfg.checkpointEvery === undefined) delete cfg.checkpointEvery;
  const backend = exp.backend ?? ctx.backend;
  if (backend && backend !== 'auto') cfg.backend = backend;
  return cfg;
}

/** The file "Landscape: New Experiment" writes: the defaults, spelled out so they are easy to edit. */
export function experimentTemplate(): string {
  // checkpointEvery stays out so the landscape.checkpointEvery setting applies.
  const t: Experiment & { testFraction: number } = {
    dataset: DEFAULT_EXPERIMENT.dataset,
    model: DEFAULT_EXPERIMENT.model,
    activation: DEFAULT_EXPERIMENT.activation,
    bias: DEFAULT_EXPERIMENT.bias,
    optimizer: DEFAULT_EXPERIMENT.optimizer,
    lr: DEFAULT_EXPERIMENT.lr,
    epochs: DEFAULT_EXPERIMENT.epochs,
    batch: DEFAULT_EXPERIMENT.batch,
    seed: DEFAULT_EXPERIMENT.seed,
    // Spelled out so a second run with another seed keeps the same data split: barriers compare minima of one loss.
    dataSeed: 0,
    testFraction: 0.2,
  };
  return JSON.stringify(t, null, 2) + '\n';
}
