/**
 * `landscape eval` on a PyTorch-trained LeNet: the loss and accuracy PyTorch
 * prints for the module in eval mode on the same tensors (its state_dict in a
 * safetensors file, the rows in an .npz), within 1e-5 relative. Skipped, with
 * the reason, where python3-torch is missing. Also the command's usage errors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { runCli } from '../../support/cli';
import { makeTempDir, removeTempDir } from '../../support/tmp';
import { findTorch } from '../../../bench/torch';

const torch = findTorch();
const skip = torch ? false : 'python3 with torch is not installed (apt-get install python3-torch)';
let dir: string;

before(() => {
  dir = makeTempDir('eval');
});
after(() => removeTempDir(dir));

test('landscape eval on a PyTorch-trained LeNet matches PyTorch in eval mode', { skip }, async () => {
  const py = spawnSync(torch!.python, [path.join(__dirname, '../../support/torch_lenet.py'), dir], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  const want = JSON.parse(py.stdout) as { loss: number; accuracy: number; samples: number };
  for (const backend of ['cpu', 'wasm']) {
    const r = await runCli(['eval', path.join(dir, 'model.safetensors'), '--data', path.join(dir, 'data.npz'), '--model', 'lenet', '--json', '--backend', backend]);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    assert.equal(got.samples, want.samples);
    assert.ok(Math.abs(got.loss - want.loss) <= 1e-5 * want.loss, `${backend}: loss ${got.loss} vs PyTorch ${want.loss}`);
    assert.equal(got.accuracy, want.accuracy);
  }
});

test('landscape eval: a missing --data, a wrong model for the file', { skip }, async () => {
  const noData = await runCli(['eval', path.join(dir, 'model.safetensors'), '--model', 'lenet']);
  assert.equal(noData.code, 2);
  assert.match(noData.stderr, /--data/);
  const wrong = await runCli(['eval', path.join(dir, 'model.safetensors'), '--data', path.join(dir, 'data.npz'), '--model', 'input(1,28,28) conv(8,5,pad=2) relu maxpool(2) flatten dense(10)']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /model\.safetensors/);
});
