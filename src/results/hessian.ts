/**
 * The Hessian of one checkpoint (`*.hessian.json`): top eigenvalues by
 * Lanczos, the trace, and the stability verdict. One shape everywhere: the
 * engine's hessianAnalysis returns it, `landscape hessian --json/--out`
 * writes it, the worker saves and posts it, the Hessian panel shows it.
 * Files of format 1 (Landscape 0.1.0) open through upgradeHessian.
 */
import { LIMITS, S, type Infer } from '../schema';
import { checkpointLabel, count, filePath, kvRows, num, ObjectiveSchema, optNum, series, STABILITY_VERDICTS, str, upgradeStamp, type Json } from './shapes';

/**
 * Version of this kind's format (1: Landscape 0.1.0; 2: one shape for the CLI
 * and the extension). Optional fields added later (density, perLayer) keep 2:
 * every format-2 file without them is still a valid format-2 file.
 */
export const HESSIAN_FORMAT_VERSION = 2;
export const HESSIAN_SUFFIX = '.hessian.json';

export const HessianStabilitySchema = S.object({
  verdict: S.oneOf(STABILITY_VERDICTS),
  lambdaMax: num,
  lr: optNum,
  momentum: optNum,
  l2: optNum,
  /** The bound on η·λmax: 2 for gradient descent. */
  limit: num,
  /** limit / η: the 2/η line. */
  threshold: optNum,
  ratio: optNum,
  maxStableLr: optNum,
  message: S.string(LIMITS.text),
  lrSource: S.oneOf(['flag', 'asked', 'metadata', 'none'] as const),
  optimizer: S.nullable(S.string(200)),
});

/**
 * The eigenvalue density by stochastic Lanczos quadrature (`--density`): the
 * density on a grid (it integrates to 1: the fraction of eigenvalues per unit
 * of λ), each run's Ritz values and weights, and trace/P with its standard
 * error over runs. Optional, so files without it (all before it) still open.
 */
export const HessianDensitySchema = S.object({
  runs: count,
  /** Lanczos steps asked per run (capped at the dimension); each run's own count is in quadratures. */
  steps: count,
  seed: count,
  hvp: S.string(100),
  sigma: num,
  /** 'default': 1 % of the Ritz values' span. */
  sigmaSource: S.oneOf(['given', 'default'] as const),
  x: series,
  density: series,
  quadratures: S.array(S.object({ values: series, weights: series, steps: count }), LIMITS.list),
  /** The estimate of trace/P (the density's mean); its standard error is absent for a single run. */
  mean: num,
  meanStandardError: optNum,
});
export type HessianDensity = Infer<typeof HessianDensitySchema>;

/** The top eigenvalue and trace of one layer's diagonal Hessian block (`--per-layer`). */
export const LayerCurvatureSchema = S.object({
  /** The layer's tensor-name prefix, e.g. "layers.0". */
  name: str,
  tensors: S.array(str, LIMITS.tensors),
  size: count,
  method: S.oneOf(['exact', 'estimated'] as const),
  topEigenvalue: num,
  topEigenvalueError: optNum,
  converged: S.boolean(),
  trace: num,
  traceStandardError: optNum,
  lanczosSteps: count,
  traceSamples: count,
  products: count,
});
export type LayerCurvatureData = Infer<typeof LayerCurvatureSchema>;

export const HessianPerLayerSchema = S.object({
  seed: count,
  hvp: S.string(100),
  /** Most Lanczos steps per layer, Rademacher probes per layer, and the size up to which a block is computed exactly. */
  iterations: count,
  samples: count,
  exactUpTo: count,
  layers: S.array(LayerCurvatureSchema, LIMITS.tensors),
});
export type HessianPerLayer = Infer<typeof HessianPerLayerSchema>;

