/**
 * Chooses the tfjs backend once per process: tfjs-node ("tensorflow") when it
 * loads (from a user folder or the optional dependency; see
 * tfjsNodeLoader.ts), else WASM, else CPU. `--backend` or the
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
import { inputError, computeError, LandscapeError } from './errors';
import { chooseTfjsNode, describeTfjsNode, firstLine, loadTfjsNode, type LoadedTfjsNode } from './tfjsNodeLoader';

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
  /** Which tfjs-node package computes, and from which folder (tensorflow only). */
  tfjsNode?: LoadedTfjsNode;
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

/** Why a backend was skipped; `input` when the user's own setting is at fault (a bad tfjs-node folder). */
interface Skipped {
  why: string;
  input?: boolean;
}

async function tryTensorflow(info: Partial<BackendInfo>, tfjsNodePath: string | undefined): Promise<Skipped | null> {
  try {
    info.tfjsNode = loadTfjsNode(chooseTfjsNode(tfjsNodePath), tf.version_core);
  } catch (e) {
    return { why: `tensorflow: ${firstLine(e)}`, input: e instanceof LandscapeError && e.kind === 'input' };
  }
  if (!tf.findBackend('tensorflow')) return { why: 'tensorflow: tfjs-node loaded but registered into another tfjs-core copy' };
  return (await tf.setBackend('tensorflow')) ? null : { why: 'tensorflow: failed to initialise' };
}

async function tryWasm(info: Partial<BackendInfo>): Promise<Skipped | null> {
  let dir: string;
  try {
    dir = findWasmDir();
  } catch (e) {
    return { why: `wasm: ${firstLine(e)}` };
  }
  try {
    setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
    if (!(await tf.setBackend('wasm'))) return { why: 'wasm: failed to initialise' };
  } catch (e) {
    return { why: `wasm: ${firstLine(e)}` };
  }
  info.wasmDir = dir;
  return null;
}

async function tryBackend(name: BackendName, info: Partial<BackendInfo>, tfjsNodePath: string | undefined): Promise<Skipped | null> {
  if (name === 'tensorflow') return tryTensorflow(info, tfjsNodePath);
  if (name === 'wasm') return tryWasm(info);
  return (await tf.setBackend('cpu')) ? null : { why: 'cpu: failed to initialise' };
}

/** What was asked for: the option, else LANDSCAPE_BACKEND, else 'auto'. */
function requestedBackend(choice: BackendChoice | string | undefined): Pick<BackendInfo, 'requested' | 'source'> {
  if (choice !== undefined && choice !== 'auto') return { requested: parseBackendChoice(choice, '--backend'), source: 'option' };
  const env = process.env[BACKEND_ENV];
  if (!env) return { requested: 'auto', source: 'default' };
  const requested = parseBackendChoice(env, `environment variable ${BACKEND_ENV}`);
  return { requested, source: requested === 'auto' ? 'default' : 'env' };
}

/** The first backend of the preference order that starts; only 'auto' falls back. */
async function startBackend(choice: BackendChoice | string | undefined, tfjsNodePath: string | undefined): Promise<BackendInfo> {
  const { requested, source } = requestedBackend(choice);
  const skipped: Skipped[] = [];
  const info: Partial<BackendInfo> = {};
  const order: BackendName[] = requested === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [requested];
  for (const name of order) {
    const why = await tryBackend(name, info, tfjsNodePath);
    if (why === null) {
      await tf.ready();
      const fallbacks = skipped.map((s) => s.why);
      return { name, requested, source, fallbacks, tfjsVersion: tf.version_core, wasmDir: info.wasmDir, tfjsNode: name === 'tensorflow' ? info.tfjsNode : undefined };
    }
    skipped.push(why);
  }
  const message = `backend "${requested}" is not available: ${skipped.map((s) => s.why).join('; ')}`;
  throw skipped.length === 1 && skipped[0].input ? inputError(message) : computeError(message);
}

/**
 * Initialise the backend. The first call decides; later calls return the same
 * answer unless `force` is set (tests use that to compare backends).
 * `tfjsNodePath` names a folder holding tfjs-node; it outranks the
 * landscape.tfjsNodePath setting and LANDSCAPE_TFJS_NODE (see tfjsNodeLoader.ts).
 */
export async function initBackend(
  choice?: BackendChoice | string,
  opts: { force?: boolean; tfjsNodePath?: string } = {},
): Promise<BackendInfo> {
  if (current && !opts.force) return current;
  if (pending && !opts.force) return pending;
  pending = startBackend(choice, opts.tfjsNodePath).then((info) => (current = info));
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
  const native = info.tfjsNode ? `, ${describeTfjsNode(info.tfjsNode, info.tfjsVersion)}` : '';
  return `backend ${info.name}, tfjs ${info.tfjsVersion}${native}${why}`;
}

export { tf };
