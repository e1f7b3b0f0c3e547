/**
 * bn(eps=e): BatchNorm with its own epsilon (Keras writes 1e-3, PyTorch
 * 1e-5). The grammar parses, prints and refuses it; a residual shortcut's bn
 * takes the body's eps; and both the tfjs forward pass and the WebAssembly
 * kernels divide by √(var + e), checked against the formula in float64 with
 * an eps large enough (0.25, 0.5) that any other value is far off.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/engine/backend';
import { formatArchitecture, inferShapes, parseArchitecture } from '../../../src/engine/model/arch';
import { modelSpecFromText } from '../../../src/engine/model/archModel';
import { evaluateModel, toDevice } from '../../../src/engine/model/network';
import { fastEvaluateLayered, setFastEnabled } from '../../../src/engine/fast';
import type { ModelSpec } from '../../../src/engine/model/spec';
import { LandscapeError } from '../../../src/engine/errors';
import { Rng } from '../../../src/engine/rng';

before(async () => {
  await initBackend('cpu', { force: true });
});

function inputError(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof LandscapeError && e.kind === 'input' && re.test(e.message), String(re));
}

describe('bn(eps=…) in the model grammar', () => {
  it('parses, prints canonically, and the default collapses to plain bn', () => {
    const a = parseArchitecture('input(3,4,4) conv(2,3) bn(eps=1e-3) flatten dense(2)');
    assert.deepEqual(a.nodes[2], { op: 'bn', eps: 0.001 });
    assert.equal(formatArchitecture(a), 'input(3,4,4) conv(2,3) bn(eps=0.001) flatten dense(2)');
    assert.deepEqual(parseArchitecture(formatArchitecture(a)), a);
    assert.deepEqual(parseArchitecture('input(3) bn(eps=0.00001) dense(2)').nodes[1], { op: 'bn' });
    assert.equal(formatArchitecture(parseArchitecture('input(3) bn(eps=1e-7) dense(2)')), 'input(3) bn(eps=1e-7) dense(2)');
    // eps changes no shape and no parameter count.
    assert.equal(inferShapes(a).paramCount, inferShapes(parseArchitecture('input(3,4,4) conv(2,3) bn flatten dense(2)')).paramCount);
  });

  it('refuses eps outside (0, 1], words, other options and positional values', () => {
    inputError(() => parseArchitecture('input(3) bn(eps=0) dense(2)'), /eps must be a number above 0 and at most 1.*"0"/);
    inputError(() => parseArchitecture('input(3) bn(eps=2) dense(2)'), /eps must be a number above 0/);
    inputError(() => parseArchitecture('input(3) bn(eps=small) dense(2)'), /eps must be a number above 0.*"small"/);
    inputError(() => parseArchitecture('input(3) bn(momentum=0.1) dense(2)'), /has no option "momentum"; it takes eps=/);
    inputError(() => parseArchitecture('input(3) bn(0.001) dense(2)'), /needs 0 plain arguments, got 1/);
    inputError(() => parseArchitecture('input(3) bn() dense(2)'), /needs eps=e, or write bn without parentheses/);
  });

  it('a projection shortcut\'s bn takes the eps its block\'s bn layers share, else the default', () => {
    const shortcutBn = (text: string) => inferShapes(parseArchitecture(text)).nodes[0].shortcut![1].node;
    assert.deepEqual(shortcutBn('input(2,4,4) res(conv(4,3,stride=2,pad=1) bn(eps=0.001) relu conv(4,3,pad=1) bn(eps=0.001)) gap dense(2)'), { op: 'bn', eps: 0.001 });
    assert.deepEqual(shortcutBn('input(2,4,4) res(conv(4,3,stride=2,pad=1) bn(eps=0.001) relu conv(4,3,pad=1) bn) gap dense(2)'), { op: 'bn' });
    assert.deepEqual(shortcutBn('input(2,4,4) res(conv(4,3,stride=2,pad=1)) gap dense(2)'), { op: 'bn' });
  });
});

/** Per-channel BatchNorm in float64: (x − μ)/√(σ² + eps)·γ + β, μ and σ² over rows (and positions) or the running ones. */
function batchNorm64(x: Float64Array, n: number, C: number, hw: number, gamma: number[], beta: number[], eps: number, running?: { mean: number[]; variance: number[] }): Float64Array {
  const out = new Float64Array(x.length);
  for (let c = 0; c < C; c++) {
    const values: number[] = [];
    for (let r = 0; r < n; r++) for (let p = 0; p < hw; p++) values.push(x[(r * C + c) * hw + p]);
    const mean = running ? running.mean[c] : values.reduce((a, b) => a + b, 0) / values.length;
    const variance = running ? running.variance[c] : values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    for (let r = 0; r < n; r++) for (let p = 0; p < hw; p++) {
      const i = (r * C + c) * hw + p;
      out[i] = ((x[i] - mean) / Math.sqrt(variance + eps)) * gamma[c] + beta[c];
    }
  }
  return out;
}