/** Top Hessian eigenvalues, the trace and the stability verdict of one checkpoint. */
export const HessianSchema = S.object({
  kind: S.literal('hessian'),
  formatVersion: S.int(HESSIAN_FORMAT_VERSION, HESSIAN_FORMAT_VERSION),
  command: S.literal('hessian'),
  /** The checkpoint: as given to the CLI, relative to the file in files the extension saves, absolute in memory. */
  file: filePath,
  label: str,
  model: str,
  dim: count,
  objective: ObjectiveSchema,
  eigenvalues: series,
  errorEstimates: series,
  residuals: series,
  iterations: count,
  converged: S.boolean(),
  restarts: count,
  hvp: S.string(100),
  /** Why finite differences were used, when autodiff was tried first. */
  hvpFallbackReason: S.optional(S.string(LIMITS.text)),
  hvpCheck: S.optional(S.object({ autodiffVsFiniteDifference: optNum, finiteDifferenceStepDependence: optNum })),
  hvpCheckNote: S.optional(S.string(LIMITS.text)),
  fdStep: optNum,
  seed: count,
  k: count,
  trace: S.optional(S.object({ estimate: num, standardError: num, samples: count, hvp: S.optional(S.string(100)), seed: S.optional(count) })),
  stability: HessianStabilitySchema,
  density: S.optional(HessianDensitySchema),
  perLayer: S.optional(HessianPerLayerSchema),
  backend: str,
  seconds: num,
  landscapeVersion: S.string(100),
  /** Display rows (hessianSettings). */
  settings: kvRows,
});
export type HessianData = Infer<typeof HessianSchema>;

/** The panel's settings table, from the result's own fields. */
export function hessianSettings(d: Omit<HessianData, 'settings'>): [string, string][] {
  const o = d.objective;
  return [
    ['checkpoint', d.file],
    ['model', `${d.model} (${d.dim} parameters)`],
    ['loss measured on', `full-batch training loss, ${o.dataset} (${o.samples} samples)`],
    ['eigenvalues', `top ${d.k} by Lanczos with full reorthogonalisation`],
    ['Lanczos steps', `${d.iterations}${d.converged ? ', converged' : ', not converged'}`],
    ['Hessian-vector products', `${d.hvp}${d.hvpFallbackReason ? ` (${d.hvpFallbackReason})` : ''}`],
    ...(d.hvpCheckNote ? ([['step-halving check', d.hvpCheckNote]] as [string, string][]) : []),
    ['trace', d.trace ? `Hutchinson, ${d.trace.samples} Rademacher probes` : 'not computed'],
    ...(d.density ? ([['eigenvalue density', densitySetting(d.density)]] as [string, string][]) : []),
    ...(d.perLayer ? ([['per-layer curvature', perLayerSetting(d.perLayer)]] as [string, string][]) : []),
    ['seed', String(d.seed)],
    ['backend', d.backend],
    ['written by', `Landscape ${d.landscapeVersion}`],
  ];
}

function densitySetting(d: HessianDensity): string {
  const sigma = `σ = ${d.sigma.toPrecision(3)}${d.sigmaSource === 'default' ? ' (1 % of the Ritz values\' span)' : ''}`;
  return `stochastic Lanczos quadrature, ${d.runs} Rademacher start vectors × ${d.steps} steps, Gaussian broadening ${sigma}, seed ${d.seed}`;
}

function perLayerSetting(p: HessianPerLayer): string {
  return `each layer's diagonal block (weight and bias): Lanczos (≤ ${p.iterations} steps) and Hutchinson (${p.samples} probes, seed ${p.seed}), exact for blocks of ≤ ${p.exactUpTo} parameters`;
}

/**
 * A format-1 file as format 2: the CLI's form ("command": "hessian", no
 * "kind") gains kind, label and seconds; the extension's form
 * (the panel data) gets the CLI's names back (file, objective, hvpFallbackReason).
 * The caller validates the result, then fills its settings (the old rows are dropped).
 */
export function upgradeHessian(doc: Json): Json {
  const up: Json = 'checkpoint' in doc ? hessianFromPanelV1(doc) : { ...doc };
  return upgradeStamp(up, 'hessian', HESSIAN_FORMAT_VERSION, typeof up.file === 'string' ? checkpointLabel(up.file) : '');
}

function hessianFromPanelV1(doc: Json): Json {
  const { checkpoint, dataset, samples, loss, hvpNote, settings: _settings, ...rest } = doc;
  const ref = (checkpoint ?? {}) as { path?: unknown; label?: unknown };
  return { ...rest, file: ref.path, label: ref.label, objective: { dataset, split: 'train', samples, loss }, ...(hvpNote !== undefined ? { hvpFallbackReason: hvpNote } : {}) };
}
