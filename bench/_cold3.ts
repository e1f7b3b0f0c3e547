import { initBackend } from '../src/engine/backend';
import { makeFixture } from './fixture';
import { networkObjective, toDevice } from '../src/engine/model/network';
import { hessianTopEigenvalues } from '../src/engine/analysis/hessian';
async function main() {
  await initBackend('wasm');
  const fx: any = await makeFixture();
  const dev = toDevice(fx.data);
  const f: any = networkObjective(fx.spec, dev);
  for (let i = 0; i < 8; i++) {
    console.log('=== run', i);
    await hessianTopEigenvalues(f, fx.a, { k: 1, iterations: 20, tol: 0 });
  }
  process.exit(0);
}
main();
