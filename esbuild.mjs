// One build per target (see README "Architecture"). tfjs stays external in the
// Node bundles so tfjs-node, where installed, shares the engine's tfjs-core.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const pkg = JSON.parse(fs.readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const define = { __LANDSCAPE_VERSION__: JSON.stringify(pkg.version) };
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const root = path.dirname(new URL(import.meta.url).pathname);
const dist = path.join(root, 'dist');
fs.mkdirSync(dist, { recursive: true });

const nodeExternal = ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm'];

/** @type {esbuild.BuildOptions[]} */
const targets = [
  { entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { entryPoints: ['src/engine/index.ts'], outfile: 'dist/engine.js' },
  { entryPoints: ['src/worker/main.ts'], outfile: 'dist/worker.js' },
  { entryPoints: ['src/engine/pool/pathWorker.ts'], outfile: 'dist/pathWorker.js' },
  { entryPoints: ['src/host/extension.ts'], outfile: 'dist/extension.js' },
  { entryPoints: ['bench/main.ts'], outfile: 'dist/bench.js' },
]
  .filter((t) => fs.existsSync(path.join(root, t.entryPoints[0])))
  .map((t) => ({
    ...t,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: !production,
    minify: production,
    external: nodeExternal,
    define,
    logLevel: 'warning',
  }));

const webviewEntry = 'webview/main.ts';
if (fs.existsSync(path.join(root, webviewEntry))) {
  targets.push({
    entryPoints: [webviewEntry],
    outfile: 'dist/webview.js',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    // Plotly is loaded as its own <script> from dist/, not bundled.
    external: ['plotly.js-strict-dist-min', 'plotly.js-basic-dist-min'],
    logLevel: 'warning',
  });
}

function copyAssets() {
  const wasmDir = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    fs.copyFileSync(path.join(wasmDir, f), path.join(dist, f));
  }
  // The built-in datasets travel with the bundles (dist/data/...), found by src/engine/data/digits.ts.
  fs.cpSync(path.join(root, 'data'), path.join(dist, 'data'), { recursive: true });
  const plotly = path.join(root, 'node_modules/plotly.js-strict-dist-min/plotly-strict.min.js');
  if (fs.existsSync(plotly)) fs.copyFileSync(plotly, path.join(dist, 'plotly.min.js'));
  // The side view and the checkpoint viewer draw only scatter and bar traces: Plotly's basic
  // bundle (1.2 MB, no WebGL, nothing evaluated) runs in a quarter of the full one's time.
  // Without it (an old node_modules) they get the full bundle under the same name.
  const basic = resolvePackageFile('plotly.js-basic-dist-min/plotly-basic.min.js') ?? (fs.existsSync(plotly) ? plotly : undefined);
  if (basic) fs.copyFileSync(basic, path.join(dist, 'plotly-basic.min.js'));
  if (basic === plotly) console.warn('esbuild: plotly.js-basic-dist-min is not installed (npm install); the side view and checkpoint viewer get the full Plotly');
}

function resolvePackageFile(spec) {
  try {
    return createRequire(path.join(root, 'package.json')).resolve(spec);
  } catch {
    return undefined;
  }
}

copyAssets();
if (watch) {
  for (const t of targets) (await esbuild.context(t)).watch();
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
  for (const t of targets) if (t.outfile.endsWith('cli.js')) fs.chmodSync(path.join(root, t.outfile), 0o755);
}
