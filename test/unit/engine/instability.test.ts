/**
 * Instability analysis (Frankle et al. 2020) on the built-in digits: known
 * answers (children spawned at the last epoch are the parent's final weights,
 * full-batch children are identical, so both barriers are 0), the
 * straight-line barrier against an independent float64 evaluation of the
 * loss along the line, resuming after a cancel (same numbers, fewer runs),
 * a layer-grammar model, and bad input refused with exit code 2.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '../../../src/engine/backend';
import { CancelledError, LandscapeError } from '../../../src/engine/errors';
import { loadCheckpoint } from '../../../src/engine/checkpoint';
import { loadDataset } from '../../../src/engine/data';
import { runInstability, type InstabilityEvent, type InstabilityOptions, type ParentTrainOptions } from '../../../src/engine/instability';
import type { InstabilityResult } from '../../../src/results/instability';
import { InstabilitySchema } from '../../../src/results/instability';
import { validate } from '../../../src/schema';
import { Float64Network } from '../../support/float64Network';
import { runCli } from '../../support/cli';
import { makeTempDir, removeTempDir } from '../../support/tmp';

let tmp: string;
before(async () => {
  await initBackend('wasm', { force: true });
  tmp = makeTempDir('instability');
});
after(() => removeTempDir(tmp));

const DIGITS: ParentTrainOptions = { dataset: 'digits', subset: 600, model: '64-16-10', optimizer: 'sgd', lr: 0.1, batch: 32, epochs: 4, seed: 3 };

/** Drain the analysis; `stopAt` aborts it when it returns true for an event. */
async function analyse(o: InstabilityOptions, stopAt?: (e: InstabilityEvent) => boolean): Promise<{ result: InstabilityResult; events: InstabilityEvent[] }> {
  const ac = new AbortController();
  const events: InstabilityEvent[] = [];
  const it = runInstability({ ...o, signal: ac.signal });
  for (;;) {
    const r = await it.next();
    if (r.done) return { result: r.value, events };
    events.push(r.value);
    if (stopAt?.(r.value)) ac.abort();
  }
}

const theta = async (file: string) => (await loadCheckpoint(file)).theta;

/** The numbers that must not depend on how often the analysis was interrupted. */
function numbersOf(r: InstabilityResult) {
  return { spawns: r.spawns, parent: r.parent, firstStableEpoch: r.firstStableEpoch, config: r.config };
}

let reference: InstabilityResult;
const referenceOut = () => path.join(tmp, 'reference');

test('children spawned at the last epoch are the parent\'s final weights, and their barrier is 0', async () => {
  const { result } = await analyse({ train: DIGITS, spawnEpochs: [0, 1, 4], out: referenceOut() });
  reference = result;
  assert.ok(validate(InstabilitySchema, JSON.parse(fs.readFileSync(path.join(referenceOut(), 'instability.json'), 'utf8'))).ok, 'instability.json matches its schema');
  const parentFinal = await theta(path.join(referenceOut(), 'parent', 'final.safetensors'));
  for (const c of [1, 2]) assert.deepEqual(await theta(path.join(referenceOut(), 'k-0004', `child-${c}`, 'final.safetensors')), parentFinal, `child ${c} took no step`);
  const last = result.spawns[2];
  assert.equal(last.epoch, 4);
  assert.equal(last.pairs[0].identical, true);
  assert.equal(last.straight.max, 0);
  assert.equal(last.straight.belowThreshold, true);
  // At epoch 0 the children start from the parent's initial weights (its epoch-0 checkpoint) and differ by their batch order only.
  assert.deepEqual(await theta(path.join(referenceOut(), 'k-0000', 'child-1', 'checkpoints', 'epoch-0000.safetensors')), await theta(path.join(referenceOut(), 'parent', 'checkpoints', 'epoch-0000.safetensors')));
  assert.deepEqual(result.spawns[0].children.map((c) => c.seed), [4, 5], 'child c has batch seed --seed + c');
  assert.equal(result.trained.runs, 7, 'the parent and two children at each of three spawn epochs');
});

