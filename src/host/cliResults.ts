/**
 * Results the CLI wrote (`landscape path --out`, `landscape barriers --out`)
 * shown in the same panels as the extension's own: a `landscape.barriers`
 * file converts here as is; a `landscape.path` file needs its plane drawing,
 * which the worker computes from the saved coefficients and the two
 * checkpoints (the path itself is not searched again).
 *
 * Pure (no vscode, no tfjs). Everything in these files is untrusted: fields
 * are checked as they are read, faults name the file, and the converted data
 * is validated against the protocol before a panel sees it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { inputError } from '../engine/errors';
import { PATH_METHOD_NAMES, PATH_OBJECTIVE_NAMES, ResultDataSchema, type HeightNumbers, type PathPlane, type ResultData, type ResultKind } from '../protocol';
import { validate } from '../schema';
import { commonFolder, flattenTree, minimumLabel, type TreeNode } from './barrierFiles';
import { RESULT_FILE_VERSION, readResultJson } from './resultFiles';

type BarrierPath = Extract<ResultData, { kind: 'barrierPath' }>;
type BarrierMatrix = Extract<ResultData, { kind: 'barrierMatrix' }>;
type Json = Record<string, unknown>;

export { CLI_BARRIERS_KIND } from '../results/barriers';
export { CLI_PATH_KIND } from '../results/path';
import { CLI_BARRIERS_KIND } from '../results/barriers';
import { CLI_PATH_KIND } from '../results/path';
/** The analysis commands whose JSON opens in the result panels (their "command" field is the result kind). */
export const CLI_ANALYSIS_COMMANDS = ['kpca', 'hessian', 'gradcheck', 'slice'] as const;

