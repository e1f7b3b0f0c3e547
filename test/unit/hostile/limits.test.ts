/**
 * Limits: a model too large for memory, or a checkpoint larger than the
 * configured limit, gets a clear "too large" message before anything is
 * allocated (the process's array-buffer memory does not move), from the
 * engine and from the CLI (exit 2). The limits are configurable by
 * environment variables, and bad values of those are input errors too.
 */
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../../support/cli';
import { initBackend } from '../../../src/engine/backend';
import { LandscapeError } from '../../../src/engine/errors';
import { trainToEnd } from '../../../src/engine/train';
import {
  DEFAULT_MAX_PARAMS,
  MAX_MEMORY_ENV,
  MAX_PARAMS_ENV,
  checkModelSize,
  checkTrainingMemory,
  countParams,
  estimateTrainingBytes,
  maxMemoryBytes,
  maxParams,
} from '../../../src/engine/limits';
import { encodeCheckpoint, encodeSafetensors, loadCheckpoint, MAX_CHECKPOINT_BYTES_ENV } from '../../../src/engine/checkpoint';
import { importTfjsModel } from '../../../src/engine/checkpoint';
import { makeSpec, paramCount } from '../../../src/engine/model/spec';
import { assertInputError, errorFromAsync } from '../../support/errors';
import { makeTempDir, removeTempDir } from '../../support/tmp';

let tmp: string;
const ENV_KEYS = [MAX_PARAMS_ENV, MAX_MEMORY_ENV, MAX_CHECKPOINT_BYTES_ENV];
const saved: Record<string, string | undefined> = {};

before(async () => {
  await initBackend('cpu', { force: true });
  tmp = makeTempDir('limits');
  for (const k of ENV_KEYS) saved[k] = process.env[k];
});
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});
after(() => {
  removeTempDir(tmp);
});

/** Run `f` and return its input error, checking that array-buffer memory stayed put meanwhile. */
async function tooLarge(f: () => unknown, re: RegExp): Promise<LandscapeError> {
  const before = process.memoryUsage().arrayBuffers;
  const caught = await errorFromAsync(f);
  const grew = process.memoryUsage().arrayBuffers - before;
  assertInputError(caught, /too large/);
  assert.match(caught.message, re);
  assert.ok(grew < 32 * 1024 * 1024, `array buffers grew by ${grew} bytes before the refusal`);
  return caught;
}

