/**
 * Per-layer curvature (the top eigenvalue and trace of each layer's diagonal
 * Hessian block) against the blocks of a full Hessian: the float64 reference
 * of a dense network, and for a small CNN the Hessian built column by column
 * from tfjs autodiff products (code the kernels' exact products do not share).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/engine/backend';
import { initParams, makeSpec, paramCount, paramLayout, type ModelSpec } from '../../../src/engine/model/spec';
import { modelSpecFromText } from '../../../src/engine/model/archModel';
import { networkObjective, toDevice } from '../../../src/engine/model/network';
import { hasKernelHvp, isFastObjective, setFastThreads } from '../../../src/engine/fast';
import { layerBlocks, layerCurvature, type ParameterBlock } from '../../../src/engine/analysis/layerCurvature';
import { hessianVectorProduct } from '../../../src/engine/analysis/hvp';
import { symmetricEigen } from '../../../src/engine/analysis/linalg';
import type { Objective } from '../../../src/engine/objective';
import { Rng } from '../../../src/engine/rng';
import { makeData } from '../../support/randomData';
import { Float64Network } from '../../support/float64Network';

before(async () => {
  await initBackend('cpu', { force: true });
  setFastThreads(1);
});
after(() => setFastThreads(1));

function pointFor(spec: ModelSpec, seed: number): Float32Array {
  const rng = new Rng(seed);
  return initParams(spec, rng).map((t) => t + 0.05 * rng.normal());
}

/** The diagonal block of `H` on the block's coordinates: its largest eigenvalue and its trace. */
function referenceBlock(H: Float64Array[], block: ParameterBlock) {
  const idx = Array.from(block.indices);
  const sub = idx.map((i) => Float64Array.from(idx, (j) => 0.5 * (H[i][j] + H[j][i])));
  return { top: symmetricEigen(sub).values[0], trace: idx.reduce((s, i) => s + H[i][i], 0), scale: idx.reduce((s, i) => s + Math.abs(H[i][i]), 0) };
}

test('layer blocks: one per layer, weight and bias together, covering θ once, named by the checkpoint tensors', () => {
  const dense = layerBlocks(makeSpec([6, 8, 4, 3], { bias: true }));
  assert.deepEqual(dense.map((b) => b.name), ['layers.0', 'layers.1', 'layers.2']);
  assert.deepEqual(dense[1].tensors, ['layers.1.weight', 'layers.1.bias']);
  assert.deepEqual(dense.map((b) => b.indices.length), [6 * 8 + 8, 8 * 4 + 4, 4 * 3 + 3]);
  const lenet = modelSpecFromText('lenet');
  const blocks = layerBlocks(lenet);
  assert.deepEqual(blocks.map((b) => b.name), ['layers.0', 'layers.3', 'layers.7', 'layers.9', 'layers.11']);
  const seen = new Uint8Array(paramCount(lenet));
  for (const b of blocks) for (const i of b.indices) seen[i]++;
  assert.ok(seen.every((c) => c === 1), 'every parameter in exactly one block');
  assert.deepEqual(blocks.flatMap((b) => b.tensors), paramLayout(lenet).map((e) => e.name));
});

/** A 6-8-4-3 tanh network with biases on random data: its float64 Hessian and its objective on the kernels. */
function denseCase() {
  const data = makeData(150, 6, 3, 4);
  const spec = makeSpec([6, 8, 4, 3], { activation: 'tanh', bias: true });
  const theta = pointFor(spec, 8);
  const H = new Float64Network(spec, data, theta).hessian(theta);
  const dev = toDevice(data);
  return { spec, theta, H, dev, fn: networkObjective(spec, dev) };
}

test('dense network, small blocks: computed exactly, equal to the full Hessian\'s diagonal blocks', async () => {
  const c = denseCase();
  try {
    assert.ok(isFastObjective(c.fn));
    const blocks = layerBlocks(c.spec);
    const r = await layerCurvature(c.fn, c.theta, blocks, { seed: 1 });
    assert.equal(r.hvp, 'exact');
    r.blocks.forEach((got, b) => {
      const ref = referenceBlock(c.H, blocks[b]);
      assert.equal(got.method, 'exact', `${got.name}: ${got.size} parameters ≤ 30 + 64 products`);
      assert.equal(got.products, got.size);
      assert.ok(Math.abs(got.topEigenvalue - ref.top) <= 1e-5 * Math.abs(ref.top) + 1e-7, `${got.name}: λmax ${got.topEigenvalue} vs ${ref.top}`);
      assert.ok(Math.abs(got.trace - ref.trace) <= 1e-5 * ref.scale, `${got.name}: trace ${got.trace} vs ${ref.trace}`);
    });
  } finally {
    c.dev.dispose();
  }
});

