/**
 * Small dense linear algebra in float64 on the host: symmetric eigensolvers
 * (Householder tridiagonalisation + implicit QL for kernel matrices and
 * Lanczos' tridiagonal matrices, cyclic Jacobi as an independent check) and
 * vector helpers. tfjs is float32 only; the matrices here are at most a few
 * hundred wide, where float64 loops are both fast enough and accurate.
 */
import { computeError } from '../errors';
import { Rng } from '../rng';

export type Vector = ArrayLike<number>;

/** Eigenpairs sorted by descending eigenvalue; vectors[k] is the unit eigenvector of values[k]. */
export interface EigenResult {
  values: Float64Array;
  vectors: Float64Array[];
}

export function dot(a: Vector, b: Vector): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: Vector): number {
  // Scaled to avoid overflow/underflow for extreme entries (squares of 1e200).
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i] / scale;
    s += v * v;
  }
  return scale * Math.sqrt(s);
}

/** y += alpha * x, in place. */
export function axpy(alpha: number, x: Vector, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}

export function scale(x: Float64Array, alpha: number): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] *= alpha;
  return x;
}

export function toFloat64(x: Vector): Float64Array {
  return x instanceof Float64Array ? x : Float64Array.from(x);
}

export function toFloat32(x: Vector): Float32Array {
  return x instanceof Float32Array ? x : Float32Array.from(x);
}

/** A standard-normal vector from the seeded generator. */
export function randomNormal(n: number, rng: Rng): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return v;
}

/**
 * Remove from v its components along the (orthonormal) basis vectors, twice:
 * one classical Gram–Schmidt pass loses orthogonality when v is nearly in the
 * span, and a second pass restores it to working precision ("twice is enough").
 */
export function orthogonalise(v: Float64Array, basis: readonly Vector[]): Float64Array {
  for (let pass = 0; pass < 2; pass++) {
    for (const q of basis) axpy(-dot(q, v), q, v);
  }
  return v;
}

/** Orthonormal columns from a random Gaussian matrix: a random orthogonal matrix (rows are the vectors). */
export function randomOrthogonal(n: number, rng: Rng): Float64Array[] {
  const out: Float64Array[] = [];
  while (out.length < n) {
    const v = orthogonalise(randomNormal(n, rng), out);
    const nv = norm(v);
    if (nv < 1e-8) continue; // astronomically unlikely; draw again
    out.push(scale(v, 1 / nv));
  }
  return out;
}

/** Accept a row-major Float64Array (with n) or an array of rows; returns a fresh row-major copy. */
function asSquare(a: Float64Array | readonly Vector[], n?: number): { m: Float64Array; n: number } {
  if (a instanceof Float64Array) {
    const size = n ?? Math.round(Math.sqrt(a.length));
    if (size * size !== a.length) throw computeError(`matrix has ${a.length} entries, not ${size}×${size}`);
    return { m: Float64Array.from(a), n: size };
  }
  const size = a.length;
  const m = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    if (a[i].length !== size) throw computeError(`matrix row ${i} has ${a[i].length} entries, expected ${size}`);
    for (let j = 0; j < size; j++) m[i * size + j] = a[i][j];
  }
  return { m, n: size };
}

function checkFiniteSymmetric(m: Float64Array, n: number): void {
  let maxAbs = 0;
  for (let i = 0; i < m.length; i++) {
    if (!Number.isFinite(m[i])) throw computeError(`matrix entry (${Math.floor(i / n)}, ${i % n}) is not finite (${m[i]})`);
    maxAbs = Math.max(maxAbs, Math.abs(m[i]));
  }
  const tol = 1e-8 * Math.max(maxAbs, Number.MIN_VALUE);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (Math.abs(m[i * n + j] - m[j * n + i]) > tol) {
        throw computeError(`matrix is not symmetric at (${i}, ${j}): ${m[i * n + j]} vs ${m[j * n + i]}`);
      }
    }
  }
}

/**
 * Eigendecomposition of a real symmetric matrix: Householder reduction to
 * tridiagonal form, then implicit QL with Wilkinson-like shifts on the
 * tridiagonal matrix, accumulating every transformation. O(n³), backward
 * stable; n of a few hundred takes milliseconds.
 */
