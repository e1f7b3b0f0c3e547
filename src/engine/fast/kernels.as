// Fused dense-network kernels for Landscape, in AssemblyScript, compiled to
// WebAssembly with SIMD by build-wasm.mjs (output committed as wasm-binary.ts).
//
// The host (kernels.ts) owns the memory: it lays out the data, the parameter
// vectors, the per-thread scratch and a configuration block of i32 words
// (CFG_* below), and passes byte offsets. Nothing here allocates, so the same
// module can run in several threads over one shared memory.
//
// One call evaluates parameter vectors m0..m1 on rows r0..r1 of the data:
// for every point, the network runs tile by tile (T rows at a time) through
// forward, loss and backward, so activations never leave the cache, and the
// weight gradients accumulate in place. Layer widths are padded to multiples
// of 4 (one SIMD vector); padded weights are zero, so the padded columns never
// reach a real output.

// ---- configuration block (i32 words at cfg)
const CFG_LAYERS: i32 = 0;
const CFG_ACT: i32 = 1; // 0 linear, 1 relu, 2 tanh, 3 sigmoid, 4 softplus, 5 elu
const CFG_LOSS: i32 = 2; // 0 cross-entropy, 1 mse
const CFG_BIAS: i32 = 3;
const CFG_NTOTAL: i32 = 4; // rows the loss is averaged over (all threads together)
const CFG_DIM: i32 = 5; // P, floats per parameter vector
const CFG_TILE: i32 = 6;
// With K > 0 here, layer 0's pre-activations come from a basis (see net_basis):
// every parameter vector is Σ_k c_k·basis_k, so X·W₀ + b₀ = Σ_k c_k·U_k.
const CFG_BASIS: i32 = 7;
const CFG_X: i32 = 8; // byte offset of x [rows × w0]
const CFG_XSTRIDE: i32 = 9;
const CFG_Y: i32 = 10; // byte offset of y [rows × pw_L], zero padded
const CFG_YSTRIDE: i32 = 11;
const CFG_OUT: i32 = 12; // real output width w_L
const CFG_ZBUF: i32 = 13; // scratch byte offsets: logits, output gradient, hidden gradient
const CFG_DZBUF: i32 = 14;
const CFG_DHBUF: i32 = 15;
const CFG_LAYER0: i32 = 16;
const LAYER_WORDS: i32 = 16;
// per layer i, at word CFG_LAYER0 + i·LAYER_WORDS:
const L_K: i32 = 0; // rows of the padded weight (input width as stored)
const L_KREAL: i32 = 1;
const L_N: i32 = 2; // padded output width
const L_NREAL: i32 = 3;
const L_TW: i32 = 4; // weight offset in the parameter vector (floats)
const L_TB: i32 = 5; // bias offset in the parameter vector (floats), -1 without bias
const L_WP: i32 = 6; // scratch byte offsets: padded weight, its transpose, bias, gradients, input activations
const L_WT: i32 = 7;
const L_B: i32 = 8;
const L_GW: i32 = 9;
const L_GB: i32 = 10;
const L_H: i32 = 11;
const L0_U: i32 = 12; // layer 0 only: byte offset of U [K × rows × N₀]
const L0_COEF: i32 = 13; // layer 0 only: byte offset of the coefficients [M × K] (f32)

function cfgAt(cfg: usize, word: i32): i32 {
  return load<i32>(cfg + (<usize>word << 2));
}

function layerAt(cfg: usize, layer: i32, word: i32): i32 {
  return load<i32>(cfg + (<usize>(CFG_LAYER0 + layer * LAYER_WORDS + word) << 2));
}

// ---- matrix products (strides in floats; n a multiple of 4)

/**
 * a·b + c per lane: one fused multiply-add where the engine has relaxed SIMD
 * (the second build of this file), a multiply and an add otherwise.
 */
// @ts-ignore: decorator
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** C[m×n] = (acc ? C : 0) + A[m×k]·B[k×n]. */
export function gemm_nn(a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, m: i32, k: i32, n: i32, acc: i32): void {
  const sa = <usize>lda << 2;
  const sb = <usize>ldb << 2;
  const sc = <usize>ldc << 2;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const pc = c + <usize>i * sc + (<usize>j << 2);
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      if (acc) {
        c00 = v128.load(pc); c01 = v128.load(pc, 16);
        c10 = v128.load(pc + sc); c11 = v128.load(pc + sc, 16);
        c20 = v128.load(pc + 2 * sc); c21 = v128.load(pc + 2 * sc, 16);
        c30 = v128.load(pc + 3 * sc); c31 = v128.load(pc + 3 * sc, 16);
      }
      let pa = a + <usize>i * sa;
      let pb = b + (<usize>j << 2);
      for (let kk = 0; kk < k; kk++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        const a0 = v128.load32_splat(pa);
        const a1 = v128.load32_splat(pa + sa);
        const a2 = v128.load32_splat(pa + 2 * sa);
        const a3 = v128.load32_splat(pa + 3 * sa);
        c00 = madd(a0, b0, c00);
        c01 = madd(a0, b1, c01);
        c10 = madd(a1, b0, c10);
        c11 = madd(a1, b1, c11);
        c20 = madd(a2, b0, c20);
        c21 = madd(a2, b1, c21);
        c30 = madd(a3, b0, c30);
        c31 = madd(a3, b1, c31);
        pa += 4;
        pb += sb;
      }
      v128.store(pc, c00); v128.store(pc, c01, 16);
      v128.store(pc + sc, c10); v128.store(pc + sc, c11, 16);
      v128.store(pc + 2 * sc, c20); v128.store(pc + 2 * sc, c21, 16);
      v128.store(pc + 3 * sc, c30); v128.store(pc + 3 * sc, c31, 16);
    }
    for (; i < m; i++) {
      const pc = c + <usize>i * sc + (<usize>j << 2);
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      if (acc) {
        c00 = v128.load(pc); c01 = v128.load(pc, 16);
      }
      let pa = a + <usize>i * sa;
      let pb = b + (<usize>j << 2);
      for (let kk = 0; kk < k; kk++) {
        const a0 = v128.load32_splat(pa);
        c00 = madd(a0, v128.load(pb), c00);
        c01 = madd(a0, v128.load(pb, 16), c01);
        pa += 4;
        pb += sb;
      }
      v128.store(pc, c00); v128.store(pc, c01, 16);
    }
  }
  for (; j + 4 <= n; j += 4) {
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const pc = c + <usize>i * sc + (<usize>j << 2);
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      if (acc) {
        c0 = v128.load(pc); c1 = v128.load(pc + sc); c2 = v128.load(pc + 2 * sc); c3 = v128.load(pc + 3 * sc);
      }
      let pa = a + <usize>i * sa;
      let pb = b + (<usize>j << 2);
      for (let kk = 0; kk < k; kk++) {
        const b0 = v128.load(pb);
        c0 = madd(v128.load32_splat(pa), b0, c0);
        c1 = madd(v128.load32_splat(pa + sa), b0, c1);
        c2 = madd(v128.load32_splat(pa + 2 * sa), b0, c2);
        c3 = madd(v128.load32_splat(pa + 3 * sa), b0, c3);
        pa += 4;
        pb += sb;
      }
      v128.store(pc, c0); v128.store(pc + sc, c1); v128.store(pc + 2 * sc, c2); v128.store(pc + 3 * sc, c3);
    }
    for (; i < m; i++) {
      const pc = c + <usize>i * sc + (<usize>j << 2);
      let c0 = acc ? v128.load(pc) : f32x4.splat(0);
      let pa = a + <usize>i * sa;
      let pb = b + (<usize>j << 2);
      for (let kk = 0; kk < k; kk++) {
        c0 = madd(v128.load32_splat(pa), v128.load(pb), c0);
        pa += 4;
        pb += sb;
      }
      v128.store(pc, c0);
    }
  }
  // Columns past the last multiple of 4 (only for products outside the network, e.g. forming parameter vectors).
  for (; j < n; j++) {
    for (let i = 0; i < m; i++) {
      const pc = c + <usize>i * sc + (<usize>j << 2);
      let acc0: f32 = acc ? load<f32>(pc) : 0;
      let pa = a + <usize>i * sa;
      let pb = b + (<usize>j << 2);
      for (let kk = 0; kk < k; kk++) {
        acc0 += load<f32>(pa) * load<f32>(pb);
        pa += 4;
        pb += sb;
      }
      store<f32>(pc, acc0);
    }
  }
}

