/**
 * The analysis jobs on checkpoints, as the CLI (`landscape kpca | hessian |
 * gradcheck | slice`) and the VS Code worker both run them: the same inputs,
 * the same numbers and the same result objects, so a file either one writes
 * opens in the other's viewer. The callers own flags, files and output.
 */
import * as fs from 'fs';
import * as path from 'path';
import { computeError, inputError } from './errors';
import { loadAnyCheckpoint, type OpenedCheckpoint } from './evaluate';
import { checkSameSurface, type CheckpointObjective } from './checkpointObjective';
import { isAtomicTempFile } from './checkpoint/atomic';
import {
  describeStepCheck,
  gradientCheck,
  hessianSpectralDensity,
  hessianTopEigenvalues,
  hessianTrace,
  kernelPCA,
  layerBlocks,
  layerCurvature,
  reluKinkDetector,
  slice2DCheckpoints,
  slice2DRandom,
  sliceBetweenCheckpoints,
  sliceHessianDirection,
  sliceRandomDirection,
  type BiasMode,
  type HvpMode,
  type KernelPCAOptions,
  type KernelPCAResult,
  type Normalization,
  type GridRowEvaluator,
  type Slice,
} from './analysis';
import { optimizerStability, type OptimizerStability } from './trainingStability';
import { recordedHyperparameters } from './hyperparameters';
import { backendInfo } from './backend';
import { LANDSCAPE_VERSION } from './version';
import { checkpointLabel } from '../results/shapes';
import { HESSIAN_FORMAT_VERSION, hessianSettings, type HessianData, type HessianDensity, type HessianPerLayer } from '../results/hessian';
import { GRADCHECK_FORMAT_VERSION, gradcheckSettings, type GradcheckData } from '../results/gradcheck';
import { SLICE_FORMAT_VERSION, sliceSettings, type SliceData } from '../results/slice';
import { KPCA_FORMAT_VERSION, kpcaLabel, kpcaSettings, trajectoryOverlay, type KpcaData, type KpcaOverlay, type KpcaPoint } from '../results/kpca';

export { recordedHyperparameters } from './hyperparameters';

/** The tfjs backend the results record (initBackend ran before any analysis). */
function backendName(): string {
  return backendInfo()?.name ?? 'unknown';
}

/** Progress of a long analysis, for a status line. */
export interface AnalysisProgress {
  text: string;
  done: number;
  total: number;
}

// ---------------------------------------------------------------------------
// Files and labels

/** Most files a folder may expand to; kernel PCA of more is a different tool. */
const MAX_FOLDER_FILES = 5000;

function isCheckpointFile(name: string): boolean {
  return /\.safetensors$/i.test(name) && !isAtomicTempFile(name);
}

/** Every checkpoint under a folder (recursively, skipping hidden folders and node_modules), in path order. */
export function checkpointsInFolder(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (e) {
      throw inputError(`cannot read the folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`, d);
    }
    entries.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (depth < 6 && !e.name.startsWith('.') && e.name !== 'node_modules') walk(p, depth + 1);
      } else if (e.isFile() && isCheckpointFile(e.name)) {
        found.push(p);
        if (found.length > MAX_FOLDER_FILES) throw inputError(`holds more than ${MAX_FOLDER_FILES} checkpoints; pass a smaller folder or the files themselves`, dir);
      }
    }
  };
  walk(dir, 0);
  return found;
}

/**
 * The shortest trailing part of each path that tells them apart, e.g.
 * "run-a/final.safetensors" and "run-b/final.safetensors", for tables and plot labels.
 */
export function shortLabels(files: string[]): string[] {
  const parts = files.map((f) => path.resolve(f).split(path.sep).filter(Boolean));
  const labels = parts.map((p) => p[p.length - 1]);
  for (let round = 2; round <= Math.max(2, ...parts.map((p) => p.length)); round++) {
    const count = new Map<string, number>();
    for (const l of labels) count.set(l, (count.get(l) ?? 0) + 1);
    let clash = false;
    labels.forEach((l, i) => {
      if ((count.get(l) ?? 0) > 1 && parts[i].length >= round) {
        labels[i] = parts[i].slice(-round).join('/');
        clash = true;
      }
    });
    if (!clash) break;
  }
  return labels;
}

