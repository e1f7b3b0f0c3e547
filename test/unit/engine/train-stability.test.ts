import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend, tf } from '../../../src/engine/backend';
import { trainToEnd, TrainEvent, TrainConfig, StabilityEvent, readRunJson } from '../../../src/engine/train';
import { loadDataset } from '../../../src/engine/data';
import { symmetricEigen } from '../../../src/engine/analysis/linalg';
import { hessianTopEigenvalues, stabilityVerdict } from '../../../src/engine/analysis';
import { loadAnyCheckpoint } from '../../../src/engine/evaluate';
import { objectiveForCheckpoint } from '../../../src/engine/checkpointObjective';
import { optimizerStability } from '../../../src/engine/trainingStability';
import { parseMetrics } from '../../../src/engine/train/runFolderView';
import { main } from '../../../src/cli/main';
import type { Io } from '../../../src/cli/output';
import { captureIo } from '../../support/cli';
import { makeTempDir } from '../../support/tmp';

const tmp = makeTempDir('stability');

before(async () => {
  await initBackend('cpu', { force: true });
});

const moons = (out: string, extra: Partial<TrainConfig> = {}): TrainConfig => ({
  dataset: 'moons',
  n: 200,
  model: '2-8-2',
  activation: 'relu',
  optimizer: 'sgd',
  lr: 0.1,
  epochs: 5,
  batch: 32,
  seed: 4,
  checkpointEvery: 2,
  out,
  ...extra,
});

/**
 * Linear regression with MSE is exactly quadratic: the Hessian of
 * mean((Xw + b − y)²) is (2/N)·X̃ᵀX̃ with X̃ = [X, 1], whatever the weights.
 */
async function linearRegressionLambdaMax(n: number, seed: number): Promise<number> {
  const split = await loadDataset('teacher', { n, seed, testFraction: 0.2 });
  const { x, features: d } = split.train;
  const N = split.train.n;
  const m = new Float64Array((d + 1) * (d + 1));
  for (let r = 0; r < N; r++) {
    for (let i = 0; i <= d; i++) {
      const xi = i < d ? x[r * d + i] : 1;
      for (let j = 0; j <= d; j++) m[i * (d + 1) + j] += xi * (j < d ? x[r * d + j] : 1);
    }
  }
  for (let i = 0; i < m.length; i++) m[i] *= 2 / N;
  return Math.max(...symmetricEigen(m, d + 1).values);
}

test('stability is off by default: no events, no extra metrics lines, run.json unchanged', async () => {
  const out = path.join(tmp, 'off');
  const events: TrainEvent[] = [];
  const run = await trainToEnd(moons(out, { epochs: 2 }), (e) => events.push(e));
  assert.equal(events.filter((e) => e.type === 'stability').length, 0);
  assert.ok(!('stabilityEvery' in run.config));
  const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.every((l) => l.type === 'epoch'));
});

test('every k epochs (the initial point included) a stability event follows the epoch event, with the 2/η threshold', async () => {
  const out = path.join(tmp, 'every2');
  const events: TrainEvent[] = [];
  const run = await trainToEnd(moons(out, { stabilityEvery: 2 }), (e) => events.push(e));
  assert.equal(run.config.stabilityEvery, 2);
  const st = events.filter((e): e is StabilityEvent => e.type === 'stability');
  assert.deepEqual(st.map((e) => e.epoch), [0, 2, 4]);
  for (const e of st) {
    const i = events.indexOf(e);
    const prev = events[i - 1];
    assert.ok(prev.type === 'epoch' && prev.epoch === e.epoch, 'right after its epoch event');
    assert.equal(e.step, prev.type === 'epoch' ? prev.step : -1);
    assert.ok(Number.isFinite(e.lambdaMax) && e.lambdaMax > 0, `λmax ${e.lambdaMax}`);
    assert.ok(Number.isFinite(e.errorEstimate) && e.errorEstimate >= 0);
    assert.equal(e.lr, 0.1);
    assert.equal(e.threshold, 2 / 0.1);
    assert.equal(e.verdict, stabilityVerdict(e.lambdaMax, 0.1).verdict);
    assert.ok(e.iterations >= 1 && e.iterations <= 10);
    assert.equal(e.hvp, 'exact', 'a dense network on the fast kernels gets exact products');
  }
  // metrics.jsonl carries them as their own lines; the side panel's reader passes over them without calling them damage.
  const text = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.filter((l) => l.type === 'stability').map((l) => l.epoch), [0, 2, 4]);
  assert.deepEqual(lines.filter((l) => l.type === 'stability').map((l) => l.lambdaMax), st.map((e) => e.lambdaMax));
  const parsed = parseMetrics(text);
  assert.equal(parsed.skipped, 0);
  assert.equal(parsed.points.length, 6);
  // Ten Lanczos steps agree with a converged estimate at the same point (epoch 2 is saved).
  const ck = await loadAnyCheckpoint(path.join(out, 'checkpoints/epoch-0002.safetensors'));
  const obj = await objectiveForCheckpoint(ck);
  try {
    const ref = await hessianTopEigenvalues(obj.objective, ck.theta, { iterations: 42, tol: 0 });
    const e2 = st.find((e) => e.epoch === 2)!;
    assert.ok(Math.abs(e2.lambdaMax - ref.eigenvalues[0]) <= 0.02 * Math.abs(ref.eigenvalues[0]), `${e2.lambdaMax} vs converged ${ref.eigenvalues[0]}`);
  } finally {
    obj.dispose();
  }
});

