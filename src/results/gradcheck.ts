/**
 * A gradient check of one checkpoint (`*.gradcheck.json`): the autodiff
 * gradient against central differences, probe by probe. What the gradient
 * check panel shows and what the extension saves; `landscape gradcheck --out`
 * writes the CLI form ("command": "gradcheck"), which
 * src/results/cli/gradcheck.ts converts to this.
 */
import { LIMITS, S, type Infer } from '../schema';
import { AnalysisRefSchema, count, kvRows, num, str } from './shapes';

/** Version of this kind's format (1: Landscape 0.1.0). */
export const GRADCHECK_FORMAT_VERSION = 1;
export const GRADCHECK_SUFFIX = '.gradcheck.json';

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
  status: S.oneOf(['ok', 'kink', 'fail'] as const),
});
export type GradProbe = Infer<typeof GradProbeSchema>;

/** Autodiff gradient against central differences, probe by probe. */
export const GradcheckSchema = S.object({
  kind: S.literal('gradcheck'),
  checkpoint: AnalysisRefSchema,
  model: str,
  activation: S.string(40),
  dataset: str,
  samples: count,
  loss: num,
  passed: S.boolean(),
  maxRelError: num,
  maxRelErrorSmooth: num,
  maxScaledError: num,
  /** Index of the probe with the largest relative error; −1 when none is resolved. */
  worst: S.int(-1),
  failures: count,
  kinks: count,
  unresolved: count,
  tolerance: num,
  relativeNoise: num,
  kinkMethod: S.oneOf(['detector', 'step-dependence'] as const),
  gradNorm: num,
  seed: count,
  dim: count,
  stepRule: S.string(LIMITS.text),
  evaluations: count,
  probes: S.array(GradProbeSchema, LIMITS.list),
  backend: str,
  seconds: num,
  settings: kvRows,
});
export type GradcheckData = Infer<typeof GradcheckSchema>;