/** A finite number from checkpoint metadata, or undefined (never NaN). */
export function metaNumber(meta: Record<string, string>, key: string): number | undefined {
  const s = meta[key];
  if (s === undefined || s.trim() === '') return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

// ---------------------------------------------------------------------------
// Kernel PCA

/** The run folder a checkpoint belongs to (the nearest folder with run.json, checkpoints/ looked through), by name. */
export function runOf(file: string): string | undefined {
  let dir = path.dirname(path.resolve(file));
  if (path.basename(dir) === 'checkpoints' && !fs.existsSync(path.join(dir, 'run.json'))) dir = path.dirname(dir);
  return fs.existsSync(path.join(dir, 'run.json')) ? path.basename(dir) : undefined;
}

export function kpcaPoint(ck: OpenedCheckpoint, label: string, coords: number[]): KpcaPoint {
  const m = ck.meta;
  const p: KpcaPoint = { file: ck.file, label, model: ck.specString, coords };
  const run = runOf(ck.file);
  if (run) p.run = run;
  if (m.optimizer) p.optimizer = m.optimizer;
  const numbers: [keyof KpcaPoint, string][] = [
    ['epoch', 'epoch'],
    ['loss', 'trainLoss'],
    ['accuracy', 'trainAccuracy'],
    ['testLoss', 'testLoss'],
    ['testAccuracy', 'testAccuracy'],
  ];
  for (const [k, key] of numbers) {
    const v = metaNumber(m, key);
    if (v !== undefined) (p as unknown as Record<string, number>)[k] = v;
  }
  return p;
}

/** Kernel PCA of opened checkpoints: the fit and each checkpoint's point in it. */
export async function kpcaOfCheckpoints(cks: readonly OpenedCheckpoint[], opts: Omit<KernelPCAOptions, 'names'> = {}): Promise<{ fit: KernelPCAResult; points: KpcaPoint[] }> {
  const names = cks.map((c) => c.file);
  const fit = await kernelPCA(
    cks.map((c) => c.theta),
    { ...opts, names },
  );
  const labels = shortLabels(names);
  return { fit, points: cks.map((ck, i) => kpcaPoint(ck, labels[i], fit.projections[i])) };
}

export interface KpcaAnalysisOptions extends Omit<KernelPCAOptions, 'names'> {
  /** A run folder whose periodic checkpoints are projected into the map as its first overlay. */
  trajectory?: string;
  /** The model spec for checkpoints without one (PyTorch files). */
  model?: string;
}

/** Kernel PCA of opened checkpoints as the kernel PCA result, with a run's trajectory when asked. */
export async function kpcaAnalysis(cks: readonly OpenedCheckpoint[], opts: KpcaAnalysisOptions = {}): Promise<KpcaData> {
  const t0 = Date.now();
  const { trajectory, model, ...fitOpts } = opts;
  const { fit, points } = await kpcaOfCheckpoints(cks, fitOpts);
  const overlays = trajectory !== undefined ? [await projectTrajectory(fit, trajectory, { model })] : [];
  const result: Omit<KpcaData, 'settings'> = {
    kind: 'kpca',
    formatVersion: KPCA_FORMAT_VERSION,
    command: 'kpca',
    backend: backendName(),
    ...kpcaSummary(fit),
    points,
    overlays,
    label: kpcaLabel(points.map((p) => path.resolve(p.file))),
    seconds: (Date.now() - t0) / 1000,
    landscapeVersion: LANDSCAPE_VERSION,
  };
  return { ...result, settings: kpcaSettings(result) };
}

/** The fit's description as the results carry it. */
function kpcaSummary(fit: KernelPCAResult) {
  return {
    kernel: fit.kernel,
    components: fit.components,
    n: fit.n,
    dim: fit.dim,
    eigenvalues: fit.eigenvalues,
    explainedVariance: fit.explainedVariance,
    spectrum: fit.spectrum,
    warnings: fit.warnings,
  };
}

/** A run's trajectory checkpoints: checkpoints/*.safetensors, or the folder's own files. */
export function trajectoryFiles(dir: string, hint = 'train with --checkpoint-every k to save a trajectory'): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw inputError('run folder not found; check the path of the run folder', dir);
  }
  if (!st.isDirectory()) throw inputError('needs a run folder (with checkpoints/epoch-NNNN.safetensors), not a file', dir);
  const sub = path.join(dir, 'checkpoints');
  const files = fs.existsSync(sub) ? checkpointsInFolder(sub) : checkpointsInFolder(dir);
  if (files.length === 0) throw inputError(`has no checkpoints to project; ${hint}`, dir);
  return files;
}

