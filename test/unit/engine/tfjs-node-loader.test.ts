/**
 * tfjs-node loaded from a user folder (landscape.tfjsNodePath,
 * LANDSCAPE_TFJS_NODE). Real tfjs-node cannot install here (it downloads
 * libtensorflow), so each folder holds a stand-in that behaves like it where
 * it matters: it requires `@tensorflow/tfjs-core` by name and registers a
 * "tensorflow" backend on it. Beside it sit decoy copies of tfjs-core and the
 * CPU backend, as `npm install` would leave them; they throw when loaded, so a
 * pass proves the stand-in received the engine's copies. Its kernels are the
 * CPU backend's, so every number must equal the CPU backend's exactly.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';
import { initBackend, describeBackend, tf } from '../../../src/engine/backend';
import { chooseTfjsNode, setTfjsNodeSetting, sharesEngineTfjs, TFJS_NODE_ENV } from '../../../src/engine/tfjsNodeLoader';
import { LandscapeError } from '../../../src/engine/errors';
import { Rng } from '../../../src/engine/rng';
import { barrierMatrix, openMinima } from '../../../src/engine/barriers';
import { runCli } from '../../support/cli';
import { runWorkerJob } from '../../support/worker';
import { makeTempDir, removeTempDir } from '../../support/tmp';

const repo = path.resolve(__dirname, '../../..');
const tmp = makeTempDir('tfjs-node');
const TFJS = tf.version_core;

const STAND_IN = `'use strict';
const fs = require('fs');
const tf = require('@tensorflow/tfjs-core');
const { MathBackendCPU } = require('@tensorflow/tfjs-backend-cpu');
const state = (globalThis.__tfjsNodeStandIn = { core: tf, kernelCalls: 0 });
for (const k of tf.getKernelsForBackend('cpu')) {
  const run = k.kernelFunc;
  tf.registerKernel({ ...k, backendName: 'tensorflow', kernelFunc: (args) => (state.kernelCalls++, run(args)) });
}
tf.registerBackend('tensorflow', () => new MathBackendCPU(), 3);
if (process.env.STAND_IN_REPORT) process.on('exit', () => fs.writeFileSync(process.env.STAND_IN_REPORT, String(state.kernelCalls)));
`;
// What a missing libtensorflow looks like when tfjs-node's binding is loaded.
const BROKEN = `throw new Error('libtensorflow.so.2: cannot open shared object file: No such file or directory');\n`;

function writePackage(folder: string, name: string, version: string, code: string): void {
  const dir = path.join(folder, 'node_modules', name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version, main: 'index.js' }));
  fs.writeFileSync(path.join(dir, 'index.js'), code);
}

/** A folder as `npm install @tensorflow/<pkg>` leaves it, with the stand-in (or a broken one) as the package. */
function userFolder(name: string, opts: { pkg?: string; version?: string; broken?: boolean } = {}): string {
  const folder = path.join(tmp, name);
  writePackage(folder, opts.pkg ?? '@tensorflow/tfjs-node', opts.version ?? TFJS, opts.broken ? BROKEN : STAND_IN);
  for (const decoy of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu']) {
    writePackage(folder, decoy, TFJS, `throw new Error(${JSON.stringify(`decoy ${decoy}: the copy in the user folder was loaded, not the engine's`)});\n`);
  }
  return folder;
}

const standIn = () => (globalThis as { __tfjsNodeStandIn?: { core: unknown; kernelCalls: number } }).__tfjsNodeStandIn;
const good = userFolder('good');
const gpu = userFolder('gpu', { pkg: '@tensorflow/tfjs-node-gpu', version: '4.21.0' });
const broken = userFolder('broken', { broken: true });
const empty = path.join(tmp, 'empty');
fs.mkdirSync(empty);
const xorArgs = (out: string, seed: number) => ['train', '--dataset', 'xor', '--samples', '200', '--model', '2-8-2', '--optimizer', 'adam', '--lr', '0.05', '--epochs', '3', '--seed', String(seed), '--data-seed', '1', '--out', out, '--json'];
const runs = [1, 2, 3].map((s) => path.join(tmp, `run-${s}`));
const checkpoints = runs.map((r) => path.join(r, 'final.safetensors'));
let cpuTrainLines: string[];

before(async () => {
  delete process.env[TFJS_NODE_ENV];
  delete process.env.LANDSCAPE_BACKEND;
  await initBackend('cpu', { force: true });
  for (const [k, run] of runs.entries()) {
    const r = await runCli([...xorArgs(run, k + 1), '--backend', 'cpu']);
    assert.equal(r.code, 0, r.stderr);
    if (k === 0) cpuTrainLines = r.stdout.split('\n');
  }
});

after(async () => {
  delete process.env[TFJS_NODE_ENV];
  await initBackend('cpu', { force: true });
  removeTempDir(tmp);
});

test('the folder comes from the option, then the setting, then LANDSCAPE_TFJS_NODE, else the installed package', () => {
  process.env[TFJS_NODE_ENV] = ' /from/env ';
  setTfjsNodeSetting('/from/setting');
  assert.deepEqual(chooseTfjsNode('/from/option'), { folder: '/from/option', source: 'option' });
  assert.deepEqual(chooseTfjsNode(), { folder: '/from/setting', source: 'setting' });
  setTfjsNodeSetting('  ');
  assert.deepEqual(chooseTfjsNode(''), { folder: '/from/env', source: 'env' });
  delete process.env[TFJS_NODE_ENV];
  assert.deepEqual(chooseTfjsNode(), { source: 'installed' });
});

function assertFails(kind: 'input' | 'compute', ...patterns: RegExp[]) {
  return (e: unknown) => {
    assert.ok(e instanceof LandscapeError, String(e));
    assert.equal(e.kind, kind, e.message);
    for (const p of patterns) assert.match(e.message, p);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  };
}

test('a bad folder is one clear error when tensorflow was asked for, naming the folder and what was expected', async () => {
  const missing = path.join(tmp, 'nowhere');
  await assert.rejects(initBackend('tensorflow', { force: true, tfjsNodePath: missing }), assertFails('input', /option names \S*nowhere, which does not exist/, /npm install @tensorflow\/tfjs-node@4\.\d+\.\d+/));
  const file = path.join(tmp, 'a-file');
  fs.writeFileSync(file, '');
  await assert.rejects(initBackend('tensorflow', { force: true, tfjsNodePath: file }), assertFails('input', /a-file, which is a file/));
  await assert.rejects(initBackend('tensorflow', { force: true, tfjsNodePath: empty }), assertFails('input', /empty, which has no node_modules\/@tensorflow\/tfjs-node-gpu or node_modules\/@tensorflow\/tfjs-node/));
  process.env[TFJS_NODE_ENV] = broken;
  await assert.rejects(
    initBackend('tensorflow', { force: true }),
    assertFails('compute', /could not load @tensorflow\/tfjs-node from \S*broken \(the environment variable LANDSCAPE_TFJS_NODE\): libtensorflow\.so\.2: cannot open/, /npm rebuild/),
  );
  // Not asked for explicitly: the next backend computes and the reason is kept.
  const info = await initBackend('auto', { force: true });
  delete process.env[TFJS_NODE_ENV];
  assert.equal(info.name, 'wasm');
  assert.match(info.fallbacks[0], /^tensorflow: could not load @tensorflow\/tfjs-node from \S*broken/);
  assert.match(describeBackend(info), /skipped tensorflow: could not load/);
  assert.equal(standIn(), undefined, 'nothing registered a backend');
});

test('the option loads the stand-in into the engine\'s tfjs-core, and landscape computes on it', async () => {
  process.env[TFJS_NODE_ENV] = path.join(tmp, 'nowhere');
  const info = await initBackend('auto', { force: true, tfjsNodePath: good });
  delete process.env[TFJS_NODE_ENV];
  assert.equal(info.name, 'tensorflow');
  assert.deepEqual(info.fallbacks, []);
  assert.deepEqual(info.tfjsNode, { package: '@tensorflow/tfjs-node', version: TFJS, folder: good, source: 'option' });
  assert.equal(describeBackend(info), `backend tensorflow, tfjs ${TFJS}, @tensorflow/tfjs-node ${TFJS} from ${good} (tfjs-node folder option)`);
  assert.equal(tf.getBackend(), 'tensorflow');
  assert.equal(standIn()?.core, createRequire(__filename)('@tensorflow/tfjs-core'), 'one tfjs-core: the engine\'s');
  // A product of seeded matrices against a float64 reference, through the stand-in's kernels.
  const rng = new Rng(11);
  const a = Array.from({ length: 3 * 4 }, () => rng.normal());
  const b = Array.from({ length: 4 * 2 }, () => rng.normal());
  const calls = standIn()!.kernelCalls;
  const got = tf.tidy(() => tf.matMul(tf.tensor2d(a, [3, 4]), tf.tensor2d(b, [4, 2])).dataSync());
  assert.ok(standIn()!.kernelCalls > calls, 'the stand-in\'s kernels ran');
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 2; j++) {
      let ref = 0;
      for (let k = 0; k < 4; k++) ref += Math.fround(a[i * 4 + k]) * Math.fround(b[k * 2 + j]);
      assert.ok(Math.abs(got[i * 2 + j] - ref) <= 1e-5 * (1 + Math.abs(ref)), `(${i}, ${j}): ${got[i * 2 + j]} vs ${ref}`);
    }
  }
});

