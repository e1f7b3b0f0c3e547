/**
 * `landscape eval`: a checkpoint's loss and accuracy on every row of a
 * dataset as given (no train/test split; .npz and .npy rows exactly as
 * stored, images scaled to [0, 1] as torchvision's ToTensor does) — the
 * number PyTorch prints for the same module in eval mode on the same tensors.
 * A checkpoint Landscape trained on images records the per-channel
 * normalisation its inputs had; a named or IDX image set is normalised with
 * it (the model never saw raw pixels), an .npz/.npy never.
 * BatchNorm layers use the checkpoint's running statistics where it has
 * them (PyTorch files), else the statistics of the rows; the result says which.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadRawDataset, normalizeChannelsInPlace, type ChannelNormalization } from './data';
import { dataRecipeForCheckpoint } from './checkpointObjective';
import { checkDataFitsModel, evaluateModel, toDevice } from './model/network';
import { hasBatchNorm } from './model/archModel';
import type { OpenedCheckpoint } from './evaluate';

export interface DataEvaluation {
  loss: number;
  accuracy?: number;
  samples: number;
  dataset: string;
  /** The checkpoint's recorded per-channel normalisation, when it was applied. */
  normalization?: ChannelNormalization;
  /** Present for BatchNorm networks: which statistics normalised the rows. */
  batchNorm?: 'statistics of the evaluated rows' | 'running statistics from the checkpoint';
}

/** The normalisation recorded in a checkpoint's datasetOptions, if any. */
function recordedNormalization(ck: OpenedCheckpoint): ChannelNormalization | undefined {
  if (!ck.meta.datasetOptions || !ck.meta.dataset) return undefined;
  return dataRecipeForCheckpoint(ck).options.normalization;
}

export function evaluateOnData(ck: OpenedCheckpoint, dataset: string, opts: { subset?: number } = {}): DataEvaluation {
  const data = loadRawDataset(dataset, { subset: opts.subset });
  checkDataFitsModel(ck.spec, data);
  const recorded = recordedNormalization(ck);
  const arrays = /\.(npz|npy)$/i.test(dataset) || (fs.existsSync(dataset) && fs.statSync(dataset).isDirectory() && fs.existsSync(path.join(dataset, 'x.npy')));
  if (recorded && data.image && !arrays) normalizeChannelsInPlace(data, recorded);
  const dev = toDevice(data);
  try {
    const e = evaluateModel(ck.spec, ck.theta, dev, data.task, ck.buffers);
    return {
      loss: e.loss,
      ...(e.accuracy !== undefined ? { accuracy: e.accuracy } : {}),
      samples: data.n,
      dataset: data.id,
      ...(recorded && data.image && !arrays ? { normalization: recorded } : {}),
      ...(hasBatchNorm(ck.spec) ? { batchNorm: ck.buffers ? ('running statistics from the checkpoint' as const) : ('statistics of the evaluated rows' as const) } : {}),
    };
  } finally {
    dev.dispose();
  }
}