/** C[m×n] += Aᵀ·B with A [k×m] and B [k×n]: the weight gradient Hᵀ·dZ summed over k rows. */
export function gemm_tn(a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, m: i32, k: i32, n: i32): void {
  const sa = <usize>lda << 2;
  const sb = <usize>ldb << 2;
  const sc = <usize>ldc << 2;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const pc = c + <usize>i * sc + (<usize>j << 2);
      let c00 = v128.load(pc), c01 = v128.load(pc, 16);
      let c10 = v128.load(pc + sc), c11 = v128.load(pc + sc, 16);
      let c20 = v128.load(pc + 2 * sc), c21 = v128.load(pc + 2 * sc, 16);
      let c30 = v128.load(pc + 3 * sc), c31 = v128.load(pc + 3 * sc, 16);
      let pa = a + (<usize>i << 2);
      let pb = b + (<usize>j << 2);
      for (let t = 0; t < k; t++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        const a0 = v128.load32_splat(pa);
        const a1 = v128.load32_splat(pa, 4);
        const a2 = v128.load32_splat(pa, 8);
        const a3 = v128.load32_splat(pa, 12);
        c00 = madd(a0, b0, c00);
        c01 = madd(a0, b1, c01);
        c10 = madd(a1, b0, c10);
        c11 = madd(a1, b1, c11);
        c20 = madd(a2, b0, c20);
        c21 = madd(a2, b1, c21);
        c30 = madd(a3, b0, c30);
        c31 = madd(a3, b1, c31);
        pa += sa;
        pb += sb;
      }
      v128.store(pc, c00); v128.store(pc, c01, 16);
      v128.store(pc + sc, c10); v128.store(pc + sc, c11, 16);
      v128.store(pc + 2 * sc, c20); v128.store(pc + 2 * sc, c21, 16);
      v128.store(pc + 3 * sc, c30); v128.store(pc + 3 * sc, c31, 16);
    }
    for (; i < m; i++) {
      const pc = c + <usize>i * sc + (<usize>j << 2);
      let c00 = v128.load(pc), c01 = v128.load(pc, 16);
      let pa = a + (<usize>i << 2);
      let pb = b + (<usize>j << 2);
      for (let t = 0; t < k; t++) {
        const a0 = v128.load32_splat(pa);
        c00 = madd(a0, v128.load(pb), c00);
        c01 = madd(a0, v128.load(pb, 16), c01);
        pa += sa;
        pb += sb;
      }
      v128.store(pc, c00); v128.store(pc, c01, 16);
    }
  }
  for (; j < n; j += 4) {
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const pc = c + <usize>i * sc + (<usize>j << 2);
      let c0 = v128.load(pc), c1 = v128.load(pc + sc), c2 = v128.load(pc + 2 * sc), c3 = v128.load(pc + 3 * sc);
      let pa = a + (<usize>i << 2);
      let pb = b + (<usize>j << 2);
      for (let t = 0; t < k; t++) {
        const b0 = v128.load(pb);
        c0 = madd(v128.load32_splat(pa), b0, c0);
        c1 = madd(v128.load32_splat(pa, 4), b0, c1);
        c2 = madd(v128.load32_splat(pa, 8), b0, c2);
        c3 = madd(v128.load32_splat(pa, 12), b0, c3);
        pa += sa;
        pb += sb;
      }
      v128.store(pc, c0); v128.store(pc + sc, c1); v128.store(pc + 2 * sc, c2); v128.store(pc + 3 * sc, c3);
    }
    for (; i < m; i++) {
      const pc = c + <usize>i * sc + (<usize>j << 2);
      let c0 = v128.load(pc);
      let pa = a + (<usize>i << 2);
      let pb = b + (<usize>j << 2);
      for (let t = 0; t < k; t++) {
        c0 = madd(v128.load32_splat(pa), v128.load(pb), c0);
        pa += sa;
        pb += sb;
      }
      v128.store(pc, c0);
    }
  }
}

// ---- elementwise

/**
 * e^x for four lanes: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 polynomial
 * for e^r (Cephes' expf coefficients, about 1 ulp) and 2^n put into the
 * exponent bits. Inputs are clamped to [-87.3, 88.3], where 2^n stays normal.
 */
function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const fx = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.mul(f32x4.mul(p, r), r), f32x4.add(r, f32x4.splat(1)));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(fx), i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}

