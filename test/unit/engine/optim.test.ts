import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, tf } from '../../../src/engine/backend';
import { objectiveFrom, type Objective } from '../../../src/engine/objective';
import { LandscapeError } from '../../../src/engine/errors';
import {
  createOptimizer,
  goldenSectionSearch,
  GOLDEN_FRACTION,
  Lbfgs,
  LbfgsMemory,
  lbfgsDirection,
  OPTIMIZER_NAMES,
  type OptimizerOptions,
  type Optimizer,
} from '../../../src/engine/optim';
import { gradStats } from '../../../src/engine/optim/common';

before(async () => {
  await initBackend('cpu', { force: true });
});

// ---------------------------------------------------------------- objectives

/** f(x, y) = (1 − x)² + 100(y − x²)², minimum 0 at (1, 1). */
const rosenbrock: Objective = objectiveFrom(2, (t) =>
  tf.tidy(() => {
    const x = tf.squeeze(tf.slice(t, [0, 0], [-1, 1]), [1]);
    const y = tf.squeeze(tf.slice(t, [0, 1], [-1, 1]), [1]);
    return tf.add(tf.square(tf.sub(1, x)), tf.mul(100, tf.square(tf.sub(y, tf.square(x))))) as tf.Tensor1D;
  }),
);

/** ½ Σ a_i (θ_i − c_i)², a diagonal quadratic. */
function quadratic(a: number[], c: number[] = a.map(() => 0)): Objective {
  return objectiveFrom(a.length, (t) =>
    tf.tidy(() => tf.mul(0.5, tf.sum(tf.mul(tf.square(tf.sub(t, tf.tensor1d(c))), tf.tensor1d(a)), 1)) as tf.Tensor1D),
  );
}

/** Condition number 100: curvatures 0.1 … 10, log-spaced; minimum 0 at θ = 1. */
const ILL_A = Array.from({ length: 10 }, (_, i) => Math.pow(10, -1 + (2 * i) / 9));
const illQuadratic = quadratic(ILL_A, ILL_A.map(() => 1));

function valueAt(f: Objective, theta: ArrayLike<number>): number {
  return tf.tidy(() => f.evaluate(tf.tensor2d(Float32Array.from(theta), [1, f.dim])).dataSync()[0]);
}

/** Runs n steps from start; returns the final point and the per-step results. */
function run(opt: Optimizer, f: Objective, start: number[], n: number) {
  let theta = tf.tensor1d(start);
  const losses: number[] = [];
  const lrs: number[] = [];
  const evals: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = opt.step(theta, f);
    theta.dispose();
    theta = r.theta;
    losses.push(r.loss);
    lrs.push(r.lr);
    evals.push(r.evaluations);
  }
  const final = Float32Array.from(theta.dataSync());
  theta.dispose();
  return { final, losses, lrs, evals };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// ---------------------------------------------------------------- construction

test('createOptimizer knows every name and reports its resolved options as plain JSON', () => {
  for (const name of OPTIMIZER_NAMES) {
    const opt = createOptimizer(name);
    assert.equal(opt.name, name);
    assert.equal(opt.fullBatch, name === 'lbfgs' || name === 'rolling-ball');
    assert.deepEqual(JSON.parse(JSON.stringify(opt.options)), { ...opt.options });
    for (const v of Object.values(opt.options)) assert.ok(Number.isFinite(v), `${name}: ${JSON.stringify(opt.options)}`);
    opt.dispose();
  }
  assert.deepEqual(createOptimizer('sgd').options, { lr: 0.1, l2: 0 });
  assert.deepEqual(createOptimizer('nesterov').options, { lr: 0.05, momentum: 0.9, l2: 0 });
  assert.deepEqual(createOptimizer('adam', { lr: 0.01 }).options, { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, l2: 0 });
  assert.deepEqual(createOptimizer('lbfgs').options, { history: 10, maxEvals: 6, tol: 1e-4, l2: 0 });
  assert.deepEqual(createOptimizer('rolling-ball').options, { lr: 0.1, rho: 0.5, innerSteps: 10, innerLr: 0.01, l2: 0 });
  assert.equal(createOptimizer('L-BFGS').name, 'lbfgs');
});

