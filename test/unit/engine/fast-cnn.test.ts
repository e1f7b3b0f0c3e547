/**
 * The convolutional-network kernels (conv.as via cnnKernels.ts) against the
 * tfjs forward pass, which stays the reference: losses and gradients agree to
 * float32 tolerance for every layer type (conv with stride and padding,
 * max/avg/global pooling, BatchNorm in both modes, residual blocks with and
 * without a projection, flatten, dense, every activation, both losses), for
 * one and several parameter vectors, over rows that span several tiles; and
 * the numbers do not depend on the thread count.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import { modelSpecFromText } from '../../../src/engine/model/archModel';
import { initParams, paramCount, type ModelSpec } from '../../../src/engine/model/spec';
import { forwardBatched, lossFromOutputs } from '../../../src/engine/model/network';
import { initArchBuffers } from '../../../src/engine/model/arch';
import { fastKernels } from '../../../src/engine/fast';
import { CnnKernels, type CnnNetwork } from '../../../src/engine/fast/cnnKernels';
import { Rng } from '../../../src/engine/rng';
import { makeData, type RandomData } from '../../support/randomData';
import { maxRelError } from '../../support/compare';

before(async () => {
  await initBackend('cpu', { force: true });
});

function thetasFor(spec: ModelSpec, m: number, seed: number): Float32Array {
  const P = paramCount(spec);
  const rng = new Rng(seed);
  const out = new Float32Array(m * P);
  for (let k = 0; k < m; k++) out.set(initParams(spec, rng.fork()), k * P);
  // Non-zero biases and BatchNorm shifts, so their terms are exercised.
  for (let i = 0; i < out.length; i++) out[i] += 0.05 * rng.normal();
  return out;
}

/** Losses and gradients on tfjs, one tape per parameter vector. */
function reference(spec: ModelSpec, data: RandomData, thetas: Float32Array, m: number, buffers?: Float32Array) {
  const P = paramCount(spec);
  const losses = new Float64Array(m);
  const grads = new Float64Array(m * P);
  const bn = buffers ? ({ mode: 'running', buffers } as const) : undefined;
  for (let k = 0; k < m; k++) {
    tf.tidy(() => {
      const x = tf.tensor2d(data.x, [data.n, data.features]);
      const y = tf.tensor2d(data.y, [data.n, data.outputs]);
      const f = (t: tf.Tensor) => tf.sum(lossFromOutputs(spec, forwardBatched(spec, tf.reshape(t, [1, P]) as tf.Tensor2D, x, bn), y)) as tf.Scalar;
      const { value, grad } = tf.valueAndGrad(f)(tf.tensor1d(thetas.subarray(k * P, (k + 1) * P)));
      losses[k] = value.dataSync()[0];
      grads.set(grad.dataSync(), k * P);
    });
  }
  return { losses, grads };
}

/** `run()` at each thread count, the kernels' own count restored afterwards. */
function atThreadCounts<T>(counts: number[], run: () => T): T[] {
  const dense = fastKernels()!;
  const before = dense.threads;
  try {
    return counts.map((t) => {
      dense.setThreads(t);
      return run();
    });
  } finally {
    dense.setThreads(before);
  }
}

function kernels(): CnnKernels {
  const dense = fastKernels();
  assert.ok(dense, 'the WebAssembly kernels load');
  return new CnnKernels(dense);
}

function check(text: string, opts: { n?: number; m?: number; loss?: 'cross-entropy' | 'mse'; running?: boolean; tol?: number } = {}) {
  const spec = modelSpecFromText(text, { loss: opts.loss });
  const arch = spec.arch!;
  const features = arch.inputShape.reduce((a, b) => a * b, 1);
  const outputs = arch.shapes.output[0];
  const n = opts.n ?? 37;
  const m = opts.m ?? 1;
  const data = makeData(n, features, outputs, 3);
  const thetas = thetasFor(spec, m, 5);
  const buffers = opts.running ? runningBuffers(spec) : undefined;
  const ref = reference(spec, data, thetas, m, buffers);
  const net: CnnNetwork = { arch, loss: spec.loss, buffers };
  const got = kernels().run(net, { x: data.x, y: data.y, n }, thetas, m, true);
  const tol = opts.tol ?? 2e-5;
  assert.ok(maxRelError(got.losses, ref.losses) < 1e-5, `${text}: losses ${[...got.losses]} vs ${[...ref.losses]}`);
  const e = maxRelError(got.grads!, ref.grads);
  assert.ok(e < tol, `${text}: gradient relative error ${e}`);
  return { net, data, thetas, got };
}