export function symmetricEigen(a: Float64Array | readonly Vector[], n?: number): EigenResult {
  const { m, n: size } = asSquare(a, n);
  checkFiniteSymmetric(m, size);
  // Only the lower triangle is read from here on; symmetrise exactly so tiny asymmetries do not matter.
  for (let i = 0; i < size; i++) for (let j = 0; j < i; j++) m[j * size + i] = m[i * size + j] = 0.5 * (m[i * size + j] + m[j * size + i]);
  const z = new Float64Array(size * size); // accumulated orthogonal transform, row-major
  for (let i = 0; i < size; i++) z[i * size + i] = 1;
  const d = new Float64Array(size);
  const e = new Float64Array(size);
  householderTridiagonal(m, size, z, d, e);
  tridiagonalQL(d, e, z, size);
  return sortEigen(d, z, size);
}

/**
 * Eigenpairs of the symmetric tridiagonal matrix with the given diagonal and
 * off-diagonal (offDiag[i] couples i and i+1). Used for Lanczos' T.
 */
export function tridiagonalEigen(diag: Vector, offDiag: Vector): EigenResult {
  const size = diag.length;
  if (offDiag.length < size - 1) throw computeError(`tridiagonal matrix of size ${size} needs ${size - 1} off-diagonal entries`);
  const d = Float64Array.from(diag);
  const e = new Float64Array(size);
  for (let i = 0; i + 1 < size; i++) e[i] = offDiag[i];
  for (let i = 0; i < size; i++) {
    if (!Number.isFinite(d[i]) || !Number.isFinite(e[i])) throw computeError(`tridiagonal matrix entry ${i} is not finite`);
  }
  const z = new Float64Array(size * size);
  for (let i = 0; i < size; i++) z[i * size + i] = 1;
  tridiagonalQL(d, e, z, size);
  return sortEigen(d, z, size);
}

/**
 * Reduce symmetric m (row-major, destroyed) to tridiagonal T = Qᵀ m Q.
 * On return d is T's diagonal, e[i] couples rows i and i+1, and zt holds Qᵀ
 * (it must be the identity on entry).
 *
 * Step k annihilates column k below the sub-diagonal with a reflector
 * H = I − β v vᵀ acting on rows/columns k+1..n−1; the trailing block is
 * updated as S ← S − v wᵀ − w vᵀ with p = β S v, w = p − (β/2)(vᵀp) v,
 * which is H S H written as a symmetric rank-2 update.
 */
function householderTridiagonal(m: Float64Array, n: number, zt: Float64Array, d: Float64Array, e: Float64Array): void {
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k + 2 < n; k++) {
    const lo = k + 1;
    let sigma = 0;
    for (let i = lo; i < n; i++) sigma = Math.max(sigma, Math.abs(m[i * n + k]));
    if (sigma === 0) continue;
    let xnorm2 = 0;
    for (let i = lo; i < n; i++) {
      v[i] = m[i * n + k] / sigma;
      xnorm2 += v[i] * v[i];
    }
    const xnorm = Math.sqrt(xnorm2);
    // Reflect onto −sign(x₀)‖x‖ e₁ so v₀ = x₀ + sign(x₀)‖x‖ never cancels.
    const alpha = v[lo] >= 0 ? -xnorm : xnorm;
    v[lo] -= alpha;
    let vtv = 0;
    for (let i = lo; i < n; i++) vtv += v[i] * v[i];
    if (vtv === 0) continue;
    const beta = 2 / vtv;
    let vtp = 0;
    for (let i = lo; i < n; i++) {
      let s = 0;
      for (let j = lo; j < n; j++) s += m[i * n + j] * v[j];
      p[i] = beta * s;
      vtp += v[i] * p[i];
    }
    const kk = 0.5 * beta * vtp;
    for (let i = lo; i < n; i++) p[i] -= kk * v[i]; // p now holds w
    for (let i = lo; i < n; i++) {
      for (let j = lo; j < n; j++) m[i * n + j] -= v[i] * p[j] + p[i] * v[j];
    }
    m[lo * n + k] = m[k * n + lo] = alpha * sigma;
    for (let i = lo + 1; i < n; i++) m[i * n + k] = m[k * n + i] = 0;
    // Q ← Q H, with Q stored transposed (zt[j·n + r] = Q[r][j]) so both loops run over contiguous memory:
    // s = Q v, then column j of Q loses β v_j s.
    p.fill(0);
    for (let j = lo; j < n; j++) {
      const vj = v[j];
      if (vj !== 0) for (let r = 0; r < n; r++) p[r] += zt[j * n + r] * vj;
    }
    for (let j = lo; j < n; j++) {
      const f = beta * v[j];
      if (f !== 0) for (let r = 0; r < n; r++) zt[j * n + r] -= f * p[r];
    }
  }
  for (let i = 0; i < n; i++) {
    d[i] = m[i * n + i];
    e[i] = i + 1 < n ? m[(i + 1) * n + i] : 0;
  }
}

