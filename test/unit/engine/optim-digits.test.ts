/**
 * The paper's "deeper minima" at small scale: on the built-in digits with a
 * 64-32-32-10 network without biases, L-BFGS-GSS reaches a lower training
 * loss than mini-batch SGD after the same number of epochs.
 *
 * An epoch is one pass over the training data: for SGD ⌈n/64⌉ mini-batch
 * steps, for L-BFGS one full-batch iteration (one gradient plus at most six
 * line-search evaluations), as in Yu & Morozov's comparison at equal epochs.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import { loadDataset } from '../../../src/engine/data';
import { initParams, makeSpec } from '../../../src/engine/model/spec';
import { networkObjective, toDevice } from '../../../src/engine/model/network';
import { Rng } from '../../../src/engine/rng';
import { createOptimizer } from '../../../src/engine/optim';

before(async () => {
  await initBackend('cpu', { force: true });
});

test('digits 64-32-32-10 (no bias): L-BFGS reaches a lower training loss than SGD in 20 epochs', async (t) => {
  const EPOCHS = 20;
  const BATCH = 64;
  const split = await loadDataset('digits', { seed: 0 });
  const spec = makeSpec('64-32-32-10', { bias: false });
  const startTensors = tf.memory().numTensors;
  const train = toDevice(split.train);
  const full = networkObjective(spec, train);
  const init = initParams(spec, new Rng(1));
  const trainLoss = (theta: tf.Tensor1D) => tf.tidy(() => full.evaluate(tf.reshape(theta, [1, full.dim]) as tf.Tensor2D).dataSync()[0]);

  const sgd = createOptimizer('sgd', { lr: 0.1 });
  const order = new Rng(2);
  let theta = tf.tensor1d(init);
  const start = trainLoss(theta);
  const sgdCurve: number[] = [];
  for (let e = 0; e < EPOCHS; e++) {
    const perm = order.permutation(train.n);
    for (let s = 0; s < train.n; s += BATCH) {
      const idx = tf.tensor1d(perm.subarray(s, Math.min(s + BATCH, train.n)), 'int32');
      const bx = tf.gather(train.x, idx) as tf.Tensor2D;
      const by = tf.gather(train.y, idx) as tf.Tensor2D;
      const r = sgd.step(theta, networkObjective(spec, { x: bx, y: by }));
      idx.dispose();
      bx.dispose();
      by.dispose();
      theta.dispose();
      theta = r.theta;
    }
    sgdCurve.push(trainLoss(theta));
  }
  theta.dispose();
  sgd.dispose();

  const lbfgs = createOptimizer('lbfgs');
  theta = tf.tensor1d(init);
  const lbfgsCurve: number[] = [];
  for (let e = 0; e < EPOCHS; e++) {
    const r = lbfgs.step(theta, full);
    assert.ok(r.evaluations <= 7, `epoch ${e + 1}: ${r.evaluations} evaluations`);
    theta.dispose();
    theta = r.theta;
    lbfgsCurve.push(trainLoss(theta));
  }
  theta.dispose();
  lbfgs.dispose();
  train.dispose();
  assert.equal(tf.memory().numTensors, startTensors);

  const sgdEnd = sgdCurve[EPOCHS - 1];
  const lbfgsEnd = lbfgsCurve[EPOCHS - 1];
  const show = `start ${start}; SGD ${sgdCurve.map((v) => v.toExponential(2)).join(' ')}; L-BFGS ${lbfgsCurve.map((v) => v.toExponential(2)).join(' ')}`;
  t.diagnostic(show);
  assert.ok(sgdEnd < 0.2 * start, `SGD trains: ${show}`);
  assert.ok(lbfgsEnd < sgdEnd, `L-BFGS deeper: ${show}`);
  // Seen (this seed and others): SGD ≈ 3e-2, L-BFGS ≈ 3e-5 at 20 epochs, a gap of ~1000x.
  // At 10 epochs the gap is only ~2x, so 20 keeps the comparison far from a coin flip.
  assert.ok(lbfgsEnd < 0.1 * sgdEnd, `L-BFGS clearly deeper: ${show}`);
  // The full-batch loss never rises under L-BFGS (the line search only accepts decreases).
  for (let e = 1; e < EPOCHS; e++) assert.ok(lbfgsCurve[e] <= lbfgsCurve[e - 1], show);
});
