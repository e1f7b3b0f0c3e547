/**
 * Chooses the tfjs backend once per process: tfjs-node ("tensorflow") when it
 * is installed and loads, else WASM, else CPU. `--backend` or the
 * LANDSCAPE_BACKEND environment variable override the automatic choice.
 *
 * tfjs stays outside our bundles (resolved from node_modules) so that
 * tfjs-node, when present, registers into the very same tfjs-core copy the
 * engine uses; two copies would silently leave us on CPU.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's CommonJS build has no gradients; the union package registers
// them (its subpath module is ESM only and cannot be required from our CJS
// bundles). It shares this tfjs-core copy, as tfjs-node does.
import '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { inputError, computeError } from './errors';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];
export const BACKEND_ENV = 'LANDSCAPE_BACKEND';

export interface BackendInfo {
  name: BackendName;
  /** What was asked for ('auto' unless overridden) and where the request came from. */
  requested: BackendChoice;
  source: 'option' | 'env' | 'default';
  /** Why preferred backends were skipped, e.g. "tensorflow: module not installed". */
  fallbacks: string[];
  tfjsVersion: string;
  /** The directory the .wasm binaries were loaded from (wasm only). */
  wasmDir?: string;
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

// PROD skips tfjs' debug checks and silences its console advice about
// tfjs-node, which would otherwise interleave with our own output.
tf.env().set('PROD', true);

export function parseBackendChoice(value: string, where: string): BackendChoice {
  const v = value.trim().toLowerCase();
  const alias: Record<string, BackendChoice> = { node: 'tensorflow', 'tfjs-node': 'tensorflow' };
  const choice = (alias[v] ?? v) as BackendChoice;
  if (!BACKEND_CHOICES.includes(choice)) {
    throw inputError(`unknown backend "${value}" in ${where}; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  return choice;
}

/** Where the tfjs .wasm binaries are: beside the bundle (dist/) first, else the npm package. */
export function findWasmDir(): string {
  const candidates: string[] = [];
  if (process.env.LANDSCAPE_WASM_DIR) candidates.push(process.env.LANDSCAPE_WASM_DIR);
  candidates.push(__dirname, path.join(__dirname, 'wasm'));
  try {
    candidates.push(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')));
  } catch {
    // package layout without the binaries; the check below reports it
  }
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'tfjs-backend-wasm-simd.wasm'))) return dir;
  }
  throw computeError(`tfjs WASM binaries not found (looked in ${candidates.join(', ')})`);
}

async function tryTensorflow(): Promise<string | null> {
  try {
    // Optional dependency; its install downloads libtensorflow, which fails offline.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node');
  } catch (e) {
    return `tensorflow: ${firstLine(e)}`;
  }
  if (!tf.findBackend('tensorflow')) return 'tensorflow: tfjs-node loaded but registered into another tfjs-core copy';
  return (await tf.setBackend('tensorflow')) ? null : 'tensorflow: failed to initialise';
}

async function tryWasm(info: Partial<BackendInfo>): Promise<string | null> {
  let dir: string;
  try {
    dir = findWasmDir();
  } catch (e) {
    return `wasm: ${firstLine(e)}`;
  }
  try {
    setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
    if (!(await tf.setBackend('wasm'))) return 'wasm: failed to initialise';
  } catch (e) {
    return `wasm: ${firstLine(e)}`;
  }
  info.wasmDir = dir;
  return null;
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}

/**
 * Initialise the backend. The first call decides; later calls return the same
 * answer unless `force` is set (tests use that to compare backends).
 */
export async function initBackend(
  choice?: BackendChoice | string,
  opts: { force?: boolean } = {},
): Promise<BackendInfo> {
  if (current && !opts.force) return current;
  if (pending && !opts.force) return pending;
  pending = (async () => {
    let requested: BackendChoice = 'auto';
    let source: BackendInfo['source'] = 'default';
    if (choice !== undefined && choice !== 'auto') {
      requested = parseBackendChoice(choice, '--backend');
      source = 'option';
    } else if (process.env[BACKEND_ENV]) {
      requested = parseBackendChoice(process.env[BACKEND_ENV]!, `environment variable ${BACKEND_ENV}`);
      source = requested === 'auto' ? 'default' : 'env';
    }
    const fallbacks: string[] = [];
    const info: Partial<BackendInfo> = {};
    const order: BackendName[] = requested === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [requested];
    let chosen: BackendName | undefined;
    for (const name of order) {
      let why: string | null;
      if (name === 'tensorflow') why = await tryTensorflow();
      else if (name === 'wasm') why = await tryWasm(info);
      else why = (await tf.setBackend('cpu')) ? null : 'cpu: failed to initialise';
      if (why === null) {
        chosen = name;
        break;
      }
      fallbacks.push(why);
    }
    if (!chosen) {
      throw computeError(`backend "${requested}" is not available: ${fallbacks.join('; ')}`);
    }
    await tf.ready();
    current = {
      name: chosen,
      requested,
      source,
      fallbacks,
      tfjsVersion: tf.version_core,
      wasmDir: info.wasmDir,
    };
    return current;
  })();
  try {
    return await pending;
  } finally {
    pending = undefined;
  }
}

/** The backend in use, or undefined before initBackend. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

export function describeBackend(info: BackendInfo): string {
  const why = info.fallbacks.length ? ` (skipped ${info.fallbacks.join('; ')})` : '';
  return `backend ${info.name}, tfjs ${info.tfjsVersion}${why}`;
}

export { tf };
