/**
 * Loads tfjs-node (native TensorFlow) for the "tensorflow" backend: from a
 * folder where the user ran `npm install @tensorflow/tfjs-node` (or
 * `@tensorflow/tfjs-node-gpu`), named by an explicit option, the
 * landscape.tfjsNodePath setting or LANDSCAPE_TFJS_NODE, in that order; else
 * the optional dependency installed beside the engine.
 *
 * A packaged .vsix cannot carry tfjs-node (its install downloads a
 * platform-specific libtensorflow), so the folder is how it reaches the
 * extension. tfjs-node registers its backend on the tfjs-core it requires
 * itself; loaded from a foreign folder, that would be the folder's own copy.
 * A resolver hook therefore answers every tfjs package requested from inside
 * that folder with the engine's copy, so the backend lands in the registry
 * the engine computes with.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Module, createRequire } from 'module';
import { computeError, inputError } from './errors';

export const TFJS_NODE_ENV = 'LANDSCAPE_TFJS_NODE';
/** The packages looked for in `<folder>/node_modules`, GPU first: a user who installed it meant it. */
export const TFJS_NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/** Where the folder came from: initBackend's option, the VS Code setting, the environment, or none (the installed dependency). */
export type TfjsNodeSource = 'option' | 'setting' | 'env' | 'installed';

export interface TfjsNodeRequest {
  /** The folder to load from (as given); undefined means the installed optional dependency. */
  folder?: string;
  source: TfjsNodeSource;
}

export interface LoadedTfjsNode {
  package: string;
  version: string;
  /** The folder it was loaded from (absolute); undefined for the installed dependency. */
  folder?: string;
  source: TfjsNodeSource;
}

const SOURCE_NAMES: Record<TfjsNodeSource, string> = {
  option: 'the tfjs-node folder option',
  setting: 'the landscape.tfjsNodePath setting',
  env: `the environment variable ${TFJS_NODE_ENV}`,
  installed: 'the installed optional dependency',
};

let settingFolder: string | undefined;
let loaded: LoadedTfjsNode | undefined;

/** The landscape.tfjsNodePath setting, as the compute worker received it (empty: not set). */
export function setTfjsNodeSetting(folder: string | undefined): void {
  settingFolder = folder?.trim() || undefined;
}

/** Which folder to load from: an explicit option, then the setting, then LANDSCAPE_TFJS_NODE. */
export function chooseTfjsNode(option?: string): TfjsNodeRequest {
  if (option?.trim()) return { folder: option.trim(), source: 'option' };
  if (settingFolder) return { folder: settingFolder, source: 'setting' };
  const env = process.env[TFJS_NODE_ENV]?.trim();
  if (env) return { folder: env, source: 'env' };
  return { source: 'installed' };
}

/** The tfjs-node this process loaded, if any. */
export function loadedTfjsNode(): LoadedTfjsNode | undefined {
  return loaded;
}

/** "@tensorflow/tfjs-node 4.22.0 from /folder (LANDSCAPE_TFJS_NODE)", for describeBackend. */
export function describeTfjsNode(t: LoadedTfjsNode, tfjsVersion: string): string {
  const where = t.folder ? ` from ${t.folder} (${SOURCE_NAMES[t.source].replace(/^the /, '')})` : '';
  const mismatch = t.version !== tfjsVersion ? `; it was released with tfjs ${t.version}, the engine has ${tfjsVersion}` : '';
  return `${t.package} ${t.version}${where}${mismatch}`;
}

export function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}

/**
 * Load tfjs-node as `request` says, once per process. Throws a LandscapeError:
 * 'input' when the folder is missing or holds no tfjs-node, 'compute' when
 * loading it fails (e.g. libtensorflow is missing) or another copy is loaded.
 */
export function loadTfjsNode(request: TfjsNodeRequest, tfjsVersion: string): LoadedTfjsNode {
  if (request.folder === undefined) return loaded ?? loadInstalled();
  const folder = checkFolder(request, tfjsVersion);
  const pkg = findPackage(folder, request, tfjsVersion);
  if (loaded) {
    if (loaded.folder === folder && loaded.package === pkg) return loaded;
    throw computeError(`${SOURCE_NAMES[request.source]} names ${folder}, but this process already loaded ${describeTfjsNode(loaded, tfjsVersion)}; restart to switch`);
  }
  aliasTfjsInside(folder);
  try {
    createRequire(path.join(folder, 'package.json'))(pkg);
  } catch (e) {
    throw computeError(`could not load ${pkg} from ${folder} (${SOURCE_NAMES[request.source]}): ${firstLine(e)}; its native library (libtensorflow) must have installed with it, e.g. run \`npm rebuild ${pkg}\` in that folder`);
  }
  loaded = { package: pkg, version: packageVersion(path.join(folder, 'node_modules', pkg)), folder, source: request.source };
  return loaded;
}

