/**
 * A gradient check of one checkpoint (`*.gradcheck.json`): the autodiff
 * gradient against central differences, probe by probe. One shape
 * everywhere: the engine's gradcheckAnalysis returns it, `landscape
 * gradcheck --json/--out` writes it, the worker saves and posts it, the
 * gradient check panel shows it. Files of format 1 (Landscape 0.1.0) open
 * through upgradeGradcheck.
 */
import { formatNumber } from '../format';
import { LIMITS, S, type Infer } from '../schema';
import { checkpointLabel, count, filePath, kvRows, num, ObjectiveSchema, str, upgradeStamp, type Json } from './shapes';

/** Version of this kind's format (1: Landscape 0.1.0; 2: one shape for the CLI and the extension). */
export const GRADCHECK_FORMAT_VERSION = 2;
export const GRADCHECK_SUFFIX = '.gradcheck.json';

const PROBE_STATUS = S.oneOf(['ok', 'kink', 'fail'] as const);

export const GradProbeSchema = S.object({
  kind: S.oneOf(['coordinate', 'direction', 'gradient'] as const),
  index: S.optional(count),
  direction: S.optional(count),
  h: num,
  analytic: num,
  numeric: num,
  absError: num,
  relError: num,
  noise: num,
  kink: S.boolean(),
  crossings: S.optional(count),
  stepDependence: num,
  status: PROBE_STATUS,
});
export type GradProbe = Infer<typeof GradProbeSchema>;

/** The exact Hessian-vector products against differences of the gradient (where the fast kernels run). */
export const HvpConsistencySchema = S.object({
  method: S.literal('exact'),
  probes: S.array(
    S.object({ direction: count, h: num, relError: num, stepDependence: num, kink: S.boolean(), crossings: S.optional(count), status: PROBE_STATUS }),
    LIMITS.list,
  ),
  maxRelErrorSmooth: num,
  failures: count,
  tolerance: num,
});

/** Autodiff gradient against central differences, probe by probe. */
export const GradcheckSchema = S.object({
  kind: S.literal('gradcheck'),
  formatVersion: S.int(GRADCHECK_FORMAT_VERSION, GRADCHECK_FORMAT_VERSION),
  command: S.literal('gradcheck'),
  /** The checkpoint: as given to the CLI, relative to the file in files the extension saves, absolute in memory. */
  file: filePath,
  label: str,
  model: str,
  activation: S.string(40),
  objective: ObjectiveSchema,
  verdict: S.oneOf(['PASS', 'FAIL'] as const),
  passed: S.boolean(),
  maxRelError: num,
  maxRelErrorSmooth: num,
  maxScaledError: num,
  /** Index of the probe with the largest relative error; −1 when none is resolved. */
  worst: S.int(-1),
  failures: count,
  kinks: count,
  unresolved: count,
  probes: S.array(GradProbeSchema, LIMITS.list),
  tolerance: num,
  relativeNoise: num,
  kinkMethod: S.oneOf(['detector', 'step-dependence'] as const),
  loss: num,
  gradNorm: num,
  seed: count,
  dim: count,
  stepRule: S.string(LIMITS.text),
  evaluations: count,
  hessian: S.optional(HvpConsistencySchema),
  backend: str,
  seconds: num,
  landscapeVersion: S.string(100),
  /** Display rows (gradcheckSettings). */
  settings: kvRows,
});
export type GradcheckData = Infer<typeof GradcheckSchema>;

/** The panel's settings table, from the result's own fields. */
export function gradcheckSettings(d: Omit<GradcheckData, 'settings'>): [string, string][] {
  const o = d.objective;
  const probes = (kind: GradProbe['kind']) => d.probes.filter((p) => p.kind === kind).length;
  return [
    ['checkpoint', d.file],
    ['model', `${d.model} ${d.activation} (${d.dim} parameters)`],
    ['loss measured on', `full-batch training loss, ${o.dataset} (${o.samples} samples)`],
    ['probes', `${probes('coordinate')} coordinates, ${probes('direction')} random directions${probes('gradient') ? ', the gradient' : ''} (seed ${d.seed})`],
    ['step', d.stepRule],
    ['tolerance', `${formatNumber(d.tolerance)} relative, plus the measured rounding noise (${formatNumber(d.relativeNoise)} of the loss)`],
    ['ReLU kinks found by', d.kinkMethod === 'detector' ? 'pre-activation sign changes (exact)' : 'the step dependence of the differences'],
    ['loss evaluations', String(d.evaluations)],
    ['backend', d.backend],
    ['written by', `Landscape ${d.landscapeVersion}`],
  ];
}


/**
 * A format-1 file as format 2: the CLI's form ("command": "gradcheck", no
 * "kind") gains kind, label and seconds; the extension's form
 * (the panel data) gets the CLI's names back (file, objective, verdict).
 * The caller validates the result, then fills its settings (the old rows are dropped).
 */
export function upgradeGradcheck(doc: Json): Json {
  const up: Json = 'checkpoint' in doc ? gradcheckFromPanelV1(doc) : { ...doc };
  return upgradeStamp(up, 'gradcheck', GRADCHECK_FORMAT_VERSION, typeof up.file === 'string' ? checkpointLabel(up.file) : '');
}

function gradcheckFromPanelV1(doc: Json): Json {
  const { checkpoint, dataset, samples, loss, settings: _settings, ...rest } = doc;
  const ref = (checkpoint ?? {}) as { path?: unknown; label?: unknown };
  return { ...rest, file: ref.path, label: ref.label, objective: { dataset, split: 'train', samples, loss }, loss, verdict: doc.passed === true ? 'PASS' : 'FAIL' };
}
