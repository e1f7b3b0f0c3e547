/**
 * BatchNorm's population statistics are computed once per set of weights
 * during training (the epoch's evaluation and its checkpoints share them),
 * and recomputed as soon as any bit of the weights changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatisticsMemo } from '../../../src/engine/model/statisticsMemo';

test('the same weights reuse the statistics; any changed bit, or another length, recomputes them', () => {
  const memo = new StatisticsMemo();
  let calls = 0;
  const compute = () => new Float32Array([++calls]);
  const w = new Float32Array([1, 2, 3]);
  assert.deepEqual([...memo.get(w, compute)], [1]);
  assert.deepEqual([...memo.get(new Float32Array([1, 2, 3]), compute)], [1], 'equal weights in another array');
  // The caller may overwrite its array: the memo kept a copy.
  w[2] = 4;
  assert.deepEqual([...memo.get(w, compute)], [2]);
  assert.deepEqual([...memo.get(new Float32Array([1, 2, 4, 0]), compute)], [3], 'another length');
  assert.deepEqual([...memo.get(new Float32Array([1, 2, 4, -0]), compute)], [4], '-0 is another bit pattern than 0');
  assert.equal(calls, 4);
});
