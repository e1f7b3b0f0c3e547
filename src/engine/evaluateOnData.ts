/**
 * `landscape eval`: a checkpoint's loss and accuracy on every row of a
 * dataset as given (no train/test split; .npz and .npy rows exactly as
 * stored, images scaled to [0, 1] as torchvision's ToTensor does) — the
 * number PyTorch prints for the same module in eval mode on the same tensors.
 * The rows are preprocessed as the model saw its inputs in training (see
 * rowsFor), never for .npz/.npy.
 * BatchNorm layers use the checkpoint's running statistics where it has
 * them (PyTorch files), else the statistics of the rows; the result says which.
 */
import { concatRows, loadDataset, loadRawDataset, normalizeChannelsInPlace, type ChannelNormalization, type Dataset } from './data';
import { dataRecipeForCheckpoint } from './checkpointObjective';
import { npyPair } from './data/arrays';
import { checkDataFitsModel, evaluateModel, toDevice } from './model/network';
import { hasBatchNorm } from './model/archModel';
import type { OpenedCheckpoint } from './evaluate';

export interface DataEvaluation {
  loss: number;
  accuracy?: number;
  samples: number;
  dataset: string;
  /** How the rows were preprocessed before the model saw them, when they were (see rowsFor). */
  preprocessing?: { normalization: ChannelNormalization } | 'standardised as in training';
  /** Present for BatchNorm networks: which statistics normalised the rows. */
  batchNorm?: 'statistics of the evaluated rows' | 'running statistics from the checkpoint';
}

/** The normalisation recorded in a checkpoint's datasetOptions, if any. */
function recordedNormalization(ck: OpenedCheckpoint): ChannelNormalization | undefined {
  if (!ck.meta.datasetOptions || !ck.meta.dataset) return undefined;
  return dataRecipeForCheckpoint(ck).options.normalization;
}

/**
 * The rows to evaluate, preprocessed as the model saw its inputs: image sets
 * with the recorded per-channel normalisation; the checkpoint's own tabular
 * dataset (digits, CSV) standardised as in training (the training part's
 * statistics, from the recorded split); arrays (.npz/.npy) and other data as given.
 */
async function rowsFor(ck: OpenedCheckpoint, dataset: string, subset: number | undefined): Promise<{ data: Dataset; preprocessing?: DataEvaluation['preprocessing'] }> {
  const data = loadRawDataset(dataset, { subset });
  // Arrays as the data loader tells them apart: an .npz, or x.npy (alone or in its folder).
  if (/\.npz$/i.test(dataset) || npyPair(dataset)) return { data };
  const recorded = recordedNormalization(ck);
  if (data.image && recorded) {
    normalizeChannelsInPlace(data, recorded);
    return { data, preprocessing: { normalization: recorded } };
  }
  // The built-in digits are 8×8 images too, but standardised per feature, as tabular data is.
  if (ck.meta.dataset !== dataset) return { data };
  const recipe = dataRecipeForCheckpoint(ck, { subset });
  const split = await loadDataset(dataset, { seed: recipe.seed, testFraction: recipe.testFraction, ...recipe.options });
  return { data: concatRows(split.train, split.test), preprocessing: 'standardised as in training' };
}

export async function evaluateOnData(ck: OpenedCheckpoint, dataset: string, opts: { subset?: number } = {}): Promise<DataEvaluation> {
  const { data, preprocessing } = await rowsFor(ck, dataset, opts.subset);
  checkDataFitsModel(ck.spec, data);
  const dev = toDevice(data);
  try {
    const e = evaluateModel(ck.spec, ck.theta, dev, data.task, ck.buffers);
    return {
      loss: e.loss,
      ...(e.accuracy !== undefined ? { accuracy: e.accuracy } : {}),
      samples: data.n,
      dataset: data.id,
      ...(preprocessing ? { preprocessing } : {}),
      ...(hasBatchNorm(ck.spec) ? { batchNorm: ck.buffers ? ('running statistics from the checkpoint' as const) : ('statistics of the evaluated rows' as const) } : {}),
    };
  } finally {
    dev.dispose();
  }
}