test('bad names and bad option values are input errors that say what is wrong', () => {
  const isInput = (re: RegExp) => (e: unknown) => e instanceof LandscapeError && e.kind === 'input' && re.test(e.message);
  assert.throws(() => createOptimizer('adamw'), isInput(/unknown optimizer "adamw"; choose one of sgd, momentum, nesterov, adagrad, rmsprop, adam, lbfgs, rolling-ball/));
  assert.throws(() => createOptimizer('sgd', { lr: -0.1 }), isInput(/option lr must be a positive number, got -0.1/));
  assert.throws(() => createOptimizer('sgd', { lr: NaN }), isInput(/option lr must be a positive number/));
  assert.throws(() => createOptimizer('momentum', { momentum: 1 }), isInput(/option momentum must be a number in \[0, 1\)/));
  assert.throws(() => createOptimizer('lbfgs', { history: 2.5 }), isInput(/option history must be a whole number >= 1/));
  assert.throws(() => createOptimizer('lbfgs', { maxEvals: 0 }), isInput(/option maxEvals/));
  assert.throws(() => createOptimizer('adam', { l2: -1 }), isInput(/option l2 must be a number >= 0/));
  assert.throws(() => createOptimizer('rolling-ball', { innerSteps: 0 }), isInput(/option innerSteps/));
  assert.throws(() => createOptimizer('sgd', { lrr: 0.1 } as OptimizerOptions), isInput(/unknown option "lrr"/));
  assert.throws(() => createOptimizer('sgd', { lr: '0.1' } as unknown as OptimizerOptions), isInput(/option lr must be a positive number, got "0.1"/));
  assert.throws(() => createOptimizer('rmsprop', { rho: 2 }), isInput(/decay \(beta2 or rho\) must be in \[0, 1\)/));
  // Options the optimizer does not use are validated but otherwise ignored.
  assert.deepEqual(createOptimizer('lbfgs', { lr: 0.3 }).options, { history: 10, maxEvals: 6, tol: 1e-4, l2: 0 });
});

test('step rejects a parameter vector of the wrong length', () => {
  const opt = createOptimizer('sgd');
  const t = tf.tensor1d([1, 2, 3]);
  assert.throws(() => opt.step(t, rosenbrock), /shape \[3\] but the objective has 2 parameters/);
  t.dispose();
});

// ---------------------------------------------------------------- every optimizer descends

const SETTINGS: Record<string, { quad: OptimizerOptions; rosen: OptimizerOptions; steps: number }> = {
  sgd: { quad: { lr: 0.1 }, rosen: { lr: 1e-3 }, steps: 300 },
  momentum: { quad: { lr: 0.05 }, rosen: { lr: 2e-4 }, steps: 300 },
  nesterov: { quad: { lr: 0.05 }, rosen: { lr: 2e-4 }, steps: 300 },
  adagrad: { quad: { lr: 0.5 }, rosen: { lr: 0.05 }, steps: 300 },
  rmsprop: { quad: { lr: 0.01 }, rosen: { lr: 0.01 }, steps: 300 },
  adam: { quad: { lr: 0.05 }, rosen: { lr: 0.02 }, steps: 300 },
  lbfgs: { quad: {}, rosen: {}, steps: 30 },
  // The projection steps must satisfy innerLr < 1/(1 + ‖g‖²): ‖g‖² ≈ 156 at the quadratic's
  // start, ≈ 5e4 at Rosenbrock's. The radius must be below the quadratic's smallest radius of
  // curvature (1/10): with the default ρ = 0.5 the ball cannot reach the bottom of the a = 10
  // direction and stalls at f ≈ 0.14 (seen), which is the method working as designed.
  'rolling-ball': { quad: { lr: 0.15, innerLr: 0.004, innerSteps: 50, rho: 0.05 }, rosen: { lr: 1e-3, innerLr: 1e-5 }, steps: 150 },
};

