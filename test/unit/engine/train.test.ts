import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../../src/engine/backend';
import { train, trainToEnd, TrainEvent, TrainConfig, readRunJson } from '../../../src/engine/train';
import { loadCheckpoint } from '../../../src/engine/checkpoint';
import { CancelledError, LandscapeError } from '../../../src/engine/errors';
import { makeTempDir } from '../../support/tmp';

const tmp = makeTempDir('train');

before(async () => {
  await initBackend('cpu', { force: true });
});

const small = (out: string, extra: Partial<TrainConfig> = {}): TrainConfig => ({
  dataset: 'moons',
  n: 200,
  model: '2-8-2',
  optimizer: 'adam',
  lr: 0.02,
  epochs: 6,
  batch: 32,
  seed: 3,
  checkpointEvery: 2,
  out,
  ...extra,
});

test('a run writes run.json, metrics.jsonl, periodic, best and final checkpoints', async () => {
  const out = path.join(tmp, 'basic');
  const events: TrainEvent[] = [];
  const run = await trainToEnd(small(out), (e) => events.push(e));
  assert.equal(run.status, 'completed');
  const epochs = events.filter((e) => e.type === 'epoch');
  assert.deepEqual(epochs.map((e) => (e as { epoch: number }).epoch), [0, 1, 2, 3, 4, 5, 6]);
  const first = epochs[0] as { trainLoss: number };
  const lastE = epochs[6] as { trainLoss: number; accuracy?: number; gradNorm: number; lr: number; step: number };
  assert.ok(lastE.trainLoss < first.trainLoss, 'training lowers the loss');
  assert.ok(lastE.accuracy !== undefined && lastE.accuracy > 0.7);
  assert.equal(lastE.step, 6 * Math.ceil(160 / 32));
  for (const f of ['epoch-0002', 'epoch-0004', 'epoch-0006']) assert.ok(fs.existsSync(path.join(out, 'checkpoints', f + '.safetensors')), f);
  assert.ok(fs.existsSync(path.join(out, 'best.safetensors')));
  assert.ok(fs.existsSync(path.join(out, 'final.safetensors')));
  const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 7);
  const rj = readRunJson(out);
  assert.equal(rj.status, 'completed');
  assert.equal(rj.backend, 'cpu');
  assert.equal(rj.checkpoints.length, 4);
  const ck = await loadCheckpoint(path.join(out, 'final.safetensors'));
  assert.deepEqual(ck.spec.layers, [2, 8, 2]);
  // No partial files are left behind by the atomic writes.
  const leftovers = fs.readdirSync(out).concat(fs.readdirSync(path.join(out, 'checkpoints'))).filter((f) => /tmp/i.test(f));
  assert.deepEqual(leftovers, []);
});

test('the same seed gives byte-identical checkpoints on one backend', async () => {
  process.env.SOURCE_DATE_EPOCH = '1700000000';
  try {
    const a = path.join(tmp, 'same-a');
    const b = path.join(tmp, 'same-b');
    const c = path.join(tmp, 'other-seed');
    await trainToEnd(small(a, { optimizer: 'sgd', lr: 0.1 }));
    await trainToEnd(small(b, { optimizer: 'sgd', lr: 0.1 }));
    await trainToEnd(small(c, { optimizer: 'sgd', lr: 0.1, seed: 4 }));
    for (const f of ['final.safetensors', 'best.safetensors', 'checkpoints/epoch-0004.safetensors']) {
      assert.ok(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))), `${f} differs between identical runs`);
    }
    assert.ok(!fs.readFileSync(path.join(a, 'final.safetensors')).equals(fs.readFileSync(path.join(c, 'final.safetensors'))));
  } finally {
    delete process.env.SOURCE_DATE_EPOCH;
  }
});