/** Applies the activation in place to count floats (a multiple of 4). */
export function activate(p: usize, count: i32, act: i32): void {
  const end = p + (<usize>count << 2);
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  if (act == 1) {
    for (let q = p; q < end; q += 16) v128.store(q, f32x4.max(v128.load(q), zero));
  } else if (act == 2) {
    // tanh x = 1 − 2/(e^{2x} + 1): exact limits ±1, no overflow to NaN.
    for (let q = p; q < end; q += 16) {
      const e = exp4(f32x4.add(v128.load(q), v128.load(q)));
      v128.store(q, f32x4.sub(one, f32x4.div(f32x4.splat(2), f32x4.add(e, one))));
    }
  } else if (act == 3) {
    for (let q = p; q < end; q += 16) v128.store(q, f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(v128.load(q))))));
  } else if (act == 4) {
    // softplus x = log(1 + e^x); above 15, e^-x is below float32 resolution and the value is x.
    for (let q = p; q < end; q += 4) {
      const x = load<f32>(q);
      store<f32>(q, x > 15 ? x : <f32>Math.log1p(Math.exp(<f64>x)));
    }
  } else if (act == 5) {
    for (let q = p; q < end; q += 16) {
      const x = v128.load(q);
      v128.store(q, v128.bitselect(x, f32x4.sub(exp4(x), one), f32x4.gt(x, zero)));
    }
  }
}

/** dz = dh ⊙ f'(z), with f'(z) written through the activation's output h. */
export function activationGrad(dh: usize, h: usize, dz: usize, count: i32, act: i32): void {
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  for (let o: usize = 0; o < (<usize>count << 2); o += 16) {
    const g = v128.load(dh + o);
    const y = v128.load(h + o);
    let r: v128;
    if (act == 1) r = v128.and(g, f32x4.gt(y, zero));
    else if (act == 2) r = f32x4.mul(g, f32x4.sub(one, f32x4.mul(y, y)));
    else if (act == 3) r = f32x4.mul(g, f32x4.mul(y, f32x4.sub(one, y)));
    else if (act == 4) r = f32x4.mul(g, f32x4.sub(one, exp4(f32x4.neg(y))));
    else if (act == 5) r = v128.bitselect(g, f32x4.mul(g, f32x4.add(y, one)), f32x4.gt(y, zero));
    else r = g;
    v128.store(dz + o, r);
  }
}

// ---- the network

export function fill(p: usize, count: i32, v: f32): void {
  const s = f32x4.splat(v);
  const end = p + (<usize>count << 2);
  let q = p;
  for (; q + 16 <= end; q += 16) v128.store(q, s);
  for (; q < end; q += 4) store<f32>(q, v);
}

/** Copies one parameter vector into the padded weights, transposes and biases, and clears the gradients. */
function unpack(cfg: usize, scratch: usize, theta: usize, grad: i32): void {
  const nl = cfgAt(cfg, CFG_LAYERS);
  const hasBias = cfgAt(cfg, CFG_BIAS);
  for (let l = 0; l < nl; l++) {
    const K = layerAt(cfg, l, L_K);
    const kr = layerAt(cfg, l, L_KREAL);
    const N = layerAt(cfg, l, L_N);
    const nr = layerAt(cfg, l, L_NREAL);
    const wp = scratch + <usize>layerAt(cfg, l, L_WP);
    const tw = theta + (<usize>layerAt(cfg, l, L_TW) << 2);
    fill(wp, K * N, 0);
    for (let r = 0; r < kr; r++) memory.copy(wp + (<usize>(r * N) << 2), tw + (<usize>(r * nr) << 2), <usize>nr << 2);
    if (l > 0) {
      const wt = scratch + <usize>layerAt(cfg, l, L_WT);
      fill(wt, N * K, 0);
      for (let r = 0; r < kr; r++) {
        for (let c = 0; c < nr; c++) store<f32>(wt + (<usize>(c * K + r) << 2), load<f32>(tw + (<usize>(r * nr + c) << 2)));
      }
    }
    if (hasBias) {
      const b = scratch + <usize>layerAt(cfg, l, L_B);
      fill(b, N, 0);
      memory.copy(b, theta + (<usize>layerAt(cfg, l, L_TB) << 2), <usize>nr << 2);
    }
  }
  if (grad) clearGradients(cfg, scratch);
}

/** Writes the accumulated gradients of one point into its row of the output, unpadded. */
function pack(cfg: usize, scratch: usize, out: usize): void {
  const nl = cfgAt(cfg, CFG_LAYERS);
  const hasBias = cfgAt(cfg, CFG_BIAS);
  for (let l = 0; l < nl; l++) {
    const kr = layerAt(cfg, l, L_KREAL);
    const N = layerAt(cfg, l, L_N);
    const nr = layerAt(cfg, l, L_NREAL);
    const gw = scratch + <usize>layerAt(cfg, l, L_GW);
    const tw = out + (<usize>layerAt(cfg, l, L_TW) << 2);
    for (let r = 0; r < kr; r++) memory.copy(tw + (<usize>(r * nr) << 2), gw + (<usize>(r * N) << 2), <usize>nr << 2);
    if (hasBias) memory.copy(out + (<usize>layerAt(cfg, l, L_TB) << 2), scratch + <usize>layerAt(cfg, l, L_GB), <usize>nr << 2);
  }
}

/** Below this, exp4 clamps and its result is wrong; such terms are rare and taken in f64. */
const EXP_FLOOR: f32 = -87.3;

/**
 * Loss of t rows of logits (summed, not yet averaged) and, with grad, dL/dlogits (averaged) into dz.
 *
 * Cross-entropy is log Σ_j e^{z_j} − z·y = log1p(s) + (max − z·y), where s is
 * the sum of e^{z_j − max} over every column but the argmax. Adding the
 * argmax's 1 first would round s away in float32 once every margin exceeds
 * ~17, and a well-fitted network would report a loss of exactly 0. Without
 * the 1 the terms all lie in [0, 1] and nothing cancels, so s is summed in
 * f32 lanes (relative error ≈ w·2⁻²⁴) and finished in f64.
 */