/** A run's periodic checkpoints projected into a fitted map with its training centring, in epoch order. */
export async function projectTrajectory(fit: KernelPCAResult, dir: string, opts: { model?: string; hint?: string } = {}): Promise<KpcaOverlay> {
  const tfiles = trajectoryFiles(dir, opts.hint);
  const tcks: OpenedCheckpoint[] = [];
  for (const file of tfiles) tcks.push(await loadAnyCheckpoint(file, opts.model));
  // Epoch order, not name order: checkpoints from other tools need not be zero-padded.
  tcks.sort((a, b) => (metaNumber(a.meta, 'epoch') ?? Infinity) - (metaNumber(b.meta, 'epoch') ?? Infinity));
  const coords = fit.transform(
    tcks.map((c) => c.theta),
    tcks.map((c) => c.file),
  );
  const tlabels = shortLabels(tcks.map((c) => c.file));
  return trajectoryOverlay(path.basename(path.resolve(dir)), dir, tcks.map((ck, i) => kpcaPoint(ck, tlabels[i], coords[i])));
}

// ---------------------------------------------------------------------------
// Hessian and stability

export interface HessianAnalysisOptions {
  k?: number;
  iterations?: number;
  /** Rademacher probes of the trace estimate; absent or 0: no trace. */
  traceSamples?: number;
  seed?: number;
  hvp?: HvpMode;
  /** A learning rate given by the user instead of the recorded one ('flag': --lr, 'asked': VS Code asked for it). */
  lr?: { value: number; source: 'flag' | 'asked' };
  /** Also the eigenvalue density by stochastic Lanczos quadrature (default 8 runs × 60 steps, σ 1 % of the span). */
  density?: { runs?: number; steps?: number; sigma?: number };
  /** Also each layer's top eigenvalue and trace (default ≤ 30 Lanczos steps and 64 probes per layer). */
  perLayer?: { iterations?: number; samples?: number; exactUpTo?: number };
  signal?: AbortSignal;
  onProgress?: (p: AnalysisProgress) => void;
}

/** The SLQ density of a checkpoint's Hessian, as the result carries it. */
async function densityOfCheckpoint(ck: OpenedCheckpoint, obj: CheckpointObjective, opts: HessianAnalysisOptions, seed: number): Promise<HessianDensity> {
  const d = await hessianSpectralDensity(obj.objective, ck.theta, {
    ...opts.density,
    seed,
    hvp: opts.hvp ?? 'auto',
    signal: opts.signal,
    onRun: (done, runs) => opts.onProgress?.({ text: `eigenvalue density: Lanczos run ${done}/${runs}`, done, total: runs }),
  });
  if (![d.mean, d.sigma, ...d.density].every(Number.isFinite)) throw computeError(`the eigenvalue density is not finite (mean ${d.mean})`, ck.file);
  const { runs, steps, hvp, sigma, sigmaSource, x, density, quadratures, mean, meanStandardError } = d;
  return { runs, steps, seed, hvp, sigma, sigmaSource, x, density, quadratures, mean, ...(Number.isFinite(meanStandardError) ? { meanStandardError } : {}) };
}

/** The top eigenvalue and trace of each layer's diagonal Hessian block, as the result carries them. */
async function perLayerOfCheckpoint(ck: OpenedCheckpoint, obj: CheckpointObjective, opts: HessianAnalysisOptions, seed: number): Promise<HessianPerLayer> {
  const iterations = opts.perLayer?.iterations ?? 30;
  const samples = opts.perLayer?.samples ?? 64;
  const exactUpTo = opts.perLayer?.exactUpTo ?? iterations + samples;
  const r = await layerCurvature(obj.objective, ck.theta, layerBlocks(ck.spec), {
    iterations,
    samples,
    exactUpTo,
    seed,
    hvp: opts.hvp ?? 'auto',
    signal: opts.signal,
    onBlock: (done, blocks, last) => opts.onProgress?.({ text: `per-layer curvature: ${last.name} done (${done}/${blocks}), λmax ≈ ${last.topEigenvalue.toPrecision(4)}`, done, total: blocks }),
  });
  const bad = r.blocks.find((b) => !(Number.isFinite(b.topEigenvalue) && Number.isFinite(b.trace)));
  if (bad) throw computeError(`the curvature of layer ${bad.name} is not finite`, ck.file);
  return { seed, hvp: r.hvp, iterations, samples, exactUpTo, layers: r.blocks };
}