for (const name of OPTIMIZER_NAMES) {
  test(`${name} lowers the loss on an ill-conditioned 10-D quadratic and on Rosenbrock`, () => {
    const s = SETTINGS[name];
    const q = run(createOptimizer(name, s.quad), illQuadratic, new Array(10).fill(0), s.steps);
    const q0 = valueAt(illQuadratic, new Array(10).fill(0));
    const q1 = valueAt(illQuadratic, q.final);
    assert.ok(q1 < 1e-2 * q0, `${name} quadratic: ${q0} -> ${q1}`);
    // Rosenbrock's valley floor near the start is at f ≈ 4; reaching it and moving along is a decrease of > 4x.
    const r = run(createOptimizer(name, s.rosen), rosenbrock, [-1.2, 1], s.steps);
    const r1 = valueAt(rosenbrock, r.final);
    assert.ok(r1 < 24.2 / 4, `${name} Rosenbrock: 24.2 -> ${r1}`);
  });
}

// ---------------------------------------------------------------- known answers (float64 references)

/** Float64 reference of the gradient methods on ½ Σ a θ², the rules of the source comments. */
function reference(name: string, a: number[], start: number[], steps: number, o: Record<string, number>): Float64Array {
  const th = Float64Array.from(start);
  const n = th.length;
  const v = new Float64Array(n);
  const m = new Float64Array(n);
  for (let t = 1; t <= steps; t++) {
    const g = th.map((x, i) => a[i] * x + (o.l2 ?? 0) * x);
    for (let i = 0; i < n; i++) {
      switch (name) {
        case 'momentum':
          v[i] = o.momentum * v[i] + g[i];
          th[i] -= o.lr * v[i];
          break;
        case 'nesterov':
          v[i] = o.momentum * v[i] + g[i];
          th[i] -= o.lr * (g[i] + o.momentum * v[i]);
          break;
        case 'adagrad':
          v[i] += g[i] * g[i];
          th[i] -= (o.lr * g[i]) / (Math.sqrt(v[i]) + o.eps);
          break;
        case 'rmsprop':
          v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];
          th[i] -= (o.lr * g[i]) / (Math.sqrt(v[i]) + o.eps);
          break;
        case 'adam': {
          m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
          v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];
          const mh = m[i] / (1 - Math.pow(o.beta1, t));
          const vh = v[i] / (1 - Math.pow(o.beta2, t));
          th[i] -= (o.lr * mh) / (Math.sqrt(vh) + o.eps);
          break;
        }
        default:
          th[i] -= o.lr * g[i];
      }
    }
  }
  return th;
}

test('momentum, nesterov, adagrad, rmsprop and adam match float64 references step by step', () => {
  const a = [0.5, 1, 3, 8];
  const start = [1, -2, 0.5, 0.25];
  const f = quadratic(a);
  for (const name of ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam'] as const) {
    const opt = createOptimizer(name, { lr: 0.03, l2: 0.1 });
    const o = opt.options as Record<string, number>;
    let theta = tf.tensor1d(start);
    for (let k = 1; k <= 6; k++) {
      const r = opt.step(theta, f);
      theta.dispose();
      theta = r.theta;
      const want = reference(name, a, start, k, o);
      const d = maxAbsDiff(theta.dataSync(), want);
      assert.ok(d < 2e-6, `${name} step ${k}: off by ${d}`);
    }
    theta.dispose();
    opt.dispose();
  }
  // The references must tell the rules apart, or the comparison above proves little.
  const m = reference('momentum', a, start, 3, { lr: 0.03, momentum: 0.9 });
  const nv = reference('nesterov', a, start, 3, { lr: 0.03, momentum: 0.9 });
  assert.ok(maxAbsDiff(m, nv) > 1e-3);
  // A hand-checked value: nesterov's first step is θ − lr(1 + μ)g.
  assert.ok(Math.abs(reference('nesterov', [2], [1], 1, { lr: 0.1, momentum: 0.9 })[0] - (1 - 0.1 * 1.9 * 2)) < 1e-15);
});

