/**
 * Kernel PCA of checkpoints (`*.kpca.json`): the map, its spectrum, and the
 * overlays projected into it later. What the kernel PCA panel shows and what
 * the extension saves; `landscape kpca --out` writes the CLI form
 * ("command": "kpca"), which src/results/cli/kpca.ts converts to this.
 */
import { LIMITS, S, type Infer } from '../schema';
import { filePath, kvRows, num, optNum, series, str } from './shapes';

/** Version of this kind's format (1: Landscape 0.1.0). */
export const KPCA_FORMAT_VERSION = 1;
export const KPCA_SUFFIX = '.kpca.json';

/** Kernels of kernel PCA (the engine's KERNELS; a unit test keeps them equal). */
export const KERNEL_NAMES = ['rbf', 'polynomial', 'sigmoid', 'cosine', 'linear'] as const;
/** Most components a kernel PCA result may carry. */
export const MAX_COMPONENTS = 100;

const coords = S.array(num, MAX_COMPONENTS);

/** One checkpoint in a kernel PCA map, with what its metadata says. */
export const KpcaPointSchema = S.object({
  path: filePath,
  label: str,
  run: S.optional(str),
  optimizer: S.optional(S.string(100)),
  epoch: optNum,
  /** Training loss and accuracy, test loss and accuracy, as recorded in the metadata. */
  loss: optNum,
  accuracy: optNum,
  testLoss: optNum,
  testAccuracy: optNum,
  coords,
});
export type KpcaPoint = Infer<typeof KpcaPointSchema>;

/** Vectors projected into a fitted map afterwards: a run's trajectory, or points along a path. */
export const KpcaOverlaySchema = S.object({
  kind: S.oneOf(['trajectory', 'path'] as const),
  label: str,
  /** The run folder, or the path result file. */
  source: filePath,
  points: S.array(S.object({ label: str, coords, epoch: optNum, t: optNum, loss: optNum, testAccuracy: optNum }), LIMITS.list),
});
export type KpcaOverlay = Infer<typeof KpcaOverlaySchema>;

/** Kernel PCA of checkpoints: the map, its spectrum, and the overlays projected into it later. */
export const KpcaSchema = S.object({
  kind: S.literal('kpca'),
  /** The folder the result was saved in (absolute in messages, "." on disk). */
  folder: filePath,
  kernel: S.object({ kernel: S.oneOf(KERNEL_NAMES), gamma: optNum, degree: S.optional(S.int(1, 1000)), coef0: optNum }),
  components: S.int(1, MAX_COMPONENTS),
  n: S.int(0),
  dim: S.int(0),
  eigenvalues: series,
  explainedVariance: series,
  /** Every eigenvalue of the centred kernel matrix, for the scree plot. */
  spectrum: series,
  warnings: S.array(S.string(LIMITS.text), 100),
  points: S.array(KpcaPointSchema, LIMITS.list),
  overlays: S.array(KpcaOverlaySchema, 100),
  backend: str,
  seconds: num,
  settings: kvRows,
});
export type KpcaData = Infer<typeof KpcaSchema>;
