/**
 * `landscape eval`: a checkpoint's loss and accuracy on every row of a
 * dataset as given (no train/test split; .npz and .npy rows exactly as
 * stored, images scaled to [0, 1] as torchvision's ToTensor does) — the
 * number PyTorch prints for the same module in eval mode on the same tensors.
 * BatchNorm layers use the statistics of the rows (running statistics are
 * not in checkpoints yet), which the result says.
 */
import { loadRawDataset } from './data';
import { checkDataFitsModel, evaluateModel, toDevice } from './model/network';
import { hasBatchNorm } from './model/archModel';
import type { OpenedCheckpoint } from './evaluate';

export interface DataEvaluation {
  loss: number;
  accuracy?: number;
  samples: number;
  dataset: string;
  /** Present for BatchNorm networks: which statistics normalised the rows. */
  batchNorm?: 'statistics of the evaluated rows';
}

export function evaluateOnData(ck: OpenedCheckpoint, dataset: string, opts: { subset?: number } = {}): DataEvaluation {
  const data = loadRawDataset(dataset, { subset: opts.subset });
  checkDataFitsModel(ck.spec, data);
  const dev = toDevice(data);
  try {
    const e = evaluateModel(ck.spec, ck.theta, dev, data.task);
    return {
      loss: e.loss,
      ...(e.accuracy !== undefined ? { accuracy: e.accuracy } : {}),
      samples: data.n,
      dataset: data.id,
      ...(hasBatchNorm(ck.spec) ? { batchNorm: 'statistics of the evaluated rows' as const } : {}),
    };
  } finally {
    dev.dispose();
  }
}
