/**
 * The barrier jobs of the compute worker (src/worker/main.ts run as a real
 * worker thread): one path between two trained minima, all pairs of three,
 * cancel through the shared flag, and checkpoints of different models refused
 * with both files named. The results must be files the panels can show.
 */
import { loadAnyCheckpoint } from '../../../src/engine/evaluate';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PathJobEvent } from '../../../src/worker/protocol';
import { runWorkerJob } from '../../support/worker';
import { readBarrierResult, pathResultFile } from '../../../src/results/barrierFiles';
import { barrierMatrixView, barrierPathView, ResultDataSchema } from '../../../src/protocol';
import { validate } from '../../../src/schema';
import { readJsonResult, resultKindOf } from '../../../src/results/resultKind';
import { main as cliMain } from '../../../src/cli/main';
import { silentIo } from '../../support/cli';
import { initBackend } from '../../../src/engine/backend';
import { makeTempDir, removeTempDir } from '../../support/tmp';

async function trainTiny(out: string, seed: number, model = '2-8-2') {
  const r = await runWorkerJob({
    kind: 'train',
    config: { dataset: 'moons', n: 200, model, optimizer: 'sgd', lr: 0.2, epochs: 3, batch: 32, seed, dataSeed: 0, backend: 'cpu', checkpointEvery: 0, out },
  });
  assert.equal(r.error, undefined, r.error?.message);
  return path.join(out, 'final.safetensors');
}

