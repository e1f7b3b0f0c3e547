/**
 * Analysis results (kernel PCA, Hessian spectrum, gradient check, slices):
 * where they are saved beside their checkpoints, how they are written (paths
 * relative to the file, so a workspace can move) and read.
 *
 * The Hessian, the gradient check and slices have one shape
 * (src/results/hessian.ts, gradcheck.ts, slice.ts): the engine returns it,
 * the CLI writes it, the worker saves it here, and reading validates it with
 * the same schema (format-1 files go through the kind's upgrade function).
 * Kernel PCA still has the CLI's JSON and the panel's data; its converter is
 * below.
 *
 * Pure (no vscode, no tfjs). Everything read from a file is untrusted: fields
 * are checked as they are read, faults name the file, and the data is
 * validated against its schema before a panel sees it.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import { inputError } from '../engine/errors';
import { formatNumber, formatPercent, ResultDataSchema, type AnalysisRef, type KpcaOverlay, type KpcaPoint, type ResultData, type ResultKind } from '../protocol';
import { validate, type Schema } from '../schema';
import { FORMAT_VERSIONS } from '../results';
import { commonFolder } from './barrierFiles';
import { resolveRecordedPath, resultKindOf } from './cliResults';
import { readResultFile, readResultJson, saveResultFile, type ResultFile } from './resultFiles';
import { writeJsonAtomic } from '../engine/checkpoint/atomic';
import { HESSIAN_FORMAT_VERSION, HessianSchema, hessianSettings, upgradeHessian } from '../results/hessian';
import type { SliceKindName } from '../worker/protocol';

import type { KpcaData } from '../results/kpca';
import type { HessianData } from '../results/hessian';
import type { GradcheckData } from '../results/gradcheck';
import type { SliceData } from '../results/slice';
import { GRADCHECK_FORMAT_VERSION, GRADCHECK_SUFFIX, GradcheckSchema, gradcheckSettings, upgradeGradcheck } from '../results/gradcheck';
import { HESSIAN_SUFFIX } from '../results/hessian';
import { KPCA_SUFFIX } from '../results/kpca';
import { SLICE_FORMAT_VERSION, SLICE_SUFFIX, SliceSchema, sliceSettings, upgradeSlice } from '../results/slice';
export type { GradcheckData, HessianData, KpcaData, SliceData };
export type AnalysisData = KpcaData | HessianData | GradcheckData | SliceData;
export type AnalysisKind = AnalysisData['kind'];
export const ANALYSIS_KINDS: readonly AnalysisKind[] = ['kpca', 'hessian', 'gradcheck', 'slice'];

/** File name endings of saved analysis results (the custom editor's patterns). */
export const ANALYSIS_SUFFIXES: Record<AnalysisKind, string> = {
  kpca: KPCA_SUFFIX,
  hessian: HESSIAN_SUFFIX,
  gradcheck: GRADCHECK_SUFFIX,
  slice: SLICE_SUFFIX,
};

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------
// File names

/** A checkpoint's stem: the file name without .safetensors, or a tfjs model's folder name. */
export function checkpointStem(file: string): string {
  const base = path.basename(file);
  if (base.toLowerCase() === 'model.json') return path.basename(path.dirname(file)) || 'model';
  return base.replace(/\.(safetensors|json)$/i, '');
}

function clean(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+|-+$/g, '') || 'x';
}

/** How another checkpoint is named from `dir`: its path without the extension, folders joined by "-". */
function relName(dir: string, file: string): string {
  let rel = path.relative(dir, file);
  if (path.basename(rel).toLowerCase() === 'model.json') rel = path.dirname(rel);
  else rel = rel.replace(/\.(safetensors|json)$/i, '');
  const parts = rel.split(/[\\/]+/).filter((p) => p && p !== '..' && p !== '.');
  return clean(parts.join('-')).slice(-100);
}

/** How a checkpoint is labelled in panels: run/stem (a run's checkpoints/ folder looked through), or folder/stem. */
export function checkpointLabel(file: string): string {
  const stem = checkpointStem(file);
  let dir = path.dirname(file);
  if (path.basename(file).toLowerCase() === 'model.json') dir = path.dirname(dir);
  if (path.basename(dir) === 'checkpoints') dir = path.dirname(dir);
  const parent = path.basename(dir);
  const label = parent ? `${parent}/${stem}` : stem;
  return label.length > 80 ? `…${label.slice(-79)}` : label;
}

/** `<dir>/<stem>.hessian.json` beside the checkpoint. */
export function hessianResultFile(file: string): string {
  return path.join(path.dirname(file), `${clean(checkpointStem(file)).slice(0, 120)}${ANALYSIS_SUFFIXES.hessian}`);
}