export type CheckpointStability = OptimizerStability & {
  l2?: number;
  lrSource: 'flag' | 'asked' | 'metadata' | 'none';
  optimizer: string | null;
};

/**
 * The stability verdict of a checkpoint: λmax (+ the L2 coefficient the
 * training objective added) against the bound of its recorded optimizer and
 * learning rate, or against plain gradient descent with a given η.
 */
export function checkpointStability(lambdaMax: number, meta: Record<string, string>, file: string, given?: HessianAnalysisOptions['lr']): CheckpointStability {
  const hp = given ? { lr: given.value } : recordedHyperparameters(meta, file);
  const optimizer = given ? 'gd' : meta.optimizer;
  // Training descended the loss plus (l2/2)‖θ‖², whose Hessian is shifted by l2.
  const l2 = given ? 0 : (hp.l2 ?? 0);
  return {
    ...optimizerStability(lambdaMax + l2, optimizer, hp),
    ...(l2 > 0 ? { l2 } : {}),
    lrSource: given ? given.source : hp.lr !== undefined ? 'metadata' : 'none',
    optimizer: given ? (given.source === 'flag' ? 'gradient descent (--lr)' : 'gradient descent (η given)') : (optimizer ?? null),
  };
}

/** Top-k Hessian eigenvalues (Lanczos), the optional trace (Hutchinson) and the stability verdict. */
export async function hessianAnalysis(ck: OpenedCheckpoint, obj: CheckpointObjective, opts: HessianAnalysisOptions = {}): Promise<HessianData> {
  const t0 = Date.now();
  const k = opts.k ?? 1;
  const seed = opts.seed ?? 0;
  const hvp = opts.hvp ?? 'auto';
  const maxIter = Math.min(ck.theta.length, opts.iterations ?? Math.max(20, 3 * k + 10));
  const samples = opts.traceSamples ?? 0;
  const total = maxIter + samples;
  const eig = await hessianTopEigenvalues(obj.objective, ck.theta, {
    k,
    iterations: opts.iterations,
    seed,
    hvp,
    signal: opts.signal,
    onIteration: (it) => opts.onProgress?.({ text: `Lanczos step ${it.iteration}/${maxIter}, λ1 ≈ ${it.eigenvalues[0]?.toPrecision(4) ?? '?'}`, done: it.iteration, total }),
  });
  const bad = eig.eigenvalues.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw computeError(`eigenvalue ${bad + 1} is not finite (${eig.eigenvalues[bad]})`, ck.file);
  const trace =
    samples > 0
      ? await hessianTrace(obj.objective, ck.theta, {
          samples,
          seed,
          hvp,
          signal: opts.signal,
          onProgress: (p) => opts.onProgress?.({ text: `trace: ${p.samples}/${samples} probes, ≈ ${p.estimate.toPrecision(4)}`, done: eig.iterations + p.samples, total: eig.iterations + samples }),
        })
      : undefined;
  if (trace && !(Number.isFinite(trace.trace) && Number.isFinite(trace.standardError))) throw computeError(`the trace estimate is not finite (${trace.trace})`, ck.file);
  const density = opts.density ? await densityOfCheckpoint(ck, obj, opts, seed) : undefined;
  const perLayer = opts.perLayer ? await perLayerOfCheckpoint(ck, obj, opts, seed) : undefined;
  const stability = checkpointStability(eig.eigenvalues[0], ck.meta, ck.file, opts.lr);
  const result: Omit<HessianData, 'settings'> = {
    kind: 'hessian',
    formatVersion: HESSIAN_FORMAT_VERSION,
    command: 'hessian',
    ...checkpointProvenance(ck),
    dim: ck.theta.length,
    objective: { dataset: obj.dataset, split: obj.split, samples: obj.trainSize, loss: eig.loss },
    eigenvalues: eig.eigenvalues,
    errorEstimates: eig.errorEstimates,
    residuals: eig.residuals,
    iterations: eig.iterations,
    converged: eig.converged,
    restarts: eig.restarts,
    hvp: eig.hvp,
    ...(eig.hvpFallbackReason ? { hvpFallbackReason: eig.hvpFallbackReason } : {}),
    ...(eig.hvpCheck ? { hvpCheck: eig.hvpCheck } : {}),
    // The note is about central differences' accuracy: it only matters when they are the products in use.
    ...(eig.hvp === 'finite-difference' && eig.hvpCheck?.finiteDifferenceStepDependence !== undefined
      ? { hvpCheckNote: describeStepCheck(eig.hvpCheck.finiteDifferenceStepDependence, ck.spec.activation) }
      : {}),
    ...(eig.fdStep !== undefined ? { fdStep: eig.fdStep } : {}),
    seed,
    k,
    ...(trace ? { trace: { estimate: trace.trace, standardError: trace.standardError, samples: trace.samples, hvp: trace.hvp, seed: trace.seed } } : {}),
    stability,
    ...(density ? { density } : {}),
    ...(perLayer ? { perLayer } : {}),
    seconds: (Date.now() - t0) / 1000,
    landscapeVersion: LANDSCAPE_VERSION,
  };
  return { ...result, settings: hessianSettings(result) };
}