function lossRows(cfg: usize, z: usize, y: usize, dz: usize, t: i32, grad: i32): f64 {
  const N = layerAt(cfg, cfgAt(cfg, CFG_LAYERS) - 1, L_N);
  const w = cfgAt(cfg, CFG_OUT);
  const ys = <usize>cfgAt(cfg, CFG_YSTRIDE) << 2;
  const rowBytes = <usize>N << 2;
  let total: f64 = 0;
  if (cfgAt(cfg, CFG_LOSS) == 0) {
    const invNd: f64 = 1.0 / <f64>cfgAt(cfg, CFG_NTOTAL);
    const invN = f32x4.splat(<f32>invNd);
    const lanes = i32x4(0, 1, 2, 3);
    const floor = f32x4.splat(EXP_FLOOR);
    for (let r = 0; r < t; r++) {
      const zr = z + <usize>r * rowBytes;
      const yr = y + <usize>r * ys;
      const dr = dz + <usize>r * rowBytes;
      // The first maximum; a NaN logit still reaches the loss through its own exp term.
      let mx: f32 = load<f32>(zr);
      let am: i32 = 0;
      for (let c = 1; c < w; c++) {
        const v = load<f32>(zr + (<usize>c << 2));
        if (v > mx) {
          mx = v;
          am = c;
        }
      }
      const mv = f32x4.splat(mx);
      const amv = i32x4.splat(am);
      let s = f32x4.splat(0);
      let tail: f64 = 0;
      let yz: f64 = 0;
      for (let c = 0; c < N; c += 4) {
        const zc = v128.load(zr + (<usize>c << 2));
        const d = f32x4.sub(zc, mv);
        let e = exp4(d);
        // Padded lanes take no part in the softmax.
        const real = i32x4.lt_s(lanes, i32x4.splat(w - c));
        e = v128.and(e, real);
        v128.store(dr + (<usize>c << 2), e);
        const low = v128.and(f32x4.lt(d, floor), real);
        if (v128.any_true(low)) {
          // Margins beyond ~87: e^d is below f32's normal range, so it is summed in f64
          // (and stored for the gradient as the nearest f32, possibly subnormal).
          for (let i = 0; i < 4 && c + i < w; i++) {
            const q = <usize>(c + i) << 2;
            const di = load<f32>(zr + q) - mx;
            if (di < EXP_FLOOR) {
              const ei = Math.exp(<f64>di);
              tail += ei;
              store<f32>(dr + q, <f32>ei);
            }
          }
          e = v128.andnot(e, low);
        }
        s = f32x4.add(s, v128.andnot(e, i32x4.eq(i32x4.add(lanes, i32x4.splat(c)), amv)));
        const p = f32x4.mul(zc, v128.load(yr + (<usize>c << 2)));
        yz += <f64>f32x4.extract_lane(p, 0) + <f64>f32x4.extract_lane(p, 1) + <f64>f32x4.extract_lane(p, 2) + <f64>f32x4.extract_lane(p, 3);
      }
      const rest: f64 = <f64>f32x4.extract_lane(s, 0) + <f64>f32x4.extract_lane(s, 1) + <f64>f32x4.extract_lane(s, 2) + <f64>f32x4.extract_lane(s, 3) + tail;
      // max − z·y first: it is exactly 0 when the label is the argmax, so a tiny log1p survives.
      total += (<f64>mx - yz) + Math.log1p(rest);
      if (grad) {
        const sum: f64 = 1.0 + rest;
        const inv = f32x4.mul(f32x4.splat(<f32>(1.0 / sum)), invN);
        for (let c = 0; c < N; c += 4) {
          const q = dr + (<usize>c << 2);
          v128.store(q, f32x4.sub(f32x4.mul(v128.load(q), inv), f32x4.mul(v128.load(yr + (<usize>c << 2)), invN)));
        }
        // softmax − y at the argmax is (1 − y) − rest/(1 + rest): written so, it keeps the
        // tiny −rest that 1/(1 + rest) − 1 rounds to 0 in f32, matching the loss above.
        const qa = dr + (<usize>am << 2);
        store<f32>(qa, <f32>(((1.0 - <f64>load<f32>(yr + (<usize>am << 2))) - rest / sum) * invNd));
      }
    }
  } else {
    const scale = f32x4.splat(<f32>(2.0 / (<f64>cfgAt(cfg, CFG_NTOTAL) * <f64>w)));
    for (let r = 0; r < t; r++) {
      const zr = z + <usize>r * rowBytes;
      const yr = y + <usize>r * ys;
      const dr = dz + <usize>r * rowBytes;
      let acc = f32x4.splat(0);
      for (let c = 0; c < N; c += 4) {
        const d = f32x4.sub(v128.load(zr + (<usize>c << 2)), v128.load(yr + (<usize>c << 2)));
        acc = madd(d, d, acc);
        if (grad) v128.store(dr + (<usize>c << 2), f32x4.mul(d, scale));
      }
      total += <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
    }
  }
  return total;
}

function addBiasRows(z: usize, b: usize, t: i32, N: i32): void {
  const rowBytes = <usize>N << 2;
  for (let r = 0; r < t; r++) memory.copy(z + <usize>r * rowBytes, b, rowBytes);
}

function columnSums(dz: usize, gb: usize, t: i32, N: i32): void {
  const rowBytes = <usize>N << 2;
  for (let c: usize = 0; c < rowBytes; c += 16) {
    let s = v128.load(gb + c);
    for (let r = 0; r < t; r++) s = f32x4.add(s, v128.load(dz + <usize>r * rowBytes + c));
    v128.store(gb + c, s);
  }
}

/** Layer 0's pre-activations of point m on rows r..r+t from the basis products: Σ_k c_mk·U_k. */
function combineBasis(cfg: usize, out: usize, m: i32, r: i32, t: i32, N: i32, nb: i32): void {
  const u = <usize>layerAt(cfg, 0, L0_U);
  const coef = <usize>layerAt(cfg, 0, L0_COEF) + ((<usize>m * <usize>nb) << 2);
  const rows = <usize>cfgAt(cfg, CFG_NTOTAL);
  const count = <usize>(t * N);
  for (let k = 0; k < nb; k++) {
    const ck = v128.load32_splat(coef + (<usize>k << 2));
    const src = u + ((<usize>k * rows + <usize>r) * <usize>N << 2);
    if (k == 0) {
      for (let o: usize = 0; o < (count << 2); o += 16) v128.store(out + o, f32x4.mul(ck, v128.load(src + o)));
    } else {
      for (let o: usize = 0; o < (count << 2); o += 16) v128.store(out + o, madd(ck, v128.load(src + o), v128.load(out + o)));
    }
  }
}

/**
 * U_k = X·W₀(basis_k) + b₀(basis_k) on rows r0..r1, for k < nb: layer 0 of
 * each basis vector once, so that net_run can form every combination's
 * layer 0 from these instead of a product with X per parameter vector.
 */
export function net_basis(cfg: usize, scratch: usize, basis: usize, nb: i32, r0: i32, r1: i32): void {
  const P = <usize>cfgAt(cfg, CFG_DIM);
  const T = cfgAt(cfg, CFG_TILE);
  const x = <usize>cfgAt(cfg, CFG_X);
  const w0 = cfgAt(cfg, CFG_XSTRIDE);
  const hasBias = cfgAt(cfg, CFG_BIAS);
  const rows = <usize>cfgAt(cfg, CFG_NTOTAL);
  const K = layerAt(cfg, 0, L_K);
  const N = layerAt(cfg, 0, L_N);
  const u = <usize>layerAt(cfg, 0, L0_U);
  for (let k = 0; k < nb; k++) {
    unpack(cfg, scratch, basis + ((<usize>k * P) << 2), 0);
    for (let r = r0; r < r1; r += T) {
      const t = min(T, r1 - r);
      const out = u + ((<usize>k * rows + <usize>r) * <usize>N << 2);
      if (hasBias) addBiasRows(out, scratch + <usize>layerAt(cfg, 0, L_B), t, N);
      gemm_nn(x + ((<usize>r * <usize>w0) << 2), K, scratch + <usize>layerAt(cfg, 0, L_WP), N, out, N, t, K, N, hasBias);
    }
  }
}