/** `<dir>/<stem>.gradcheck.json` beside the checkpoint. */
export function gradcheckResultFile(file: string): string {
  return path.join(path.dirname(file), `${clean(checkpointStem(file)).slice(0, 120)}${ANALYSIS_SUFFIXES.gradcheck}`);
}

/**
 * `<stem>[__<B>[__<C>]].<kind>.slice.json` beside the first checkpoint; the
 * others are named by their way from its folder, so slices of different kinds
 * and through different checkpoints never overwrite each other.
 */
export function sliceResultFile(kind: string, files: readonly string[]): string {
  if (files.length === 0) throw new Error('a slice needs a checkpoint');
  const dir = path.dirname(files[0]);
  const parts = [clean(checkpointStem(files[0])).slice(0, 120), ...files.slice(1).map((f) => relName(dir, f))];
  return path.join(dir, `${parts.join('__')}.${clean(kind)}${ANALYSIS_SUFFIXES.slice}`);
}

/**
 * A kernel PCA map: `<folder>/<folder name>.kpca.json` for a folder; for a
 * set of files, `kpca-<n>-<hash of the set>.kpca.json` in the folder they
 * share, so two sets never overwrite each other and one set always lands on
 * the same file.
 */
export function kpcaResultFile(files: readonly string[], folder?: string): string {
  if (folder) return path.join(folder, `${clean(path.basename(folder)).slice(0, 120)}${ANALYSIS_SUFFIXES.kpca}`);
  const base = commonFolder(files);
  const key = [...files].map((f) => path.relative(base, f).split(path.sep).join('/')).sort().join('\n');
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 8);
  return path.join(base, `kpca-${files.length}-${hash}${ANALYSIS_SUFFIXES.kpca}`);
}

export function analysisKindOfName(file: string): AnalysisKind | undefined {
  const base = path.basename(file).toLowerCase();
  return ANALYSIS_KINDS.find((k) => base.endsWith(ANALYSIS_SUFFIXES[k]));
}

// ---------------------------------------------------------------------------
// Saving and reading (paths relative on disk, absolute in memory)

function mapPaths<T extends AnalysisData>(d: T, f: (p: string) => string): T {
  const ref = (r: AnalysisRef): AnalysisRef => ({ ...r, path: f(r.path) });
  switch (d.kind) {
    case 'kpca':
      return { ...d, folder: f(d.folder), points: d.points.map((p) => ({ ...p, path: f(p.path) })), overlays: d.overlays.map((o) => ({ ...o, source: f(o.source) })) } as T;
    case 'hessian':
    case 'gradcheck':
      return { ...d, file: f(d.file) } as T;
    case 'slice':
      return { ...d, request: { ...d.request, files: d.request.files.map(f) } } as T;
  }
}

/** Kinds whose file is the result itself (format 2 on), as the CLI writes it; the others are still wrapped (resultFiles.ts). */
const BARE: Partial<Record<AnalysisKind, AnalysisFormat>> = {
  hessian: { version: HESSIAN_FORMAT_VERSION, schema: HessianSchema, upgrade: upgradeHessian, settings: (d) => hessianSettings(d as HessianData) },
  gradcheck: { version: GRADCHECK_FORMAT_VERSION, schema: GradcheckSchema, upgrade: upgradeGradcheck, settings: (d) => gradcheckSettings(d as GradcheckData) },
  slice: { version: SLICE_FORMAT_VERSION, schema: SliceSchema, upgrade: upgradeSlice, settings: (d) => sliceSettings(d as SliceData) },
};

interface AnalysisFormat {
  version: number;
  schema: Schema<unknown>;
  /** A format-1 document (the CLI's or the extension's) as the current format, settings left empty. */
  upgrade(doc: Record<string, unknown>): Record<string, unknown>;
  /** The settings table of a valid result. */
  settings(data: AnalysisData): [string, string][];
}

/** Save an analysis result with its checkpoints' paths relative to the file. */
export function saveAnalysisResult(file: string, data: AnalysisData, now = new Date()): void {
  const dir = path.dirname(path.resolve(file));
  const rel = (p: string) => {
    const r = path.relative(dir, p);
    return (r === '' ? '.' : r).split(path.sep).join('/');
  };
  const format = BARE[data.kind];
  if (!format) return saveResultFile(file, mapPaths(data, rel), now);
  const v = validate(format.schema, data, 'result');
  if (!v.ok) throw inputError(`refusing to save an invalid result (${v.error})`, file);
  writeJsonAtomic(file, mapPaths(data, rel));
}

