/**
 * zeropad(t,b,l,r) in the model grammar: zeros around the image, rows on top
 * and bottom, columns left and right (Keras' ZeroPadding2D, and its uneven
 * 'same'). The grammar parses its three spellings, prints the shortest,
 * infers shapes and refuses bad arguments naming the token and argument; the
 * tfjs forward pass equals a float64 loop over the padded image; the fast
 * kernels decline such models (tfjs computes them) and Hessian-vector
 * products say so, their autodiff products equal the kernels' exact ones on
 * the same network written as conv(…,pad=p).
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import { formatArchitecture, inferShapes, parseArchitecture } from '../../../src/engine/model/arch';
import { modelSpecFromText } from '../../../src/engine/model/archModel';
import { evaluateModel, networkObjective, toDevice } from '../../../src/engine/model/network';
import { fastEvaluateLayered, fastPathFor, hasKernelHvp, isFastObjective } from '../../../src/engine/fast';
import { hessianVectorProduct } from '../../../src/engine/analysis/hvp';
import type { ModelSpec } from '../../../src/engine/model/spec';
import { LandscapeError } from '../../../src/engine/errors';
import { Rng } from '../../../src/engine/rng';

before(async () => {
  await initBackend('cpu', { force: true });
});

function inputError(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof LandscapeError && e.kind === 'input' && re.test(e.message), String(re));
}

describe('zeropad in the model grammar', () => {
  it('parses zeropad(p), zeropad(h,w) and zeropad(t,b,l,r), and prints the shortest spelling', () => {
    const node = (t: string) => parseArchitecture(`input(1,4,4) ${t} flatten dense(2)`).nodes[1];
    assert.deepEqual(node('zeropad(2)'), { op: 'zeropad', top: 2, bottom: 2, left: 2, right: 2 });
    assert.deepEqual(node('zeropad(1,3)'), { op: 'zeropad', top: 1, bottom: 1, left: 3, right: 3 });
    assert.deepEqual(node('zeropad(0,1,2,3)'), { op: 'zeropad', top: 0, bottom: 1, left: 2, right: 3 });
    const canonical = (t: string) => formatArchitecture(parseArchitecture(`input(1,4,4) ${t} flatten dense(2)`)).split(' ')[1];
    assert.equal(canonical('zeropad(1,1,1,1)'), 'zeropad(1)');
    assert.equal(canonical('zeropad(2,2,0,0)'), 'zeropad(2,0)');
    assert.equal(canonical('zeropad(4,4)'), 'zeropad(4)');
    assert.equal(canonical('zeropad( 0 , 1 ,0,1)'), 'zeropad(0,1,0,1)');
    for (const text of ['input(2,5,6) zeropad(0,1,2,3) conv(3,2) res(zeropad(1,0) conv(3,3,pad=1,bias=false)) flatten dense(2)', 'input(1,3,3) zeropad(0) zeropad(1,2) gap dense(1)']) {
      const a = parseArchitecture(text);
      assert.deepEqual(parseArchitecture(formatArchitecture(a)), a, text);
    }
  });

  it('shapes: C,H,W → C,H+t+b,W+l+r, no parameters; inside a residual block too', () => {
    const s = inferShapes(parseArchitecture('input(2,5,6) zeropad(0,1,2,3) flatten dense(2)'));
    assert.deepEqual(s.nodes[0].output, [2, 6, 11]);
    assert.deepEqual(s.nodes[0].params, []);
    assert.equal(s.paramCount, 2 * 6 * 11 * 2 + 2);
    // An uneven pad before a stride-2 valid conv keeps 8×8 → 4×4, so the block's 1×1 stride-2 shortcut fits.
    const r = inferShapes(parseArchitecture('input(3,8,8) res(zeropad(0,1,0,1) conv(4,3,stride=2) bn) gap dense(2)'));
    assert.deepEqual(r.nodes[0].body!.map((n) => n.output), [[3, 9, 9], [4, 4, 4], [4, 4, 4]]);
    assert.deepEqual(r.nodes[0].shortcut![0].node, { op: 'conv', out: 4, kernel: 1, stride: 2, pad: 'valid', bias: false });
  });

  it('refuses bad arguments naming the token and the argument, and flat inputs naming the layer', () => {
    const parse = (t: string) => () => parseArchitecture(`input(1,4,4) ${t} flatten dense(2)`);
    inputError(parse('zeropad'), /"zeropad" needs arguments: zeropad\(p\), zeropad\(h,w\) or zeropad\(top,bottom,left,right\)/);
    inputError(parse('zeropad()'), /"zeropad\(\)" needs arguments/);
    inputError(parse('zeropad(1,2,3)'), /"zeropad\(1,2,3\)" has 3 arguments; write zeropad\(p\)/);
    inputError(parse('zeropad(1,2,3,4,5)'), /has 5 arguments/);
    inputError(parse('zeropad(-1)'), /in "zeropad\(-1\)" the padding \(argument 1\) must be a whole number from 0 to \d+, not "-1"/);
    inputError(parse('zeropad(1,x)'), /in "zeropad\(1,x\)" the width padding \(argument 2\) must be a whole number/);
    inputError(parse('zeropad(0,0,1.5,0)'), /the left padding \(argument 3\) must be a whole number.*"1\.5"/);
    inputError(parse('zeropad(0,0,0,99999999)'), /the right padding \(argument 4\) must be a whole number from 0 to 1048576/);
    inputError(parse('zeropad(p=1)'), /"zeropad\(p=1\)" takes plain numbers/);
    inputError(() => inferShapes(parseArchitecture('input(4) zeropad(1) dense(2)')), /layer 2 \(zeropad\(1\)\) on input 4: this layer needs an image/);
  });
});

/** Zero-pad C,H,W rows in float64 by a direct loop. */
function pad64(x: Float32Array, n: number, [C, H, W]: number[], [t, b, l, r]: number[]): Float64Array {
  const [Hp, Wp] = [H + t + b, W + l + r];
  const out = new Float64Array(n * C * Hp * Wp);
  for (let i = 0; i < n; i++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) out[((i * C + c) * Hp + h + t) * Wp + w + l] = x[((i * C + c) * H + h) * W + w];
  return out;
}