/** Forward through layers l0..L−1 of the point unpacked in scratch s; layer l0's input is already in place. */
function forwardFrom(cfg: usize, s: usize, l0: i32, t: i32, act: i32, hasBias: i32): void {
  const nl = cfgAt(cfg, CFG_LAYERS);
  for (let l = l0; l < nl; l++) {
    const K = layerAt(cfg, l, L_K);
    const N = layerAt(cfg, l, L_N);
    const out = l == nl - 1 ? s + <usize>cfgAt(cfg, CFG_ZBUF) : s + <usize>layerAt(cfg, l + 1, L_H);
    if (hasBias) addBiasRows(out, s + <usize>layerAt(cfg, l, L_B), t, N);
    gemm_nn(s + <usize>layerAt(cfg, l, L_H), K, s + <usize>layerAt(cfg, l, L_WP), N, out, N, t, K, N, hasBias);
    if (l < nl - 1) activate(out, t * N, act);
  }
}

/**
 * Backward through layers L−1..1 of scratch s: accumulates their weight
 * gradients and leaves dL/d(pre-activation) of layer 0 in the dz buffer.
 */
function backwardTo1(cfg: usize, s: usize, t: i32, act: i32, hasBias: i32): void {
  const dz = s + <usize>cfgAt(cfg, CFG_DZBUF);
  const dh = s + <usize>cfgAt(cfg, CFG_DHBUF);
  for (let l = cfgAt(cfg, CFG_LAYERS) - 1; l >= 1; l--) {
    const K = layerAt(cfg, l, L_K);
    const N = layerAt(cfg, l, L_N);
    const inp = s + <usize>layerAt(cfg, l, L_H);
    gemm_tn(inp, K, dz, N, s + <usize>layerAt(cfg, l, L_GW), N, K, t, N);
    if (hasBias) columnSums(dz, s + <usize>layerAt(cfg, l, L_GB), t, N);
    gemm_nn(dz, N, s + <usize>layerAt(cfg, l, L_WT), K, dh, K, t, N, K, 0);
    activationGrad(dh, inp, dz, t * K, act);
  }
}

/** Where layer 0's pre-activations go: layer 1's input, or the logits of a one-layer network. */
function layer0Out(cfg: usize, s: usize): usize {
  return cfgAt(cfg, CFG_LAYERS) == 1 ? s + <usize>cfgAt(cfg, CFG_ZBUF) : s + <usize>layerAt(cfg, 1, L_H);
}

/**
 * Loss (and gradient) of parameter vectors m0..m1 of `thetas` on rows
 * r0..r1: losses[m] (f64) gets the rows' share of the mean loss, grads row m
 * (f32, P floats) the rows' share of its gradient when `grad` is set.
 */
export function net_run(cfg: usize, scratch: usize, thetas: usize, m0: i32, m1: i32, r0: i32, r1: i32, losses: usize, grads: usize, grad: i32): void {
  const nl = cfgAt(cfg, CFG_LAYERS);
  const act = cfgAt(cfg, CFG_ACT);
  const hasBias = cfgAt(cfg, CFG_BIAS);
  const P = <usize>cfgAt(cfg, CFG_DIM);
  const T = cfgAt(cfg, CFG_TILE);
  const x = <usize>cfgAt(cfg, CFG_X);
  const w0 = cfgAt(cfg, CFG_XSTRIDE);
  const y = <usize>cfgAt(cfg, CFG_Y);
  const ys = <usize>cfgAt(cfg, CFG_YSTRIDE);
  const zbuf = scratch + <usize>cfgAt(cfg, CFG_ZBUF);
  const dzbuf = scratch + <usize>cfgAt(cfg, CFG_DZBUF);
  const lossScale = meanScale(cfg);
  const nb = cfgAt(cfg, CFG_BASIS);
  const K0 = layerAt(cfg, 0, L_K);
  const N0 = layerAt(cfg, 0, L_N);
  const z0 = layer0Out(cfg, scratch);
  for (let m = m0; m < m1; m++) {
    unpack(cfg, scratch, thetas + ((<usize>m * P) << 2), grad);
    let total: f64 = 0;
    for (let r = r0; r < r1; r += T) {
      const t = min(T, r1 - r);
      const xt = x + ((<usize>r * <usize>w0) << 2);
      if (nb > 0) {
        combineBasis(cfg, z0, m, r, t, N0, nb);
      } else {
        if (hasBias) addBiasRows(z0, scratch + <usize>layerAt(cfg, 0, L_B), t, N0);
        gemm_nn(xt, K0, scratch + <usize>layerAt(cfg, 0, L_WP), N0, z0, N0, t, K0, N0, hasBias);
      }
      if (nl > 1) {
        activate(z0, t * N0, act);
        forwardFrom(cfg, scratch, 1, t, act, hasBias);
      }
      total += lossRows(cfg, zbuf, y + <usize>r * (ys << 2), dzbuf, t, grad);
      if (!grad) continue;
      backwardTo1(cfg, scratch, t, act, hasBias);
      gemm_tn(xt, K0, dzbuf, N0, scratch + <usize>layerAt(cfg, 0, L_GW), N0, K0, t, N0);
      if (hasBias) columnSums(dzbuf, scratch + <usize>layerAt(cfg, 0, L_GB), t, N0);
    }
    store<f64>(losses + (<usize>m << 3), total * lossScale);
    if (grad) pack(cfg, scratch, grads + ((<usize>m * P) << 2));
  }
}

/** Turns a sum of per-row losses into the mean loss. */
function meanScale(cfg: usize): f64 {
  return cfgAt(cfg, CFG_LOSS) == 0 ? 1.0 / <f64>cfgAt(cfg, CFG_NTOTAL) : 1.0 / (<f64>cfgAt(cfg, CFG_NTOTAL) * <f64>cfgAt(cfg, CFG_OUT));
}