/** Which analysis a document holds: its "kind", or the CLI's "command" in format 1. */
function analysisKindOfDoc(doc: Json): AnalysisKind | undefined {
  const k = typeof doc.kind === 'string' && (ANALYSIS_KINDS as readonly string[]).includes(doc.kind) ? doc.kind : doc.command;
  return typeof k === 'string' && (ANALYSIS_KINDS as readonly string[]).includes(k) ? (k as AnalysisKind) : undefined;
}

/** A file of a later format than this version reads is refused, saying so. */
function refuseNewer(doc: Json, current: number, file: string): void {
  const version = doc.formatVersion;
  if (typeof version === 'number' && version > current) {
    throw inputError(`was written by a newer Landscape (format ${version}; this version reads up to ${current}); update Landscape to open it`, file);
  }
}

/** The document as the current format of its kind: upgraded from format 1, refused when newer, validated. */
function currentFormat(doc: Json, format: AnalysisFormat, file: string): AnalysisData {
  refuseNewer(doc, format.version, file);
  const upgrade = doc.formatVersion !== format.version;
  const v = validate(format.schema, upgrade ? format.upgrade(doc) : doc, 'result');
  if (!v.ok) throw inputError(`is not a valid result (damaged, or not written by Landscape): ${v.error}`, file);
  const data = v.value as AnalysisData;
  return upgrade ? { ...data, settings: format.settings(data) } : data;
}

/**
 * Read a saved analysis result (of `kind`, when given), its paths made
 * absolute again: the file's own folder first, then `roots` (the CLI records
 * paths as it was given them). Files of the previous format open through
 * their kind's upgrade function.
 */
export function readAnalysisResult<K extends AnalysisKind>(file: string, kind?: K, roots: readonly string[] = []): { data: Extract<AnalysisData, { kind: K }> } {
  const raw = readResultJson(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw inputError('is not a Landscape result (not a JSON object)', file);
  const outer = raw as Json;
  const doc = 'landscapeResult' in outer && typeof outer.data === 'object' && outer.data !== null ? (outer.data as Json) : outer;
  const found = analysisKindOfDoc(doc);
  if (!found) throw inputError(`holds a ${resultKindOf(outer, file)} result, not ${kind ?? 'an analysis result'}`, file);
  const format = found && BARE[found];
  if (!format) {
    if ('landscapeResult' in outer) return readWrappedAnalysis(file, kind);
    refuseNewer(doc, FORMAT_VERSIONS[found], file);
    if (kind && found !== kind) throw inputError(`holds a ${found} result, not ${kind}`, file);
    const data = analysisFromJson(doc, { file, roots, writtenBy: `landscape ${found} (${path.basename(file)})` });
    return { data: data as Extract<AnalysisData, { kind: K }> };
  }
  if (kind && found !== kind) throw inputError(`holds a ${found} result, not ${kind}`, file);
  const data = currentFormat(doc, format, file);
  return { data: mapPaths(data, (p) => resolveRecordedPath(p, file, roots)) as Extract<AnalysisData, { kind: K }> };
}

/** An analysis result in the extension's wrapped form (kinds not yet in BARE). */
function readWrappedAnalysis<K extends AnalysisKind>(file: string, kind?: K): ResultFile & { data: Extract<AnalysisData, { kind: K }> } {
  const r = readResultFile(file, kind);
  if (!(ANALYSIS_KINDS as readonly string[]).includes(r.data.kind)) throw inputError(`holds a ${r.data.kind} result, not an analysis result`, file);
  const dir = path.dirname(path.resolve(file));
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(dir, p));
  return { ...r, data: mapPaths(r.data as AnalysisData, abs) as Extract<AnalysisData, { kind: K }> };
}

// ---------------------------------------------------------------------------
// The CLI's JSON as panel data

/** Which CLI command wrote a result object (its "command" field), as a result kind. */
export function analysisKindOfCli(doc: Json): AnalysisKind | undefined {
  const c = doc.command;
  return typeof c === 'string' && (ANALYSIS_KINDS as readonly string[]).includes(c) ? (c as AnalysisKind) : undefined;
}

/** Where a converted result comes from: the file (named in errors) and how its recorded paths resolve. */
export interface Origin {
  file: string;
  /** Folders recorded relative paths are tried against after the file's own. */
  roots: readonly string[];
  /** "landscape kpca (x.json)" or "VS Code"; shown in the settings table. */
  writtenBy: string;
  seconds?: number;
}

class Reader {
  constructor(readonly file: string) {}

  fail(msg: string): never {
    throw inputError(msg, this.file);
  }

