import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stabilityVerdict, DEFAULT_STABILITY_BAND } from '../../../src/engine/analysis/stability';
import { LandscapeError } from '../../../src/engine/errors';

test('verdicts around η·λmax = 2 with the default ±10 % band', () => {
  assert.equal(DEFAULT_STABILITY_BAND, 0.1);
  const cases: [number, number, string][] = [
    [10, 0.05, 'stable'], // η·λ = 0.5
    [10, 0.179, 'stable'], // 1.79 < 1.8
    [10, 0.181, 'edge'], // 1.81
    [10, 0.2, 'edge'], // exactly 2
    [10, 0.219, 'edge'], // 2.19
    [10, 0.221, 'unstable'], // 2.21 > 2.2
    [10, 1, 'unstable'],
  ];
  for (const [lambda, lr, verdict] of cases) assert.equal(stabilityVerdict(lambda, lr).verdict, verdict, `λ ${lambda}, η ${lr}`);
  const r = stabilityVerdict(40, 0.1);
  assert.equal(r.maxStableLr, 0.05);
  assert.equal(r.sharpnessTimesLr, 4);
  assert.equal(r.limit, 2);
  assert.equal(r.ratio, 2);
  assert.equal(r.message, 'unstable: η·λmax = 4 > 2 (stable for η < 0.05)');
  assert.match(stabilityVerdict(10, 0.2).message, /^at the edge of stability: η·λmax = 2 is within ±10 % of 2/);
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});

test('band, momentum and non-positive curvature', () => {
  assert.equal(stabilityVerdict(10, 0.185, { band: 0 }).verdict, 'stable');
  assert.equal(stabilityVerdict(10, 0.2, { band: 0 }).verdict, 'edge');
  assert.equal(stabilityVerdict(10, 0.15, { band: 0.3 }).verdict, 'edge');
  // Heavy-ball momentum β moves the limit to 2(1 + β).
  const m = stabilityVerdict(10, 0.3, { momentum: 0.9 });
  assert.equal(m.verdict, 'stable');
  assert.ok(Math.abs(m.limit - 3.8) < 1e-12);
  assert.ok(Math.abs(m.maxStableLr - 0.38) < 1e-12);
  assert.match(m.message, /2\(1 \+ β\) = 3\.8/);
  // No positive curvature: nothing to overshoot.
  const flat = stabilityVerdict(-3, 10);
  assert.equal(flat.verdict, 'stable');
  assert.equal(flat.maxStableLr, Infinity);
  assert.equal(stabilityVerdict(0, 1).verdict, 'stable');
});

test('bad input is an input error', () => {
  for (const [l, lr, opts, re] of [
    [NaN, 0.1, {}, /λmax must be a finite number/],
    [1, 0, {}, /learning rate must be a positive number/],
    [1, -1, {}, /learning rate/],
    [1, 0.1, { band: 1 }, /band must be in \[0, 1\)/],
    [1, 0.1, { momentum: 1 }, /momentum must be in \[0, 1\)/],
  ] as const) {
    assert.throws(() => stabilityVerdict(l, lr, opts), (e: unknown) => e instanceof LandscapeError && e.kind === 'input' && re.test(e.message));
  }
});