function loadInstalled(): LoadedTfjsNode {
  const pkg = '@tensorflow/tfjs-node';
  try {
    // Optional dependency; its install downloads libtensorflow, which fails offline.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node');
  } catch (e) {
    const notInstalled = (e as { code?: string }).code === 'MODULE_NOT_FOUND' && firstLine(e).includes(`'${pkg}'`);
    if (notInstalled) throw computeError(`${pkg} is not installed (set landscape.tfjsNodePath or ${TFJS_NODE_ENV} to a folder where it is)`);
    throw computeError(`could not load ${pkg}: ${firstLine(e)}`);
  }
  let version = 'unknown';
  try {
    version = packageVersion(path.dirname(require.resolve(`${pkg}/package.json`)));
  } catch {
    // a package without a readable package.json still computes; only the label lacks its version
  }
  loaded = { package: pkg, version, source: 'installed' };
  return loaded;
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** The folder as an absolute real path, or an input error saying what was expected there. */
function checkFolder(request: TfjsNodeRequest, tfjsVersion: string): string {
  const given = path.resolve(expandHome(request.folder!));
  const expected = `a folder where \`npm install @tensorflow/tfjs-node@${tfjsVersion}\` (or tfjs-node-gpu) was run`;
  if (!fs.existsSync(given)) throw inputError(`${SOURCE_NAMES[request.source]} names ${given}, which does not exist; expected ${expected}`);
  if (!fs.statSync(given).isDirectory()) throw inputError(`${SOURCE_NAMES[request.source]} names ${given}, which is a file; expected ${expected}`);
  return fs.realpathSync(given);
}

function findPackage(folder: string, request: TfjsNodeRequest, tfjsVersion: string): string {
  for (const pkg of TFJS_NODE_PACKAGES) {
    if (fs.existsSync(path.join(folder, 'node_modules', pkg, 'package.json'))) return pkg;
  }
  const looked = TFJS_NODE_PACKAGES.map((p) => `node_modules/${p}`).join(' or ');
  throw inputError(`${SOURCE_NAMES[request.source]} names ${folder}, which has no ${looked}; run \`npm install @tensorflow/tfjs-node@${tfjsVersion}\` in it`);
}

function packageVersion(dir: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

// --- the resolver hook -------------------------------------------------------

/** A tfjs package (or a file inside one) the engine may share; tfjs-node itself stays the folder's. */
const SHARED_TFJS = /^@tensorflow\/tfjs(?:-(?!node(?:-gpu)?(?:\/|$))[a-z0-9-]+)?(?:\/|$)/;
const aliasedFolders: string[] = [];
let hookInstalled = false;

type ResolveFilename = (request: string, parent: { filename?: string | null } | undefined, ...rest: unknown[]) => string;

/** Whether `request`, made by a module at `parentFile`, should get the engine's copy. */
export function sharesEngineTfjs(request: string, parentFile: string | null | undefined): boolean {
  if (!SHARED_TFJS.test(request) || !parentFile) return false;
  return aliasedFolders.some((f) => parentFile.startsWith(f + path.sep));
}

function aliasTfjsInside(folder: string): void {
  if (!aliasedFolders.includes(folder)) aliasedFolders.push(folder);
  if (hookInstalled) return;
  hookInstalled = true;
  // Resolving from this file finds the tfjs packages the engine itself loaded (in a bundle: beside dist/).
  const engineRequire = createRequire(__filename);
  const M = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = M._resolveFilename;
  M._resolveFilename = function (this: unknown, request, parent, ...rest) {
    if (sharesEngineTfjs(request, parent?.filename)) {
      try {
        return engineRequire.resolve(request);
      } catch {
        // a tfjs package the engine does not have: the folder's own copy is the only one
      }
    }
    return original.call(this, request, parent, ...rest);
  };
}

