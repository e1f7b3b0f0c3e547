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
  const whole = chunkedObjective(paramCount(spec), { x, y }, 50, loss);
  const chunked = chunkedObjective(paramCount(spec), { x, y }, 7, loss);
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
});
