/**
 * The batched network objective: M parameter vectors in, M losses out, in
 * one pass of batched matrix products. Everything that evaluates many points
 * (paths, slices, line searches) stands on this.
 */
import { tf } from '../backend';
import type { Objective } from '../objective';
import type { Dataset } from '../data/types';
import { inputError } from '../errors';
import { ModelSpec, paramCount, paramLayout, modelText } from './spec';
import type { ArchModel } from './archModel';
import { forwardArch, type BatchNormMode } from './arch/forward';
import { logSumExpAnyOrder } from './arch/anyOrderActivations';
import { chunkedObjective, chunkRows, rowChunks } from './layeredObjective';
import { fastEvaluateLayered, fastPathFor, kernelsDeclineReason, tapeIsRecording, usableFast, type FastObjective, type FastPath, type HostData } from '../fast';

function activate(x: tf.Tensor, a: ModelSpec['activation']): tf.Tensor {
  switch (a) {
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'softplus':
      return tf.softplus(x);
    case 'elu':
      return tf.elu(x);
    case 'linear':
      return x;
  }
}

/** Network outputs (logits for classification) for M parameter vectors: [M, N, out]. */
export function forwardBatched(spec: ModelSpec, thetas: tf.Tensor2D, x: tf.Tensor2D, bn: BatchNormMode = { mode: 'batch' }): tf.Tensor3D {
  if (spec.arch) return forwardLayers(spec.arch, thetas, x, bn);
  return tf.tidy(() => {
    const m = thetas.shape[0];
    const n = x.shape[0];
    const layout = paramLayout(spec);
    let h: tf.Tensor = x;
    const nLayers = spec.layers.length - 1;
    for (let i = 0; i < nLayers; i++) {
      const w = layout.find((e) => e.layer === i && e.kind === 'weight')!;
      const [fanIn, fanOut] = w.shape;
      const W = tf.reshape(tf.slice(thetas, [0, w.offset], [m, w.size]), [m, fanIn, fanOut]);
      if (i === 0) {
        // The data is shared by all M vectors: one [N, in] × [in, M·out] product
        // instead of M products on M copies of x.
        const wide = tf.reshape(tf.transpose(W, [1, 0, 2]), [fanIn, m * fanOut]);
        h = tf.transpose(tf.reshape(tf.matMul(x, wide), [n, m, fanOut]), [1, 0, 2]);
      } else {
        h = tf.matMul(h, W);
      }
      if (spec.bias) {
        const b = layout.find((e) => e.layer === i && e.kind === 'bias')!;
        h = tf.add(h, tf.reshape(tf.slice(thetas, [0, b.offset], [m, b.size]), [m, 1, b.size]));
      }
      if (i < nLayers - 1) h = activate(h, spec.activation);
    }
    return h as tf.Tensor3D;
  });
}

/**
 * A layer-grammar model, one forward pass per parameter vector, BatchNorm
 * with the statistics of the rows at hand (every landscape point is
 * evaluated with its own statistics, as mode-connectivity's update_bn does).
 */
function forwardLayers(arch: ArchModel, thetas: tf.Tensor2D, x: tf.Tensor2D, bn: BatchNormMode): tf.Tensor3D {
  return tf.tidy(() => {
    const p = arch.layout.paramCount;
    // Rows by slice, not tf.unstack: tfjs' gradient of a one-output unstack fails.
    const outs = Array.from({ length: thetas.shape[0] }, (_, i) =>
      tf.expandDims(forwardArch(arch.layout, arch.shapes.nodes, arch.inputShape, tf.reshape(tf.slice(thetas, [i, 0], [1, p]), [p]) as tf.Tensor1D, x, bn), 0),
    );
    // concat, not stack: stack's gradient (unstack) cannot be differentiated again in tfjs.
    return (outs.length === 1 ? outs[0] : tf.concat(outs, 0)) as tf.Tensor3D;
  });
}

/** Per-vector loss [M] from outputs [M, N, out] and targets [N, out]. */
export function lossFromOutputs(spec: ModelSpec, out: tf.Tensor3D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    if (spec.loss === 'cross-entropy') {
      // Layer-grammar models keep double backward right (see arch/anyOrderActivations.ts).
      const lse = spec.arch ? logSumExpAnyOrder(out, 2) : tf.logSumExp(out, 2); // [M, N]
      const picked = tf.sum(tf.mul(out, y), 2); // [M, N]
      return tf.mean(tf.sub(lse, picked), 1) as tf.Tensor1D;
    }
    return tf.mean(tf.squaredDifference(out, y), [1, 2]) as tf.Tensor1D;
  });
}

export function checkDataFitsModel(spec: ModelSpec, data: Pick<Dataset, 'features' | 'outputs' | 'id'>): void {
  const inW = spec.layers[0];
  const outW = spec.layers[spec.layers.length - 1];
  if (inW !== data.features || outW !== data.outputs) {
    throw inputError(
      `model ${modelText(spec)} takes ${inW} inputs and gives ${outW} outputs, but dataset "${data.id}" has ` +
        `${data.features} features and ${data.outputs} ${data.outputs === 1 ? 'output' : 'outputs'}; ` +
        `use a spec like ${data.features}-32-${data.outputs}`,
    );
  }
}