/** 'input(C,H,W) bn(eps) flatten dense(k,bias=false)' (or input(C)) with mse: the loss in float64 from the formula. */
function expectedLoss(spec: ModelSpec, theta: Float32Array, x: Float32Array, y: Float32Array, n: number, eps: number, buffers?: Float32Array): number {
  const [C, H = 1, W = 1] = spec.arch!.inputShape;
  const hw = H * W;
  const k = spec.layers[1];
  const F = C * hw;
  const g = Array.from(theta.subarray(0, C));
  const b = Array.from(theta.subarray(C, 2 * C));
  const running = buffers ? { mean: Array.from(buffers.subarray(0, C)), variance: Array.from(buffers.subarray(C, 2 * C)) } : undefined;
  const h = batchNorm64(Float64Array.from(x), n, C, hw, g, b, eps, running);
  let loss = 0;
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < k; o++) {
      let s = 0;
      for (let f = 0; f < F; f++) s += theta[2 * C + o * F + f] * h[r * F + f];
      loss += (s - y[r * k + o]) ** 2;
    }
  }
  return loss / (n * k);
}

function lossBoth(spec: ModelSpec, theta: Float32Array, x: Float32Array, y: Float32Array, n: number, buffers?: Float32Array): { kernels: number; tfjs: number } {
  const fast = fastEvaluateLayered(spec, { x, y, n }, theta, buffers);
  assert.ok(fast, 'the WebAssembly kernels load');
  const data = toDevice({ x, y, n, features: spec.layers[0], outputs: spec.layers[1] });
  setFastEnabled(false);
  try {
    return { kernels: fast.loss, tfjs: evaluateModel(spec, theta, data, 'regression', buffers).loss };
  } finally {
    setFastEnabled(true);
    data.dispose();
  }
}

describe('bn(eps=…) in evaluation', () => {
  for (const [text, eps] of [['input(3) bn(eps=0.25) dense(2,bias=false)', 0.25], ['input(2,3,3) bn(eps=0.5) flatten dense(2,bias=false)', 0.5]] as const) {
    it(`${text}: kernels and tfjs equal the float64 formula, with batch and running statistics`, () => {
      const spec = modelSpecFromText(text, { loss: 'mse' });
      const rng = new Rng(7);
      const n = 11;
      const theta = Float32Array.from({ length: spec.arch!.layout.paramCount }, () => 0.5 * rng.normal() + 0.3);
      const x = Float32Array.from({ length: n * spec.layers[0] }, () => 0.4 * rng.normal() + 0.1);
      const y = Float32Array.from({ length: n * spec.layers[1] }, () => rng.normal());
      const buffers = Float32Array.from({ length: spec.arch!.layout.bufferCount }, (_, i) => (i < spec.arch!.inputShape[0] ? 0.1 * rng.normal() : 0.05 + 0.1 * rng.uniform()));
      for (const b of [undefined, buffers]) {
        const want = expectedLoss(spec, theta, x, y, n, eps, b);
        const other = expectedLoss(spec, theta, x, y, n, 1e-5, b);
        assert.ok(Math.abs(want - other) > 1e-2 * want, 'eps changes the loss measurably');
        const got = lossBoth(spec, theta, x, y, n, b);
        for (const [path, v] of Object.entries(got)) assert.ok(Math.abs(v - want) < 1e-5 * want, `${path}, ${b ? 'running' : 'batch'} statistics: ${v} vs ${want}`);
      }
    });
  }
});
