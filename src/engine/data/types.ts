/** Datasets as the engine sees them: dense float32 rows, targets ready for the loss. */
export type Task = 'classification' | 'regression';

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
}

export interface Split {
  train: Dataset;
  test: Dataset;
  seed: number;
  testFraction: number;
}