/** Parse a result file of either origin, size-limited; faults name the file. */
export function readJsonResult(file: string): Json {
  const raw = readResultJson(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw inputError('result file does not hold a JSON object', file);
  return raw as Json;
}

/** Which panel shows a result file: ours say their kind; the CLI's say landscape.path or landscape.barriers. */
export function resultKindOf(doc: Json, file: string): ResultKind {
  if (doc.landscapeResult === RESULT_FILE_VERSION && typeof doc.kind === 'string') return doc.kind as ResultKind;
  if (doc.kind === CLI_PATH_KIND) return 'barrierPath';
  if (doc.kind === CLI_BARRIERS_KIND) return 'barrierMatrix';
  // landscape kpca | hessian | gradcheck | slice name themselves in "command" (see analysisFiles.ts).
  if (typeof doc.command === 'string' && (CLI_ANALYSIS_COMMANDS as readonly string[]).includes(doc.command)) return doc.command as ResultKind;
  throw inputError('is not a Landscape result (neither a saved panel result nor the JSON of landscape path, barriers, kpca, hessian, gradcheck or slice)', file);
}

/**
 * A checkpoint path as the CLI recorded it (relative to where it ran):
 * tried against the result file's folder, then each workspace root; the first
 * that exists wins, else the first guess is kept (the panel says it is missing).
 */
export function resolveRecordedPath(p: string, file: string, roots: readonly string[]): string {
  if (path.isAbsolute(p)) return p;
  const guesses = [path.dirname(path.resolve(file)), ...roots].map((d) => path.resolve(d, p));
  return guesses.find((g) => fs.existsSync(g)) ?? guesses[0];
}

function field(o: Json, key: string, file: string): unknown {
  if (!(key in o)) throw inputError(`has no "${key}"`, file);
  return o[key];
}

function num(o: Json, key: string, file: string): number {
  const v = field(o, key, file);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw inputError(`"${key}" is not a finite number`, file);
  return v;
}

function obj(v: unknown, what: string, file: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw inputError(`${what} is not an object`, file);
  return v as Json;
}

function numbers(v: unknown, what: string, file: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw inputError(`${what} is not a list of finite numbers`, file);
  return v as number[];
}

function heightNumbers(o: Json, file: string): HeightNumbers {
  return {
    height: num(o, 'height', file),
    tAtMax: num(o, 'tAtMax', file),
    barrierFromA: num(o, 'barrierFromA', file),
    barrierFromB: num(o, 'barrierFromB', file),
    barrierFromMean: num(o, 'barrierFromMean', file),
  };
}

function profileOf(o: Json, file: string): { t: number[]; loss: number[] } {
  const p = obj(field(o, 'profile', file), '"profile"', file);
  const t = numbers(p.t, 'profile.t', file);
  const loss = numbers(p.loss, 'profile.loss', file);
  if (t.length !== loss.length) throw inputError(`profile.t has ${t.length} values but profile.loss ${loss.length}`, file);
  return { t, loss };
}

function runningMin(h: readonly number[]): number[] {
  let m = Infinity;
  return h.map((v) => (m = Math.min(m, v)));
}

function checked<T extends ResultData>(data: T, file: string): T {
  const v = validate(ResultDataSchema, data, 'result');
  if (!v.ok) throw inputError(`cannot be shown: ${v.error}`, file);
  return data;
}

/** What the worker needs to draw a CLI path in its plane. */
export interface CliPathInputs {
  a: string;
  b: string;
  method: (typeof PATH_METHOD_NAMES)[number];
  t: number[];
  coefficients: number[][];
  images?: number[][];
}

export function cliPathInputs(doc: Json, file: string, roots: readonly string[]): CliPathInputs {
  if (doc.kind !== CLI_PATH_KIND) throw inputError(`is not the JSON of landscape path`, file);
  const a = field(doc, 'a', file);
  const b = field(doc, 'b', file);
  if (typeof a !== 'string' || typeof b !== 'string') throw inputError('"a" and "b" must name the two checkpoints', file);
  const method = field(doc, 'method', file);
  if (typeof method !== 'string' || !(PATH_METHOD_NAMES as readonly string[]).includes(method)) throw inputError(`unknown path method ${JSON.stringify(method)}`, file);
  const coefficients = Array.isArray(doc.coefficients) ? doc.coefficients.map((c, i) => numbers(c, `coefficients[${i}]`, file)) : [];
  const images = Array.isArray(doc.images) ? doc.images.map((c, i) => numbers(c, `images[${i}]`, file)) : undefined;
  if (method === 'fourier' && coefficients.length === 0 && !Array.isArray(doc.coefficients)) {
    throw inputError('has no "coefficients" to draw the path from (written by landscape path --json without --out?)', file);
  }
  return {
    a: resolveRecordedPath(a, file, roots),
    b: resolveRecordedPath(b, file, roots),
    method: method as CliPathInputs['method'],
    t: profileOf(doc, file).t,
    coefficients,
    ...(images ? { images } : {}),
  };
}

/** A `landscape path` result as the path panel's data, with the plane the worker drew. */
export function barrierPathFromCli(doc: Json, file: string, roots: readonly string[], plane: PathPlane): BarrierPath {
  const inputs = cliPathInputs(doc, file, roots);
  const linear = obj(field(doc, 'linear', file), '"linear"', file);
  const prof = profileOf(doc, file);
  const lin = profileOf(linear, file);
  if (lin.loss.length !== prof.loss.length) throw inputError('the straight line and the path were measured on different grids', file);
  const history = Array.isArray(doc.heightHistory) ? numbers(doc.heightHistory, 'heightHistory', file) : [];
  const objective = typeof doc.objective === 'string' && (PATH_OBJECTIVE_NAMES as readonly string[]).includes(doc.objective) ? (doc.objective as BarrierPath['objective']) : undefined;
  const base = commonFolder([inputs.a, inputs.b]);
  const dataset = typeof doc.dataset === 'object' && doc.dataset !== null ? String((doc.dataset as Json).name ?? '?') : String(doc.dataset ?? '?');
  const options = typeof doc.options === 'object' && doc.options !== null ? (doc.options as Json) : {};
  const opt = (k: string) => (options[k] === undefined ? '–' : String(options[k]));
  const data: BarrierPath = {
    kind: 'barrierPath',
    a: { path: inputs.a, label: minimumLabel(inputs.a, base), loss: num(doc, 'lossA', file) },
    b: { path: inputs.b, label: minimumLabel(inputs.b, base), loss: num(doc, 'lossB', file) },
    method: inputs.method,
    ...(objective ? { objective } : {}),
    straight: heightNumbers(linear, file),
    optimized: heightNumbers(doc, file),
    profile: { t: prof.t, straight: lin.loss, optimized: prof.loss },
    history: { height: history, best: runningMin(history) },
    plane,
    iterations: Math.max(0, Math.floor(num(doc, 'iterations', file))),
    bestIteration: Math.max(0, Math.floor(typeof doc.bestIteration === 'number' ? doc.bestIteration : 0)),
    dataset: dataset.slice(0, 4096),
    backend: String(doc.backend ?? '?').slice(0, 100),
    seconds: typeof doc.seconds === 'number' && Number.isFinite(doc.seconds) ? doc.seconds : 0,
    settings: [
      ['written by', `landscape path (${path.basename(file)})`],
      ['method', `${inputs.method}${objective ? `, objective ${objective}` : ''}`],
      ['path points (M)', opt('points')],
      ['sine modes (N_F)', opt('modes')],
      ['Adam steps', `${opt('steps')} (lr ${opt('lr')})`],
      ['smoothness λ', opt('lambda')],
      ['heights measured on', `${prof.t.length} points`],
      ['model', String(doc.model ?? '–').slice(0, 200)],
      ['backend', String(doc.backend ?? '–').slice(0, 100)],
    ],
  };
  return checked(data, file);
}

function matrix(v: unknown, n: number, what: string, file: string): (number | null)[][] {
  if (!Array.isArray(v) || v.length !== n) throw inputError(`${what} is not a ${n}×${n} matrix`, file);
  return v.map((row, i) => {
    if (!Array.isArray(row) || row.length !== n) throw inputError(`${what} row ${i} does not have ${n} entries`, file);
    return row.map((x) => (typeof x === 'number' && Number.isFinite(x) ? x : null));
  });
}

/** A `landscape barriers` result as the matrix panel's data. */
export function barrierMatrixFromCli(doc: Json, file: string, roots: readonly string[]): BarrierMatrix {
  if (doc.kind !== CLI_BARRIERS_KIND) throw inputError('is not the JSON of landscape barriers', file);
  const files = field(doc, 'files', file);
  if (!Array.isArray(files) || files.length < 1 || !files.every((f) => typeof f === 'string')) throw inputError('"files" must list the checkpoints', file);
  const paths = (files as string[]).map((f) => resolveRecordedPath(f, file, roots));
  const n = paths.length;
  const losses = Array.isArray(doc.losses) ? doc.losses.map((x) => (typeof x === 'number' && Number.isFinite(x) ? x : null)) : new Array<null>(n).fill(null);
  const folder = commonFolder(paths);
  const labels = paths.map((p) => minimumLabel(p, folder));
  const mstRaw = obj(field(doc, 'mst', file), '"mst"', file);
  const edges = Array.isArray(mstRaw.edges) ? mstRaw.edges : [];
  const pairs = (Array.isArray(doc.pairs) ? doc.pairs : []).map((p, k) => {
    const o = obj(p, `pairs[${k}]`, file);
    const linear = obj(field(o, 'linear', file), `pairs[${k}].linear`, file);
    const i = num(o, 'i', file);
    const j = num(o, 'j', file);
    if (!Number.isInteger(i) || !Number.isInteger(j) || i < 0 || j < 0 || i >= n || j >= n) throw inputError(`pairs[${k}] is not a pair of the ${n} minima`, file);
    // Profiles are in files written with --out; the compact --json form has none.
    const prof = 'profile' in o ? profileOf(o, file) : { t: [0, 1], loss: [losses[i] ?? 0, losses[j] ?? 0] };
    const lin = 'profile' in linear ? profileOf(linear, file) : { t: prof.t, loss: prof.loss.map(() => 0) };
    return {
      i,
      j,
      optimized: heightNumbers(o, file),
      straight: heightNumbers(linear, file),
      iterations: Math.max(0, Math.floor(typeof o.iterations === 'number' ? o.iterations : 0)),
      profile: { t: prof.t, straight: lin.loss.length === prof.t.length ? lin.loss : prof.loss, optimized: prof.loss },
    };
  });
  let tree: BarrierMatrix['tree'];
  try {
    tree = flattenTree(obj(field(doc, 'tree', file), '"tree"', file) as unknown as TreeNode, n);
  } catch (e) {
    throw inputError(`has an unreadable disconnectivity tree (${(e as Error).message})`, file);
  }
  const dataset = typeof doc.dataset === 'object' && doc.dataset !== null ? String((doc.dataset as Json).name ?? '?') : String(doc.dataset ?? '?');
  const options = typeof doc.options === 'object' && doc.options !== null ? (doc.options as Json) : {};
  const data: BarrierMatrix = {
    kind: 'barrierMatrix',
    folder,
    minima: paths.map((p, i) => ({ path: p, label: labels[i], loss: losses[i] ?? null })),
    heights: matrix(field(doc, 'heights', file), n, '"heights"', file),
    barriers: matrix(field(doc, 'barriers', file), n, '"barriers"', file),
    straightHeights: matrix(field(doc, 'straightHeights', file), n, '"straightHeights"', file),
    pairs,
    mst: edges.map((e, k) => {
      const o = obj(e, `mst.edges[${k}]`, file);
      return { i: num(o, 'i', file), j: num(o, 'j', file), height: num(o, 'height', file) };
    }),
    tree,
    selection: String(doc.selection ?? 'all').slice(0, 100),
    dataset: dataset.slice(0, 4096),
    backend: String(doc.backend ?? '?').slice(0, 100),
    seconds: typeof doc.seconds === 'number' && Number.isFinite(doc.seconds) ? doc.seconds : 0,
    settings: [
      ['written by', `landscape barriers (${path.basename(file)})`],
      ['minima', String(n)],
      ['pairs', `${pairs.length} (${String(doc.selection ?? 'all')})`],
      ['method', `${String(options.method ?? 'fourier')}, objective ${String(options.objective ?? 'minimax')}`],
      ['path points (M)', String(options.points ?? '–')],
      ['Adam steps', String(options.steps ?? '–')],
      ['model', String(doc.model ?? '–').slice(0, 200)],
    ],
  };
  return checked(data, file);
}
