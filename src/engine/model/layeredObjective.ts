/**
 * The loss of a layer-grammar model (conv, pooling, BatchNorm, residual) on
 * fixed data, evaluated in chunks of rows so memory does not grow with the
 * data: a full-batch gradient of LeNet over 4,286 Fashion-MNIST images held
 * every activation of every row at once and ran the WASM heap out of bounds.
 * The mean over all rows is the row-weighted sum of the chunks' means, and
 * gradients are accumulated chunk by chunk (each chunk's tape is freed before
 * the next). With BatchNorm the batch statistics are those of all the rows, so
 * such a network is evaluated in one chunk (exact, not bounded).
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import { activationsPerRow, hasBatchNorm } from './archModel';
import type { ModelSpec } from './spec';

/** Bytes of activations a chunk may hold (forward values, gradients and the conv gradients' work space). */
const CHUNK_BYTES = 192 * 2 ** 20;
/** float32, and about six copies of every activation during a backward pass. */
const BYTES_PER_ACTIVATION = 4 * 6;

/**
 * Rows per chunk when `points` parameter vectors are evaluated at once (a
 * path's M points each hold their own activations); `runningStatistics`:
 * BatchNorm normalises with stored statistics, so rows are independent.
 */
export function chunkRows(spec: ModelSpec, n: number, runningStatistics = false, points = 1): number {
  if (!spec.arch || (hasBatchNorm(spec) && !runningStatistics)) return n;
  return Math.max(1, Math.min(n, Math.floor(CHUNK_BYTES / (BYTES_PER_ACTIVATION * activationsPerRow(spec.arch) * Math.max(1, points)))));
}

type Forward = (thetas: tf.Tensor2D, x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor1D;

/** Row ranges [start, count) covering n rows. */
export function rowChunks(n: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(size, n - s)]);
  return out;
}

/**
 * `loss(thetas, x, y)` is the mean loss over the rows it is given; the
 * objective is the mean over all of `data`'s rows, in chunks of
 * `sizeFor(M)` rows when M parameter vectors are evaluated at once.
 */
export function chunkedObjective(dim: number, data: { x: tf.Tensor2D; y: tf.Tensor2D }, sizeFor: (points: number) => number, loss: Forward): Objective {
  const n = data.x.shape[0];
  const chunksFor = (thetas: tf.Tensor2D) => rowChunks(n, sizeFor(thetas.shape[0]));
  const part = (thetas: tf.Tensor2D, [start, count]: [number, number]) =>
    tf.mul(loss(thetas, tf.slice(data.x, [start, 0], [count, -1]), tf.slice(data.y, [start, 0], [count, -1])), count / n) as tf.Tensor1D;
  const evaluate = (thetas: tf.Tensor2D) =>
    tf.tidy(() => {
      const parts = chunksFor(thetas);
      return parts.length === 1 ? loss(thetas, data.x, data.y) : (tf.addN(parts.map((p) => part(thetas, p))) as tf.Tensor1D);
    });
  // One chunk for every M: tfjs' own gradient of the whole loss is the cheapest.
  if (sizeFor(Number.MAX_SAFE_INTEGER) >= n) return { dim, evaluate };
  return {
    dim,
    evaluate,
    lossAndGrads(thetas: tf.Tensor2D) {
      let losses = tf.zeros([thetas.shape[0]]) as tf.Tensor1D;
      let grads = tf.zerosLike(thetas) as tf.Tensor2D;
      for (const p of chunksFor(thetas)) {
        let rows: tf.Tensor1D | undefined;
        // keep() lets each point's loss outlive the gradient's tidy, so the chunk's forward pass runs once.
        const grad = tf.grad((t: tf.Tensor) => {
          rows = tf.keep(part(t as tf.Tensor2D, p));
          return tf.sum(rows);
        })(thetas) as tf.Tensor2D;
        const [l, g] = [tf.add(losses, rows!) as tf.Tensor1D, tf.add(grads, grad) as tf.Tensor2D];
        tf.dispose([losses, grads, grad, rows!]);
        [losses, grads] = [l, g];
      }
      return { losses, grads };
    },
  };
}