test('on a quadratic (linear regression) λmax is the analytic one, and a huge rate is unstable, a small one stable', async () => {
  const expected = await linearRegressionLambdaMax(200, 1);
  const cfg = (name: string, lr: number): TrainConfig => ({
    dataset: 'teacher',
    n: 200,
    model: '10-1',
    activation: 'linear',
    optimizer: 'sgd',
    lr,
    epochs: 2,
    batch: 1000, // full batch: plain gradient descent
    seed: 1,
    checkpointEvery: 0,
    stabilityEvery: 1,
    out: path.join(tmp, name),
  });
  const big = 4 / expected; // η·λmax = 4 > 2
  const small = 0.5 / expected;
  for (const [name, lr, verdict] of [['huge-lr', big, 'unstable'], ['small-lr', small, 'stable']] as const) {
    const events: TrainEvent[] = [];
    await trainToEnd(cfg(name, lr), (e) => events.push(e));
    const st = events.filter((e): e is StabilityEvent => e.type === 'stability');
    assert.deepEqual(st.map((e) => e.epoch), [0, 1, 2]);
    for (const e of st) {
      assert.ok(Math.abs(e.lambdaMax - expected) <= 1e-3 * expected, `${name}: λmax ${e.lambdaMax} vs analytic ${expected}`);
      assert.equal(e.verdict, verdict, `${name} at epoch ${e.epoch}: ${e.message}`);
      assert.ok(Math.abs(e.threshold! - 2 / lr) <= 1e-12 * (2 / lr));
    }
  }
});

test('adaptive optimizers and L-BFGS get λmax without a verdict; momentum uses 2(1 + β)/η; l2 shifts λmax', async () => {
  const events: TrainEvent[] = [];
  await trainToEnd(moons(path.join(tmp, 'adam'), { optimizer: 'adam', lr: 0.01, epochs: 1, stabilityEvery: 1, l2: 0.01 }), (e) => events.push(e));
  const st = events.filter((e): e is StabilityEvent => e.type === 'stability');
  assert.equal(st.length, 2);
  for (const e of st) {
    assert.equal(e.verdict, 'not-applicable');
    assert.match(e.message, /adam/);
    assert.equal(e.l2, 0.01);
    assert.ok(Number.isFinite(e.lambdaMax));
  }
  const lb: TrainEvent[] = [];
  await trainToEnd(moons(path.join(tmp, 'lbfgs'), { optimizer: 'lbfgs', lr: undefined, epochs: 1, stabilityEvery: 1 }), (e) => lb.push(e));
  const first = lb.find((e): e is StabilityEvent => e.type === 'stability')!;
  assert.equal(first.verdict, 'not-applicable');
  assert.equal(first.lr, undefined, 'no rate before the first line search');
  assert.doesNotMatch(JSON.stringify(lb.filter((e) => e.type === 'stability')), /null|NaN/);
  // Heavy-ball: stable iff η·λ < 2(1 + β); Nesterov: η·λ < 2(1 + β)/(1 + 2β).
  assert.equal(optimizerStability(30, 'momentum', { lr: 0.1, momentum: 0.9 }).verdict, 'stable');
  assert.equal(optimizerStability(30, 'momentum', { lr: 0.1, momentum: 0.9 }).threshold, (2 * 1.9) / 0.1);
  assert.equal(optimizerStability(30, 'nesterov', { lr: 0.1, momentum: 0.9 }).verdict, 'unstable');
  assert.equal(optimizerStability(30, 'sgd', { lr: 0.1 }).verdict, 'unstable');
});

test('the tensor count does not grow across stability estimates', async () => {
  const events: TrainEvent[] = [];
  let before = -1;
  let after = -1;
  await trainToEnd(moons(path.join(tmp, 'leak'), { epochs: 4, stabilityEvery: 1, activation: 'tanh' }), (e) => {
    events.push(e);
    if (e.type === 'stability' && e.epoch === 1) before = tf.memory().numTensors;
    if (e.type === 'stability' && e.epoch === 4) after = tf.memory().numTensors;
  });
  assert.ok(before > 0);
  assert.equal(after, before);
  // tanh, where tfjs's autodiff drops part of the second derivative: the kernels' products are exact.
  assert.ok(events.filter((e): e is StabilityEvent => e.type === 'stability').every((e) => e.hvp === 'exact'));
});

test('landscape train --stability-every streams stability lines with --json', async () => {
  const io = captureIo();
  const { stdout, stderr } = io;
  const out = path.join(tmp, 'cli');
  const code = await main(['train', '--dataset', 'xor', '--samples', '200', '--model', '2-6-2', '--optimizer', 'sgd', '--lr', '0.2', '--epochs', '3', '--stability-every', '3', '--out', out, '--json'], io);
  assert.equal(code, 0, stderr.join('\n'));
  const lines = stdout.map((l) => JSON.parse(l));
  assert.deepEqual(lines.filter((l) => l.type === 'stability').map((l) => l.epoch), [0, 3]);
  assert.equal(readRunJson(out).config.stabilityEvery, 3);
  const human: string[] = [];
  const io2: Io = { ...io, out: () => {}, err: (l) => human.push(l) };
  assert.equal(await main(['train', '--dataset', 'xor', '--samples', '200', '--model', '2-6-2', '--epochs', '1', '--stability-every', '1', '--out', path.join(tmp, 'cli2')], io2), 0);
  assert.ok(human.some((l) => /^stability at epoch 1: λmax [\d.e+-]+ vs 2\/η [\d.]+: (stable|unstable|at the edge)/.test(l)), human.join('\n'));
  const bad = await main(['train', '--stability-every', '-1', '--out', path.join(tmp, 'cli3')], { ...io, err: (l) => stderr.push(l) });
  assert.equal(bad, 2);
});