describe('barrier jobs in the compute worker', () => {
  let dir: string;
  let ck: string[];
  before(async () => {
    dir = makeTempDir('barrier-jobs');
    ck = [];
    for (const seed of [1, 2, 3]) ck.push(await trainTiny(path.join(dir, 'runs', `r${seed}`), seed));
  });
  after(() => removeTempDir(dir));

  it('finds a path between two minima, streams the height per iteration, and saves what the panel shows', async () => {
    const out = pathResultFile(ck[0], ck[1]);
    const steps = 12;
    const r = await runWorkerJob({ kind: 'path', a: ck[0], b: ck[1], out, settings: { points: 8, steps, planeGrid: 5 } });
    assert.equal(r.error, undefined, r.error?.message);
    const events = r.events as PathJobEvent[];
    assert.deepEqual(events.slice(0, 2).map((e) => e.type), ['setup', 'pair-start']);
    const its = events.filter((e): e is Extract<PathJobEvent, { type: 'iteration' }> => e.type === 'iteration');
    // The optimiser's iterates (the straight line first), then the refinement band's, numbered on.
    assert.ok(its.length > steps + 1 && its.length <= 2 * steps + 2, `${its.length} iteration events`);
    assert.deepEqual(its.map((e) => e.iteration), Array.from({ length: its.length }, (_, i) => i));
    for (let i = 1; i <= steps; i++) assert.ok(its[i].bestHeight <= its[i - 1].bestHeight + 1e-12, 'the best height never rises');
    const setup = events.find((e) => e.type === 'setup') as Extract<PathJobEvent, { type: 'setup' }>;
    assert.equal(setup.steps, 2 * steps + 1, 'the progress bar counts the refinement too');
    assert.ok(events.some((e) => e.type === 'surface'));

    const res = r.result!;
    assert.equal(res.file, out);
    // The kept path is no higher than the straight line (the first iterate is the straight line).
    assert.ok(res.optimized.height <= res.straight.height + 1e-6, `${res.optimized.height} vs ${res.straight.height}`);
    // The file is the result itself (format 2), paths relative to it.
    const raw = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(raw.kind, 'barrierPath');
    assert.equal(raw.a, path.relative(path.dirname(out), ck[0]).split(path.sep).join('/'));
    const d = readBarrierResult(out, 'barrierPath').data;
    assert.ok(validate(ResultDataSchema, d).ok);
    assert.equal(d.a, ck[0]);
    assert.equal(d.b, ck[1]);
    assert.equal(d.profile.t.length, 10 * (8 - 1) + 1, 'heights on the grid ten times denser');
    assert.equal(d.linear.profile.loss.length, d.profile.t.length);
    assert.ok(d.plane);
    assert.equal(d.plane.x.length, d.profile.t.length);
    assert.equal(d.plane.y.length, d.profile.t.length);
    // A at the origin, B at (‖B − A‖, 0).
    assert.ok(Math.abs(d.plane.x[0]) < 1e-6 && Math.abs(d.plane.y[0]) < 1e-6);
    assert.ok(Math.abs(d.plane.x[d.plane.x.length - 1] - d.plane.distanceAB) < 1e-5);
    assert.ok(Math.abs(d.plane.y[d.plane.y.length - 1]) < 1e-5);
    assert.ok(d.plane.maxDeviation > 0 && d.plane.maxResidual <= d.plane.maxDeviation + 1e-9);
    assert.equal(d.plane.surface?.z.length, 5);
    assert.equal(d.heightHistory.length, steps + 1);
    assert.ok(d.refinement && d.refinement.optimizedHeight >= d.height - 1e-12, 'the refinement never raises the reported H');
    assert.ok(d.refinement.saddle && Number.isFinite(d.refinement.saddle.gradNorm));
    assert.equal(d.linear.height, res.straight.height);
    assert.equal(d.heights.saddle, d.refinement.saddle.height);
    // The panel's reading: the losses of the ends are the straight profile's ends, the best height never rises.
    const v = barrierPathView(d);
    assert.equal(v.a.loss, v.profile.straight[0]);
    assert.equal(v.b.loss, v.profile.straight[v.profile.straight.length - 1]);
    for (let i = 1; i < v.history.best.length; i++) assert.ok(v.history.best[i] <= v.history.best[i - 1] && v.history.best[i] <= v.history.height[i]);
  });

  it('computes all pairs of three minima: matrices, spanning tree, disconnectivity graph', async () => {
    const folder = path.join(dir, 'runs');
    const out = path.join(folder, 'barriers.json');
    const r = await runWorkerJob({ kind: 'barriers', files: ck, folder, out, selection: 'all', settings: { points: 6, steps: 4, planeGrid: 0 } });
    assert.equal(r.error, undefined, r.error?.message);
    assert.equal(r.result!.pairs, 3);
    const saved = readBarrierResult(out, 'barrierMatrix').data;
    assert.deepEqual(saved.labels, ['r1/final', 'r2/final', 'r3/final']);
    assert.deepEqual(saved.files, ck);
    for (let i = 0; i < 3; i++) {
      assert.equal(saved.heights[i][i], saved.losses[i]);
      assert.equal(saved.barriers[i][i], 0);
      for (let j = 0; j < 3; j++) assert.equal(saved.heights[i][j], saved.heights[j][i]);
    }
    // Two merges join three minima; the root is last and holds everything.
    const v = barrierMatrixView(saved);
    assert.equal(v.tree.length, 2);
    assert.equal(saved.mst.edges.length, 2);
    assert.ok(v.tree[1].height! >= v.tree[0].height!);
    assert.equal(saved.pairs.length, 3);
    assert.ok(v.pairs.every((p) => p.profile.t.length === 10 * (6 - 1) + 1 && p.profile.straight.length === p.profile.t.length));
  });

  it('stops at once when cancelled', async () => {
    const out = path.join(dir, 'cancelled.path.json');
    const r = await runWorkerJob({ kind: 'path', a: ck[0], b: ck[2], out, settings: { points: 8, steps: 5000, planeGrid: 0 } }, (e, cancel) => {
      if ((e as PathJobEvent).type === 'iteration' && (e as { iteration: number }).iteration === 3) cancel();
    });
    assert.equal(r.error?.kind, 'cancelled');
    assert.ok(!fs.existsSync(out), 'nothing saved');
  });

  it('shows what the CLI wrote: landscape barriers reads as is, landscape path gets its plane drawn', async () => {
    await initBackend('cpu', { force: true });
    const io = silentIo();
    const cliDir = path.join(dir, 'cli');
    fs.mkdirSync(cliDir, { recursive: true });
    const barriersFile = path.join(cliDir, 'barriers.json');
    assert.equal(await cliMain(['barriers', ...ck, '--steps', '3', '--points', '5', '--modes', '2', '--jobs', '1', '--backend', 'cpu', '--out', barriersFile], io), 0);
    const bdoc = readJsonResult(barriersFile);
    assert.equal(resultKindOf(bdoc, barriersFile), 'barrierMatrix');
    const m = readBarrierResult(barriersFile, 'barrierMatrix').data;
    assert.ok(validate(ResultDataSchema, m).ok);
    assert.deepEqual(m.files, ck);
    assert.equal(m.pairs.length, 3);
    assert.equal(barrierMatrixView(m).tree.length, 2);
    assert.ok(m.pairs.every((p) => p.profile?.t.length === 10 * (5 - 1) + 1));

    assert.equal(await cliMain(['path', ck[0], ck[2], '--steps', '4', '--points', '6', '--modes', '2', '--backend', 'cpu', '--out', `${cliDir}/`], io), 0);
    const pathFile = fs.readdirSync(cliDir).filter((f) => f.endsWith('.path.json')).map((f) => path.join(cliDir, f))[0];
    assert.ok(pathFile, 'landscape path --out <dir>/ wrote a .path.json');
    assert.equal(resultKindOf(readJsonResult(pathFile), pathFile), 'barrierPath');
    const r = await runWorkerJob({ kind: 'importPath', file: pathFile, roots: [], planeGrid: 4 });
    assert.equal(r.error, undefined, r.error?.message);
    const d = r.result!;
    assert.ok(validate(ResultDataSchema, d).ok);
    assert.equal(d.a, ck[0]);
    assert.ok(d.plane);
    assert.equal(d.plane.x.length, d.profile.t.length);
    assert.ok(Math.abs(d.plane.x[d.plane.x.length - 1] - d.plane.distanceAB) < 1e-5, 'B at (‖B − A‖, 0)');
    assert.equal(d.plane.surface?.z.length, 4);
    assert.ok(d.settings.some(([k, v]) => k === 'plane grid' && v === '4 × 4'));

    const other = path.join(cliDir, 'other.json');
    fs.writeFileSync(other, '{"hello": 1}');
    assert.throws(() => resultKindOf(readJsonResult(other), other), (e: Error) => e.message.includes(other) && /not a Landscape result/.test(e.message));
  });

  it('draws a Bezier curve saved without refinement from its bend', async () => {
    await initBackend('cpu', { force: true });
    const curveDir = path.join(dir, 'curve');
    fs.mkdirSync(curveDir, { recursive: true });
    const file = path.join(curveDir, 'bezier.path.json');
    assert.equal(await cliMain(['path', ck[0], ck[2], '--method', 'bezier', '--refine', 'none', '--steps', '20', '--points', '6', '--backend', 'cpu', '--out', file], silentIo()), 0);
    const r = await runWorkerJob({ kind: 'importPath', file, roots: [], planeGrid: 0 });
    assert.equal(r.error, undefined, r.error?.message);
    const d = r.result!;
    const bend = d.bend!;
    assert.ok(bend, 'the curve file keeps its bend');
    // Independently: the curve's points (1 − t)²A + t²B + 2t(1 − t)θ and their largest distance from the line AB.
    const a = (await loadAnyCheckpoint(ck[0])).theta;
    const b = (await loadAnyCheckpoint(ck[2])).theta;
    const ab = Array.from(a, (x, i) => b[i] - x);
    const len = Math.hypot(...ab);
    let worst = 0;
    for (const t of d.profile.t) {
      const p = Array.from(a, (x, i) => (1 - t) ** 2 * x + t * t * b[i] + 2 * t * (1 - t) * bend[i] - x);
      const along = p.reduce((s, v, i) => s + (v * ab[i]) / len, 0);
      worst = Math.max(worst, Math.sqrt(Math.max(0, p.reduce((s, v) => s + v * v, 0) - along * along)));
    }
    assert.ok(worst > 0, 'the trained curve bends');
    assert.ok(Math.abs(d.plane!.maxDeviation - worst) <= 1e-4 * worst, `drawn deviation ${d.plane!.maxDeviation} vs ${worst}`);
  });

  it('landscape.path.method = bezier: the path job trains a curve and saves its bend', async () => {
    const out = path.join(dir, 'curve-job.path.json');
    const r = await runWorkerJob({ kind: 'path', a: ck[0], b: ck[1], out, settings: { points: 6, steps: 10, planeGrid: 0, method: 'bezier' } });
    assert.equal(r.error, undefined, r.error?.message);
    const d = readBarrierResult(out, 'barrierPath').data;
    assert.equal(d.method, 'bezier');
    assert.ok(d.bend && d.bend.length > 0, 'the bend is saved');
    const bad = await runWorkerJob({ kind: 'path', a: ck[0], b: ck[1], out, settings: { points: 6, steps: 10, planeGrid: 0, method: 'spline' as never } });
    assert.equal(bad.error?.kind, 'input');
    assert.match(bad.error!.message, /landscape\.path\.method/);
  });

  it('refuses minima of different models, naming both files', async () => {
    const other = await trainTiny(path.join(dir, 'runs', 'wide'), 4, '2-16-2');
    const r = await runWorkerJob({ kind: 'path', a: ck[0], b: other, out: path.join(dir, 'x.path.json'), settings: { points: 6, steps: 2, planeGrid: 0 } });
    assert.equal(r.error?.kind, 'input');
    assert.ok(r.error!.message.includes(ck[0]) && r.error!.message.includes(other), r.error!.message);
    const bad = await runWorkerJob({ kind: 'path', a: ck[0], b: ck[1], out: path.join(dir, 'y.path.json'), settings: { points: 2, steps: 2, planeGrid: 0 } });
    assert.equal(bad.error?.kind, 'input');
    assert.match(bad.error!.message, /landscape\.path\.points/);
  });
});