/** Tensors of a dataset held on the backend, so repeated evaluations do not re-upload. */
export interface DeviceData {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  n: number;
  /** The same rows on the host, so the fast kernels need not read them back from the device. */
  host?: HostData;
  dispose(): void;
}

export function toDevice(data: Pick<Dataset, 'x' | 'y' | 'n' | 'features' | 'outputs'>): DeviceData {
  const x = tf.tensor2d(data.x, [data.n, data.features]);
  const y = tf.tensor2d(data.y, [data.n, data.outputs]);
  return { x, y, n: data.n, host: { x: data.x, y: data.y, n: data.n }, dispose: () => { x.dispose(); y.dispose(); } };
}

/**
 * The network's loss on fixed data as an objective over flat parameter
 * vectors. Where the fast kernels load (src/engine/fast), the objective
 * carries them: `evaluate` runs them unless a gradient tape is recording,
 * and `batchLossAndGrad` / `lossAndGrad` / the optimizers use them for
 * gradients. Otherwise, and under a tape, it is the tfjs graph below.
 */
export function networkObjective(spec: ModelSpec, data: { x: tf.Tensor2D; y: tf.Tensor2D; host?: HostData }): Objective {
  const dim = paramCount(spec);
  if (spec.arch) return layeredObjective(spec, data);
  const viaTfjs = (thetas: tf.Tensor2D) => lossFromOutputs(spec, forwardBatched(spec, thetas, data.x), data.y);
  const fast = fastPathFor(spec, () => data.host ?? hostCopy(data));
  if (!fast) return { dim, evaluate: viaTfjs };
  return fastObjective(dim, fast, viaTfjs);
}

/**
 * An objective on the kernels: `evaluate` runs them, except under a gradient
 * tape, where `viaTfjs` (the same function in tfjs ops) keeps it differentiable.
 */
function fastObjective(dim: number, fast: FastPath, viaTfjs: (thetas: tf.Tensor2D) => tf.Tensor1D): FastObjective {
  return {
    dim,
    fast,
    evaluate: (thetas: tf.Tensor2D) => {
      if (tapeIsRecording()) return viaTfjs(thetas);
      return tf.tensor1d(Float32Array.from(fast.run(thetas.dataSync() as Float32Array, thetas.shape[0], false).losses));
    },
  };
}

/**
 * A layer-grammar model's objective: the convolutional kernels where they
 * load, with the tfjs graph (in chunks of rows, to bound memory) under a
 * gradient tape (autodiff Hessian-vector products) and where they do not.
 */
function layeredObjective(spec: ModelSpec, data: { x: tf.Tensor2D; y: tf.Tensor2D; host?: HostData }): Objective {
  const dim = paramCount(spec);
  const loss = (thetas: tf.Tensor2D, x: tf.Tensor2D, y: tf.Tensor2D) => lossFromOutputs(spec, forwardBatched(spec, thetas, x), y);
  const viaTfjs = chunkedObjective(dim, data, (points) => chunkRows(spec, data.x.shape[0], false, points), loss);
  const fast = fastPathFor(spec, () => data.host ?? hostCopy(data));
  if (fast) return fastObjective(dim, fast, (thetas) => viaTfjs.evaluate(thetas));
  const declined = kernelsDeclineReason(spec);
  return declined ? { ...viaTfjs, kernelsDeclined: declined } : viaTfjs;
}

/** The rows on the host, copied: the caller may dispose the tensors after its last call. */
function hostCopy(data: { x: tf.Tensor2D; y: tf.Tensor2D }): HostData {
  return { x: (data.x.dataSync() as Float32Array).slice(), y: (data.y.dataSync() as Float32Array).slice(), n: data.x.shape[0] };
}

/**
 * The objective on rows `rows` of a dataset (a mini-batch). With the fast
 * path the rows are gathered on the host, from the dataset's own arrays,
 * with no device round trip; otherwise they are gathered on the device.
 * Call `dispose` when the step is done.
 */