test('a diverging run stops with a clear message and keeps the last good state', async () => {
  const out = path.join(tmp, 'nan');
  await assert.rejects(
    trainToEnd(small(out, { optimizer: 'sgd', lr: 1e30, checkpointEvery: 0 })),
    (e: unknown) => e instanceof LandscapeError && e.kind === 'compute' && /diverged at epoch \d+.*last good state \(epoch \d+\) is saved/.test(e.message),
  );
  const rj = readRunJson(out);
  assert.equal(rj.status, 'failed');
  assert.ok(rj.checkpoints.length >= 1);
  const ck = await loadCheckpoint(path.join(out, rj.checkpoints[0].file));
  assert.ok(ck.theta.every(Number.isFinite));
});

test('cancel stops between steps and keeps every finished checkpoint', async () => {
  const out = path.join(tmp, 'cancel');
  const ac = new AbortController();
  const it = train(small(out, { epochs: 50, checkpointEvery: 1 }), { signal: ac.signal });
  let seen = 0;
  await assert.rejects(
    (async () => {
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        if (r.value.type === 'epoch' && ++seen === 4) ac.abort();
      }
    })(),
    (e: unknown) => e instanceof CancelledError,
  );
  const rj = readRunJson(out);
  assert.equal(rj.status, 'cancelled');
  assert.ok(rj.epochsCompleted >= 3 && rj.epochsCompleted < 50);
  for (const c of rj.checkpoints) await loadCheckpoint(path.join(out, c.file));
  assert.ok(!fs.existsSync(path.join(out, 'final.safetensors')));
});

test('bad configurations are input errors', async () => {
  await assert.rejects(trainToEnd(small(path.join(tmp, 'bad1'), { model: '3-8-2' })), /model 3-8-2 takes 3 inputs .* dataset "moons" has 2 features/);
  await assert.rejects(trainToEnd(small(path.join(tmp, 'bad2'), { epochs: 0 })), /epochs must be a whole number/);
  await assert.rejects(trainToEnd(small(path.join(tmp, 'bad3'), { optimizer: 'adamw' as never })), (e: unknown) => e instanceof LandscapeError && e.kind === 'input');
});

test('an existing run folder is refused unless --resume or --overwrite', async () => {
  const out = path.join(tmp, 'exists');
  await trainToEnd(small(out, { epochs: 1 }));
  await assert.rejects(trainToEnd(small(out, { epochs: 1 })), /already holds a run; continue it with --resume/);
  const again = await trainToEnd(small(out, { epochs: 2, overwrite: true }));
  assert.equal(again.epochsCompleted, 2);
  await assert.rejects(trainToEnd(small(out, { epochs: 3, seed: 9, resume: true })), /cannot resume: the run was trained with seed = 3, now 9/);
});

test('resume after a cancel continues from the last checkpoint and matches an uninterrupted SGD run', async () => {
  // Plain SGD has no optimizer state, and the batch order is replayed, so the
  // resumed run must land on exactly the same weights.
  const cfg = (out: string) => small(out, { optimizer: 'sgd', lr: 0.1, epochs: 6, checkpointEvery: 2 });
  const whole = path.join(tmp, 'whole');
  await trainToEnd(cfg(whole));
  const cut = path.join(tmp, 'cut');
  const ac = new AbortController();
  await assert.rejects(
    trainToEnd(cfg(cut), (e) => {
      if (e.type === 'epoch' && e.epoch === 3) ac.abort();
    }, ac.signal),
    (e: unknown) => e instanceof CancelledError,
  );
  assert.equal(readRunJson(cut).status, 'cancelled');
  const events: TrainEvent[] = [];
  const resumed = await trainToEnd({ ...cfg(cut), resume: true }, (e) => events.push(e));
  assert.equal(resumed.status, 'completed');
  assert.deepEqual(resumed.resumedAt, [3]);
  assert.deepEqual(events.filter((e) => e.type === 'epoch').map((e) => (e as { epoch: number }).epoch), [4, 5, 6]);
  const a = await loadCheckpoint(path.join(whole, 'final.safetensors'));
  const b = await loadCheckpoint(path.join(cut, 'final.safetensors'));
  assert.deepEqual(b.theta, a.theta);
  const lines = fs.readFileSync(path.join(cut, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch);
  assert.deepEqual(lines, [0, 1, 2, 3, 4, 5, 6]);
});
