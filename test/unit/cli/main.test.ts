import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync, spawnSync } from 'child_process';
import { runCli } from '../../support/cli';
import { initBackend } from '../../../src/engine/backend';
import { makeTempDir } from '../../support/tmp';

const tmp = makeTempDir('cli');
const repo = path.resolve(__dirname, '../../..');
const cliJs = path.join(repo, 'dist/cli.js');

before(async () => {
  await initBackend('cpu', { force: true });
});

test('train --json prints one camelCase JSON object per line and info reads the checkpoint back', async () => {
  const out = path.join(tmp, 'run');
  const r = await runCli(['train', '--dataset', 'xor', '--samples', '200', '--model', '2-8-2', '--optimizer', 'adam', '--lr', '0.05', '--epochs', '3', '--seed', '1', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').map((l) => JSON.parse(l));
  const epochs = lines.filter((l) => l.type === 'epoch');
  assert.equal(epochs.length, 4);
  for (const k of ['epoch', 'step', 'trainLoss', 'testLoss', 'accuracy', 'testAccuracy', 'gradNorm', 'lr', 'time']) assert.ok(k in epochs[1], `missing ${k}`);
  assert.equal(lines[0].type, 'start');
  assert.equal(lines[0].backend, 'cpu');
  assert.equal(lines.at(-1).type, 'done');
  const info = await runCli(['info', path.join(out, 'final.safetensors'), '--json']);
  assert.equal(info.code, 0, info.stderr);
  const j = JSON.parse(info.stdout);
  assert.equal(j.model, '2-8-2');
  assert.equal(j.metadata.optimizer, 'adam');
  // Re-evaluation rebuilds the same data (xor, 200 samples, seed 1) and gets the recorded loss.
  assert.ok(Math.abs(j.evaluation.trainLoss - Number(j.metadata.trainLoss)) < 1e-5, `${j.evaluation.trainLoss} vs ${j.metadata.trainLoss}`);
  assert.ok(Math.abs(j.evaluation.testAccuracy - Number(j.metadata.testAccuracy)) < 1e-6);
});

test('usage errors exit 2 with one readable line', async () => {
  const cases: [string[], RegExp][] = [
    [['train', '--optimiser', 'sgd'], /unknown option --optimiser/],
    [['train', '--epochs', 'ten'], /--epochs needs a number, got "ten"/],
    [['train', '--epochs', '2.5'], /--epochs needs a whole number/],
    [['train', '--optimizer', 'adamw'], /--optimizer must be one of sgd, momentum/],
    [['train', '--dataset', 'nosuch', '--out', path.join(tmp, 'x')], /unknown dataset "nosuch"/],
    [['train', '--dataset', 'moons', '--model', '3-4-2', '--out', path.join(tmp, 'y')], /takes 3 inputs/],
    [['info'], /needs exactly one checkpoint file/],
    [['info', path.join(tmp, 'missing.safetensors')], /missing\.safetensors: file not found/],
    [['info', tmp], /is a folder, not a checkpoint/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')} -> ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('each corrupt checkpoint gets its own message and exit code 2', async () => {
  const good = path.join(tmp, 'good');
  await runCli(['train', '--dataset', 'xor', '--samples', '100', '--model', '2-4-2', '--epochs', '1', '--out', good]);
  const bytes = fs.readFileSync(path.join(good, 'final.safetensors'));
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const variants: [string, Buffer, RegExp][] = [
    ['short', bytes.subarray(0, 5), /shorter than|too short|8 bytes/i],
    ['bomb', Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x10]), bytes.subarray(8)]), /header length/i],
    ['truncated', bytes.subarray(0, bytes.length - 16), /outside|beyond|past the end|truncated|not covered|does not match/i],
    ['badjson', Buffer.concat([bytes.subarray(0, 8), Buffer.from('{'.padEnd(headerLen, ' ')), bytes.subarray(8 + headerLen)]), /JSON/],
  ];
  const messages = new Set<string>();
  for (const [name, buf, re] of variants) {
    const f = path.join(tmp, `${name}.safetensors`);
    fs.writeFileSync(f, buf);
    const r = await runCli(['info', f]);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, re, name);
    assert.ok(r.stderr.includes(f), `${name} message names the file`);
    messages.add(r.stderr.replace(f, ''));
  }
  assert.equal(messages.size, variants.length, 'every fault has its own message');
});

test('each bad CSV gets its own message and exit code 2', async () => {
  const cases: [string, string, RegExp][] = [
    ['empty.csv', '', /empty/i],
    ['ragged.csv', 'a,b,label\n1,2,0\n3,0\n', /line 3 has 2 columns, expected 3/],
    ['text.csv', 'a,b,label\n1,2,0\n1,abc,1\n', /"abc" is not a number/],
    ['oneclass.csv', 'a,b,label\n1,2,0\n3,4,0\n5,6,0\n', /single class|only one class/i],
  ];
  for (const [name, text, re] of cases) {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, text);
    const r = await runCli(['train', '--dataset', f, '--model', '2-4-2', '--epochs', '1', '--out', path.join(tmp, 'csvrun-' + name)]);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, re, name);
    assert.ok(r.stderr.includes(name), `${name}: names the file`);
  }
});

test('the built CLI runs as a process: --help exits 0, bad input exits 2 without a stack trace', { skip: !fs.existsSync(cliJs) && 'dist/cli.js not built' }, () => {
  const help = execFileSync(process.execPath, [cliJs, 'train', '--help'], { encoding: 'utf8' });
  assert.match(help, /--optimizer <string>/);
  const bad = spawnSync(process.execPath, [cliJs, 'info', path.join(tmp, 'nope.safetensors')], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /nope\.safetensors: file not found/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
  assert.equal(bad.stdout, '');
});