export function miniBatchObjective(
  spec: ModelSpec,
  host: Pick<Dataset, 'x' | 'y' | 'features' | 'outputs'>,
  dev: DeviceData,
  rows: ArrayLike<number>,
): { objective: Objective; dispose(): void } {
  const n = rows.length;
  const fin = host.features;
  const fout = host.outputs;
  let x: Float32Array | undefined;
  let y: Float32Array | undefined;
  const gatherHost = () => {
    if (!x || !y) {
      x = new Float32Array(n * fin);
      y = new Float32Array(n * fout);
      for (let r = 0; r < n; r++) {
        const i = rows[r];
        x.set(host.x.subarray(i * fin, (i + 1) * fin), r * fin);
        y.set(host.y.subarray(i * fout, (i + 1) * fout), r * fout);
      }
    }
    return { x, y, n };
  };
  const fast = fastPathFor(spec, gatherHost);
  if (fast) {
    const dim = paramCount(spec);
    const objective = fastObjective(dim, fast, (thetas) => {
      const h = gatherHost();
      return tf.tidy(() => {
        const bx = tf.tensor2d(h.x, [n, fin]);
        const by = tf.tensor2d(h.y, [n, fout]);
        return lossFromOutputs(spec, forwardBatched(spec, thetas, bx), by);
      });
    });
    return { objective, dispose: () => undefined };
  }
  const idx = tf.tensor1d(Int32Array.from(rows), 'int32');
  const bx = tf.gather(dev.x, idx) as tf.Tensor2D;
  const by = tf.gather(dev.y, idx) as tf.Tensor2D;
  idx.dispose();
  return {
    objective: networkObjective(spec, { x: bx, y: by }),
    dispose: () => {
      bx.dispose();
      by.dispose();
    },
  };
}

export interface Evaluation {
  loss: number;
  /** Fraction correct (classification only). */
  accuracy?: number;
}

/** A layer-grammar model's loss and accuracy, chunk by chunk of rows (see layeredObjective.ts). */
function evaluateInChunks(spec: ModelSpec, theta: Float32Array | tf.Tensor1D, data: DeviceData, task: 'classification' | 'regression', buffers?: Float32Array): Evaluation {
  const fast = data.host && !tapeIsRecording() ? fastEvaluateLayered(spec, data.host, theta instanceof Float32Array ? theta : (theta.dataSync() as Float32Array), buffers) : null;
  if (fast) return task === 'classification' ? fast : { loss: fast.loss };
  const n = data.x.shape[0];
  // With running statistics no row depends on another, so BatchNorm networks chunk too.
  const size = chunkRows(spec, n, buffers !== undefined);
  const bn: BatchNormMode = buffers ? { mode: 'running', buffers } : { mode: 'batch' };
  const t = (theta instanceof Float32Array ? tf.tensor2d(theta, [1, theta.length]) : tf.reshape(theta, [1, -1])) as tf.Tensor2D;
  let loss = 0;
  let correct = 0;
  for (const [start, count] of rowChunks(n, size)) {
    const [l, c] = tf.tidy(() => {
      const x = tf.slice(data.x, [start, 0], [count, -1]) as tf.Tensor2D;
      const y = tf.slice(data.y, [start, 0], [count, -1]) as tf.Tensor2D;
      const out = forwardBatched(spec, t, x, bn);
      const right = task === 'classification' ? tf.sum(tf.cast(tf.equal(tf.argMax(tf.squeeze(out, [0]), 1), tf.argMax(y, 1)), 'float32')) : tf.scalar(0);
      return [lossFromOutputs(spec, out, y).dataSync()[0], right.dataSync()[0]];
    });
    loss += (l * count) / n;
    correct += c;
  }
  t.dispose();
  return task === 'classification' ? { loss, accuracy: correct / n } : { loss };
}

/** Loss and accuracy of one parameter vector on a dataset, in chunks to bound memory. */
/**
 * Loss and accuracy of one parameter vector on a dataset. `buffers`: a
 * layer-grammar model's BatchNorm running statistics (eval mode, as
 * PyTorch's model.eval()); without them BatchNorm uses the rows' statistics.
 */
export function evaluateModel(spec: ModelSpec, theta: Float32Array | tf.Tensor1D, data: DeviceData, task: 'classification' | 'regression', buffers?: Float32Array): Evaluation {
  if (spec.arch) return evaluateInChunks(spec, theta, data, task, buffers);
  // The loss comes from the fast kernels where they load: they keep the
  // tiny cross-entropies of well-fitted networks (log1p form) that tfjs'
  // float32 log-sum-exp rounds to 0, so reported metrics match what the
  // optimizers see. Accuracy (an argmax) is the same either way.
  const f = networkObjective(spec, data);
  let fastLoss: number | undefined;
  if (usableFast(f)) {
    const values = theta instanceof Float32Array ? theta : (theta.dataSync() as Float32Array);
    fastLoss = f.fast.run(values, 1, false).losses[0];
  }
  return tf.tidy(() => {
    const t = (theta instanceof Float32Array ? tf.tensor2d(theta, [1, theta.length]) : tf.reshape(theta, [1, -1])) as tf.Tensor2D;
    const out = forwardBatched(spec, t, data.x);
    const loss = fastLoss ?? lossFromOutputs(spec, out, data.y).dataSync()[0];
    if (task !== 'classification') return { loss };
    const pred = tf.argMax(tf.squeeze(out, [0]), 1);
    const truth = tf.argMax(data.y, 1);
    const acc = tf.mean(tf.cast(tf.equal(pred, truth), 'float32')).dataSync()[0];
    return { loss, accuracy: acc };
  });
}
