/**
 * Convolution and pooling that tfjs can differentiate to any order, on every
 * backend. tfjs has no gradient for Conv2DBackpropFilter, MaxPoolGrad or
 * AvgPoolGrad, so the double backward that gives exact Hessian-vector
 * products of a CNN fails on every backend; and its WASM backend has no
 * Conv2DBackpropFilter kernel at all (tfjs#8474), so there even training a
 * conv layer fails. Here:
 *
 * - conv keeps tf.conv2d for the value and writes its gradients out as
 *   convolutions of the same kind, so they differentiate again:
 *   dX is the "full" correlation of dY (dilated by the stride) with the filter
 *   turned 180° and its channels swapped; dW[i, j, c, o] = Σ X[n, s·y + i, s·x + j, c]·dY[n, y, x, o]
 *   is a correlation of X with batch and channels swapped ([C, H, W, N]) by
 *   the dilated dY as a filter ([OH', OW', N, O]), cut to K × K;
 * - pooling is the maximum or the mean of its K² strided views, each a slice
 *   and a reshape; the maximum of two is b + relu(a − b), since tf.maximum's
 *   gradient goes through comparisons tfjs cannot differentiate (on a tie the
 *   gradient goes to one input, as in PyTorch).
 *
 * Every op used (conv2d through this file, pad, slice, reshape, transpose,
 * reverse, relu) has gradients that are again such ops. Tested against the
 * CPU backend's own first-order gradients and PyTorch's double backward.
 */
import { tf } from '../../backend';

const convByStride = new Map<number, (x: tf.Tensor4D, filter: tf.Tensor4D) => tf.Tensor4D>();

/** 'valid' conv2d of NHWC `x` by a [K, K, C, O] `filter`, differentiable to any order. */
export function conv2dAnyOrder(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number): tf.Tensor4D {
  let f = convByStride.get(stride);
  if (!f) {
    f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xs, ws, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
      save([xs, ws]);
      return { value: tf.conv2d(xs, ws, stride, 'valid'), gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => convGradients(dy, saved as tf.Tensor4D[], stride) };
    }) as (x: tf.Tensor4D, filter: tf.Tensor4D) => tf.Tensor4D;
    convByStride.set(stride, f);
  }
  return f(x, filter);
}

/** Zeros between the rows and columns of `t` (NHWC): (OH − 1)·s + 1 by (OW − 1)·s + 1; 3-D and 4-D ops only, as in everySth. */
function dilate(t: tf.Tensor4D, s: number): tf.Tensor4D {
  if (s === 1) return t;
  const [n, h, w, c] = t.shape;
  const cols = tf.reshape(tf.pad(tf.reshape(t, [n * h, w, 1, c]), [[0, 0], [0, 0], [0, s - 1], [0, 0]]), [n * h, 1, w * s * c]);
  const rows = tf.reshape(tf.pad(cols, [[0, 0], [0, s - 1], [0, 0]]), [n, h * s, w * s, c]);
  return tf.slice(rows, [0, 0, 0, 0], [n, (h - 1) * s + 1, (w - 1) * s + 1, c]) as tf.Tensor4D;
}

function convGradients(dy: tf.Tensor4D, [x, filter]: tf.Tensor4D[], stride: number): tf.Tensor4D[] {
  const [kh, kw, c, o] = filter.shape;
  const [, h, w] = x.shape;
  const dyd = dilate(dy, stride);
  const [, dh, dw] = dyd.shape;
  // Rows of x past the last window got no gradient: padding to H + K − 1 leaves them zero.
  const padded = tf.pad(dyd, [[0, 0], [kh - 1, h - dh], [kw - 1, w - dw], [0, 0]]);
  const turned = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  const dx = conv2dAnyOrder(padded as tf.Tensor4D, turned, 1);
  const swapped = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D;
  const full = conv2dAnyOrder(swapped, tf.transpose(dyd, [1, 2, 0, 3]) as tf.Tensor4D, 1);
  const dfilter = tf.transpose(tf.slice(full, [0, 0, 0, 0], [c, kh, kw, o]), [1, 2, 0, 3]) as tf.Tensor4D;
  return [dx, dfilter];
}

/** Rows 0, s, 2s, … and columns 0, s, 2s, … of an [N, OH·s, OW·s, C] block, with 3-D and 4-D ops only (WASM slices 6-D tensors 600× slower). */
function everySth(block: tf.Tensor4D, s: number): tf.Tensor4D {
  const [n, h, w, c] = block.shape;
  const oh = h / s;
  const ow = w / s;
  if (s === 1) return block;
  const rows = tf.slice(tf.reshape(block, [n * oh, s, w * c]), [0, 0, 0], [n * oh, 1, w * c]);
  const cols = tf.slice(tf.reshape(rows, [n * oh, ow, s, c]), [0, 0, 0, 0], [n * oh, ow, 1, c]);
  return tf.reshape(cols, [n, oh, ow, c]);
}

/** The K² windows' (i, j)-th entries for every output position: [N, OH, OW, C] each. */
function poolViews(x: tf.Tensor4D, k: number, s: number): tf.Tensor4D[] {
  const [n, h, w, c] = x.shape;
  const oh = Math.floor((h - k) / s) + 1;
  const ow = Math.floor((w - k) / s) + 1;
  // Padding at the end so every view's slice of OH·s rows exists; the padded rows are never picked.
  const extraH = Math.max(0, k - 1 + oh * s - h);
  const extraW = Math.max(0, k - 1 + ow * s - w);
  const grown = extraH || extraW ? tf.pad(x, [[0, 0], [0, extraH], [0, extraW], [0, 0]]) : x;
  const views: tf.Tensor4D[] = [];
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) views.push(everySth(tf.slice(grown, [0, i, j, 0], [n, oh * s, ow * s, c]), s));
  }
  return views;
}

/** max(a, b) as b + relu(a − b): tf.maximum's gradient goes through comparisons that tfjs cannot differentiate. */
function maxOf(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.add(b, tf.relu(tf.sub(a, b)));
}

export function maxPoolAnyOrder(x: tf.Tensor4D, k: number, s: number): tf.Tensor4D {
  return poolViews(x, k, s).reduce(maxOf);
}

export function avgPoolAnyOrder(x: tf.Tensor4D, k: number, s: number): tf.Tensor4D {
  return tf.div(tf.addN(poolViews(x, k, s)), k * k);
}