/**
 * One central difference of gradients, ∇f(θ + d) − ∇f(θ − d): the work of a
 * Hessian-vector product H·v ≈ that / 2h, d = h·v. `thetas` holds three rows
 * of P: θ + d, θ − d and d; scratches sp, sm and sd are unpacked from them.
 * Layer 0 is linear in its parameters, which saves two of the four products
 * with the data a pair of gradients costs: its pre-activations are
 * U ± (X·W₀(d) + b₀(d)), with U = X·W₀(θ) + b₀(θ) made once per θ by
 * net_basis (basis θ); and its weight gradient enters only as the difference
 * Xᵀ·(dZ₊ − dZ₋). Layer 0 thereby also sees ±d exactly rather than θ ± d
 * rounded to float32.
 *
 * The rows come in chunks of chunkRows, and every thread calling this takes
 * the next unclaimed chunk from the shared counter until none is left, so a
 * thread slowed by other work on its core takes fewer. Chunk c writes its
 * share of the difference to out + c·outStride bytes and of f(θ ± d) to
 * losses[2c..2c+1]: which thread ran a chunk does not change any number.
 */
export function net_hvp(cfg: usize, sp: usize, sm: usize, sd: usize, thetas: usize, counter: usize, chunkRows: i32, losses: usize, out: usize, outStride: i32): void {
  const nl = cfgAt(cfg, CFG_LAYERS);
  const act = cfgAt(cfg, CFG_ACT);
  const hasBias = cfgAt(cfg, CFG_BIAS);
  const P = <usize>cfgAt(cfg, CFG_DIM);
  const T = cfgAt(cfg, CFG_TILE);
  const n = cfgAt(cfg, CFG_NTOTAL);
  const x = <usize>cfgAt(cfg, CFG_X);
  const w0 = cfgAt(cfg, CFG_XSTRIDE);
  const y = <usize>cfgAt(cfg, CFG_Y);
  const ys = <usize>cfgAt(cfg, CFG_YSTRIDE);
  const u = <usize>layerAt(cfg, 0, L0_U);
  const K0 = layerAt(cfg, 0, L_K);
  const N0 = layerAt(cfg, 0, L_N);
  const zbuf = <usize>cfgAt(cfg, CFG_ZBUF);
  const dzbuf = <usize>cfgAt(cfg, CFG_DZBUF);
  const zp = layer0Out(cfg, sp);
  const zm = layer0Out(cfg, sm);
  const scale = meanScale(cfg);
  unpack(cfg, sp, thetas, 0);
  unpack(cfg, sm, thetas + (P << 2), 0);
  unpack(cfg, sd, thetas + (P << 3), 0);
  while (true) {
    const chunk = atomic.add<i32>(counter, 1);
    const c0 = chunk * chunkRows;
    if (c0 >= n) break;
    const c1 = min(n, c0 + chunkRows);
    clearGradients(cfg, sp);
    clearGradients(cfg, sm);
    let totalP: f64 = 0;
    let totalM: f64 = 0;
    for (let r = c0; r < c1; r += T) {
      const t = min(T, c1 - r);
      const xt = x + ((<usize>r * <usize>w0) << 2);
      const yt = y + <usize>r * (ys << 2);
      const bytes = <usize>(t * N0) << 2;
      // zp = X·W₀(d) + b₀(d) first, then zp = U + zp and zm = U − zp.
      if (hasBias) addBiasRows(zp, sd + <usize>layerAt(cfg, 0, L_B), t, N0);
      gemm_nn(xt, K0, sd + <usize>layerAt(cfg, 0, L_WP), N0, zp, N0, t, K0, N0, hasBias);
      const ut = u + ((<usize>r * <usize>N0) << 2);
      for (let o: usize = 0; o < bytes; o += 16) {
        const dd = v128.load(zp + o);
        const uu = v128.load(ut + o);
        v128.store(zp + o, f32x4.add(uu, dd));
        v128.store(zm + o, f32x4.sub(uu, dd));
      }
      if (nl > 1) {
        activate(zp, t * N0, act);
        activate(zm, t * N0, act);
        forwardFrom(cfg, sp, 1, t, act, hasBias);
        forwardFrom(cfg, sm, 1, t, act, hasBias);
      }
      totalP += lossRows(cfg, sp + zbuf, yt, sp + dzbuf, t, 1);
      totalM += lossRows(cfg, sm + zbuf, yt, sm + dzbuf, t, 1);
      backwardTo1(cfg, sp, t, act, hasBias);
      backwardTo1(cfg, sm, t, act, hasBias);
      // Layer 0's gradients only as their difference, into sp (sm's stay zero).
      const dp = sp + dzbuf;
      const dm = sm + dzbuf;
      for (let o: usize = 0; o < bytes; o += 16) v128.store(dp + o, f32x4.sub(v128.load(dp + o), v128.load(dm + o)));
      gemm_tn(xt, K0, dp, N0, sp + <usize>layerAt(cfg, 0, L_GW), N0, K0, t, N0);
      if (hasBias) columnSums(dp, sp + <usize>layerAt(cfg, 0, L_GB), t, N0);
    }
    store<f64>(losses + (<usize>chunk << 4), totalP * scale);
    store<f64>(losses + (<usize>chunk << 4) + 8, totalM * scale);
    packDifference(cfg, sp, sm, out + <usize>chunk * <usize>outStride);
  }
}

/** Zeroes the accumulated weight and bias gradients in scratch s. */
function clearGradients(cfg: usize, s: usize): void {
  const hasBias = cfgAt(cfg, CFG_BIAS);
  for (let l = 0; l < cfgAt(cfg, CFG_LAYERS); l++) {
    fill(s + <usize>layerAt(cfg, l, L_GW), layerAt(cfg, l, L_K) * layerAt(cfg, l, L_N), 0);
    if (hasBias) fill(s + <usize>layerAt(cfg, l, L_GB), layerAt(cfg, l, L_N), 0);
  }
}

/** Like pack, for the difference of two points' accumulated gradients (sp − sm). */
function packDifference(cfg: usize, sp: usize, sm: usize, out: usize): void {
  const nl = cfgAt(cfg, CFG_LAYERS);
  const hasBias = cfgAt(cfg, CFG_BIAS);
  for (let l = 0; l < nl; l++) {
    const kr = layerAt(cfg, l, L_KREAL);
    const N = layerAt(cfg, l, L_N);
    const nr = layerAt(cfg, l, L_NREAL);
    const gw = <usize>layerAt(cfg, l, L_GW);
    const tw = out + (<usize>layerAt(cfg, l, L_TW) << 2);
    for (let r = 0; r < kr; r++) {
      const src = gw + (<usize>(r * N) << 2);
      const dst = tw + (<usize>(r * nr) << 2);
      for (let c = 0; c < nr; c++) {
        const q = <usize>c << 2;
        store<f32>(dst + q, load<f32>(sp + src + q) - load<f32>(sm + src + q));
      }
    }
    if (hasBias) {
      const gb = <usize>layerAt(cfg, l, L_GB);
      const tb = out + (<usize>layerAt(cfg, l, L_TB) << 2);
      for (let c = 0; c < nr; c++) {
        const q = <usize>c << 2;
        store<f32>(tb + q, load<f32>(sp + gb + q) - load<f32>(sm + gb + q));
      }
    }
  }
}

