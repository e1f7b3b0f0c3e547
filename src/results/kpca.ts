/**
 * Kernel PCA of checkpoints (`*.kpca.json`): the map, its spectrum, and the
 * overlays projected into it (a run's trajectory, points along a path). One
 * shape everywhere: the engine's kpcaAnalysis returns it, `landscape kpca
 * --json/--out` writes it (its --trajectory is the first overlay), the
 * worker saves and posts it, the kernel PCA panel shows it and adds overlays
 * to it. Files of format 1 (Landscape 0.1.0) open through upgradeKpca.
 */
import { formatNumber, formatPercent } from '../format';
import { LIMITS, S, type Infer } from '../schema';
import { filePath, kvRows, num, optNum, series, str, upgradeStamp, type Json } from './shapes';

/** Version of this kind's format (1: Landscape 0.1.0; 2: one shape for the CLI and the extension). */
export const KPCA_FORMAT_VERSION = 2;
export const KPCA_SUFFIX = '.kpca.json';

/** Kernels of kernel PCA (the engine's KERNELS; a unit test keeps them equal). */
export const KERNEL_NAMES = ['rbf', 'polynomial', 'sigmoid', 'cosine', 'linear'] as const;
/** Most components a kernel PCA result may carry. */
export const MAX_COMPONENTS = 100;

const coords = S.array(num, MAX_COMPONENTS);

/** What a checkpoint's metadata says about it, as the map shows it. */
const recorded = {
  label: str,
  /** The model spec (absent in maps the extension saved in format 1). */
  model: S.optional(str),
  /** The run folder (holding run.json) the checkpoint belongs to, by name. */
  run: S.optional(str),
  optimizer: S.optional(S.string(100)),
  epoch: optNum,
  /** Training loss and accuracy, test loss and accuracy, as recorded in the metadata. */
  loss: optNum,
  accuracy: optNum,
  testLoss: optNum,
  testAccuracy: optNum,
  coords,
};

/** One checkpoint in a kernel PCA map. `file`: as given to the CLI, relative to the file on disk, absolute in memory. */
export const KpcaPointSchema = S.object({ file: filePath, ...recorded });
export type KpcaPoint = Infer<typeof KpcaPointSchema>;

/** A point projected into the map afterwards: a trajectory's checkpoint (with its file), or a path's point at t. */
export const KpcaOverlayPointSchema = S.object({ file: S.optional(filePath), ...recorded, t: optNum });

/** Vectors projected into a fitted map afterwards: a run's trajectory, or points along a path. */
export const KpcaOverlaySchema = S.object({
  kind: S.oneOf(['trajectory', 'path'] as const),
  label: str,
  /** The run folder, or the path result file. */
  source: filePath,
  /** A trajectory's run, by name. */
  run: S.optional(str),
  points: S.array(KpcaOverlayPointSchema, LIMITS.list),
});
export type KpcaOverlay = Infer<typeof KpcaOverlaySchema>;

/** Kernel PCA of checkpoints: the map, its spectrum, and the overlays projected into it. */
export const KpcaSchema = S.object({
  kind: S.literal('kpca'),
  formatVersion: S.int(KPCA_FORMAT_VERSION, KPCA_FORMAT_VERSION),
  command: S.literal('kpca'),
  backend: str,
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
  /** "N checkpoints", and the folder they share when it has a name. */
  label: str,
  seconds: num,
  landscapeVersion: S.string(100),
  /** Display rows (kpcaSettings). */
  settings: kvRows,
});
export type KpcaData = Infer<typeof KpcaSchema>;

/** How a map is labelled: "N checkpoints", plus " in <folder>" when its checkpoints share a named folder. String work only. */
export function kpcaLabel(files: readonly string[]): string {
  const dirs = files.map((f) => f.split(/[\\/]+/).slice(0, -1));
  let shared = dirs[0] ?? [];
  for (const d of dirs) {
    let i = 0;
    while (i < shared.length && i < d.length && shared[i] === d[i]) i++;
    shared = shared.slice(0, i);
  }
  const name = shared[shared.length - 1];
  const n = `${files.length} checkpoint${files.length === 1 ? '' : 's'}`;
  return name && name !== '.' && name !== '..' ? `${n} in ${name}` : n;
}

function kernelText(k: KpcaData['kernel']): string {
  const parts = [k.gamma !== undefined ? `γ = ${formatNumber(k.gamma)}` : '', k.degree !== undefined ? `degree ${k.degree}` : '', k.coef0 !== undefined ? `coef0 ${formatNumber(k.coef0)}` : ''].filter(Boolean);
  return `${k.kernel}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** The panel's settings table, from the result's own fields. */
export function kpcaSettings(d: Omit<KpcaData, 'settings'>): [string, string][] {
  return [
    ['checkpoints', `${d.points.length} (${d.dim} parameters each)`],
    ['kernel', kernelText(d.kernel)],
    ['components', String(d.components)],
    ['explained variance', d.explainedVariance.map((v, c) => `PC${c + 1} ${formatPercent(v)}`).join(', ')],
    ['backend', d.backend],
    ['written by', `Landscape ${d.landscapeVersion}`],
  ];
}

/** A run's trajectory as an overlay: its checkpoints' points, labelled by the run. */
export function trajectoryOverlay(run: string, folder: string, points: KpcaOverlay['points']): KpcaOverlay {
  return { kind: 'trajectory', label: `trajectory of ${run}`, source: folder, run, points };
}

/**
 * A format-1 file as format 2: the CLI's form ("command": "kpca") turns its
 * "trajectory" ({run, folder, points}) into the first overlay; the
 * extension's form (the panel data) names its points' checkpoints "file"
 * (was "path") and drops "folder". The caller validates the result, then
 * fills its settings.
 */
export function upgradeKpca(doc: Json): Json {
  const up: Json = { ...doc };
  if ('trajectory' in up) {
    const t = (up.trajectory ?? {}) as { run?: unknown; folder?: unknown; points?: unknown };
    up.overlays = [trajectoryOverlay(t.run as string, t.folder as string, t.points as KpcaOverlay['points'])];
    delete up.trajectory;
  }
  up.overlays ??= [];
  delete up.folder;
  if (Array.isArray(up.points)) up.points = up.points.map((p: Json) => ('path' in p ? renamePath(p) : p));
  const files = Array.isArray(up.points) ? up.points.map((p: Json) => String(p.file)) : [];
  return upgradeStamp(up, 'kpca', KPCA_FORMAT_VERSION, kpcaLabel(files));
}

function renamePath(p: Json): Json {
  const { path, ...rest } = p;
  return { file: path, ...rest };
}