test('dense network, estimated: Lanczos λmax within its error estimate, Hutchinson trace within 4 standard errors', async () => {
  const c = denseCase();
  try {
    const blocks = layerBlocks(c.spec);
    const r = await layerCurvature(c.fn, c.theta, blocks, { seed: 2, exactUpTo: 0, iterations: 30, samples: 400 });
    r.blocks.forEach((got, b) => {
      const ref = referenceBlock(c.H, blocks[b]);
      assert.equal(got.method, 'estimated');
      assert.equal(got.traceSamples, 400);
      assert.ok(got.converged, `${got.name} converged in ${got.lanczosSteps} steps`);
      // float32 products add about 1e-6 relative to what the Lanczos residual bounds.
      assert.ok(Math.abs(got.topEigenvalue - ref.top) <= got.topEigenvalueError! + 1e-5 * Math.abs(ref.top), `${got.name}: λmax ${got.topEigenvalue} ± ${got.topEigenvalueError} vs ${ref.top}`);
      assert.ok(Math.abs(got.trace - ref.trace) <= 4 * got.traceStandardError!, `${got.name}: trace ${got.trace} ± ${got.traceStandardError} vs ${ref.trace}`);
    });
    // Seeded: the same seed, the same numbers.
    const again = await layerCurvature(c.fn, c.theta, blocks, { seed: 2, exactUpTo: 0, iterations: 30, samples: 400 });
    assert.deepEqual(again.blocks, r.blocks);
  } finally {
    c.dev.dispose();
  }
});

/** The whole Hessian from P products with unit vectors (symmetrised). */
function fullHessian(fn: Objective, theta: Float32Array, hvp: 'autodiff' | 'exact'): Float64Array[] {
  const op = hessianVectorProduct(fn, theta, { hvp });
  try {
    const P = fn.dim;
    const cols = op.apply(Array.from({ length: P }, (_, j) => Float64Array.from({ length: P }, (_, i) => (i === j ? 1 : 0))));
    return cols.map((_, i) => Float64Array.from({ length: P }, (_, j) => 0.5 * (cols[i][j] + cols[j][i])));
  } finally {
    op.dispose();
  }
}

test('CNN: per-layer curvature from exact kernel products matches the blocks of the autodiff Hessian', async () => {
  const spec = modelSpecFromText('input(1,5,5) conv(2,3) tanh maxpool(2) flatten dense(4) tanh dense(3)');
  const data = makeData(60, 25, 3, 5);
  const theta = pointFor(spec, 3);
  const dev = toDevice(data);
  try {
    const fn = networkObjective(spec, dev);
    assert.ok(hasKernelHvp(fn), 'the kernels make exact products for this CNN');
    const H = fullHessian(fn, theta, 'autodiff');
    const blocks = layerBlocks(spec);
    assert.deepEqual(blocks.map((b) => b.name), ['layers.0', 'layers.4', 'layers.6']);
    for (const exactUpTo of [undefined, 0]) {
      const r = await layerCurvature(fn, theta, blocks, { seed: 3, exactUpTo, samples: 300 });
      assert.equal(r.hvp, 'exact');
      r.blocks.forEach((got, b) => {
        const ref = referenceBlock(H, blocks[b]);
        const err = got.method === 'exact' ? 1e-4 * Math.abs(ref.top) : got.topEigenvalueError! + 1e-4 * Math.abs(ref.top);
        assert.ok(Math.abs(got.topEigenvalue - ref.top) <= err, `${got.name} (${got.method}): λmax ${got.topEigenvalue} vs ${ref.top}`);
        const terr = got.method === 'exact' ? 1e-4 * ref.scale : 4 * got.traceStandardError!;
        assert.ok(Math.abs(got.trace - ref.trace) <= terr, `${got.name} (${got.method}): trace ${got.trace} vs ${ref.trace}`);
      });
    }
  } finally {
    dev.dispose();
  }
});

test('per-layer curvature refuses bad options and blocks outside θ', async () => {
  const c = denseCase();
  try {
    const blocks = layerBlocks(c.spec);
    await assert.rejects(layerCurvature(c.fn, c.theta, blocks, { samples: 1 }), /samples must be a whole number ≥ 2/);
    await assert.rejects(layerCurvature(c.fn, c.theta, blocks, { iterations: 0 }), /iterations must be a whole number ≥ 1/);
    await assert.rejects(layerCurvature(c.fn, c.theta, [{ name: 'x', tensors: [], indices: Int32Array.of(0, 10_000) }]), /block "x" is empty or reaches outside the 107 parameters/);
  } finally {
    c.dev.dispose();
  }
});