// ---- exact Hessian-vector products: forward-over-reverse (Pearlmutter's R-operator)
//
// For a direction v = (V_l, c_l) the R-operator R{·} = d/dε (·)(θ + εv) at
// ε = 0 is carried beside every quantity of one forward and backward pass:
//   Rz_l = Rh_l·W_l + h_l·V_l + c_l,            Rh_{l+1} = f'(z_l) ⊙ Rz_l,
//   R{∇W_l} = Rh_lᵀ·δ_l + h_lᵀ·Rδ_l,            R{∇b_l} = Σ_rows Rδ_l,
//   R{dh_l} = Rδ_l·W_lᵀ + δ_l·V_lᵀ,
//   Rδ_{l−1} = f'(z_{l−1}) ⊙ R{dh_l} + f''(z_{l−1}) ⊙ Rz_{l−1} ⊙ dh_l.
// R{∇θ} is H·v exactly (up to float32 rounding), kinks or not: on a ReLU
// network it is the Hessian of the current linear region, as autodiff's is.
// The plain gradient ∇W_l itself is never formed.

/**
 * Layer l's input and its R-value from layer l−1's pre-activations, in
 * place: h = f(z) in sp, Rh = f'(z) ⊙ Rz in sd (f' written through h).
 */
function activateWithR(h: usize, rh: usize, count: i32, act: i32): void {
  activate(h, count, act);
  activationGrad(rh, h, rh, count, act);
}

/** Forward through layers 1..L−1 with R-values: sp holds θ's pass, sd the R-pass (V in its weights). */
function forwardR(cfg: usize, sp: usize, sd: usize, t: i32, act: i32, hasBias: i32): void {
  const nl = cfgAt(cfg, CFG_LAYERS);
  for (let l = 1; l < nl; l++) {
    const K = layerAt(cfg, l, L_K);
    const N = layerAt(cfg, l, L_N);
    const h = sp + <usize>layerAt(cfg, l, L_H);
    const rh = sd + <usize>layerAt(cfg, l, L_H);
    activateWithR(h, rh, t * K, act);
    const last = l == nl - 1;
    const out = last ? sp + <usize>cfgAt(cfg, CFG_ZBUF) : sp + <usize>layerAt(cfg, l + 1, L_H);
    const rout = last ? sd + <usize>cfgAt(cfg, CFG_ZBUF) : sd + <usize>layerAt(cfg, l + 1, L_H);
    if (hasBias) {
      addBiasRows(out, sp + <usize>layerAt(cfg, l, L_B), t, N);
      addBiasRows(rout, sd + <usize>layerAt(cfg, l, L_B), t, N);
    }
    const w = sp + <usize>layerAt(cfg, l, L_WP);
    gemm_nn(h, K, w, N, out, N, t, K, N, hasBias);
    gemm_nn(rh, K, w, N, rout, N, t, K, N, hasBias);
    gemm_nn(h, K, sd + <usize>layerAt(cfg, l, L_WP), N, rout, N, t, K, N, 1);
  }
}

/**
 * R{dL/dlogits} of t rows into rdz. Cross-entropy: the softmax Jacobian,
 * (p ⊙ (Rz − p·Rz)) / N, with p recomputed from the logits in f64 (reading it
 * back from the rounded gradient would lose the small probabilities). Mean
 * squared error: the same scale as its gradient. Padded columns stay 0.
 */
function lossR(cfg: usize, z: usize, rz: usize, rdz: usize, t: i32): void {
  const N = layerAt(cfg, cfgAt(cfg, CFG_LAYERS) - 1, L_N);
  const w = cfgAt(cfg, CFG_OUT);
  const rowBytes = <usize>N << 2;
  if (cfgAt(cfg, CFG_LOSS) != 0) {
    const scale = f32x4.splat(<f32>(2.0 / (<f64>cfgAt(cfg, CFG_NTOTAL) * <f64>w)));
    const count = <usize>(t * N) << 2;
    for (let o: usize = 0; o < count; o += 16) v128.store(rdz + o, f32x4.mul(v128.load(rz + o), scale));
    return;
  }
  const invN: f64 = 1.0 / <f64>cfgAt(cfg, CFG_NTOTAL);
  for (let r = 0; r < t; r++) {
    const zr = z + <usize>r * rowBytes;
    const rr = rz + <usize>r * rowBytes;
    const dr = rdz + <usize>r * rowBytes;
    fill(dr, N, 0);
    let mx: f64 = <f64>load<f32>(zr);
    for (let c = 1; c < w; c++) mx = max(mx, <f64>load<f32>(zr + (<usize>c << 2)));
    let sum: f64 = 0;
    let dotRz: f64 = 0;
    for (let c = 0; c < w; c++) {
      const q = <usize>c << 2;
      const e = Math.exp(<f64>load<f32>(zr + q) - mx);
      sum += e;
      dotRz += e * <f64>load<f32>(rr + q);
    }
    const mean = dotRz / sum;
    for (let c = 0; c < w; c++) {
      const q = <usize>c << 2;
      const p = Math.exp(<f64>load<f32>(zr + q) - mx) / sum;
      store<f32>(dr + q, <f32>(p * (<f64>load<f32>(rr + q) - mean) * invN));
    }
  }
}

/**
 * δ = f'(z) ⊙ dh and Rδ = f'(z) ⊙ R{dh} + f''(z) ⊙ Rz ⊙ dh, both through the
 * activation's output h = f(z). With f' = φ(h), f''·Rz = φ'(h)·φ(h)·Rz =
 * φ'(h)·Rh, so Rz itself is never needed: tanh φ' = −2h, sigmoid 1 − 2h,
 * softplus e^{−h}, ELU 1 where h ≤ 0; ReLU and linear have f'' = 0.
 */
