/**
 * The analytic test landscapes in float64 with their gradients and
 * Hessians, written from their definitions (not from the engine), and
 * Newton solves for their stationary points: the exact answers the path
 * tests compare with.
 */
import { TOY_WELLS, TOY_BUMPS, toyValue64, STIFF_BEND, STIFF_VALLEY, TWO_SADDLES_TILT, TWO_SADDLES_VALLEY } from '../../src/engine/path';

export type Local2 = { v: number; g: [number, number]; h: [[number, number], [number, number]] };

/** Newton on the gradient in float64; returns the point and the Hessian's determinant (its sign tells minimum from saddle). */
export function newton2(f: (x: number, y: number) => Local2, x: number, y: number) {
  for (let i = 0; i < 60; i++) {
    const { g, h } = f(x, y);
    const det = h[0][0] * h[1][1] - h[0][1] * h[0][1];
    x -= (h[1][1] * g[0] - h[0][1] * g[1]) / det;
    y -= (-h[0][1] * g[0] + h[0][0] * g[1]) / det;
  }
  const r = f(x, y);
  return { x, y, v: r.v, gradNorm: Math.hypot(r.g[0], r.g[1]), det: r.h[0][0] * r.h[1][1] - r.h[0][1] ** 2, trace: r.h[0][0] + r.h[1][1] };
}

export function toy64(x: number, y: number): Local2 {
  const terms = [...TOY_WELLS.map((c) => [c[0], c[1], -1, 3]), ...TOY_BUMPS.map((d) => [d[0], d[1], 1, 15])];
  let gx = 0, gy = 0, hxx = 0, hxy = 0, hyy = 0;
  for (const [cx, cy, s, a] of terms) {
    const dx = x - cx, dy = y - cy;
    const e = s * Math.exp(-a * (dx * dx + dy * dy));
    gx += -2 * a * dx * e;
    gy += -2 * a * dy * e;
    hxx += (4 * a * a * dx * dx - 2 * a) * e;
    hyy += (4 * a * a * dy * dy - 2 * a) * e;
    hxy += 4 * a * a * dx * dy * e;
  }
  return { v: toyValue64(x, y), g: [gx, gy], h: [[hxx, hxy], [hxy, hyy]] };
}

/** f = g(x) + k(y − h(x))², g = x²(x² − 1)² + c·x, h = (1 − x²)/2. */
export function twoSaddles64(x: number, y: number): Local2 {
  const c = TWO_SADDLES_TILT, k = TWO_SADDLES_VALLEY;
  const x2 = x * x;
  const g = x2 * (x2 - 1) ** 2 + c * x;
  const g1 = 2 * x * (x2 - 1) ** 2 + 4 * x * x2 * (x2 - 1) + c;
  const g2 = 30 * x2 * x2 - 24 * x2 + 2;
  const r = y - (1 - x2) / 2;
  // r' = x (dr/dx), r'' = 1.
  return {
    v: g + k * r * r,
    g: [g1 + 2 * k * r * x, 2 * k * r],
    h: [[g2 + 2 * k * (x * x + r), 2 * k * x], [2 * k * x, 2 * k]],
  };
}

/** The stiff double well in its own frame u: value, gradient and (block-diagonal) Hessian. */
export function stiffLocal64(u: number[], walls: number[]): { v: number; g: number[]; h: number[][] } {
  const n = u.length;
  const [x, y] = u;
  const b = STIFF_BEND, k = STIFF_VALLEY;
  const r = y - b * x * x;
  const g = new Array(n).fill(0);
  const h = Array.from({ length: n }, () => new Array(n).fill(0));
  let v = (x * x - 1) ** 2 + k * r * r;
  g[0] = 4 * x * (x * x - 1) - 4 * k * b * x * r;
  g[1] = 2 * k * r;
  h[0][0] = 12 * x * x - 4 + 8 * k * b * b * x * x - 4 * k * b * r;
  h[0][1] = h[1][0] = -4 * k * b * x;
  h[1][1] = 2 * k;
  for (let i = 2; i < n; i++) {
    v += (walls[i] * u[i] * u[i]) / 2;
    g[i] = walls[i] * u[i];
    h[i][i] = walls[i];
  }
  return { v, g, h };
}

/** Solves A·x = b by Gaussian elimination with partial pivoting (A is copied). */
export function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let j = c; j <= n; j++) m[r][j] -= f * m[c][j];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let j = r + 1; j < n; j++) s -= m[r][j] * x[j];
    x[r] = s / m[r][r];
  }
  return x;
}

/**
 * Negative eigenvalues of a symmetric matrix by Sylvester's law of inertia:
 * the signs of the pivots of its LDLᵀ factorisation (no pivoting; fine for
 * the nonsingular Hessians of the tests).
 */
export function negativeEigenvalues(a: number[][]): number {
  const n = a.length;
  const m = a.map((row) => [...row]);
  let negative = 0;
  for (let c = 0; c < n; c++) {
    if (m[c][c] < 0) negative++;
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let j = c; j < n; j++) m[r][j] -= f * m[c][j];
    }
  }
  return negative;
}

/** θ-space value, gradient and Hessian of the stiff well: u = B·θ, ∇θ = Bᵀ∇u, Hθ = BᵀHuB. */
export function stiff64(theta: number[], basis: number[][], walls: number[]): { v: number; g: number[]; h: number[][] } {
  const n = theta.length;
  const u = basis.map((q) => q.reduce((s, qi, i) => s + qi * theta[i], 0));
  const loc = stiffLocal64(u, walls);
  const g = Array.from({ length: n }, (_, i) => basis.reduce((s, q, k) => s + q[i] * loc.g[k], 0));
  const hb = loc.h.map((row) => Array.from({ length: n }, (_, j) => row.reduce((s, hk, k) => s + hk * basis[k][j], 0)));
  const h = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => basis.reduce((s, q, k) => s + q[i] * hb[k][j], 0)));
  return { v: loc.v, g, h };
}

/** Newton in n dimensions on an analytic gradient and Hessian. */
export function newtonN(f: (x: number[]) => { v: number; g: number[]; h: number[][] }, start: number[], iterations = 40) {
  let x = [...start];
  for (let i = 0; i < iterations; i++) {
    const { g, h } = f(x);
    const step = solve(h, g);
    x = x.map((xi, k) => xi - step[k]);
  }
  const r = f(x);
  return { x, v: r.v, gradNorm: Math.hypot(...r.g), negative: negativeEigenvalues(r.h) };
}