test('L2 decay adds exactly l2·θ to the gradient and changes an SGD step by exactly lr·l2·θ', () => {
  const f = quadratic([1, 2, 3]);
  const theta = tf.tensor1d([0.5, -1.5, 2]);
  const plain = gradStats(f, theta, 0);
  const decayed = gradStats(f, theta, 0.25);
  const diff = tf.tidy(() => tf.sub(decayed.grad, plain.grad).dataSync());
  assert.ok(maxAbsDiff(diff, [0.125, -0.375, 0.5]) < 1e-6, `${Array.from(diff)}`);
  assert.equal(decayed.loss, plain.loss, 'the reported loss is the data loss');
  assert.ok(Math.abs(decayed.gradNorm - Math.hypot(0.5 + 0.125, -3 - 0.375, 6 + 0.5)) < 1e-5);
  plain.grad.dispose();
  decayed.grad.dispose();

  const a = createOptimizer('sgd', { lr: 0.1 }).step(theta, f);
  const b = createOptimizer('sgd', { lr: 0.1, l2: 0.25 }).step(theta, f);
  const stepDiff = tf.tidy(() => tf.sub(a.theta, b.theta).dataSync());
  assert.ok(maxAbsDiff(stepDiff, [0.0125, -0.0375, 0.05]) < 1e-6, `${Array.from(stepDiff)}`);
  assert.equal(a.loss, b.loss);
  a.theta.dispose();
  b.theta.dispose();
  theta.dispose();
});

// ---------------------------------------------------------------- golden-section search

/** Wraps φ to count calls independently of the search's own count. */
function counted(phi: (a: number) => number) {
  const c = { calls: 0, phi: (a: number) => (c.calls++, phi(a)), many: (as: number[]) => ((c.calls += as.length), as.map(phi)) };
  return c;
}

test('golden-section search finds the minimum of a parabola and a quartic', () => {
  const p = counted((a) => (a - 3) ** 2 + 1);
  const r = goldenSectionSearch(p.phi, { initialStep: 0.1, maxEvals: 60, tol: 1e-9, phiMany: p.many });
  assert.ok(r.bracketed && r.improved);
  assert.ok(Math.abs(r.alpha - 3) < 1e-4, `parabola: ${r.alpha}`);
  assert.ok(Math.abs(r.value - 1) < 1e-8);
  assert.equal(r.evaluations, p.calls, 'φ(0) is evaluated and counted when f0 is not given');
  // Within float64 resolution of the values: (α − 3)² + 1 cannot tell points 1e-8 apart.
  assert.ok(r.lo - 1e-7 <= 3 && 3 <= r.hi + 1e-7, `[${r.lo}, ${r.hi}]`);

  // A flat quartic: the value converges fast, the location only as the 4th root.
  const q = counted((a) => (a - 1.7) ** 4);
  const rq = goldenSectionSearch(q.phi, { initialStep: 0.05, f0: 1.7 ** 4, maxEvals: 60, tol: 1e-9 });
  assert.ok(Math.abs(rq.alpha - 1.7) < 2e-2, `quartic: ${rq.alpha}`);
  assert.ok(rq.value < 1e-7);
  assert.equal(rq.evaluations, q.calls);

  // The tolerance stops it early: relative bracket width ≤ tol.
  const t = goldenSectionSearch((a) => (a - 3) ** 2, { initialStep: 0.1, f0: 9, maxEvals: 100, tol: 1e-3 });
  assert.ok(t.hi - t.lo <= 1e-3 * (t.lo + t.hi));
  assert.ok(t.evaluations < 40);
});

test('golden-section search never exceeds its evaluation budget', () => {
  const shapes: [string, (a: number) => number, number][] = [
    ['parabola', (a) => (a - 3) ** 2, 0.2],
    ['overshoot', (a) => (a - 0.01) ** 2, 1],
    ['decreasing', (a) => -a, 0.5],
    ['nan beyond 2', (a) => (a > 2 ? NaN : (a - 1.5) ** 2), 0.3],
    ['flat', () => 1, 0.5],
  ];
  for (const [name, phi, s] of shapes) {
    for (let maxEvals = 1; maxEvals <= 12; maxEvals++) {
      for (const withF0 of [true, false]) {
        const c = counted(phi);
        const r = goldenSectionSearch(c.phi, { initialStep: s, maxEvals, f0: withF0 ? phi(0) : undefined, phiMany: c.many });
        assert.ok(c.calls <= maxEvals, `${name}, budget ${maxEvals}: ${c.calls} calls`);
        assert.equal(r.evaluations, c.calls, `${name}: reported ${r.evaluations}, made ${c.calls}`);
        assert.ok(r.value <= phi(0), `${name}: never returns a point worse than φ(0)`);
        assert.equal(r.improved, r.value < phi(0));
        if (!r.improved) assert.equal(r.alpha, 0);
      }
    }
  }
  // Decreasing forever: not bracketed, and the last doubling is returned.
  const d = goldenSectionSearch((a) => -a, { initialStep: 0.5, f0: 0, maxEvals: 6 });
  assert.equal(d.bracketed, false);
  assert.equal(d.alpha, 0.5 * 2 ** 5);
  // NaN counts as +∞, so it closes the bracket.
  const n = goldenSectionSearch((a) => (a > 2 ? NaN : (a - 1.5) ** 2), { initialStep: 0.3, f0: 2.25, maxEvals: 30, tol: 1e-8 });
  assert.ok(n.bracketed && Math.abs(n.alpha - 1.5) < 1e-3, `${n.alpha}`);
});

