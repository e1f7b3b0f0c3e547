import { initBackend } from '../src/engine/backend';
import { makeFixture } from './fixture';
import { networkObjective, toDevice } from '../src/engine/model/network';
import { hessianTopEigenvalues } from '../src/engine/analysis/hessian';
async function main() {
  await initBackend('wasm');
  const fx: any = await makeFixture();
  const dev = toDevice(fx.data);
  const f: any = networkObjective(fx.spec, dev);
  const g: any = globalThis;
  const out: string[] = [];
  for (let i = 0; i < 10; i++) {
    g.__main = 0; g.__worker = 0; g.__total = 0;
    const t = performance.now();
    await hessianTopEigenvalues(f, fx.a, { k: 1, iterations: 20, tol: 0 });
    out.push(`${(performance.now() - t).toFixed(0)}:${g.__total.toFixed(0)}(${g.__main.toFixed(0)}/${g.__worker.toFixed(0)})`);
  }
  console.log(out.join(' '));
  process.exit(0);
}
main();