  obj(v: unknown, what: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${what} is not an object`);
    return v as Json;
  }

  arr(v: unknown, what: string): unknown[] {
    if (!Array.isArray(v)) this.fail(`${what} is not a list`);
    return v;
  }

  num(o: Json, key: string, what = key): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`"${what}" is not a finite number`);
    return v;
  }

  int(o: Json, key: string, what = key): number {
    const v = this.num(o, key, what);
    if (!Number.isInteger(v)) this.fail(`"${what}" is not a whole number`);
    return v;
  }

  str(o: Json, key: string, what = key, max = 4096): string {
    const v = o[key];
    if (typeof v !== 'string') this.fail(`"${what}" is not a string`);
    return v.slice(0, max);
  }

  nums(v: unknown, what: string): number[] {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) this.fail(`${what} is not a list of finite numbers`);
    return v as number[];
  }
}

/** Copy a finite number or a short string field when present (so optional fields stay absent, never NaN). */
function optNum(o: Json, key: string): number | undefined {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function optStr(o: Json, key: string, max = 200): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined;
}

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function checked<T extends ResultData>(data: T, file: string): T {
  const v = validate(ResultDataSchema, data, 'result');
  if (!v.ok) throw inputError(`cannot be shown: ${v.error}`, file);
  return data;
}

function refOf(p: string): AnalysisRef {
  return { path: p, label: checkpointLabel(p) };
}

function kpcaPointFrom(r: Reader, o: Json, what: string, origin: Origin): KpcaPoint {
  return defined({
    path: resolveRecordedPath(r.str(o, 'file', `${what}.file`), origin.file, origin.roots),
    label: r.str(o, 'label', `${what}.label`),
    run: optStr(o, 'run'),
    optimizer: optStr(o, 'optimizer', 100),
    epoch: optNum(o, 'epoch'),
    loss: optNum(o, 'loss'),
    accuracy: optNum(o, 'accuracy'),
    testLoss: optNum(o, 'testLoss'),
    testAccuracy: optNum(o, 'testAccuracy'),
    coords: r.nums(o.coords, `${what}.coords`),
  });
}

/** A projected trajectory as the CLI writes it ({run, folder, points}) as an overlay. */
export function trajectoryOverlayFrom(v: unknown, origin: Origin): KpcaOverlay {
  const r: Reader = new Reader(origin.file);
  const t = r.obj(v, '"trajectory"');
  const run = r.str(t, 'run', 'trajectory.run', 200);
  const points = r.arr(t.points, 'trajectory.points').map((p, i) => {
    const o = r.obj(p, `trajectory.points[${i}]`);
    return defined({ label: r.str(o, 'label', `trajectory.points[${i}].label`), coords: r.nums(o.coords, `trajectory.points[${i}].coords`), epoch: optNum(o, 'epoch'), loss: optNum(o, 'loss'), testAccuracy: optNum(o, 'testAccuracy') });
  });
  return { kind: 'trajectory', label: `trajectory of ${run}`, source: resolveRecordedPath(r.str(t, 'folder', 'trajectory.folder'), origin.file, origin.roots), points };
}

function kernelText(k: KpcaData['kernel']): string {
  const parts = [k.gamma !== undefined ? `γ = ${formatNumber(k.gamma)}` : '', k.degree !== undefined ? `degree ${k.degree}` : '', k.coef0 !== undefined ? `coef0 ${formatNumber(k.coef0)}` : ''].filter(Boolean);
  return `${k.kernel}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** `landscape kpca` JSON (or the worker's identical object) as the kernel PCA panel's data. */
export function kpcaFromJson(doc: Json, origin: Origin): KpcaData {
  const r: Reader = new Reader(origin.file);
  if (analysisKindOfCli(doc) !== 'kpca') r.fail('is not the JSON of landscape kpca');
  const k = r.obj(doc.kernel, '"kernel"');
  const kernel = defined({ kernel: r.str(k, 'kernel', 'kernel.kernel', 40) as KpcaData['kernel']['kernel'], gamma: optNum(k, 'gamma'), degree: optNum(k, 'degree'), coef0: optNum(k, 'coef0') });
  const points = r.arr(doc.points, '"points"').map((p, i) => kpcaPointFrom(r, r.obj(p, `points[${i}]`), `points[${i}]`, origin));
  if (points.length === 0) r.fail('has no points');
  const overlays: KpcaOverlay[] = doc.trajectory !== undefined ? [trajectoryOverlayFrom(doc.trajectory, origin)] : [];
  const components = r.int(doc, 'components');
  const explained = r.nums(doc.explainedVariance, '"explainedVariance"');
  const data: KpcaData = {
    kind: 'kpca',
    folder: commonFolder(points.map((p) => p.path)),
    kernel,
    components,
    n: r.int(doc, 'n'),
    dim: r.int(doc, 'dim'),
    eigenvalues: r.nums(doc.eigenvalues, '"eigenvalues"'),
    explainedVariance: explained,
    spectrum: Array.isArray(doc.spectrum) ? r.nums(doc.spectrum, '"spectrum"') : [],
    warnings: Array.isArray(doc.warnings) ? doc.warnings.filter((w): w is string => typeof w === 'string').map((w) => w.slice(0, 4096)).slice(0, 100) : [],
    points,
    overlays,
    backend: String(doc.backend ?? '?').slice(0, 100),
    seconds: origin.seconds ?? 0,
    settings: [
      ['checkpoints', `${points.length} (${r.int(doc, 'dim')} parameters each)`],
      ['kernel', kernelText(kernel)],
      ['components', String(components)],
      ['explained variance', explained.map((v, c) => `PC${c + 1} ${formatPercent(v)}`).join(', ')],
      ['backend', String(doc.backend ?? '–').slice(0, 100)],
      ['written by', origin.writtenBy],
    ],
  };
  return checked(data, origin.file);
}

/** Any of the four CLI analysis results as panel data. */
export function analysisFromJson(doc: Json, origin: Origin): AnalysisData {
  switch (analysisKindOfCli(doc)) {
    case 'kpca':
      return kpcaFromJson(doc, origin);
    default:
      throw inputError('is not the JSON of landscape kpca', origin.file);
  }
}

/** Whether a result kind is one of the analysis kinds. */
export function isAnalysisKind(kind: ResultKind): kind is AnalysisKind {
  return (ANALYSIS_KINDS as readonly string[]).includes(kind);
}

/**
 * Engine messages written for the terminal ("pass --dataset", "--kind …"),
 * reworded for VS Code, where the data split comes from landscape.json and
 * there are no flags to pass.
 */
export function vscodeWording(message: string): string {
  return message
    .replace(/trained on different data \(([^)]*)\), so their losses are not one surface;? ?pass --dataset.*$/, 'trained on different data ($1), so their losses are not one surface. Train the runs you compare with the same "dataSeed" in landscape.json (it defaults to "seed").')
    .replace(/has no dataset in its metadata; pass one with --dataset.*$/, 'has no dataset in its metadata, so its training loss cannot be rebuilt; analyses need a checkpoint trained by Landscape (or use the landscape CLI with --dataset).')
    .replace(/has unreadable hyperparameters metadata \(not JSON\); pass --lr/, 'has unreadable hyperparameters metadata (not JSON); run the command again and give the learning rate when asked')
    .replace(/^--kind (\S+) takes/, 'a $1 slice takes');
}

/** The slice kinds as the quick pick offers them, and how many checkpoints each takes. */
export const SLICE_CHOICES: { kind: SliceKindName; label: string; description: string; checkpoints: number; twoD: boolean }[] = [
  { kind: 'random', label: 'Random direction', description: '1D · a filter-normalised random direction (Li et al. 2018), seed 1', checkpoints: 1, twoD: false },
  { kind: 'hessian', label: 'Top Hessian eigenvector', description: '1D · the sharpest direction, unit length', checkpoints: 1, twoD: false },
  { kind: 'line', label: 'Line through two checkpoints', description: '1D · this checkpoint and another, from t = −0.5 to 1.5', checkpoints: 2, twoD: false },
  { kind: 'random-plane', label: 'Random plane', description: '2D · two filter-normalised random directions, seeds 1 and 2', checkpoints: 1, twoD: true },
  { kind: 'plane', label: 'Plane through three checkpoints', description: '2D · this checkpoint and two others', checkpoints: 3, twoD: true },
];

/** η as typed in the input box: a positive number, or empty for no verdict. Returns an error text, or null when fine. */
export function checkLearningRateInput(v: string): string | null {
  const t = v.trim();
  if (t === '') return null;
  const x = Number(t);
  return Number.isFinite(x) && x > 0 ? null : 'Enter a positive number such as 0.1, or leave it empty for no verdict.';
}

/** More than this is not a set anyone gathers by hand; kernel PCA of a folder handles those. */
export const MAX_KPCA_SET = 500;

/** The kernel PCA set after adding `files`: no duplicates, the order of adding kept, at most `cap` (the newest win). */
export function mergeKpcaSet(current: readonly string[], files: readonly string[], cap = MAX_KPCA_SET): string[] {
  const out = current.filter((f, i) => current.indexOf(f) === i);
  for (const f of files) if (!out.includes(f)) out.push(f);
  return out.length > cap ? out.slice(out.length - cap) : out;
}