test('golden-section search with the default budget: overshooting first trial shrinks by 0.382 steps', () => {
  // φ rises from α = 0.02 on; the first trial 1 overshoots, [0, 1] has no interior point yet.
  const r = goldenSectionSearch((a) => (a - 0.01) ** 2, { initialStep: 1, f0: 1e-4 });
  assert.equal(r.evaluations, 6);
  assert.equal(r.improved, false);
  assert.equal(r.alpha, 0);
  // Trials 1, then (0.382, 0.618) together, then 0.382², 0.382³, 0.382⁴: hi is the smallest rejected step.
  assert.ok(Math.abs(r.hi - GOLDEN_FRACTION ** 4) < 1e-12, `${r.hi}`);
  assert.equal(r.lo, 0);
});

// ---------------------------------------------------------------- L-BFGS

test('L-BFGS-GSS reaches Rosenbrock’s minimum (1, 1) within 1e-3 from (−1.2, 1)', () => {
  const opt = createOptimizer('lbfgs') as Lbfgs;
  let theta = tf.tensor1d([-1.2, 1]);
  let iterations = 0;
  let dist = Infinity;
  let maxEvalsSeen = 0;
  for (; iterations < 200 && dist >= 1e-3; iterations++) {
    const r = opt.step(theta, rosenbrock);
    theta.dispose();
    theta = r.theta;
    maxEvalsSeen = Math.max(maxEvalsSeen, r.evaluations);
    const [x, y] = theta.dataSync();
    dist = Math.hypot(x - 1, y - 1);
  }
  theta.dispose();
  assert.ok(dist < 1e-3, `distance ${dist} after ${iterations} iterations`);
  // The budget: one gradient plus at most 6 line-search evaluations per iteration.
  assert.ok(maxEvalsSeen <= 7, `${maxEvalsSeen}`);
  // Seen here: 24 iterations to within 1e-3 (26 to within 1e-4). Far more would mean a broken direction.
  assert.ok(iterations <= 60, `${iterations} iterations`);
});

test('L-BFGS: the first step at Rosenbrock’s start overshoots, is rejected, and the retry resets and moves', () => {
  const opt = createOptimizer('lbfgs') as Lbfgs;
  const { final, lrs, evals } = run(opt, rosenbrock, [-1.2, 1], 1);
  assert.deepEqual(Array.from(final), [Math.fround(-1.2), 1], 'a rejected step leaves θ where it was');
  assert.equal(lrs[0], 0);
  assert.equal(evals[0], 7);
  const theta = tf.tensor1d(final);
  const r = opt.step(theta, rosenbrock);
  assert.equal(opt.lastReset, 'zero-step', 's = 0 after a rejected step');
  assert.equal(r.evaluations, 6, 'the gradient at the unchanged θ is reused');
  assert.ok(r.lr > 0 && valueAt(rosenbrock, r.theta.dataSync()) < 24.2);
  theta.dispose();
  r.theta.dispose();
});

