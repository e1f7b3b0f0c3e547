/**
 * A layer-grammar model's objective in chunks of rows (memory bounded) is the
 * same function as in one piece: losses and per-row gradients of several
 * points agree, through both `evaluate` (one tape) and `lossAndGrads` (a tape
 * per chunk). BatchNorm networks are never chunked (their statistics span all rows).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import { modelSpecFromText } from '../../../src/engine/model/archModel';
import { initParams, paramCount } from '../../../src/engine/model/spec';
import { lossFromOutputs, forwardBatched } from '../../../src/engine/model/network';
import { chunkedObjective, chunkRows } from '../../../src/engine/model/layeredObjective';
import { batchLossAndGrad } from '../../../src/engine/objective';
import { Rng } from '../../../src/engine/rng';
import { makeData } from '../../support/randomData';
import { maxRelError } from '../../support/compare';

before(async () => {
  await initBackend('cpu', { force: true });
});


test('chunks of 7 rows give the losses and gradients of all 50 rows at once', () => {
  const spec = modelSpecFromText('input(1,8,8) conv(4,3,pad=1) relu maxpool(2) flatten dense(6) tanh dense(3)');
  const d = makeData(50, 64, 3, 2);
  const x = tf.tensor2d(d.x, [50, 64]);
  const y = tf.tensor2d(d.y, [50, 3]);
  const loss = (t: tf.Tensor2D, xs: tf.Tensor2D, ys: tf.Tensor2D) => lossFromOutputs(spec, forwardBatched(spec, t, xs), ys);
  const whole = chunkedObjective(paramCount(spec), { x, y }, () => 50, loss);
  const chunked = chunkedObjective(paramCount(spec), { x, y }, () => 7, loss);
  assert.equal(whole.lossAndGrads, undefined, 'one chunk needs no chunked gradient');
  assert.ok(chunked.lossAndGrads, 'several chunks have their own gradient');
  const thetas = tf.tensor2d([...initParams(spec, new Rng(1)), ...initParams(spec, new Rng(2))], [2, paramCount(spec)]);
  const a = batchLossAndGrad(whole, thetas);
  const b = batchLossAndGrad(chunked, thetas);
  const viaTape = tf.grad((t: tf.Tensor) => tf.sum(chunked.evaluate(t as tf.Tensor2D)))(thetas);
  const la = a.losses.dataSync() as Float32Array;
  assert.ok(maxRelError(b.losses.dataSync() as Float32Array, la) < 1e-5, `losses ${b.losses.dataSync()} vs ${la}`);
  assert.notEqual(la[0], la[1], 'two different points');
  assert.ok(maxRelError(b.grads.dataSync() as Float32Array, a.grads.dataSync() as Float32Array) < 1e-4);
  assert.ok(maxRelError(viaTape.dataSync() as Float32Array, a.grads.dataSync() as Float32Array) < 1e-4);
  tf.dispose([x, y, thetas, a.losses, a.grads, b.losses, b.grads, viaTape]);
});

test('chunk sizes: bounded for conv nets, all rows with BatchNorm, all rows for dense specs', () => {
  const lenet = modelSpecFromText('lenet');
  const rows = chunkRows(lenet, 60000);
  assert.ok(rows > 100 && rows < 60000, `${rows}`);
  assert.equal(chunkRows(modelSpecFromText('resnet20'), 60000), 60000);
  assert.equal(chunkRows(modelSpecFromText('64-32-10'), 60000), 60000);
  // M points evaluated together hold M times the activations: the chunk shrinks with M, so a
  // path of 20 points over 2,000 LeNet rows stays inside the WASM heap (it ran out of bounds).
  assert.equal(chunkRows(lenet, 60000, false, 20), Math.floor(rows / 20));
  assert.ok(chunkRows(lenet, 60000, false, 1e6) >= 1);
});

test('the chunk follows the number of points of each call', () => {
  const spec = modelSpecFromText('input(1,8,8) conv(2,3,pad=1) relu flatten dense(3)');
  const d = makeData(12, 64, 3, 2);
  const x = tf.tensor2d(d.x, [12, 64]);
  const y = tf.tensor2d(d.y, [12, 3]);
  const seen: number[] = [];
  const loss = (t: tf.Tensor2D, xs: tf.Tensor2D, ys: tf.Tensor2D) => {
    seen.push(xs.shape[0]);
    return lossFromOutputs(spec, forwardBatched(spec, t, xs), ys);
  };
  // 12 rows for one point, 12 / M rows for M points.
  const o = chunkedObjective(paramCount(spec), { x, y }, (m) => Math.max(1, Math.floor(12 / m)), loss);
  const one = tf.tensor2d(initParams(spec, new Rng(1)), [1, paramCount(spec)]);
  const four = tf.tensor2d(Array.from({ length: 4 }, (_, k) => [...initParams(spec, new Rng(k + 1))]).flat(), [4, paramCount(spec)]);
  tf.dispose(o.evaluate(one));
  assert.deepEqual(seen.splice(0), [12]);
  const [l1, l4] = [o.evaluate(one).dataSync()[0], o.evaluate(four).dataSync()[0]];
  assert.deepEqual(seen.splice(0), [12, 3, 3, 3, 3]);
  assert.ok(Math.abs(l1 - l4) < 1e-5 * Math.max(1, Math.abs(l1)), 'the same first point, chunked or not');
  tf.dispose([x, y, one, four]);
});
