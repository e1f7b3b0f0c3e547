/** All-pairs machinery: pair selection, the concurrency-limited runner, matrices, MST and the disconnectivity graph. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/engine/backend';
import { CancelledError, LandscapeError } from '../../../src/engine/errors';
import {
  parsePairSpec,
  selectPairs,
  runPairs,
  pairMatrix,
  minimumSpanningTree,
  disconnectivityGraph,
  linkedHeights,
  allPairs,
  summarizePairs,
  findPath,
  toyObjective,
  TOY_A,
  TOY_B,
  DisconnectivityNode,
  Matrix,
} from '../../../src/engine/path';

before(async () => {
  await initBackend('cpu', { force: true });
});

// Five minima with hand-picked saddle heights. Single linkage joins 2–3 at 0.9, 0–1 at 1.0,
// {2,3}–4 at 1.2 and {0,1}–{2,3,4} at 1.5 (the direct 0–2 pair at 2.0 is beaten by 0–1–2).
const LOSSES = [0, 0.1, 0.2, 0.05, 0.3];
const H: Record<string, number> = { '0,1': 1.0, '0,2': 2.0, '0,3': 3.0, '0,4': 2.5, '1,2': 1.5, '1,3': 2.8, '1,4': 2.6, '2,3': 0.9, '2,4': 2.2, '3,4': 1.2 };
const ENTRIES = Object.entries(H).map(([k, value]) => {
  const [i, j] = k.split(',').map(Number);
  return { i, j, value };
});

/** A compact picture of a tree: leaves by index, joins as "h(...)". */
function shape(n: DisconnectivityNode): string {
  return n.kind === 'leaf' ? String(n.index) : `${n.height}(${n.children.map(shape).join(' ')})`;
}

test('"all" and "random:N" pair selections', () => {
  assert.deepEqual(parsePairSpec('all'), { kind: 'all' });
  assert.deepEqual(parsePairSpec(' Random:12 '), { kind: 'random', count: 12 });
  for (const bad of ['random:0', 'random:', 'some', 'random:-1', 'random:2.5']) {
    assert.throws(() => parsePairSpec(bad), (e: unknown) => e instanceof LandscapeError && e.kind === 'input' && /--pairs/.test(e.message));
  }
  assert.deepEqual(selectPairs(4), [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]);
  assert.deepEqual(selectPairs(1), []);
  const r = selectPairs(10, 'random:7', 3);
  assert.equal(r.length, 7);
  assert.equal(new Set(r.map((p) => p.join())).size, 7);
  for (const [i, j] of r) assert.ok(0 <= i && i < j && j < 10);
  assert.deepEqual(r, [...r].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
  assert.deepEqual(selectPairs(10, 'random:7', 3), r, 'same seed, same pairs');
  assert.notDeepEqual(selectPairs(10, 'random:7', 4), r);
  assert.deepEqual(selectPairs(4, 'random:100', 1), selectPairs(4));
});

test('runPairs keeps at most `concurrency` pairs in flight and returns results in pair order', async () => {
  const pairs = selectPairs(6);
  let inFlight = 0;
  let peak = 0;
  const progress: number[] = [];
  const out = await runPairs(
    pairs,
    async (i, j) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, ((i * 7 + j * 3) % 5) + 1));
      inFlight--;
      return { height: 10 * i + j };
    },
    { concurrency: 3, onResult: (_o, done) => progress.push(done) },
  );
  assert.equal(peak, 3);
  assert.deepEqual(out.map((o) => [o.i, o.j, o.result.height]), pairs.map(([i, j]) => [i, j, 10 * i + j]));
  assert.deepEqual(progress, Array.from({ length: pairs.length }, (_, k) => k + 1));
});

test('runPairs stops on the first failure and on abort', async () => {
  const started: string[] = [];
  await assert.rejects(
    runPairs(selectPairs(6), async (i, j) => {
      started.push(`${i}${j}`);
      if (i === 0 && j === 2) throw new Error('pair 0-2 failed');
      return 1;
    }),
    /pair 0-2 failed/,
  );
  assert.deepEqual(started, ['01', '02']);
  const ac = new AbortController();
  await assert.rejects(
    runPairs(selectPairs(6), async (i, j) => {
      if (i === 0 && j === 3) ac.abort();
      return 1;
    }, { signal: ac.signal, concurrency: 2 }),
    CancelledError,
  );
  await assert.rejects(runPairs([[0, 1]], async () => 1, { concurrency: 0 }), /concurrency must be a whole number ≥ 1/);
});

test('pair matrix is symmetric with null for pairs not computed', () => {
  const m = pairMatrix(3, [{ i: 0, j: 2, value: 1.5 }], [0.1, 0.2, 0.3]);
  assert.deepEqual(m, [[0.1, null, 1.5], [null, 0.2, null], [1.5, null, 0.3]]);
  assert.throws(() => pairMatrix(3, [{ i: 1, j: 1, value: 1 }]), /not a pair/);
  assert.throws(() => pairMatrix(3, [{ i: 0, j: 3, value: 1 }]), /not a pair/);
});