test('L-BFGS survives endless rejections (a gradient that points uphill) without shrinking to zero', () => {
  // Values of Σθ² but a gradient of the wrong sign: every line search fails. Without a
  // floor the retry factor would shrink by 0.382⁵ per step and underflow within ~150 steps.
  const lying: Objective = objectiveFrom(2, (t) => {
    const fn = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const x = args[0] as tf.Tensor;
      return {
        value: tf.sum(tf.square(x), 1),
        gradFunc: (dy: tf.Tensor) => tf.mul(tf.mul(x, -2), tf.expandDims(dy, 1)),
      };
    });
    return fn(t) as tf.Tensor1D;
  });
  const opt = createOptimizer('lbfgs') as Lbfgs;
  const { final, lrs, evals } = run(opt, lying, [0.5, -0.25], 300);
  assert.deepEqual(Array.from(final), [0.5, -0.25]);
  assert.ok(lrs.every((v) => v === 0));
  assert.ok(evals.every((v) => v <= 7));
  assert.ok(evals.slice(1).every((v) => v === 6), 'the gradient at the unchanged θ is reused');
});

test('L-BFGS memory: refuses zero steps and pairs with cos(y, s) < 1e-4, keeps the last `history` pairs', () => {
  const mem = new LbfgsMemory(3);
  assert.equal(mem.push(new Float64Array([0, 0]), new Float64Array([1, 2])), 'zero-step');
  assert.equal(mem.push(new Float64Array([1, 0]), new Float64Array([0, 0])), 'zero-step');
  assert.equal(mem.push(new Float64Array([1, 0]), new Float64Array([0, 1])), 'curvature');
  assert.equal(mem.push(new Float64Array([1, 0]), new Float64Array([-1, 0.1])), 'curvature');
  // cos = 5e-5 < 1e-4 is refused, 2e-4 is kept.
  assert.equal(mem.push(new Float64Array([1, 0]), new Float64Array([5e-5, 1])), 'curvature');
  assert.equal(mem.push(new Float64Array([1, 0]), new Float64Array([2e-4, 1])), null);
  assert.equal(mem.length, 1);
  for (let i = 0; i < 5; i++) assert.equal(mem.push(new Float64Array([1, i]), new Float64Array([2, 2 * i + 1])), null);
  assert.equal(mem.length, 3);
  mem.clear();
  assert.equal(mem.length, 0);
  // Empty memory: the direction is the gradient itself.
  assert.deepEqual(Array.from(mem.direction(new Float64Array([3, -4]))), [3, -4]);
});

test('L-BFGS two-loop: known answers (1-D secant, newest secant equation, exact inverse on a quadratic)', () => {
  // 1-D: r = g·s/y (γ = s/y, and the two loops cancel up to the 1e-6 in ρ).
  const one = new LbfgsMemory(10);
  one.push(new Float64Array([0.5]), new Float64Array([2]));
  assert.ok(Math.abs(one.direction(new Float64Array([3]))[0] - 0.75) < 1e-6);

  // H y_newest = s_newest (the BFGS secant equation), up to the 1e-6 in ρ.
  const A = [1, 4, 9];
  const mem = new LbfgsMemory(10);
  const pairs = [
    [1, 0.5, -0.25],
    [-0.3, 1, 0.2],
    [0.1, -0.2, 1],
  ];
  for (const s of pairs) mem.push(Float64Array.from(s), Float64Array.from(s.map((v, i) => A[i] * v)));
  const last = pairs[2];
  const r = mem.direction(Float64Array.from(last.map((v, i) => A[i] * v)));
  assert.ok(maxAbsDiff(r, last) < 1e-5, `${Array.from(r)}`);
  // With n A-conjugate steps on an n-D quadratic, BFGS's H is exactly A⁻¹.
  const conj = new LbfgsMemory(10);
  for (let i = 0; i < 3; i++) {
    const s = new Float64Array(3);
    s[i] = 1;
    conj.push(s, Float64Array.from(s.map((v, k) => A[k] * v)));
  }
  const g = new Float64Array([1, 1, 1]);
  assert.ok(maxAbsDiff(conj.direction(g), [1, 1 / 4, 1 / 9]) < 1e-5);
});

