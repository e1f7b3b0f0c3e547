/**
 * The Hessian of one checkpoint (`*.hessian.json`): top eigenvalues by
 * Lanczos, the trace, and the stability verdict. What the Hessian panel shows
 * and what the extension saves; `landscape hessian --out` writes the CLI form
 * ("command": "hessian"), which src/results/cli/hessian.ts converts to this.
 */
import { LIMITS, S, type Infer } from '../schema';
import { AnalysisRefSchema, count, kvRows, num, optNum, series, STABILITY_VERDICTS, str } from './shapes';

/** Version of this kind's format (1: Landscape 0.1.0). */
export const HESSIAN_FORMAT_VERSION = 1;
export const HESSIAN_SUFFIX = '.hessian.json';

/** Top Hessian eigenvalues, the trace and the stability verdict of one checkpoint. */
export const HessianSchema = S.object({
  kind: S.literal('hessian'),
  checkpoint: AnalysisRefSchema,
  model: str,
  dim: count,
  dataset: str,
  samples: count,
  loss: num,
  eigenvalues: series,
  errorEstimates: series,
  residuals: series,
  iterations: count,
  converged: S.boolean(),
  restarts: count,
  hvp: S.string(100),
  /** Why finite differences were used, when autodiff was tried first. */
  hvpNote: S.optional(S.string(LIMITS.text)),
  seed: count,
  k: count,
  trace: S.optional(S.object({ estimate: num, standardError: num, samples: count })),
  stability: S.object({
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
  }),
  backend: str,
  seconds: num,
  settings: kvRows,
});
export type HessianData = Infer<typeof HessianSchema>;