/** Running statistics that differ from the batch's, so eval mode is really exercised. */
function runningBuffers(spec: ModelSpec): Float32Array {
  const b = initArchBuffers(spec.arch!.layout);
  const rng = new Rng(9);
  for (const t of spec.arch!.layout.buffers) {
    for (let i = 0; i < t.size; i++) b[t.offset + i] = t.role === 'running_var' ? 0.5 + rng.uniform() : 0.3 * rng.normal();
  }
  return b;
}

test('lenet-style network: conv with padding, relu, maxpool, flatten, dense', () => {
  check('input(1,12,12) conv(6,5,pad=2) relu maxpool(2) conv(5,3) relu maxpool(2) flatten dense(7) relu dense(3)', { n: 150 });
});

test('strided conv without padding or bias, avgpool, tanh and sigmoid', () => {
  check('input(3,11,11) conv(4,3,stride=2,bias=false) tanh avgpool(2,stride=1) conv(8,2) sigmoid flatten dense(5)', { n: 70 });
});

test('softplus and elu, global average pooling, mean squared error', () => {
  check('input(2,9,9) conv(5,3,pad=1) softplus conv(6,3) elu gap dense(4) elu dense(3)', { loss: 'mse' });
});

test('BatchNorm with the rows\' statistics, over channels and over features', () => {
  check('input(3,8,8) conv(6,3,pad=1) bn relu maxpool(2) flatten dense(10) bn tanh dense(4)', { n: 50 });
});

test('BatchNorm with running statistics (eval mode)', () => {
  check('input(3,8,8) conv(6,3,pad=1) bn relu flatten dense(10) bn dense(4)', { n: 50, running: true });
});

test('residual blocks: identity shortcut and a strided 1×1 projection with BatchNorm', () => {
  check('input(3,8,8) conv(4,3,pad=1) bn relu res(conv(4,3,pad=1) bn relu conv(4,3,pad=1) bn) relu res(conv(8,3,stride=2,pad=1) bn relu conv(8,3,pad=1) bn) relu gap dense(3)', { n: 20 });
});

test('a dense-only network in the layer grammar, and several parameter vectors at once', () => {
  check('input(13) dense(9) relu dense(6) tanh dense(3)', { m: 5, n: 90 });
  check('input(1,10,10) conv(3,3) relu flatten dense(4)', { m: 4, n: 130 });
});

test('the built-in lenet and cnn-digits', () => {
  check('lenet', { n: 70 });
  check('cnn-digits', { n: 100, m: 2 });
});

test('one, two and three threads give the same numbers, by vector and by chunk', () => {
  const k = kernels();
  const spec = modelSpecFromText('input(1,12,12) conv(6,5,pad=2) relu maxpool(2) flatten dense(10)');
  const net: CnnNetwork = { arch: spec.arch!, loss: spec.loss };
  const data = makeData(600, 144, 10, 4);
  const host = { x: data.x, y: data.y, n: data.n };
  const thetas = thetasFor(spec, 3, 8);
  const runs = atThreadCounts([1, 2, 3], () => ({ one: k.run(net, host, thetas, 1, true), three: k.run(net, host, thetas, 3, true) }));
  const P = paramCount(spec);
  for (const r of runs) {
    assert.deepEqual([...r.one.losses], [...runs[0].one.losses]);
    assert.deepEqual([...r.one.grads!], [...runs[0].one.grads!]);
    assert.deepEqual([...r.three.grads!], [...runs[0].three.grads!]);
  }
  // The first vector alone (chunks claimed by threads) equals it among three (vectors claimed).
  assert.deepEqual([...runs[0].three.grads!.subarray(0, P)], [...runs[0].one.grads!]);
  assert.equal(runs[0].three.losses[0], runs[0].one.losses[0]);
});

test('evaluation (loss and accuracy) in the kernels equals tfjs, with batch and running statistics', async () => {
  const { evaluateModel, toDevice } = await import('../../../src/engine/model/network');
  const { setFastEnabled } = await import('../../../src/engine/fast');
  const spec = modelSpecFromText('input(2,8,8) conv(5,3,pad=1) bn relu maxpool(2) flatten dense(4)');
  const data = makeData(90, 128, 4, 6);
  const theta = thetasFor(spec, 1, 2);
  const dev = toDevice(data);
  try {
    for (const buffers of [undefined, runningBuffers(spec)]) {
      setFastEnabled(false);
      const ref = evaluateModel(spec, theta, dev, 'classification', buffers);
      setFastEnabled(true);
      const got = evaluateModel(spec, theta, dev, 'classification', buffers);
      assert.ok(Math.abs(got.loss - ref.loss) < 1e-5 * ref.loss, `loss ${got.loss} vs ${ref.loss}`);
      assert.equal(got.accuracy, ref.accuracy);
      assert.ok(ref.accuracy! > 0 && ref.accuracy! < 1, 'an accuracy that can be wrong either way');
    }
  } finally {
    setFastEnabled(true);
    dev.dispose();
  }
});