test('mini-batch children at early spawn epochs are separated by a barrier that an independent float64 evaluation confirms', async () => {
  const split = await loadDataset('digits', { seed: DIGITS.seed!, testFraction: 0.2, subset: DIGITS.subset });
  for (const spawn of reference.spawns.slice(0, 2)) {
    const pair = spawn.pairs[0];
    assert.equal(pair.identical, false);
    assert.ok(pair.straight.barrierFromMean > 0, `k = ${spawn.epoch}: barrier ${pair.straight.barrierFromMean}`);
    assert.equal(pair.profile.t.length, 491, '10·(50 − 1) + 1 points');
    const a = await theta(path.join(referenceOut(), spawn.children[0].dir, 'final.safetensors'));
    const b = await theta(path.join(referenceOut(), spawn.children[1].dir, 'final.safetensors'));
    const spec = (await loadCheckpoint(path.join(referenceOut(), spawn.children[0].dir, 'final.safetensors'))).spec;
    const loss64 = (t: number) => {
      const p = Float64Array.from(a, (x, i) => (1 - t) * x + t * b[i]);
      return new Float64Network({ ...spec, loss: 'cross-entropy' }, split.train, p).loss(p);
    };
    // Every tenth grid point and the reported maximum, evaluated in float64 by plain backpropagation code.
    const ts = [...pair.profile.t.filter((_, i) => i % 10 === 0), pair.straight.tAtMax];
    const losses = ts.map(loss64);
    const barrier64 = Math.max(...losses) - (losses[0] + losses[ts.length - 2]) / 2;
    assert.ok(Math.abs(losses[0] - pair.lossA) < 1e-5 * pair.lossA, `L(θa): ${losses[0]} vs ${pair.lossA}`);
    assert.ok(Math.abs(barrier64 - pair.straight.barrierFromMean) < 1e-6 + 1e-3 * pair.straight.barrierFromMean, `k = ${spawn.epoch}: float64 barrier ${barrier64} vs reported ${pair.straight.barrierFromMean}`);
    assert.ok(Math.max(...losses) <= pair.straight.height + 1e-6, 'no grid point is higher than the reported height');
  }
});

test('full-batch children (L-BFGS) are identical at every spawn epoch: barrier 0', async () => {
  const { result } = await analyse({ train: { ...DIGITS, optimizer: 'lbfgs', epochs: 3, lr: undefined }, spawnEpochs: [0, 2], out: path.join(tmp, 'lbfgs') });
  for (const s of result.spawns) {
    assert.equal(s.pairs[0].identical, true, `k = ${s.epoch}`);
    assert.equal(s.straight.max, 0);
  }
  assert.equal(result.firstStableEpoch, 0);
});

test('SGD with one batch holding every row: children agree up to the order of the sums, barrier ≈ 0', async () => {
  const { result } = await analyse({ train: { ...DIGITS, batch: 10_000, epochs: 3 }, spawnEpochs: [0], out: path.join(tmp, 'one-batch') });
  const p = result.spawns[0].pairs[0];
  assert.ok(p.straight.barrierFromMean <= 1e-5 * p.lossA, `barrier ${p.straight.barrierFromMean} at loss ${p.lossA}`);
  assert.equal(result.spawns[0].straight.belowThreshold, true);
});

test('--optimized: FourierPathFinder\'s barrier is never above the straight line\'s, and has its own verdict', async () => {
  const { result } = await analyse({ train: { ...DIGITS, epochs: 2 }, spawnEpochs: [0, 2], optimized: true, out: path.join(tmp, 'optimized') });
  const p = result.spawns[0].pairs[0];
  assert.ok(p.optimized, 'optimized numbers are recorded');
  assert.ok(p.optimized.height <= p.straight.height + 1e-7, `optimized ${p.optimized.height} vs straight ${p.straight.height}`);
  assert.ok(p.optimized.iterations > 0);
  assert.equal(p.profile.optimized?.length, p.profile.optimizedT?.length);
  assert.equal(result.spawns[1].optimized?.max, 0, 'identical children: 0 for the optimized path too');
  // A lower barrier is below the threshold no later.
  if (result.firstStableEpoch !== null) assert.ok(typeof result.firstStableEpochOptimized === 'number' && result.firstStableEpochOptimized <= result.firstStableEpoch);
});

test('a cancelled analysis re-run with the same options reuses finished parts and gives the same numbers', async () => {
  const out = path.join(tmp, 'resumed');
  const o: InstabilityOptions = { train: DIGITS, spawnEpochs: [0, 1, 4], out };
  // Cancelled while the second child of spawn epoch 1 trains: spawn epoch 0 and its first child are finished.
  const stop = (e: InstabilityEvent) => e.type === 'train' && e.run === path.join('k-0001', 'child-2') && e.event.type === 'epoch' && e.event.epoch === 3;
  await assert.rejects(analyse(o, stop), CancelledError);
  assert.ok(fs.existsSync(path.join(out, 'k-0000', 'barriers.json')));
  assert.ok(!fs.existsSync(path.join(out, 'instability.json')));
  const { result } = await analyse(o);
  assert.deepEqual(result.reused, { parent: true, children: 3, barriers: 1 });
  assert.equal(result.trained.runs, 3, 'the interrupted child again, and spawn epoch 4\'s two');
  assert.deepEqual(numbersOf(result), numbersOf(reference), 'same seeds, same numbers, interrupted or not');
  const again = await analyse({ ...o, threshold: 0.5 });
  assert.equal(again.result.trained.runs, 0, 'another threshold reuses everything');
  assert.equal(again.result.reused.barriers, 3);
});

