/** Datasets as the engine sees them: dense float32 rows, targets ready for the loss. */
export type Task = 'classification' | 'regression';

/**
 * The shape of one image. An image dataset's rows are still flat
 * (features = channels × height × width), each in C×H×W order as PyTorch's
 * NCHW tensors, so dense models train on the flattened images unchanged.
 */
export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/**
 * Per-channel normalisation of image data, x' = (x - mean[c]) / std[c] after
 * scaling pixels to [0, 1]; the training split's statistics, recorded so that
 * every later evaluation applies exactly these numbers.
 */
export interface ChannelNormalization {
  mean: number[];
  std: number[];
}

export interface Dataset {
  /** Stable id written into checkpoints, e.g. "digits", "spirals", "csv:iris.csv". */
  id: string;
  task: Task;
  /** Number of rows. */
  n: number;
  /** Number of input features. */
  features: number;
  /** Row-major inputs [n, features]. */
  x: Float32Array;
  /** Number of outputs: classes for classification, target columns for regression. */
  outputs: number;
  /**
   * Row-major targets [n, outputs]: one-hot rows for classification, values
   * for regression.
   */
  y: Float32Array;
  /** Class index per row (classification only). */
  labels?: Int32Array;
  featureNames?: string[];
  classNames?: string[];
  /** Present when every row is an image (flattened in C×H×W order). */
  image?: ImageShape;
}

export interface Split {
  train: Dataset;
  test: Dataset;
  seed: number;
  testFraction: number;
  /** Image data: the per-channel statistics both parts were normalised with. */
  normalization?: ChannelNormalization;
}