test('minimum spanning tree and disconnectivity graph of a hand-made barrier matrix', () => {
  const heights = pairMatrix(5, ENTRIES, LOSSES);
  const mst = minimumSpanningTree(heights);
  assert.deepEqual(mst.edges, [
    { i: 2, j: 3, height: 0.9 },
    { i: 0, j: 1, height: 1.0 },
    { i: 3, j: 4, height: 1.2 },
    { i: 1, j: 2, height: 1.5 },
  ]);
  assert.deepEqual(mst.components, [[0, 1, 2, 3, 4]]);
  const tree = disconnectivityGraph(heights, LOSSES, ['a', 'b', 'c', 'd', 'e']);
  assert.equal(shape(tree), '1.5(1(0 1) 1.2(0.9(2 3) 4))');
  assert.equal(tree.kind, 'merge');
  if (tree.kind === 'merge') {
    assert.deepEqual(tree.minima, [0, 1, 2, 3, 4]);
    const leaf = (tree.children[1] as { children: DisconnectivityNode[] }).children[1];
    assert.deepEqual(leaf, { kind: 'leaf', index: 4, label: 'e', loss: 0.3 });
  }
  // JSON round trip: plain data only.
  assert.deepEqual(JSON.parse(JSON.stringify(tree)), tree);
  const linked = linkedHeights(heights, LOSSES);
  assert.equal(linked[0][2], 1.5);
  assert.equal(linked[2][4], 1.2);
  assert.equal(linked[0][1], 1.0);
  assert.equal(linked[3][3], 0.05);
  for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) assert.equal(linked[i][j], linked[j][i]);
});

test('joins at the same height form one node; unlinked minima make a forest under a null-height top', () => {
  const tie = pairMatrix(3, [{ i: 0, j: 1, value: 1 }, { i: 0, j: 2, value: 1 }, { i: 1, j: 2, value: 2 }]);
  assert.equal(shape(disconnectivityGraph(tie)), '1(0 1 2)');
  const sparse: Matrix = pairMatrix(4, [{ i: 1, j: 3, value: 0.7 }], [0, 0, 0, 0]);
  const f = minimumSpanningTree(sparse);
  assert.equal(f.edges.length, 1);
  assert.deepEqual(f.components, [[0], [1, 3], [2]]);
  assert.equal(shape(disconnectivityGraph(sparse)), 'null(0 0.7(1 3) 2)');
  assert.equal(linkedHeights(sparse)[0][1], null);
  assert.equal(shape(disconnectivityGraph([[0.5]])), '0');
});

test('allPairs on the toy landscape: straight-line barriers of three points, matrices and tree', async () => {
  const pts = [[...TOY_A], [...TOY_B], [0.0, -0.9]];
  const fn = toyObjective();
  const r = await allPairs(3, (i, j) => findPath(fn, pts[i], pts[j], { method: 'linear', points: 20 }), { concurrency: 2 });
  assert.equal(r.pairs.length, 3);
  assert.ok(Math.abs(r.heights[0][1]! - 1.102) < 0.01);
  for (let i = 0; i < 3; i++) {
    assert.equal(r.barriers[i][i], 0);
    assert.equal(r.heights[i][i], r.losses[i]);
    for (let j = 0; j < 3; j++) {
      assert.equal(r.heights[i][j], r.heights[j][i]);
      if (i !== j) assert.equal(r.barriers[i][j], r.heights[i][j]! - (r.losses[i]! + r.losses[j]!) / 2);
    }
  }
  assert.equal(r.mst.edges.length, 2);
  assert.equal(r.tree.kind, 'merge');
  // The same numbers from results computed elsewhere (e.g. by a worker pool).
  const again = summarizePairs(3, r.pairs);
  assert.deepEqual(again.heights, r.heights);
  assert.deepEqual(again.tree, r.tree);
  // A random selection computes only what it picked.
  const some = await allPairs(3, (i, j) => findPath(fn, pts[i], pts[j], { method: 'linear', points: 20 }), { pairs: 'random:1', seed: 5 });
  assert.equal(some.pairs.length, 1);
  const { i, j } = some.pairs[0];
  const offDiagonalNulls = some.heights.flatMap((row, a) => row.filter((v, b) => a !== b && v === null)).length;
  assert.equal(offDiagonalNulls, 4);
  // The minimum outside the chosen pair has no known loss.
  assert.equal(some.losses.filter((l) => l === null).length, 1);
  assert.equal(some.losses[i], some.pairs[0].result.lossA);
  assert.equal(some.losses[j], some.pairs[0].result.lossB);
});