function randomProblem(spec: ModelSpec, n: number, seed: number) {
  const rng = new Rng(seed);
  const theta = Float32Array.from({ length: spec.arch!.layout.paramCount }, () => 0.3 * rng.normal());
  const x = Float32Array.from({ length: n * spec.layers[0] }, () => rng.normal());
  const y = Float32Array.from({ length: n * spec.layers[1] }, () => rng.normal());
  return { theta, x, y };
}

describe('zeropad in evaluation', () => {
  it('the tfjs forward pass equals a float64 loop: pad, then a bias-free dense over the C,H,W-ordered padded features (mse)', () => {
    const spec = modelSpecFromText('input(2,3,4) zeropad(0,1,2,3) flatten dense(3,bias=false)', { loss: 'mse' });
    const n = 5;
    const { theta, x, y } = randomProblem(spec, n, 3);
    const padded = pad64(x, n, [2, 3, 4], [0, 1, 2, 3]);
    const F = 2 * 4 * 9;
    let want = 0;
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < 3; o++) {
        let s = 0;
        for (let f = 0; f < F; f++) s += theta[o * F + f] * padded[i * F + f];
        want += (s - y[i * 3 + o]) ** 2;
      }
    }
    want /= n * 3;
    const data = toDevice({ x, y, n, features: spec.layers[0], outputs: 3 });
    try {
      const got = evaluateModel(spec, theta, data, 'regression').loss;
      assert.ok(Math.abs(got - want) < 1e-5 * want, `${got} vs ${want}`);
      // Where the zeros go matters: the mirrored padding gives another loss.
      const mirrored = modelSpecFromText('input(2,3,4) zeropad(1,0,3,2) flatten dense(3,bias=false)', { loss: 'mse' });
      assert.ok(Math.abs(evaluateModel(mirrored, theta, data, 'regression').loss - want) > 1e-3 * want);
    } finally {
      data.dispose();
    }
  });

  it('the kernels decline zeropad models; the tfjs objective says why; autodiff products equal the kernels\' exact ones on conv(…,pad=1)', () => {
    const padded = modelSpecFromText('input(1,6,6) zeropad(1) conv(3,3) tanh res(zeropad(1) conv(3,3) softplus) flatten dense(4)');
    const inConv = modelSpecFromText('input(1,6,6) conv(3,3,pad=1) tanh res(conv(3,3,pad=1) softplus) flatten dense(4)');
    assert.equal(padded.arch!.layout.paramCount, inConv.arch!.layout.paramCount);
    const n = 12;
    const { theta, x } = randomProblem(padded, n, 5);
    const y = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) y[i * 4 + (i % 4)] = 1;
    assert.equal(fastPathFor(padded, () => ({ x, y, n })), null);
    assert.equal(fastEvaluateLayered(padded, { x, y, n }, theta), null);
    const tx = tf.tensor2d(x, [n, 36]);
    const ty = tf.tensor2d(y, [n, 4]);
    const host = { x, y, n };
    try {
      const slow = networkObjective(padded, { x: tx, y: ty, host });
      const fast = networkObjective(inConv, { x: tx, y: ty, host });
      assert.ok(!isFastObjective(slow) && !hasKernelHvp(slow));
      assert.match(slow.kernelsDeclined!, /zeropad layers are not in the fast kernels/);
      assert.ok(hasKernelHvp(fast), 'the kernels load and make exact products for the conv(pad=1) network');
      const auto = hessianVectorProduct(slow, theta, { hvp: 'auto' });
      assert.equal(auto.mode, 'autodiff');
      assert.match(auto.fallbackReason!, /zeropad layers are not in the fast kernels.*autodiff/);
      inputError(() => hessianVectorProduct(slow, theta, { hvp: 'exact' }), /zeropad layers are not in the fast kernels/);
      const exact = hessianVectorProduct(fast, theta, { hvp: 'exact' });
      assert.ok(Math.abs(auto.loss - exact.loss) < 1e-5 * exact.loss, `loss ${auto.loss} vs ${exact.loss}`);
      const rng = new Rng(9);
      const v = Float64Array.from({ length: theta.length }, () => rng.normal());
      const [a] = auto.apply([v]);
      const [e] = exact.apply([v]);
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < a.length; i++) {
        diff = Math.max(diff, Math.abs(a[i] - e[i]));
        scale = Math.max(scale, Math.abs(e[i]));
      }
      assert.ok(scale > 1e-3 && diff < 1e-3 * scale, `max |autodiff − exact| ${diff} of ${scale}`);
      auto.dispose();
      exact.dispose();
    } finally {
      tf.dispose([tx, ty]);
    }
  });
});
