// Seeded random classification data for kernel tests: standard-normal
// features and one-hot labels, in the flat float32 layout the kernels take.
import { Rng } from '../../src/engine/rng';

export interface RandomData {
  x: Float32Array;
  y: Float32Array;
  n: number;
  features: number;
  outputs: number;
}

export function makeData(n: number, features: number, outputs: number, seed: number): RandomData {
  const rng = new Rng(seed);
  const x = new Float32Array(n * features);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const y = new Float32Array(n * outputs);
  for (let r = 0; r < n; r++) y[r * outputs + rng.int(outputs)] = 1;
  return { x, y, n, features, outputs };
}
