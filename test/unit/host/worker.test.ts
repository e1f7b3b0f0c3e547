/**
 * The compute worker (src/worker/main.ts, dist/worker.js in the extension)
 * run as a real worker thread: probe, a short training run with all its
 * events, inspect, evaluate, cancel through the shared flag, and typed errors.
 * The TypeScript source runs as is through tsx.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JobRequest, JobKind } from '../../../src/worker/protocol';
import { runWorkerJob } from '../../support/worker';
import type { TrainEvent } from '../../../src/engine/train';
import { CheckpointDetailsSchema, EvalResultSchema, EpochPointSchema } from '../../../src/protocol';
import { validate } from '../../../src/schema';
import { toPoint } from '../../../src/host/runStore';
import { makeTempDir, removeTempDir } from '../../support/tmp';

/** The jobs here stream training events, or none. */
function runJob<K extends JobKind>(request: Extract<JobRequest, { kind: K }>, onEvent?: (e: TrainEvent, cancel: () => void) => void) {
  return runWorkerJob<K, TrainEvent>(request, onEvent);
}

describe('compute worker', () => {
  let dir: string;
  before(() => (dir = makeTempDir('worker')));
  after(() => removeTempDir(dir));

  it('reports the backend and the engine catalogue', async () => {
    const r = await runJob({ kind: 'probe' });
    assert.match(r.result!.backend.text, /^cpu · tfjs /);
    assert.ok(r.result!.datasets.includes('digits'));
    assert.ok(r.result!.optimizers.includes('lbfgs'));
  });

  it('trains, streaming one epoch event per epoch (epoch 0 too), then inspects and evaluates the checkpoint', async () => {
    const out = path.join(dir, 'run');
    const r = await runJob({ kind: 'train', config: { dataset: 'moons', n: 200, model: '2-8-2', optimizer: 'sgd', lr: 0.2, epochs: 3, batch: 32, seed: 3, backend: 'cpu', checkpointEvery: 1, out } });
    assert.equal(r.error, undefined);
    assert.equal(r.result!.status, 'completed');
    const epochs = r.events.filter((e) => e.type === 'epoch');
    assert.deepEqual(epochs.map((e) => (e as { epoch: number }).epoch), [0, 1, 2, 3]);
    for (const e of epochs) assert.ok(validate(EpochPointSchema, toPoint(e as Extract<TrainEvent, { type: 'epoch' }>)).ok);
    assert.equal(r.events[0].type, 'start');
    assert.equal(r.events[r.events.length - 1].type, 'done');
    assert.ok(r.events.some((e) => e.type === 'checkpoint' && e.file === 'final.safetensors'));

    const final = path.join(out, 'final.safetensors');
    const info = (await runJob({ kind: 'inspect', file: final })).result!;
    assert.ok(validate(CheckpointDetailsSchema, info).ok);
    assert.equal(info.spec?.text.split(' ')[0], '2-8-2');
    assert.deepEqual(info.tensors.map((t) => t.name), ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']);
    assert.deepEqual(info.histograms.map((h) => h.name), ['layers.0.weight', 'layers.1.weight']);
    assert.equal(info.histograms[0].counts.reduce((a, b) => a + b, 0), 16);
    assert.ok(info.metadata.some(([k, v]) => k === 'dataset' && v === 'moons'));

    const ev = (await runJob({ kind: 'evaluate', file: final })).result!;
    assert.ok(validate(EvalResultSchema, ev).ok);
    const last = epochs[epochs.length - 1] as Extract<TrainEvent, { type: 'epoch' }>;
    // Re-evaluation rebuilds the same data and split, so it reproduces the run's last numbers.
    assert.ok(Math.abs(ev.test.loss! - last.testLoss) < 1e-5, `${ev.test.loss} vs ${last.testLoss}`);
    assert.ok(Math.abs(ev.train.loss! - last.trainLoss) < 1e-5);
  });

  it('stops a run mid-way when the host sets the cancel flag, keeping the finished epochs', async () => {
    const out = path.join(dir, 'cancelled');
    const r = await runJob(
      { kind: 'train', config: { dataset: 'moons', n: 200, model: '2-8-2', optimizer: 'sgd', epochs: 500, batch: 16, seed: 1, backend: 'cpu', checkpointEvery: 0, out } },
      (e, cancel) => e.type === 'epoch' && e.epoch === 2 && cancel(),
    );
    assert.equal(r.error?.kind, 'cancelled');
    const last = r.events.filter((e) => e.type === 'epoch').pop() as { epoch: number };
    assert.ok(last.epoch < 10, `stopped at epoch ${last.epoch}`);
    const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
    assert.equal(run.status, 'cancelled');
  });

  it('answers bad input with a typed error naming the file', async () => {
    const notCkpt = path.join(dir, 'x.safetensors');
    fs.writeFileSync(notCkpt, 'hello');
    const r = await runJob({ kind: 'inspect', file: notCkpt });
    assert.equal(r.error?.kind, 'input');
    assert.ok(r.error!.message.includes(notCkpt));
    const t = await runJob({ kind: 'train', config: { dataset: 'digits', model: '3-10', optimizer: 'sgd', epochs: 1, backend: 'cpu', out: path.join(dir, 'bad') } });
    assert.equal(t.error?.kind, 'input');
    assert.match(t.error!.message, /64 features/);
  });
});