test('a folder holding an analysis with other options is refused', async () => {
  const e = await analyse({ train: DIGITS, spawnEpochs: [0, 1, 4], children: 3, out: referenceOut() }).catch((x: unknown) => x);
  assert.ok(e instanceof LandscapeError && e.kind === 'input', String(e));
  assert.match(e.message, /other options \(children: 2 then, 3 now\)/);
});

test('a layer-grammar network (cnn-digits) and three children: mean and max over the three pairs', async () => {
  const { result } = await analyse({ train: { ...DIGITS, model: 'cnn-digits', subset: 300, epochs: 2 }, spawnEpochs: [1, 2], children: 3, out: path.join(tmp, 'cnn') });
  const first = result.spawns[0];
  assert.deepEqual(first.pairs.map((p) => [p.a, p.b]), [[1, 2], [1, 3], [2, 3]]);
  const barriers = first.pairs.map((p) => p.straight.barrierFromMean);
  assert.equal(first.straight.max, Math.max(...barriers));
  assert.ok(Math.abs(first.straight.mean - (barriers[0] + barriers[1] + barriers[2]) / 3) < 1e-15);
  assert.ok(first.straight.max > 0);
  assert.equal(result.spawns[1].straight.max, 0, 'spawned at the last epoch');
});

test('bad spawn epochs and child counts exit 2 with a message that says what is wrong', async () => {
  const base = ['instability', '--dataset', 'digits', '--subset', '200', '--model', '64-8-10', '--epochs', '3', '--backend', 'wasm'];
  const cases: [string[], RegExp][] = [
    [['--spawn-epochs', '0,5'], /spawn epoch 5 is after the last epoch \(--epochs 3\)/],
    [['--spawn-epochs', '2,1'], /must be increasing, but 1 comes after 2/],
    [['--spawn-epochs', '1,1'], /spawn epoch 1 is listed twice/],
    [['--spawn-epochs=-1,2'], /spawn epoch -1 is not a whole number ≥ 0/],
    [['--spawn-epochs', '0,x'], /whole numbers separated by commas/],
    [['--spawn-epochs', '0,1', '--children', '1'], /--children must be a whole number from 2/],
    [['--spawn-epochs', '0,1', '--threshold', '-0.1'], /--threshold must be a number ≥ 0/],
    [[], /spawn-epochs/],
  ];
  for (const [extra, message] of cases) {
    const out = path.join(tmp, `bad-${cases.findIndex((c) => c[0] === extra)}`);
    const r = await runCli([...base, ...extra, '--out', out]);
    assert.equal(r.code, 2, `${extra.join(' ')}: exit ${r.code}, ${r.stderr}`);
    assert.match(r.stderr, message, extra.join(' '));
    assert.ok(!fs.existsSync(out), `${extra.join(' ')}: nothing is written`);
  }
});

test('the CLI prints the table of k, barrier and verdict, and --json the result', async () => {
  const r = await runCli(['instability', '--spawn-epochs', '0,1,4', '--dataset', 'digits', '--subset', '600', '--model', '64-16-10', '--lr', '0.1', '--batch', '32', '--epochs', '4', '--seed', '3', '--out', referenceOut(), '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^k\s+straight\s+\/loss\s+t at max\s+below\?/m);
  assert.match(r.stdout, /^4\s+0\.0000\s+0\.00%\s+-\s+yes/m);
  assert.match(r.stdout, new RegExp(`^${reference.firstStableEpoch}\\s.*yes ← first`, 'm'), 'the first stable spawn epoch is marked');
  assert.match(r.stdout, /first stable spawn epoch: \d+ \(straight line\)/);
  const j = await runCli(['instability', '--spawn-epochs', '0,1,4', '--dataset', 'digits', '--subset', '600', '--model', '64-16-10', '--lr', '0.1', '--batch', '32', '--epochs', '4', '--seed', '3', '--out', referenceOut(), '--backend', 'wasm', '--json']);
  assert.equal(j.code, 0, j.stderr);
  const parsed = JSON.parse(j.stdout) as InstabilityResult;
  assert.deepEqual(parsed.spawns, reference.spawns, 'the CLI runs the same analysis (everything reused)');
  assert.equal(parsed.reused.barriers, 3);
});