export type HessianAnalysis = HessianData;

// ---------------------------------------------------------------------------
// Gradient check

export interface GradcheckAnalysisOptions {
  coordinates?: number;
  directions?: number;
  seed?: number;
  tolerance?: number;
  signal?: AbortSignal;
}

/** The gradient check of a checkpoint's training loss, with exact ReLU kink detection on its own inputs. */
export async function gradcheckAnalysis(ck: OpenedCheckpoint, obj: CheckpointObjective, opts: GradcheckAnalysisOptions = {}): Promise<GradcheckData> {
  const t0 = Date.now();
  const kinkDetector = ck.spec.activation === 'relu' ? reluKinkDetector(ck.spec, obj.x) : undefined;
  const r = await gradientCheck(obj.objective, ck.theta, {
    coordinates: opts.coordinates,
    directions: opts.directions,
    seed: opts.seed ?? 0,
    tolerance: opts.tolerance,
    kinkDetector,
    signal: opts.signal,
  });
  const result: Omit<GradcheckData, 'settings'> = {
    kind: 'gradcheck',
    formatVersion: GRADCHECK_FORMAT_VERSION,
    command: 'gradcheck',
    ...checkpointProvenance(ck),
    activation: ck.spec.activation,
    objective: { dataset: obj.dataset, split: obj.split, samples: obj.trainSize, loss: r.loss },
    verdict: r.passed ? 'PASS' : 'FAIL',
    ...r,
    seconds: (Date.now() - t0) / 1000,
    landscapeVersion: LANDSCAPE_VERSION,
  };
  return { ...result, settings: gradcheckSettings(result) };
}

export type GradcheckAnalysis = GradcheckData;

/** The fields every per-checkpoint result opens with: which file, as panels name it, on which backend, which model. */
function checkpointProvenance(ck: { file: string; specString: string }) {
  return { file: ck.file, label: checkpointLabel(path.resolve(ck.file)), backend: backendName(), model: ck.specString };
}

// ---------------------------------------------------------------------------
// Slices

export const SLICE_KINDS = ['line', 'random', 'hessian', 'plane', 'random-plane'] as const;
export type SliceKind = (typeof SLICE_KINDS)[number];

/** Checkpoints each kind takes. */
export const SLICE_ARITY: Record<SliceKind, number> = { line: 2, random: 1, hessian: 1, plane: 3, 'random-plane': 1 };

export function isSlice2D(kind: SliceKind): boolean {
  return kind === 'plane' || kind === 'random-plane';
}

export interface SliceAnalysisOptions {
  points?: number;
  range?: [number, number];
  yRange?: [number, number];
  /** Random direction seed (random-plane: seed and seed + 1), or the Lanczos seed of 'hessian'. */
  seed?: number;
  normalization?: Normalization;
  bias?: BiasMode;
  iterations?: number;
  hvp?: HvpMode;
  /** The data was overridden (--dataset): checkpoints need only share the model. */
  datasetOverride?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Who evaluates the grid (the job queue); default this process. */
  rows?: GridRowEvaluator;
  /** Extra entries for meta.source. */
  source?: Record<string, string>;
}

/**
 * Checks the checkpoints of a slice before any data is loaded: as many as the
 * kind takes, no file twice, one loss surface. Returns their labels.
 */
export function checkSliceInputs(kind: SliceKind, cks: readonly OpenedCheckpoint[], opts: { datasetOverride?: boolean } = {}): string[] {
  if (SLICE_ARITY[kind] !== cks.length) {
    throw inputError(`--kind ${kind} takes ${SLICE_ARITY[kind]} checkpoint${SLICE_ARITY[kind] === 1 ? '' : 's'}, got ${cks.length}`);
  }
  const files = cks.map((c) => c.file);
  const labels = shortLabels(files);
  if (new Set(labels).size < labels.length) throw inputError(`the same checkpoint is given twice (${files.join(', ')})`);
  // The objective is the first checkpoint's training loss; the others must live on the same surface.
  for (let i = 1; i < cks.length; i++) checkSameSurface(cks[0], cks[i], { datasetOverride: opts.datasetOverride });
  return labels;
}

