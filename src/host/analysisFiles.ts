/**
 * The analysis commands' wording and inputs in VS Code: messages in the
 * editor's words, the slice kinds as the quick pick offers them, the
 * learning-rate box's check and the kernel PCA set. The result files
 * themselves are src/results/analysisFiles.ts (re-exported here for the host).
 */
import type { SliceKindName } from '../worker/protocol';
export * from '../results/analysisFiles';

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
