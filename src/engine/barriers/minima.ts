/**
 * The minima of a barrier computation: checkpoints that must share one loss
 * surface (same network, same data), and the recipe of that data.
 */
import { loadAnyCheckpoint, type OpenedCheckpoint } from '../evaluate';
import { checkSameSurface, dataRecipeForCheckpoint, type DataRecipe } from '../checkpointObjective';

export interface OpenedMinima {
  checkpoints: OpenedCheckpoint[];
  /** The first checkpoint's data (or `dataset`), on which every height is measured. */
  recipe: DataRecipe;
}

/** Load `files` and check they share the first one's surface; the error names both files. */
export async function openMinima(files: readonly string[], opts: { model?: string; dataset?: string; subset?: number; tensorMap?: Record<string, string> } = {}): Promise<OpenedMinima> {
  const checkpoints: OpenedCheckpoint[] = [];
  for (const file of files) {
    const ck = await loadAnyCheckpoint(file, opts.model, { tensorMap: opts.tensorMap });
    if (checkpoints.length) checkSameSurface(checkpoints[0], ck, { datasetOverride: opts.dataset !== undefined });
    checkpoints.push(ck);
  }
  return { checkpoints, recipe: dataRecipeForCheckpoint(checkpoints[0], { dataset: opts.dataset, subset: opts.subset }) };
}