/** The slice of `kind` through the checkpoints on the first one's training loss (see checkSliceInputs). */
export async function sliceAnalysis(kind: SliceKind, cks: readonly OpenedCheckpoint[], obj: CheckpointObjective, opts: SliceAnalysisOptions = {}): Promise<SliceData> {
  const t0 = Date.now();
  const s = await sliceOfKind(kind, cks, obj, opts);
  return sliceResult(kind, cks, obj, s, (Date.now() - t0) / 1000);
}

/** The fields every slice result shares: provenance, the objective and the engine's meta, labelled by the first checkpoint. */
export function sliceResultCommon(cks: readonly OpenedCheckpoint[], obj: CheckpointObjective, s: Slice, seconds: number) {
  const meta = { ...s.meta, source: s.meta.source && Object.fromEntries(Object.entries(s.meta.source).map(([k, v]) => [k, String(v)])) };
  return {
    kind: 'slice' as const,
    formatVersion: SLICE_FORMAT_VERSION,
    command: 'slice' as const,
    backend: backendName(),
    model: cks[0].specString,
    objective: { dataset: obj.dataset, split: obj.split, samples: obj.trainSize },
    meta,
    label: checkpointLabel(path.resolve(cks[0].file)),
    seconds,
    landscapeVersion: LANDSCAPE_VERSION,
  };
}

/** The engine's slice as the slice result: the request and the objective beside it, its "kind" ("1d"/"2d") as dims. */
function sliceResult(kind: SliceKind, cks: readonly OpenedCheckpoint[], obj: CheckpointObjective, s: Slice, seconds: number): SliceData {
  const files = cks.map((c) => c.file);
  const shared = sliceResultCommon(cks, obj, s, seconds);
  const result: DistributiveOmit<SliceData, 'settings'> =
    s.kind === '1d'
      ? { ...shared, request: { kind, files, points: s.axes.x.points }, dims: '1d', axes: s.axes, values: s.values }
      : { ...shared, request: { kind, files, points: [s.axes.x.points, s.axes.y.points] }, dims: '2d', axes: s.axes, values: s.values };
  return { ...result, settings: sliceSettings(result) } as SliceData;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

async function sliceOfKind(kind: SliceKind, cks: readonly OpenedCheckpoint[], obj: CheckpointObjective, opts: SliceAnalysisOptions): Promise<Slice> {
  const labels = checkSliceInputs(kind, cks, opts);
  const source: Record<string, string> = { dataset: obj.dataset, split: obj.split, ...(opts.source ?? {}) };
  cks.forEach((ck, i) => (source[cks.length === 1 ? 'checkpoint' : String.fromCharCode(65 + i)] = ck.file));
  const grid = { points: opts.points, signal: opts.signal, source, onProgress: opts.onProgress, rows: opts.rows };
  const random = { normalization: opts.normalization, bias: opts.bias, spec: cks[0].spec };
  const { range, yRange, seed } = opts;
  switch (kind) {
    case 'line':
      return sliceBetweenCheckpoints(obj.objective, cks[0].theta, cks[1].theta, { ...grid, range, names: [labels[0], labels[1]] });
    case 'random':
      return sliceRandomDirection(obj.objective, cks[0].theta, { ...grid, ...random, range, seed: seed ?? 1, name: labels[0] });
    case 'hessian':
      return sliceHessianDirection(obj.objective, cks[0].theta, {
        ...grid,
        range,
        name: labels[0],
        lanczos: { seed: seed ?? 0, iterations: opts.iterations, hvp: opts.hvp },
      });
    case 'random-plane': {
      const s0 = seed ?? 1;
      return slice2DRandom(obj.objective, cks[0].theta, { ...grid, ...random, xRange: range, yRange: yRange ?? range, seeds: [s0, s0 + 1], name: labels[0] });
    }
    case 'plane':
      return slice2DCheckpoints(obj.objective, cks[0].theta, cks[1].theta, cks[2].theta, { ...grid, xRange: range, yRange: yRange ?? range, names: [labels[0], labels[1], labels[2]] });
  }
}
