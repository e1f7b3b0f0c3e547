/** The toy landscape's known answers again on the WASM backend (float32, single-threaded, SIMD). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import { findPath, toyObjective, TOY_A, TOY_B } from '../../../src/engine/path';

const A = [...TOY_A];
const B = [...TOY_B];
const TOY_SADDLE = 0.6243878175562961;

before(async () => {
  await initBackend('wasm', { force: true });
});

after(async () => {
  await initBackend('cpu', { force: true });
});

test('wasm: straight line 1.102 ± 0.005, sum 0.685 ± 0.01, minimax ≤ 0.630, NEB within 1% of minimax', async () => {
  assert.equal(tf.getBackend(), 'wasm');
  const toy = toyObjective();
  const before = tf.memory().numTensors;
  const lin = await findPath(toy, A, B, { method: 'linear' });
  assert.ok(Math.abs(lin.height - 1.102) <= 0.005, `linear ${lin.height}`);
  const sum = await findPath(toy, A, B, { objective: 'sum', points: 100, modes: 10, lambda: 10, lr: 0.01, steps: 300, refine: 'none' });
  assert.ok(Math.abs(sum.height - 0.685) <= 0.01, `sum ${sum.height}`);
  const mm = await findPath(toy, A, B, { points: 100, modes: 10, lambda: 10, refine: 'none' });
  assert.ok(mm.height <= 0.63 && mm.height >= TOY_SADDLE - 1e-4, `minimax ${mm.height}`);
  const neb = await findPath(toy, A, B, { method: 'neb' });
  assert.ok(Math.abs(neb.height - mm.height) <= 0.01 * mm.barrierFromMean, `neb ${neb.height}`);
  assert.equal(tf.memory().numTensors, before);
});

test('wasm: squared, seed 1: 0.641 ± 0.015', async () => {
  const r = await findPath(toyObjective(), A, B, { objective: 'squared', points: 101, modes: 15, lambda: 35, lr: 0.01, steps: 300, noise: 1, seed: 1, refine: 'none' });
  assert.ok(Math.abs(r.height - 0.641) <= 0.015, `squared ${r.height}`);
});