test('tfjs requests from inside the folder get the engine\'s copy; tfjs-node and everything else stay the folder\'s', () => {
  const inside = path.join(good, 'node_modules/@tensorflow/tfjs-node/index.js');
  for (const r of ['@tensorflow/tfjs-core', '@tensorflow/tfjs', '@tensorflow/tfjs-layers/dist/index.js', '@tensorflow/tfjs-backend-cpu/dist/shared']) assert.ok(sharesEngineTfjs(r, inside), r);
  for (const r of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu/dist/index.js', '@tensorflow/tfjsx', 'adm-zip', './kernels']) assert.ok(!sharesEngineTfjs(r, inside), r);
  assert.ok(!sharesEngineTfjs('@tensorflow/tfjs-core', path.join(tmp, 'elsewhere.js')));
  assert.ok(!sharesEngineTfjs('@tensorflow/tfjs-core', undefined));
});

test('a second tfjs-node folder in the same process is refused with the one already loaded', async () => {
  await assert.rejects(initBackend('tensorflow', { force: true, tfjsNodePath: gpu }), assertFails('compute', /names \S*gpu, but this process already loaded @tensorflow\/tfjs-node \S+ from \S*good .*restart/));
  const again = await initBackend('tensorflow', { force: true, tfjsNodePath: good });
  assert.equal(again.name, 'tensorflow');
});

test('path worker threads load tfjs-node from the parent\'s folder and agree with the CPU backend', async () => {
  const { checkpoints: cks, recipe } = await openMinima(checkpoints);
  const problem = { spec: cks[0].spec, recipe, thetas: cks.map((c) => c.theta), path: { points: 6, modes: 2, steps: 3 } };
  await initBackend('tensorflow', { force: true, tfjsNodePath: good });
  // No LANDSCAPE_TFJS_NODE: the threads can only know the folder from their workerData.
  const threads = await barrierMatrix({ ...problem, backend: 'tensorflow' }, { jobs: 2 });
  await initBackend('cpu', { force: true });
  const cpu = await barrierMatrix({ ...problem, backend: 'cpu' }, { jobs: 1 });
  assert.deepEqual(threads.errors, []);
  assert.equal(threads.pairs.length, 3);
  for (const k of ['losses', 'heights', 'barriers', 'straightHeights'] as const) assert.deepEqual(threads[k], cpu[k], k);
});

test('the extension\'s compute worker loads it from the landscape.tfjsNodePath setting', async () => {
  const tfjsNodePath = good;
  const probe = await runWorkerJob({ kind: 'probe' }, undefined, { backend: 'auto', tfjsNodePath });
  assert.equal(probe.result?.backend.text, `tensorflow · tfjs ${TFJS}`, probe.error?.message);
  assert.match(probe.result!.backend.detail, new RegExp(`from ${good.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(landscape\\.tfjsNodePath setting\\)`));
  const native = await runWorkerJob({ kind: 'evaluate', file: checkpoints[0] }, undefined, { backend: 'tensorflow', tfjsNodePath });
  const cpu = await runWorkerJob({ kind: 'evaluate', file: checkpoints[0] }, undefined, { backend: 'cpu' });
  assert.equal(native.result?.backend, 'tensorflow', native.error?.message);
  assert.deepEqual([native.result!.train, native.result!.test], [cpu.result!.train, cpu.result!.test]);
  const bad = await runWorkerJob({ kind: 'evaluate', file: checkpoints[0] }, undefined, { backend: 'tensorflow', tfjsNodePath: empty });
  assert.equal(bad.error?.kind, 'input');
  assert.match(bad.error!.message, /landscape\.tfjsNodePath setting names \S*empty, which has no node_modules/);
});

/** The CLI bundled as esbuild.mjs bundles it (tfjs external), run as its own process with LANDSCAPE_TFJS_NODE. */
async function bundledCli(): Promise<(args: string[], folder: string) => { code: number | null; stdout: string; stderr: string; kernelCalls: number }> {
  const cli = path.join(tmp, 'cli.js');
  await esbuild.build({ entryPoints: [path.join(repo, 'src/cli/main.ts')], outfile: cli, bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', '@tensorflow/*'], define: { __LANDSCAPE_VERSION__: '"test"' }, logLevel: 'silent' });
  const report = path.join(tmp, 'kernel-calls.txt');
  return (args, folder) => {
    fs.rmSync(report, { force: true });
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: path.join(repo, 'node_modules'), [TFJS_NODE_ENV]: folder, STAND_IN_REPORT: report };
    delete env.LANDSCAPE_BACKEND;
    const r = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8', timeout: 300_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, kernelCalls: fs.existsSync(report) ? Number(fs.readFileSync(report, 'utf8')) : 0 };
  };
}

test('the bundled CLI picks it up from LANDSCAPE_TFJS_NODE and trains on it exactly as on the CPU backend', async () => {
  const cli = await bundledCli();
  const train = cli(xorArgs(path.join(tmp, 'run-native'), 1), good);
  assert.equal(train.code, 0, train.stderr);
  const lines = train.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; backend?: string; time?: number });
  assert.equal(lines[0].backend, 'tensorflow');
  assert.ok(train.kernelCalls > 0, 'the stand-in\'s kernels ran in the child');
  const epochs = (ls: { type: string; time?: number }[]) => ls.filter((l) => l.type === 'epoch').map((l) => ({ ...l, time: 0 }));
  assert.deepEqual(epochs(lines), epochs(cpuTrainLines.map((l) => JSON.parse(l))));
  const info = cli(['info', checkpoints[0]], gpu);
  assert.equal(info.code, 0, info.stderr);
  assert.ok(info.stdout.includes(`(backend tensorflow, tfjs ${TFJS}, @tensorflow/tfjs-node-gpu 4.21.0 from ${gpu} (environment variable LANDSCAPE_TFJS_NODE); it was released with tfjs 4.21.0, the engine has ${TFJS})`), info.stdout);
});

test('the bundled CLI: a bad folder exits 2 when tensorflow was asked for, and is skipped otherwise', async () => {
  const cli = await bundledCli();
  const missing = cli(['info', checkpoints[0], '--backend', 'tensorflow'], path.join(tmp, 'nowhere'));
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  assert.match(missing.stderr, /^landscape info: backend "tensorflow" is not available: tensorflow: the environment variable LANDSCAPE_TFJS_NODE names \S*nowhere, which does not exist; expected a folder where `npm install @tensorflow\/tfjs-node@/);
  const failing = cli(['info', checkpoints[0], '--backend', 'tensorflow'], broken);
  assert.equal(failing.code, 1);
  assert.match(failing.stderr, /could not load @tensorflow\/tfjs-node from \S*broken .*libtensorflow\.so\.2/);
  const auto = cli(['info', checkpoints[0]], broken);
  assert.equal(auto.code, 0, auto.stderr);
  assert.match(auto.stdout, /\(backend wasm, tfjs \S+ \(skipped tensorflow: could not load @tensorflow\/tfjs-node from \S*broken/);
});