test('L-BFGS falls back to the gradient when the direction is NaN', () => {
  // An infinite s passes the curvature test (cos is NaN, which is not < 1e-4) but
  // poisons the recursion: ρ = 0 and γ = ∞ give 0·∞ = NaN.
  const mem = new LbfgsMemory(10);
  assert.equal(mem.push(new Float64Array([Infinity, 0]), new Float64Array([1, 0])), null);
  const g = new Float64Array([0.5, -2]);
  assert.ok(mem.direction(g).some(Number.isNaN), 'the raw two-loop direction is NaN');
  const d = lbfgsDirection(mem, g);
  assert.equal(d.reset, 'nan-direction');
  assert.deepEqual(Array.from(d.r), [0.5, -2]);
  assert.equal(mem.length, 0, 'the history is cleared');

  // Inside the optimizer: a poisoned history makes the step a plain line search along −g.
  const f = quadratic([1, 3], [0, 0]);
  const opt = createOptimizer('lbfgs') as Lbfgs;
  const { final } = run(opt, f, [1, 1], 1);
  opt.memory.push(new Float64Array([Infinity, 0]), new Float64Array([1, 0]));
  const theta = tf.tensor1d(final);
  const r = opt.step(theta, f);
  assert.equal(opt.lastReset, 'nan-direction');
  assert.equal(opt.memory.length, 0);
  const next = r.theta.dataSync();
  const g1 = [final[0], 3 * final[1]];
  const move = [next[0] - final[0], next[1] - final[1]];
  const cross = move[0] * g1[1] - move[1] * g1[0];
  assert.ok(Math.abs(cross) < 1e-6 * Math.hypot(...move) * Math.hypot(...g1), 'the step is along the gradient');
  assert.ok(move[0] * g1[0] + move[1] * g1[1] < 0, 'downhill');
  theta.dispose();
  r.theta.dispose();
});

test('L-BFGS resets on negative curvature (cos(y, s) < 1e-4)', () => {
  // On f = −θ², y = −2s, so cos(y, s) = −1.
  const f = objectiveFrom(1, (t) => tf.tidy(() => tf.neg(tf.sum(tf.square(t), 1)) as tf.Tensor1D));
  const opt = createOptimizer('lbfgs') as Lbfgs;
  let theta = tf.tensor1d([0.5]);
  let r = opt.step(theta, f);
  theta.dispose();
  theta = r.theta;
  assert.equal(opt.lastReset, null);
  assert.equal(opt.lastSearch?.bracketed, false, 'unbounded below: the doubling never brackets');
  r = opt.step(theta, f);
  assert.equal(opt.lastReset, 'curvature');
  assert.equal(opt.memory.length, 0);
  theta.dispose();
  r.theta.dispose();
});

test('L-BFGS with L2 minimises the penalised function', () => {
  // min ½(θ − 2)² + (λ/2)θ² is at θ = 2/(1 + λ).
  const f = quadratic([1], [2]);
  const { final } = run(createOptimizer('lbfgs', { l2: 0.5 }), f, [0], 15);
  assert.ok(Math.abs(final[0] - 2 / 1.5) < 1e-4, `${final[0]}`);
});

// ---------------------------------------------------------------- rolling ball

test('rolling ball: on an affine f one step is θ − η(1 − q^K)g for any ρ, q = 1 − 2β(1 + ‖g‖²)', () => {
  const c = [0.3, -0.4, 1.2];
  const f = objectiveFrom(3, (t) => tf.tidy(() => tf.add(tf.sum(tf.mul(t, tf.tensor1d(c)), 1), 2) as tf.Tensor1D));
  const gg = c.reduce((s, v) => s + v * v, 0);
  for (const [rho, eta, K, beta] of [
    [0.5, 0.1, 10, 0.01],
    [1e-6, 0.1, 10, 0.01],
    [2, 0.3, 40, 0.05],
  ]) {
    const opt = createOptimizer('rolling-ball', { rho, lr: eta, innerSteps: K, innerLr: beta });
    const { final, evals, lrs } = run(opt, f, [1, 2, 3], 1);
    const eff = eta * (1 - Math.pow(1 - 2 * beta * (1 + gg), K));
    const want = [1, 2, 3].map((x, i) => x - eff * c[i]);
    assert.ok(maxAbsDiff(final, want) < 2e-6, `ρ=${rho}: ${Array.from(final)} vs ${want}`);
    assert.equal(evals[0], 1 + K);
    assert.equal(lrs[0], eta);
  }
});

