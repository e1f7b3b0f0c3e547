/**
 * The extension host must never load tfjs (a blocked host freezes every
 * extension): only dist/worker.js may. Bundles the host entry with the same
 * externals as esbuild.mjs and checks what went in and what is required.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.join(__dirname, '../../..');
const external = ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm'];

async function bundle(entry: string, platform: 'node' | 'browser') {
  const r = await esbuild.build({
    entryPoints: [path.join(root, entry)],
    bundle: true,
    platform,
    format: platform === 'node' ? 'cjs' : 'iife',
    write: false,
    metafile: true,
    logLevel: 'silent',
    external: platform === 'node' ? external : [],
    outfile: path.join(root, 'out', 'probe.js'),
  });
  const inputs = Object.keys(r.metafile.inputs);
  const imports = Object.values(r.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
  return { inputs, imports };
}

describe('bundle boundaries', () => {
  it('the extension host bundle neither contains nor requires tfjs or the engine compute code', async () => {
    const { inputs, imports } = await bundle('src/host/extension.ts', 'node');
    const tf = imports.filter((i) => i.startsWith('@tensorflow/'));
    assert.deepEqual(tf, [], `extension.js requires ${tf.join(', ')}`);
    // The run-folder readers beside the training code are plain JSON and text; the host reads run folders through them.
    const engine = inputs.filter((i) => /src\/engine\/(backend|objective|train(?!\/(runFolderView|lastRunRead)\.ts)|evaluate|model\/network|optim\/(?!types)|path\/|analysis\/)/.test(i));
    assert.deepEqual(engine, [], `extension.js bundles ${engine.join(', ')}`);
  });

  it('the worker bundle is where tfjs is loaded', async () => {
    const { imports } = await bundle('src/worker/main.ts', 'node');
    assert.ok(imports.includes('@tensorflow/tfjs-core'));
  });

  it('the webview bundle holds no Node or engine code', async () => {
    const { inputs } = await bundle('webview/main.ts', 'browser');
    const bad = inputs.filter((i) => /src\/(engine|host)\//.test(i));
    assert.deepEqual(bad, []);
  });
});
