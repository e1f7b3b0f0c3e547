import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../../src/engine/backend';
import { trainToEnd, TrainConfig, EpochEvent } from '../../../src/engine/train';
import { setFastEnabled } from '../../../src/engine/fast';
import { makeTempDir } from '../../support/tmp';

// Some tfjs kernels differ between backends (and WASM lacks a few gradients),
// so every configuration we train is also run on WASM and CPU side by side.
const tmp = makeTempDir('parity');

// Training normally runs on our own WebAssembly kernels whatever the backend;
// here they are switched off so that tfjs' WASM and CPU kernels are compared.
// fastpath.test.ts compares our kernels with tfjs.
before(() => setFastEnabled(false));

after(async () => {
  setFastEnabled(true);
  await initBackend('cpu', { force: true });
});

async function losses(backend: 'wasm' | 'cpu', cfg: Omit<TrainConfig, 'out' | 'backend'>): Promise<EpochEvent[]> {
  await initBackend(backend, { force: true });
  const events: EpochEvent[] = [];
  await trainToEnd({ ...cfg, out: path.join(tmp, `${cfg.optimizer}-${backend}`), checkpointEvery: 0 }, (e) => {
    if (e.type === 'epoch') events.push(e);
  });
  return events;
}

const cases: Omit<TrainConfig, 'out' | 'backend'>[] = [
  { dataset: 'digits', model: '64-32-32-10', bias: false, optimizer: 'sgd', lr: 0.05, epochs: 3, batch: 64, seed: 1 },
  { dataset: 'spirals', n: 300, model: '2-16-16-2', activation: 'tanh', optimizer: 'adam', lr: 0.01, epochs: 4, batch: 32, seed: 2 },
  { dataset: 'digits', model: '64-32-10', activation: 'elu', optimizer: 'lbfgs', epochs: 4, seed: 3 },
];

for (const cfg of cases) {
  test(`WASM and CPU agree within float32 tolerance: ${cfg.dataset} ${cfg.model} ${cfg.optimizer}`, async () => {
    const w = await losses('wasm', cfg);
    const c = await losses('cpu', cfg);
    assert.equal(w.length, c.length);
    for (let i = 0; i < w.length; i++) {
      for (const k of ['trainLoss', 'testLoss'] as const) {
        const a = w[i][k];
        const b = c[i][k];
        // Rounding differs in summation order; errors grow over epochs, hence the relative 1e-3.
        assert.ok(Math.abs(a - b) <= 1e-3 * Math.max(1, Math.abs(b)), `epoch ${i} ${k}: wasm ${a} vs cpu ${b}`);
      }
    }
  });
}