test('rolling ball reduces to gradient descent as ρ → 0', () => {
  // On a curved f the step differs from GD by O(ρ·curvature) + O(η²): with ρ → 0 and a
  // small η it is one GD step of size η(1 − q^K) (≈ η for these settings).
  const a = [1, 2, 4];
  const f = quadratic(a);
  const th0 = [1, 1, 1];
  const g = th0.map((x, i) => a[i] * x);
  const gg = g.reduce((s, v) => s + v * v, 0);
  const eta = 1e-3;
  const K = 10;
  const beta = 0.01;
  const eff = eta * (1 - Math.pow(1 - 2 * beta * (1 + gg), K));
  const gd = th0.map((x, i) => x - eff * g[i]);
  const stepLen = eff * Math.sqrt(gg);
  const relErr = (rho: number) => {
    const { final } = run(createOptimizer('rolling-ball', { rho, lr: eta, innerSteps: K, innerLr: beta }), f, th0, 1);
    return Math.hypot(...Array.from(final, (x, i) => x - gd[i])) / stepLen;
  };
  const errs = [1, 0.1, 0.01, 1e-6].map(relErr);
  // Seen: 4.7e-2, 5.6e-3, 1.9e-3, 1.5e-3 (the floor is the O(η) relative term of the projection).
  assert.ok(errs[3] < 3e-3, `ρ = 1e-6: relative deviation from GD ${errs[3]}`);
  assert.ok(errs[0] > 10 * errs[3], `ρ matters at ρ = 1: ${errs}`);
  for (let i = 1; i < errs.length; i++) assert.ok(errs[i] <= errs[i - 1] * 1.01, `shrinks as ρ → 0: ${errs}`);
  // The floor is O(η²) in absolute terms: halving η halves the relative deviation.
  const half = run(createOptimizer('rolling-ball', { rho: 1e-6, lr: eta / 2, innerSteps: K, innerLr: beta }), f, th0, 1).final;
  const effH = eff / 2;
  const relH = Math.hypot(...Array.from(half, (x, i) => x - (th0[i] - effH * g[i]))) / (effH * Math.sqrt(gg));
  assert.ok(relH < 0.6 * errs[3] && relH > 0.4 * errs[3], `η/2: ${relH} vs ${errs[3]}`);
});

// ---------------------------------------------------------------- determinism and memory

test('every optimizer is deterministic and holds a constant number of tensors over 100 steps', () => {
  const f = illQuadratic;
  for (const name of OPTIMIZER_NAMES) {
    const opts = name === 'rolling-ball' ? { innerLr: 0.002 } : {};
    const a = run(createOptimizer(name, opts), f, new Array(10).fill(0.5), 25).final;
    const b = run(createOptimizer(name, opts), f, new Array(10).fill(0.5), 25).final;
    assert.deepEqual(Buffer.from(a.buffer), Buffer.from(b.buffer), `${name}: same inputs, same bytes`);

    const before = tf.memory().numTensors;
    const opt = createOptimizer(name, opts);
    let theta = tf.tensor1d(new Array(10).fill(0.5));
    let afterFirst = -1;
    for (let i = 0; i < 100; i++) {
      const r = opt.step(theta, f);
      theta.dispose();
      theta = r.theta;
      if (i === 0) afterFirst = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, afterFirst, `${name}: tensors grew over 100 steps`);
    theta.dispose();
    opt.dispose();
    assert.equal(tf.memory().numTensors, before, `${name}: dispose frees the state`);
  }
});

test('step never returns or disposes its input tensor', () => {
  for (const name of OPTIMIZER_NAMES) {
    const opt = createOptimizer(name, name === 'rolling-ball' ? { innerLr: 0.002 } : {});
    // At the minimum: lbfgs takes no step, yet must return a fresh tensor.
    const theta = tf.tensor1d(new Array(10).fill(1));
    const r = opt.step(theta, illQuadratic);
    assert.notEqual(r.theta, theta, name);
    assert.equal(theta.isDisposed, false, name);
    assert.equal(r.loss, 0);
    theta.dispose();
    r.theta.dispose();
    opt.dispose();
  }
});
