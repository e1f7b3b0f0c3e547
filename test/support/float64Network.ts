/**
 * A float64 reference of the dense networks the fast kernels run: loss,
 * gradient by plain backpropagation, and Hessian-vector products by central
 * differences of that gradient. It shares no code with the kernels or tfjs,
 * so agreeing with it is evidence, not an echo.
 *
 * Piecewise activations (ReLU, ELU) take their branch from a fixed point θ₀:
 * the reference then differentiates the network of θ₀'s linear region, whose
 * Hessian is what forward-over-reverse and autodiff compute, and a central
 * difference never straddles a kink. Within one branch everything is smooth,
 * so a step of 1e-5 gives products accurate to about 1e-9 relative.
 */
import type { ModelSpec } from '../../src/engine/model/spec';

export interface Float64Data {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  n: number;
}

type Branches = boolean[][];

export class Float64Network {
  private readonly branches: Branches;

  constructor(
    readonly spec: ModelSpec,
    readonly data: Float64Data,
    branchPoint: ArrayLike<number>,
  ) {
    this.branches = this.pass(branchPoint, undefined).branches;
  }

  get dim(): number {
    let p = 0;
    const w = this.spec.layers;
    for (let i = 0; i + 1 < w.length; i++) p += w[i] * w[i + 1] + (this.spec.bias ? w[i + 1] : 0);
    return p;
  }

  loss(theta: ArrayLike<number>): number {
    return this.pass(theta, this.branches).loss;
  }

  gradient(theta: ArrayLike<number>): Float64Array {
    return this.pass(theta, this.branches).grad;
  }

  /** H·v at θ by a float64 central difference of the gradient (see the file comment). */
  hvp(theta: ArrayLike<number>, v: ArrayLike<number>, step = 1e-5): Float64Array {
    let vn = 0;
    for (let i = 0; i < v.length; i++) vn += v[i] * v[i];
    vn = Math.sqrt(vn);
    const out = new Float64Array(theta.length);
    if (vn === 0) return out;
    const h = step / vn;
    const plus = Float64Array.from(theta, (t, i) => t + h * v[i]);
    const minus = Float64Array.from(theta, (t, i) => t - h * v[i]);
    const gp = this.gradient(plus);
    const gm = this.gradient(minus);
    for (let i = 0; i < out.length; i++) out[i] = (gp[i] - gm[i]) / (2 * h);
    return out;
  }

  /** The whole Hessian, column by column, symmetrised. */
  hessian(theta: ArrayLike<number>): Float64Array[] {
    const P = theta.length;
    const cols: Float64Array[] = [];
    for (let j = 0; j < P; j++) {
      const e = new Float64Array(P);
      e[j] = 1;
      cols.push(this.hvp(theta, e));
    }
    for (let i = 0; i < P; i++) {
      for (let j = i + 1; j < P; j++) {
        const s = (cols[i][j] + cols[j][i]) / 2;
        cols[i][j] = s;
        cols[j][i] = s;
      }
    }
    return cols;
  }