describe('model size', () => {
  it('counts parameters without overflow and refuses more than the limit', () => {
    assert.equal(countParams([64, 32, 10], true), 64 * 32 + 32 + 32 * 10 + 10);
    assert.equal(countParams([100000, 100000, 10], false), 1e10 + 1e6);
    assert.equal(maxParams(), DEFAULT_MAX_PARAMS);
    assert.equal(checkModelSize([2, 16, 2], true), 82);
    assert.throws(() => checkModelSize([100000, 100000, 10], true), (e: LandscapeError) => {
      assert.match(e.message, /^model 100000-100000-10 is too large: 10,001,100,010 parameters \(37\.3 GiB per float32 copy\) exceed the limit of 50,000,000; use narrower layers, or raise LANDSCAPE_MAX_PARAMS/);
      return e.kind === 'input';
    });
  });

  it('LANDSCAPE_MAX_PARAMS sets the limit; a bad value is an input error', () => {
    process.env[MAX_PARAMS_ENV] = '100';
    assert.equal(checkModelSize([2, 16, 2], true), 82);
    assert.throws(() => checkModelSize([2, 32, 2], true), /2-32-2 is too large: 162 parameters .* limit of 100/);
    for (const bad of ['abc', '-5', '0', '1e400', '12M']) {
      process.env[MAX_PARAMS_ENV] = bad;
      assert.throws(() => maxParams(), (e: LandscapeError) => e.kind === 'input' && /LANDSCAPE_MAX_PARAMS=".*" must be a positive whole number/.test(e.message), bad);
    }
  });

  it('memory estimates grow with the model, the data and the optimizer state', () => {
    const base = { layers: [64, 32, 10], bias: true, optimizer: 'sgd', trainRows: 1000, testRows: 250, features: 64, outputs: 10 };
    const e = estimateTrainingBytes(base);
    assert.equal(e.total, e.parts.parameters + e.parts.activations + e.parts.data);
    const p = countParams(base.layers, true);
    assert.equal(e.parts.parameters, 4 * p * 8);
    assert.equal(e.parts.activations, 4 * 1000 * (3 * (32 + 10) + 64));
    assert.equal(e.parts.data, 4 * 1250 * 74 * 3);
    assert.ok(estimateTrainingBytes({ ...base, optimizer: 'adam' }).total > e.total);
    assert.ok(estimateTrainingBytes({ ...base, optimizer: 'lbfgs', history: 20 }).total > estimateTrainingBytes({ ...base, optimizer: 'lbfgs' }).total);
    assert.ok(estimateTrainingBytes({ ...base, trainRows: 2000 }).total > e.total);
    process.env[MAX_MEMORY_ENV] = '2M';
    assert.equal(maxMemoryBytes(), 2 * 1024 * 1024);
    assert.throws(() => checkTrainingMemory({ ...base, layers: [64, 4096, 10] }), /training model 64-4096-10 with sgd on 1000 rows is too large for memory: it needs about .* more than the limit of 2\.0 MiB \(LANDSCAPE_MAX_MEMORY/);
    process.env[MAX_MEMORY_ENV] = 'lots';
    assert.throws(() => maxMemoryBytes(), /LANDSCAPE_MAX_MEMORY="lots" must be a positive size/);
    delete process.env[MAX_MEMORY_ENV];
    assert.ok(maxMemoryBytes() >= Math.min(os.totalmem() / 2, 1024 ** 3));
  });
});

describe('training a model too large: refused before anything is allocated', () => {
  it('from the engine: a huge spec on digits', async () => {
    const out = path.join(tmp, 'huge');
    await tooLarge(() => trainToEnd({ dataset: 'digits', model: '64-100000-100000-10', optimizer: 'sgd', epochs: 1, out }), /64-100000-100000-10/);
    assert.equal(fs.existsSync(out), false, 'a run folder was created for a refused run');
  });

  it('from the engine: within the parameter limit but too large for the memory limit with this data', async () => {
    process.env[MAX_MEMORY_ENV] = '4M';
    const out = path.join(tmp, 'mem');
    await tooLarge(() => trainToEnd({ dataset: 'moons', n: 20000, model: '2-512-512-2', optimizer: 'adam', epochs: 1, out }), /too large for memory: it needs about .* \(parameters .*, activations .*, data .*\)/);
    assert.equal(fs.existsSync(path.join(out, 'run.json')), false);
  });

  it('from the CLI: exit 2 with one line naming the limit', async () => {
    const r = await runCli(['train', '--dataset', 'moons', '--model', '2-100000-100000-2', '--epochs', '1', '--out', path.join(tmp, 'cli-huge'), '--backend', 'cpu']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^landscape train: model 2-100000-100000-2 is too large: .* LANDSCAPE_MAX_PARAMS/);
    assert.equal(r.stderr.split('\n').length, 1);
  });
});

describe('checkpoints larger than the limit, and specs larger than the file', () => {
  it('a checkpoint over LANDSCAPE_MAX_CHECKPOINT_BYTES is refused from its size, before reading', async () => {
    const spec = makeSpec('2-64-2');
    const file = path.join(tmp, 'big.safetensors');
    fs.writeFileSync(file, encodeCheckpoint(spec, new Float32Array(paramCount(spec)).fill(0.5), { dataset: 'moons' }));
    process.env[MAX_CHECKPOINT_BYTES_ENV] = '1K';
    await tooLarge(() => loadCheckpoint(file), /big\.safetensors: checkpoint is too large: \d+ bytes .* exceeds the limit of 1024 bytes .* raise it with LANDSCAPE_MAX_CHECKPOINT_BYTES/);
    const r = await runCli(['info', file, '--no-eval']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /too large/);
    delete process.env[MAX_CHECKPOINT_BYTES_ENV];
    assert.equal((await loadCheckpoint(file)).theta.length, paramCount(spec));
  });

  it('a small file whose metadata claims a huge model allocates nothing', async () => {
    const file = path.join(tmp, 'claims.safetensors');
    const t = Float32Array.of(1, 2, 3, 4);
    fs.writeFileSync(
      file,
      encodeSafetensors([{ name: 'layers.0.weight', dtype: 'F32', shape: [2, 2], data: t }], {
        formatVersion: '1', model: '1048576-1048576-1048576', activation: 'relu', bias: 'false', loss: 'mse',
      }),
    );
    const before = process.memoryUsage().arrayBuffers;
    await assert.rejects(loadCheckpoint(file), (e: LandscapeError) => e.kind === 'input' && /layers\.0\.weight/.test(e.message));
    assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024);
  });

  it('a PyTorch-style file loaded with a huge --model spec allocates nothing', async () => {
    const file = path.join(tmp, 'torch.safetensors');
    fs.writeFileSync(file, encodeSafetensors([{ name: '0.weight', dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }], { format: 'pt' }));
    const before = process.memoryUsage().arrayBuffers;
    await assert.rejects(loadCheckpoint(file, { spec: makeSpec('20000-20000-2') }), /model 20000-20000-2 has 400060002 parameters but the file holds only 4 values/);
    assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024);
    const r = await runCli(['info', file, '--model', '100000-100000-10', '--no-eval']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /too large/);
  });

  it('a tfjs model.json declaring huge layers with tiny shards allocates nothing', () => {
    const dir = path.join(tmp, 'tfjs-huge');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.alloc(16));
    fs.writeFileSync(
      path.join(dir, 'model.json'),
      JSON.stringify({
        format: 'layers-model',
        modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { name: 'd', units: 1 << 20, activation: 'linear', batch_input_shape: [null, 1 << 20] } }] } },
        weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'd/kernel', shape: [1 << 20, 1 << 20], dtype: 'float32' }, { name: 'd/bias', shape: [1 << 20], dtype: 'float32' }] }],
      }),
    );
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => importTfjsModel(path.join(dir, 'model.json')), (e: LandscapeError) => e.kind === 'input' && /hold 16 bytes but its weights need/.test(e.message));
    assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024);
  });
});