/** H·v from the kernels' R-operator pass and from tfjs' double backward, at the same point. */
async function hvpBoth(text: string, loss: 'cross-entropy' | 'mse' = 'cross-entropy', n = 40) {
  const { hessianVectorProduct } = await import('../../../src/engine/analysis/hvp');
  const { networkObjective, toDevice } = await import('../../../src/engine/model/network');
  const { setFastEnabled } = await import('../../../src/engine/fast');
  const spec = modelSpecFromText(text, { loss });
  const arch = spec.arch!;
  const data = makeData(n, arch.inputShape.reduce((a, b) => a * b, 1), arch.shapes.output[0], 11);
  const theta = thetasFor(spec, 1, 12);
  const rng = new Rng(13);
  const v = Float64Array.from({ length: theta.length }, () => rng.normal());
  const dev = toDevice(data);
  try {
    setFastEnabled(false);
    const slow = hessianVectorProduct(networkObjective(spec, dev), theta, { hvp: 'autodiff' });
    const ref = slow.apply([v])[0];
    slow.dispose();
    setFastEnabled(true);
    const fast = hessianVectorProduct(networkObjective(spec, dev), theta, { hvp: 'exact' });
    const got = fast.apply([v])[0];
    fast.dispose();
    return { got, ref };
  } finally {
    setFastEnabled(true);
    dev.dispose();
  }
}

test('exact Hessian-vector products of convolutional networks equal tfjs double backward', async () => {
  const specs: [string, 'cross-entropy' | 'mse'][] = [
    ['input(1,10,10) conv(4,3,pad=1) tanh maxpool(2) conv(6,3) softplus flatten dense(5) sigmoid dense(3)', 'cross-entropy'],
    ['input(2,9,9) conv(4,3,stride=2,pad=1) elu avgpool(2) flatten dense(4) tanh dense(3)', 'mse'],
    ['input(3,8,8) conv(4,3,pad=1) tanh res(conv(4,3,pad=1) softplus conv(4,3,pad=1)) conv(8,1) elu gap dense(3)', 'cross-entropy'],
    ['lenet', 'cross-entropy'],
  ];
  for (const [text, loss] of specs) {
    const { got, ref } = await hvpBoth(text, loss, text === 'lenet' ? 20 : 40);
    const e = maxRelError(got, ref);
    assert.ok(e < 1e-4, `${text}: H·v relative error ${e}`);
  }
});

test('BatchNorm on batch statistics: both threads in step give the numbers of one, for one and several vectors', () => {
  const k = kernels();
  const spec = modelSpecFromText('input(3,8,8) conv(8,3,pad=1) bn relu res(conv(8,3,pad=1) bn relu conv(8,3,pad=1) bn) relu gap dense(5)');
  const net: CnnNetwork = { arch: spec.arch!, loss: spec.loss };
  const data = makeData(301, 192, 5, 4);
  const host = { x: data.x, y: data.y, n: data.n };
  const thetas = thetasFor(spec, 2, 8);
  const runs = atThreadCounts([1, 2], () => k.run(net, host, thetas, 2, true));
  assert.deepEqual([...runs[1].losses], [...runs[0].losses]);
  assert.deepEqual([...runs[1].grads!], [...runs[0].grads!]);
  const ref = reference(spec, data, thetas, 2);
  assert.ok(maxRelError(runs[1].grads!, ref.grads) < 2e-5, 'and they are the gradients');
});

test('rows of the wrong width are refused, not read past their end', () => {
  const spec = modelSpecFromText('input(1,6,6) conv(2,3) relu flatten dense(3)');
  const net: CnnNetwork = { arch: spec.arch!, loss: spec.loss };
  const data = makeData(5, 35, 3, 1);
  assert.throws(() => kernels().run(net, { x: data.x, y: data.y, n: 5 }, thetasFor(spec, 1, 1), 1, false), /takes 36 inputs and 3 targets per row; the data has 35 and 3/);
});

test('a thread that traps while its twin waits at a barrier fails the call instead of hanging, and the kernels work after', async () => {
  const { execFile } = await import('node:child_process');
  const path = await import('node:path');
  const script = path.join(__dirname, '..', '..', 'fixtures', 'kernels', 'lockstepTrap.ts');
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', script], { timeout: 60_000, env: { ...process.env, LANDSCAPE_THREADS: '2' } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.killed ? 'hung (killed after 60 s)' : err.message}: ${stdout} ${stderr.slice(-500)}`));
      else resolve(stdout);
    });
  });
  assert.match(out, /threw: fast network kernel failed/);
  assert.match(out, /then: same/);
});