  private pass(theta: ArrayLike<number>, fixed: Branches | undefined): { loss: number; grad: Float64Array; branches: Branches } {
    const { layers, bias, activation } = this.spec;
    const L = layers.length - 1;
    const { x, y, n } = this.data;
    const grad = new Float64Array(theta.length);
    const branches: Branches = [];
    const offsets = layerOffsets(layers, bias);
    let loss = 0;
    for (let r = 0; r < n; r++) {
      // Forward, keeping every layer's input and pre-activation.
      const inputs: Float64Array[] = [Float64Array.from({ length: layers[0] }, (_, i) => x[r * layers[0] + i])];
      const pre: Float64Array[] = [];
      for (let l = 0; l < L; l++) {
        const z = affine(theta, offsets[l], inputs[l], layers[l], layers[l + 1], bias);
        pre.push(z);
        if (l < L - 1) {
          const key = r * L + l;
          branches[key] ??= [];
          const h = new Float64Array(z.length);
          for (let j = 0; j < z.length; j++) {
            const positive = fixed ? fixed[key][j] : z[j] > 0;
            branches[key][j] = positive;
            h[j] = act(activation, z[j], positive);
          }
          inputs.push(h);
        }
      }
      const out = layers[L];
      const target = Float64Array.from({ length: out }, (_, i) => y[r * out + i]);
      const { value, dz } = lossOfRow(this.spec.loss, pre[L - 1], target, n);
      loss += value;
      // Backward.
      let delta = dz;
      for (let l = L - 1; l >= 0; l--) {
        const fanIn = layers[l];
        const fanOut = layers[l + 1];
        const { w, b } = offsets[l];
        for (let i = 0; i < fanIn; i++) for (let j = 0; j < fanOut; j++) grad[w + i * fanOut + j] += inputs[l][i] * delta[j];
        if (bias) for (let j = 0; j < fanOut; j++) grad[b + j] += delta[j];
        if (l === 0) break;
        const next = new Float64Array(fanIn);
        const key = r * L + (l - 1);
        for (let i = 0; i < fanIn; i++) {
          let s = 0;
          for (let j = 0; j < fanOut; j++) s += theta[w + i * fanOut + j] * delta[j];
          next[i] = s * actGrad(activation, pre[l - 1][i], fixed ? fixed[key][i] : pre[l - 1][i] > 0);
        }
        delta = next;
      }
    }
    return { loss, grad, branches };
  }
}

function layerOffsets(layers: number[], bias: boolean): { w: number; b: number }[] {
  const out: { w: number; b: number }[] = [];
  let p = 0;
  for (let l = 0; l + 1 < layers.length; l++) {
    const w = p;
    p += layers[l] * layers[l + 1];
    out.push({ w, b: p });
    if (bias) p += layers[l + 1];
  }
  return out;
}

function affine(theta: ArrayLike<number>, at: { w: number; b: number }, h: Float64Array, fanIn: number, fanOut: number, bias: boolean): Float64Array {
  const z = new Float64Array(fanOut);
  for (let j = 0; j < fanOut; j++) {
    let s = bias ? theta[at.b + j] : 0;
    for (let i = 0; i < fanIn; i++) s += h[i] * theta[at.w + i * fanOut + j];
    z[j] = s;
  }
  return z;
}

function act(name: string, z: number, positive: boolean): number {
  switch (name) {
    case 'relu':
      return positive ? z : 0;
    case 'tanh':
      return Math.tanh(z);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-z));
    case 'softplus':
      return z > 30 ? z : Math.log1p(Math.exp(z));
    case 'elu':
      return positive ? z : Math.expm1(z);
    default:
      return z;
  }
}

function actGrad(name: string, z: number, positive: boolean): number {
  switch (name) {
    case 'relu':
      return positive ? 1 : 0;
    case 'tanh':
      return 1 - Math.tanh(z) ** 2;
    case 'sigmoid': {
      const s = 1 / (1 + Math.exp(-z));
      return s * (1 - s);
    }
    case 'softplus':
      return 1 / (1 + Math.exp(-z));
    case 'elu':
      return positive ? 1 : Math.exp(z);
    default:
      return 1;
  }
}

/** One row's share of the mean loss and its gradient with respect to the logits. */
function lossOfRow(loss: string, z: Float64Array, y: Float64Array, n: number): { value: number; dz: Float64Array } {
  const dz = new Float64Array(z.length);
  if (loss === 'mse') {
    let s = 0;
    for (let j = 0; j < z.length; j++) {
      const d = z[j] - y[j];
      s += d * d;
      dz[j] = (2 * d) / (n * z.length);
    }
    return { value: s / (n * z.length), dz };
  }
  const mx = Math.max(...z);
  let sum = 0;
  for (let j = 0; j < z.length; j++) sum += Math.exp(z[j] - mx);
  const lse = mx + Math.log(sum);
  let value = 0;
  for (let j = 0; j < z.length; j++) {
    value += y[j] * (lse - z[j]);
    dz[j] = (Math.exp(z[j] - lse) - y[j]) / n;
  }
  return { value: value / n, dz };
}