/**
 * Implicit QL iteration with shifts on a symmetric tridiagonal matrix
 * (diagonal d, e[i] couples i and i+1, e[n−1] unused). Eigenvalues are left
 * in d; each plane rotation is applied to the rows of zt (stored transposed,
 * so a rotation touches two contiguous rows), and row j of zt becomes the
 * eigenvector of d[j] in the original basis.
 *
 * For each l, the unreduced block l..m is found by looking for a negligible
 * e[m]; a shift from the leading 2×2 block's eigenvalue nearer d[l] drives
 * e[l] to zero, usually in one to three sweeps (cubic convergence).
 */
function tridiagonalQL(d: Float64Array, e: Float64Array, zt: Float64Array, n: number): void {
  if (n > 0) e[n - 1] = 0;
  const eps = Number.EPSILON;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      let mm = l;
      for (; mm + 1 < n; mm++) {
        const dd = Math.abs(d[mm]) + Math.abs(d[mm + 1]);
        if (Math.abs(e[mm]) <= eps * dd) break;
      }
      if (mm === l) break;
      if (++iter > 100) throw computeError('symmetric eigensolver did not converge (100 QL sweeps)');
      // Shift: eigenvalue of the leading 2×2 block closest to d[l].
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[mm] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = mm - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // The rotation chain split the matrix; restart the sweep on the smaller block.
          d[i + 1] -= p;
          e[mm] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        const ri = i * n;
        const ri1 = ri + n;
        for (let k = 0; k < n; k++) {
          const zi1 = zt[ri1 + k];
          const zi = zt[ri + k];
          zt[ri1 + k] = s * zi + c * zi1;
          zt[ri + k] = c * zi - s * zi1;
        }
      }
      if (underflow) continue;
      d[l] -= p;
      e[l] = g;
      e[mm] = 0;
    }
  }
}

/** Sort descending; rows of zt (eigenvectors, row-major n×n) become separate unit vectors. */
function sortEigen(d: Float64Array, zt: Float64Array, n: number): EigenResult {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[b] - d[a]);
  const values = new Float64Array(n);
  const vectors: Float64Array[] = [];
  order.forEach((j, k) => {
    values[k] = d[j];
    vectors.push(zt.slice(j * n, (j + 1) * n));
  });
  return { values, vectors };
}

/**
 * Cyclic Jacobi eigensolver: slower (several O(n³) sweeps) but simple and
 * accurate; used to cross-check symmetricEigen and for tiny matrices.
 */
export function jacobiEigen(a: Float64Array | readonly Vector[], n?: number, maxSweeps = 100): EigenResult {
  const { m, n: size } = asSquare(a, n);
  checkFiniteSymmetric(m, size);
  const v = new Float64Array(size * size);
  for (let i = 0; i < size; i++) v[i * size + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const x = m[i * size + j] * m[i * size + j];
        total += x;
        if (i !== j) off += x;
      }
    }
    if (off <= 1e-30 * total || off === 0) break;
    if (sweep === maxSweeps - 1) throw computeError(`Jacobi eigensolver did not converge in ${maxSweeps} sweeps`);
    for (let p = 0; p < size; p++) {
      for (let q = p + 1; q < size; q++) {
        const apq = m[p * size + q];
        if (apq === 0) continue;
        const app = m[p * size + p];
        const aqq = m[q * size + q];
        // Rotation angle that zeroes (p,q): tan of the smaller root of t² + 2θt − 1 = 0.
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < size; k++) {
          const akp = m[k * size + p];
          const akq = m[k * size + q];
          m[k * size + p] = c * akp - s * akq;
          m[k * size + q] = s * akp + c * akq;
        }
        for (let k = 0; k < size; k++) {
          const apk = m[p * size + k];
          const aqk = m[q * size + k];
          m[p * size + k] = c * apk - s * aqk;
          m[q * size + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < size; k++) {
          const vkp = v[k * size + p];
          const vkq = v[k * size + q];
          v[k * size + p] = c * vkp - s * vkq;
          v[k * size + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const d = new Float64Array(size);
  for (let i = 0; i < size; i++) d[i] = m[i * size + i];
  const vt = new Float64Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) vt[j * size + i] = v[i * size + j];
  return sortEigen(d, vt, size);
}

/** Flip v so that its largest-magnitude entry (the first such, on ties) is positive. */
export function fixSign(v: Float64Array): Float64Array {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (Math.abs(v[i]) > Math.abs(v[best])) best = i;
  if (v.length > 0 && v[best] < 0) scale(v, -1);
  return v;
}
