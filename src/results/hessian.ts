/**
 * The Hessian of one checkpoint (`*.hessian.json`): top eigenvalues by
 * Lanczos, the trace, and the stability verdict. One shape everywhere: the
 * engine's hessianAnalysis returns it, `landscape hessian --json/--out`
 * writes it, the worker saves and posts it, the Hessian panel shows it.
 * Files of format 1 (Landscape 0.1.0) open through upgradeHessian.
 */
import { LIMITS, S, type Infer } from '../schema';
import { checkpointLabel, count, filePath, kvRows, num, ObjectiveSchema, optNum, series, STABILITY_VERDICTS, str, upgradeStamp, type Json } from './shapes';

/** Version of this kind's format (1: Landscape 0.1.0; 2: one shape for the CLI and the extension). */
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
    ['seed', String(d.seed)],
    ['backend', d.backend],
    ['written by', `Landscape ${d.landscapeVersion}`],
  ];
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