export function activationGradR(dh: usize, rdh: usize, h: usize, rh: usize, dz: usize, rdz: usize, count: i32, act: i32): void {
  const one = f32x4.splat(1);
  const two = f32x4.splat(2);
  const zero = f32x4.splat(0);
  for (let o: usize = 0; o < (<usize>count << 2); o += 16) {
    const g = v128.load(dh + o);
    const rg = v128.load(rdh + o);
    const y = v128.load(h + o);
    const ry = v128.load(rh + o);
    let d1 = one;
    let d2 = zero;
    if (act == 1) {
      d1 = v128.and(one, f32x4.gt(y, zero));
    } else if (act == 2) {
      d1 = f32x4.sub(one, f32x4.mul(y, y));
      d2 = f32x4.neg(f32x4.mul(two, y));
    } else if (act == 3) {
      d1 = f32x4.mul(y, f32x4.sub(one, y));
      d2 = f32x4.sub(one, f32x4.mul(two, y));
    } else if (act == 4) {
      d2 = exp4(f32x4.neg(y));
      d1 = f32x4.sub(one, d2);
    } else if (act == 5) {
      const pos = f32x4.gt(y, zero);
      d1 = v128.bitselect(one, f32x4.add(y, one), pos);
      d2 = v128.bitselect(zero, one, pos);
    }
    v128.store(dz + o, f32x4.mul(g, d1));
    v128.store(rdz + o, madd(d2, f32x4.mul(ry, g), f32x4.mul(rg, d1)));
  }
}

/**
 * Backward through layers L−1..1 with R-values, accumulating R{∇W_l} and
 * R{∇b_l} in sp's gradient buffers; leaves δ₀ in sp's dz buffer and Rδ₀ in sd's.
 */
function backwardR(cfg: usize, sp: usize, sd: usize, t: i32, act: i32, hasBias: i32): void {
  const dz = sp + <usize>cfgAt(cfg, CFG_DZBUF);
  const dh = sp + <usize>cfgAt(cfg, CFG_DHBUF);
  const rdz = sd + <usize>cfgAt(cfg, CFG_DZBUF);
  const rdh = sd + <usize>cfgAt(cfg, CFG_DHBUF);
  for (let l = cfgAt(cfg, CFG_LAYERS) - 1; l >= 1; l--) {
    const K = layerAt(cfg, l, L_K);
    const N = layerAt(cfg, l, L_N);
    const h = sp + <usize>layerAt(cfg, l, L_H);
    const rh = sd + <usize>layerAt(cfg, l, L_H);
    const gw = sp + <usize>layerAt(cfg, l, L_GW);
    gemm_tn(rh, K, dz, N, gw, N, K, t, N);
    gemm_tn(h, K, rdz, N, gw, N, K, t, N);
    if (hasBias) columnSums(rdz, sp + <usize>layerAt(cfg, l, L_GB), t, N);
    const wt = sp + <usize>layerAt(cfg, l, L_WT);
    gemm_nn(dz, N, wt, K, dh, K, t, N, K, 0);
    gemm_nn(rdz, N, wt, K, rdh, K, t, N, K, 0);
    gemm_nn(dz, N, sd + <usize>layerAt(cfg, l, L_WT), K, rdh, K, t, N, K, 1);
    activationGradR(dh, rdh, h, rh, dz, rdz, t * K, act);
  }
}

/**
 * Exact Hessian-vector product H·v at θ: `thetas` holds two rows of P, θ and
 * v, unpacked into scratches sp and sd (sm is unused; the signature is
 * net_hvp's so both share the threads' dispatch). Layer 0's pre-activations
 * at θ come from U = X·W₀(θ) + b₀(θ), made once per θ by net_basis. Rows are
 * claimed in chunks from the shared counter as in net_hvp: chunk c writes its
 * share of H·v to out + c·outStride bytes and of f(θ) to losses[2c], so which
 * thread ran a chunk does not change any number.
 */
export function net_rop(cfg: usize, sp: usize, sm: usize, sd: usize, thetas: usize, counter: usize, chunkRows: i32, losses: usize, out: usize, outStride: i32): void {
  const nl = cfgAt(cfg, CFG_LAYERS);
  const act = cfgAt(cfg, CFG_ACT);
  const hasBias = cfgAt(cfg, CFG_BIAS);
  const P = <usize>cfgAt(cfg, CFG_DIM);
  const T = cfgAt(cfg, CFG_TILE);
  const n = cfgAt(cfg, CFG_NTOTAL);
  const x = <usize>cfgAt(cfg, CFG_X);
  const w0 = cfgAt(cfg, CFG_XSTRIDE);
  const y = <usize>cfgAt(cfg, CFG_Y);
  const ys = <usize>cfgAt(cfg, CFG_YSTRIDE);
  const u = <usize>layerAt(cfg, 0, L0_U);
  const K0 = layerAt(cfg, 0, L_K);
  const N0 = layerAt(cfg, 0, L_N);
  const zbuf = <usize>cfgAt(cfg, CFG_ZBUF);
  const dzbuf = <usize>cfgAt(cfg, CFG_DZBUF);
  const z0 = layer0Out(cfg, sp);
  const rz0 = layer0Out(cfg, sd);
  const scale = meanScale(cfg);
  unpack(cfg, sp, thetas, 0);
  unpack(cfg, sd, thetas + (P << 2), 0);
  while (true) {
    const chunk = atomic.add<i32>(counter, 1);
    const c0 = chunk * chunkRows;
    if (c0 >= n) break;
    const c1 = min(n, c0 + chunkRows);
    clearGradients(cfg, sp);
    let total: f64 = 0;
    for (let r = c0; r < c1; r += T) {
      const t = min(T, c1 - r);
      const xt = x + ((<usize>r * <usize>w0) << 2);
      memory.copy(z0, u + ((<usize>r * <usize>N0) << 2), <usize>(t * N0) << 2);
      if (hasBias) addBiasRows(rz0, sd + <usize>layerAt(cfg, 0, L_B), t, N0);
      gemm_nn(xt, K0, sd + <usize>layerAt(cfg, 0, L_WP), N0, rz0, N0, t, K0, N0, hasBias);
      forwardR(cfg, sp, sd, t, act, hasBias);
      total += lossRows(cfg, sp + zbuf, y + <usize>r * (ys << 2), sp + dzbuf, t, 1);
      lossR(cfg, sp + zbuf, sd + zbuf, sd + dzbuf, t);
      if (nl > 1) backwardR(cfg, sp, sd, t, act, hasBias);
      // Layer 0's input is the data, whose R-value is 0: R{∇W₀} = Xᵀ·Rδ₀.
      gemm_tn(xt, K0, sd + dzbuf, N0, sp + <usize>layerAt(cfg, 0, L_GW), N0, K0, t, N0);
      if (hasBias) columnSums(sd + dzbuf, sp + <usize>layerAt(cfg, 0, L_GB), t, N0);
    }
    store<f64>(losses + (<usize>chunk << 4), total * scale);
    pack(cfg, sp, out + <usize>chunk * <usize>outStride);
  }
}

// The convolutional-network interpreter (conv.as) lives in the same module.
export { cnn_run, cnn_hvp } from './conv';
export { cnn_lockstep } from './convLockstep';
