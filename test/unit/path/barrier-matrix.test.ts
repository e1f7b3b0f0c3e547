/**
 * One barrier orchestration (src/engine/barriers) behind `landscape
 * barriers`, the compute worker's barriers job and the optimizer study: for
 * the same checkpoints, options and seed the three give the same numbers,
 * to the bit. Resuming finished pairs gives the matrices a full run gives.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { initBackend } from '../../../src/engine/backend';
import { runStudy, type StudyResult } from '../../../src/engine/study';
import { barrierMatrix, openMinima } from '../../../src/engine/barriers';
import type { PathProblem } from '../../../src/engine/pool';
import { selectPairs, type PathResult } from '../../../src/engine/path';
import { readBarrierResult } from '../../../src/results/barrierFiles';
import { runCli } from '../../support/cli';
import { runWorkerJob } from '../../support/worker';
import { makeTempDir, removeTempDir } from '../../support/tmp';

const tmp = makeTempDir('barrier-matrix');
const studyDir = path.join(tmp, 'study');
// The study's quick path settings with few steps: the point is agreement, not a good path.
const STEPS = 4;
let study: StudyResult;
let files: string[];

before(async () => {
  await initBackend('cpu', { force: true });
  const it = runStudy({ out: studyDir, preset: 'quick', seeds: 2, epochs: 2, pathSteps: STEPS, pairsPerGroup: 1, jobs: 1, backend: 'cpu' });
  for (;;) {
    const r = await it.next();
    if (r.done) {
      study = r.value;
      break;
    }
  }
  // Minima 0, 1: the SGD finals; 2, 3: the L-BFGS finals (the pairs the study computed).
  files = ['sgd-s1', 'sgd-s2', 'lbfgs-s1', 'lbfgs-s2'].map((run) => path.join(studyDir, 'runs', run, 'final.safetensors'));
});

after(() => removeTempDir(tmp));

async function cliMatrix(extra: string[]) {
  const r = await runCli(['barriers', ...files, '--backend', 'cpu', '--seed', '0', '--json', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { losses: number[]; heights: number[][]; barriers: number[][]; straightHeights: number[][] };
}

test('the study and landscape barriers agree on every pair the study computed', async () => {
  const p = study.config.path;
  const m = await cliMatrix(['--points', String(p.points), '--modes', String(p.modes), '--steps', String(STEPS), '--lr', String(p.lr), '--lambda', String(p.lambda), '--objective', p.objective, '--jobs', '2']);
  assert.equal(study.barriers.length, 2);
  for (const [b, i, j] of [
    [study.barriers[0], 0, 1],
    [study.barriers[1], 2, 3],
  ] as const) {
    assert.deepEqual([b.a, b.b], [`${path.basename(path.dirname(files[i]))}/final`, `${path.basename(path.dirname(files[j]))}/final`]);
    assert.equal(m.heights[i][j], b.optimized.height);
    assert.equal(m.straightHeights[i][j], b.straight.height);
    assert.equal(m.losses[i], b.lossA);
    assert.equal(m.losses[j], b.lossB);
  }
});

test('the compute worker and landscape barriers give the same matrices', async () => {
  const out = path.join(tmp, 'worker-barriers.json');
  const r = await runWorkerJob({ kind: 'barriers', files, folder: studyDir, out, selection: 'all', settings: { points: 10, steps: STEPS, planeGrid: 0 } });
  assert.equal(r.error, undefined, r.error?.message);
  const saved = readBarrierResult(out, 'barrierMatrix').data;
  // The worker's settings: FourierPathFinder, minimax, the path finder's defaults otherwise.
  const m = await cliMatrix(['--points', '10', '--steps', String(STEPS), '--jobs', '2']);
  assert.deepEqual(saved.heights, m.heights);
  assert.deepEqual(saved.barriers, m.barriers);
  assert.deepEqual(saved.straightHeights, m.straightHeights);
  assert.deepEqual(saved.losses, m.losses);
  assert.equal(saved.pairs.length, 6);
});

test('finished pairs are not computed again and give the matrices a full run gives', async () => {
  const { checkpoints, recipe } = await openMinima(files);
  const problem: PathProblem = { backend: 'cpu', spec: checkpoints[0].spec, recipe, thetas: checkpoints.map((c) => c.theta), path: { points: 6, modes: 2, steps: 3 } };
  const full = await barrierMatrix(problem, { jobs: 1 });
  assert.equal(full.pairs.length, 6);
  const earlier = new Map(full.pairs.slice(0, 4).map((o) => [`${o.i},${o.j}`, o.result]));
  const computed: string[] = [];
  const resumed = await barrierMatrix<PathResult>(problem, {
    jobs: 1,
    finished: (i, j) => earlier.get(`${i},${j}`),
    onPairDone: (o) => computed.push(`${o.i},${o.j}`),
  });
  assert.deepEqual(computed, full.pairs.slice(4).map((o) => `${o.i},${o.j}`));
  for (const k of ['losses', 'heights', 'barriers', 'straightHeights', 'mst', 'tree'] as const) assert.deepEqual(resumed[k], full[k], k);
  // A random selection is drawn with the seed; when every chosen pair is finished, nothing is computed.
  const done: string[] = [];
  const picked = await barrierMatrix<PathResult>(problem, {
    pairs: 'random:2',
    seed: 3,
    finished: (i, j) => full.pairs.find((o) => o.i === i && o.j === j)?.result,
    onPairDone: (o) => done.push(`${o.i},${o.j}`),
  });
  assert.deepEqual(picked.selected, selectPairs(4, 'random:2', 3));
  assert.deepEqual(done, []);
  await assert.rejects(barrierMatrix(problem, { pairs: [[0, 1], [1, 0]] }), /listed twice/);
  await assert.rejects(barrierMatrix(problem, { pairs: [[0, 4]] }), /not a pair of two of the 4 minima/);
});
