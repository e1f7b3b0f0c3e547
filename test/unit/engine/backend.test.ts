import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend, parseBackendChoice, findWasmDir, describeBackend, tf } from '../../../src/engine/backend';
import { LandscapeError } from '../../../src/engine/errors';

after(async () => {
  delete process.env.LANDSCAPE_BACKEND;
  await initBackend('cpu', { force: true });
});

test('the WASM backend loads from the shipped binaries', async () => {
  const info = await initBackend('wasm', { force: true });
  assert.equal(info.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.ok(info.wasmDir && info.wasmDir === findWasmDir());
  assert.match(describeBackend(info), /^backend wasm, tfjs 4\./);
  const s = tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]);
  assert.equal(s, 6);
});

test('auto falls back past tfjs-node and reports why', async () => {
  const info = await initBackend('auto', { force: true });
  // tfjs-node cannot install on these machines; where it does, it is chosen.
  if (info.name !== 'tensorflow') {
    assert.equal(info.name, 'wasm');
    assert.match(info.fallbacks[0], /^tensorflow: /);
  }
  assert.equal(info.source, 'default');
});

test('the environment variable overrides the automatic choice, --backend overrides both', async () => {
  process.env.LANDSCAPE_BACKEND = 'cpu';
  let info = await initBackend(undefined, { force: true });
  assert.equal(info.name, 'cpu');
  assert.equal(info.source, 'env');
  info = await initBackend('wasm', { force: true });
  assert.equal(info.name, 'wasm');
  assert.equal(info.source, 'option');
  process.env.LANDSCAPE_BACKEND = 'gpu';
  await assert.rejects(initBackend(undefined, { force: true }), /unknown backend "gpu" in environment variable LANDSCAPE_BACKEND/);
  delete process.env.LANDSCAPE_BACKEND;
});

test('unknown backend names are input errors', () => {
  assert.throws(() => parseBackendChoice('webgl', '--backend'), (e: unknown) => e instanceof LandscapeError && e.kind === 'input');
  assert.equal(parseBackendChoice('node', '--backend'), 'tensorflow');
});
