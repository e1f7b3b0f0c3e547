/**
 * `landscape eval` on a PyTorch-trained LeNet and a BatchNorm residual net (its
 * running statistics read from the file): the loss and accuracy PyTorch
 * prints for the module in eval mode on the same tensors (its state_dict in a
 * safetensors file, the rows in an .npz), within 1e-5 relative. Skipped, with
 * the reason, where python3-torch is missing. Also the command's usage errors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../support/cli';
import { makeTempDir, removeTempDir } from '../../support/tmp';
import { findTorch } from '../../../bench/torch';
import { encodeSafetensors, readSafetensors, type TensorIn } from '../../../src/engine/checkpoint/safetensors';
import { modelSpecFromText } from '../../../src/engine/model/archModel';

const torch = findTorch();
const skip = torch ? false : 'python3 with torch is not installed (apt-get install python3-torch)';
let dir: string;

before(() => {
  dir = makeTempDir('eval');
});
after(() => removeTempDir(dir));

const BNRES_SPEC = 'input(1,28,28) conv(4,3,pad=1,bias=false) bn relu res(conv(8,3,stride=2,pad=1,bias=false) bn relu conv(8,3,pad=1,bias=false) bn) relu gap dense(10)';

/** torchvision's ResNet layout (conv1, bn1, layer1.0.conv1 … downsample, fc) at a small size. */
const block = (c: number, stride: number) => `res(conv(${c},3${stride > 1 ? `,stride=${stride}` : ''},pad=1,bias=false) bn relu conv(${c},3,pad=1,bias=false) bn) relu`;
const RESNET_SPEC = `input(1,28,28) conv(4,3,pad=1,bias=false) bn relu ${block(4, 1)} ${block(8, 2)} ${block(8, 1)} gap dense(10)`;

for (const [name, spec] of [['lenet', 'lenet'], ['bnres', BNRES_SPEC], ['resnet', RESNET_SPEC]]) {
  test(`landscape eval on a PyTorch-trained ${name} matches PyTorch in eval mode`, { skip }, async () => {
    const folder = path.join(dir, name);
    fs.mkdirSync(folder);
    const py = spawnSync(torch!.python, [path.join(__dirname, '../../support/torch_lenet.py'), folder, name], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    const want = JSON.parse(py.stdout) as { loss: number; accuracy: number; samples: number };
    for (const backend of ['cpu', 'wasm']) {
      const r = await runCli(['eval', path.join(folder, 'model.safetensors'), '--data', path.join(folder, 'data.npz'), '--model', spec, '--json', '--backend', backend]);
      assert.equal(r.code, 0, r.stderr);
      const got = JSON.parse(r.stdout);
      assert.equal(got.samples, want.samples);
      assert.ok(Math.abs(got.loss - want.loss) <= 1e-5 * want.loss, `${backend}: loss ${got.loss} vs PyTorch ${want.loss}`);
      assert.equal(got.accuracy, want.accuracy);
      // BatchNorm in eval mode: the file's running statistics, as model.eval() uses them.
      if (name !== 'lenet') assert.equal(got.batchNorm, 'running statistics from the checkpoint');
    }
  });
}

test('--tensor-map: a file whose names cannot decide the order loads with the map, and gives the same numbers', { skip }, async () => {
  // The LeNet above with its tensors renamed so that name order is the reverse of module order.
  const src = await readSafetensors(path.join(dir, 'lenet', 'model.safetensors'));
  const names = [...src.tensors.keys()].sort((a, b) => Number(a.split('.')[0]) - Number(b.split('.')[0]) || a.localeCompare(b, 'en') * -1);
  const renamed = names.map((n, i) => ({ from: n, to: `t${String.fromCharCode(122 - i)}.${n.split('.')[1]}` }));
  const tensors = renamed.map(({ from, to }) => ({ name: to, ...src.tensors.get(from)! }));
  const scrambled = path.join(dir, 'scrambled.safetensors');
  fs.writeFileSync(scrambled, encodeSafetensors(tensors as TensorIn[], { format: 'pt' }));
  const model = modelSpecFromText('lenet');
  const ours = model.arch!.layout.params.map((p) => p.name);
  const theirs = renamed.map((r) => r.to);
  const mapFile = path.join(dir, 'map.json');
  fs.writeFileSync(mapFile, JSON.stringify(Object.fromEntries(ours.map((n, i) => [n, theirs[i]]))));
  const args = ['eval', scrambled, '--data', path.join(dir, 'lenet', 'data.npz'), '--model', 'lenet', '--json', '--backend', 'cpu'];
  const without = await runCli(args);
  assert.equal(without.code, 2, 'the reversed names put a weight where another shape belongs');
  const withMap = await runCli([...args, '--tensor-map', mapFile]);
  assert.equal(withMap.code, 0, withMap.stderr);
  const plain = await runCli(['eval', path.join(dir, 'lenet', 'model.safetensors'), '--data', path.join(dir, 'lenet', 'data.npz'), '--model', 'lenet', '--json', '--backend', 'cpu']);
  assert.equal(JSON.parse(withMap.stdout).loss, JSON.parse(plain.stdout).loss);
  // The analyses take the same map: hessian on the scrambled file is hessian on the original.
  const hessian = (file: string, extra: string[]) =>
    runCli(['hessian', file, '--model', 'lenet', '--dataset', path.join(dir, 'lenet', 'data.npz'), '--k', '1', '--json', '--backend', 'cpu', ...extra]);
  const mappedH = await hessian(scrambled, ['--tensor-map', mapFile]);
  assert.equal(mappedH.code, 0, mappedH.stderr);
  const plainH = await hessian(path.join(dir, 'lenet', 'model.safetensors'), []);
  assert.equal(plainH.code, 0, plainH.stderr);
  assert.deepEqual(JSON.parse(mappedH.stdout).eigenvalues, JSON.parse(plainH.stdout).eigenvalues);
  assert.equal((await hessian(scrambled, [])).code, 2, 'and without the map the file is refused');
  fs.writeFileSync(mapFile, JSON.stringify({ 'layers.0.weight': theirs[0] }));
  const partial = await runCli([...args, '--tensor-map', mapFile]);
  assert.equal(partial.code, 2);
  assert.match(partial.stderr, /tensor map does not name/);
});

test('landscape eval: a missing --data, a wrong model for the file', { skip }, async () => {
  const noData = await runCli(['eval', path.join(dir, 'lenet', 'model.safetensors'), '--model', 'lenet']);
  assert.equal(noData.code, 2);
  assert.match(noData.stderr, /--data/);
  const wrong = await runCli(['eval', path.join(dir, 'lenet', 'model.safetensors'), '--data', path.join(dir, 'lenet', 'data.npz'), '--model', 'input(1,28,28) conv(8,5,pad=2) relu maxpool(2) flatten dense(10)']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /model\.safetensors/);
});
