/**
 * Analysis results (kernel PCA, Hessian spectrum, gradient check, slices):
 * where they are saved beside their checkpoints, how they are written (paths
 * relative to the file, so a workspace can move) and read.
 *
 * Every analysis kind has one shape (src/results/kpca.ts, hessian.ts,
 * gradcheck.ts, slice.ts): the engine returns it, the CLI writes it, the
 * worker saves it here, and reading validates it with the same schema
 * (format-1 files go through the kind's upgrade function).
 *
 * Pure (no vscode, no tfjs). Everything read from a file is untrusted: it is
 * validated against its kind's schema (after any upgrade) before a panel
 * sees it, and faults name the file.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import { inputError } from '../engine/errors';
import type { ResultKind } from './index';
import { commonFolder } from './barrierFiles';
import { resolveRecordedPath, resultKindOf } from './resultKind';
import { currentFormat, readResultJson, saveResultAsIs, unwrapResult, type ResultFormat } from './resultFiles';
import { HESSIAN_FORMAT_VERSION, HessianSchema, hessianSettings, upgradeHessian } from './hessian';

import type { KpcaData } from './kpca';
import type { HessianData } from './hessian';
import type { GradcheckData } from './gradcheck';
import type { SliceData } from './slice';
import { GRADCHECK_FORMAT_VERSION, GRADCHECK_SUFFIX, GradcheckSchema, gradcheckSettings, upgradeGradcheck } from './gradcheck';
import { HESSIAN_SUFFIX } from './hessian';
import { KPCA_FORMAT_VERSION, KPCA_SUFFIX, KpcaSchema, kpcaSettings, upgradeKpca } from './kpca';
import { SLICE_FORMAT_VERSION, SLICE_SUFFIX, SliceSchema, sliceSettings, upgradeSlice } from './slice';
export type { GradcheckData, HessianData, KpcaData, SliceData };
export type AnalysisData = KpcaData | HessianData | GradcheckData | SliceData;
export type AnalysisKind = AnalysisData['kind'];
export const ANALYSIS_KINDS: readonly AnalysisKind[] = ['kpca', 'hessian', 'gradcheck', 'slice'];

/** File name endings of saved analysis results (the custom editor's patterns). */
export const ANALYSIS_SUFFIXES: Record<AnalysisKind, string> = {
  kpca: KPCA_SUFFIX,
  hessian: HESSIAN_SUFFIX,
  gradcheck: GRADCHECK_SUFFIX,
  slice: SLICE_SUFFIX,
};

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------
// File names

/** A checkpoint's stem: the file name without .safetensors, or a tfjs model's folder name. */
export function checkpointStem(file: string): string {
  const base = path.basename(file);
  if (base.toLowerCase() === 'model.json') return path.basename(path.dirname(file)) || 'model';
  return base.replace(/\.(safetensors|json)$/i, '');
}

function clean(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+|-+$/g, '') || 'x';
}

/** How another checkpoint is named from `dir`: its path without the extension, folders joined by "-". */
function relName(dir: string, file: string): string {
  let rel = path.relative(dir, file);
  if (path.basename(rel).toLowerCase() === 'model.json') rel = path.dirname(rel);
  else rel = rel.replace(/\.(safetensors|json)$/i, '');
  const parts = rel.split(/[\\/]+/).filter((p) => p && p !== '..' && p !== '.');
  return clean(parts.join('-')).slice(-100);
}

/** How a checkpoint is labelled in panels (one definition, browser-safe, in shapes.ts). */
export { checkpointLabel } from './shapes';

/** `<dir>/<stem>.hessian.json` beside the checkpoint. */
export function hessianResultFile(file: string): string {
  return path.join(path.dirname(file), `${clean(checkpointStem(file)).slice(0, 120)}${ANALYSIS_SUFFIXES.hessian}`);
}

/** `<dir>/<stem>.gradcheck.json` beside the checkpoint. */
export function gradcheckResultFile(file: string): string {
  return path.join(path.dirname(file), `${clean(checkpointStem(file)).slice(0, 120)}${ANALYSIS_SUFFIXES.gradcheck}`);
}

/**
 * `<stem>[__<B>[__<C>]].<kind>.slice.json` beside the first checkpoint; the
 * others are named by their way from its folder, so slices of different kinds
 * and through different checkpoints never overwrite each other.
 */
export function sliceResultFile(kind: string, files: readonly string[]): string {
  if (files.length === 0) throw new Error('a slice needs a checkpoint');
  const dir = path.dirname(files[0]);
  const parts = [clean(checkpointStem(files[0])).slice(0, 120), ...files.slice(1).map((f) => relName(dir, f))];
  return path.join(dir, `${parts.join('__')}.${clean(kind)}${ANALYSIS_SUFFIXES.slice}`);
}

/**
 * A kernel PCA map: `<folder>/<folder name>.kpca.json` for a folder; for a
 * set of files, `kpca-<n>-<hash of the set>.kpca.json` in the folder they
 * share, so two sets never overwrite each other and one set always lands on
 * the same file.
 */
export function kpcaResultFile(files: readonly string[], folder?: string): string {
  if (folder) return path.join(folder, `${clean(path.basename(folder)).slice(0, 120)}${ANALYSIS_SUFFIXES.kpca}`);
  const base = commonFolder(files);
  const key = [...files].map((f) => path.relative(base, f).split(path.sep).join('/')).sort().join('\n');
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 8);
  return path.join(base, `kpca-${files.length}-${hash}${ANALYSIS_SUFFIXES.kpca}`);
}

export function analysisKindOfName(file: string): AnalysisKind | undefined {
  const base = path.basename(file).toLowerCase();
  return ANALYSIS_KINDS.find((k) => base.endsWith(ANALYSIS_SUFFIXES[k]));
}

// ---------------------------------------------------------------------------
// Saving and reading (paths relative on disk, absolute in memory)

function mapPaths<T extends AnalysisData>(d: T, f: (p: string) => string): T {
  switch (d.kind) {
    case 'kpca':
      return {
        ...d,
        points: d.points.map((p) => ({ ...p, file: f(p.file) })),
        overlays: d.overlays.map((o) => ({ ...o, source: f(o.source), points: o.points.map((p) => (p.file === undefined ? p : { ...p, file: f(p.file) })) })),
      } as T;
    case 'hessian':
    case 'gradcheck':
      return { ...d, file: f(d.file) } as T;
    case 'slice': {
      const request = { ...d.request, files: d.request.files.map(f) };
      if (d.dims !== '2d' || !d.trajectory) return { ...d, request } as T;
      const t = d.trajectory;
      return { ...d, request, trajectory: { ...t, run: f(t.run), points: t.points.map((p) => ({ ...p, file: f(p.file) })) } } as T;
    }
  }
}

/**
 * Each analysis kind's format: its file is the result itself (format 2 on),
 * as the CLI writes it; files of format 1 (the CLI's, or the extension's
 * wrapped in {"landscapeResult": 1, "data"}) open through the upgrade.
 */
const FORMATS: Record<AnalysisKind, AnalysisFormat> = {
  hessian: { version: HESSIAN_FORMAT_VERSION, schema: HessianSchema, upgrade: upgradeHessian, settings: (d) => hessianSettings(d as HessianData) },
  gradcheck: { version: GRADCHECK_FORMAT_VERSION, schema: GradcheckSchema, upgrade: upgradeGradcheck, settings: (d) => gradcheckSettings(d as GradcheckData) },
  kpca: { version: KPCA_FORMAT_VERSION, schema: KpcaSchema, upgrade: upgradeKpca, settings: (d) => kpcaSettings(d as KpcaData) },
  slice: { version: SLICE_FORMAT_VERSION, schema: SliceSchema, upgrade: upgradeSlice, settings: (d) => sliceSettings(d as SliceData) },
};

type AnalysisFormat = ResultFormat<AnalysisData>;

/** Save an analysis result with its checkpoints' paths relative to the file. */
export function saveAnalysisResult(file: string, data: AnalysisData): void {
  saveResultAsIs(file, data, FORMATS[data.kind].schema, mapPaths);
}

/** Which analysis a document holds: its "kind", or the CLI's "command" in format 1. */
function analysisKindOfDoc(doc: Json): AnalysisKind | undefined {
  const k = typeof doc.kind === 'string' && (ANALYSIS_KINDS as readonly string[]).includes(doc.kind) ? doc.kind : doc.command;
  return typeof k === 'string' && (ANALYSIS_KINDS as readonly string[]).includes(k) ? (k as AnalysisKind) : undefined;
}

/**
 * Read a saved analysis result (of `kind`, when given), its paths made
 * absolute again: the file's own folder first, then `roots` (the CLI records
 * paths as it was given them). Files of the previous format open through
 * their kind's upgrade function.
 */
export function readAnalysisResult<K extends AnalysisKind>(file: string, kind?: K, roots: readonly string[] = []): { data: Extract<AnalysisData, { kind: K }> } {
  const raw = readResultJson(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw inputError('is not a Landscape result (not a JSON object)', file);
  const outer = raw as Json;
  const doc = unwrapResult(outer);
  const found = analysisKindOfDoc(doc);
  if (!found) throw inputError(`holds a ${resultKindOf(outer, file)} result, not ${kind ?? 'an analysis result'}`, file);
  if (kind && found !== kind) throw inputError(`holds a ${found} result, not ${kind}`, file);
  const data = currentFormat(doc, FORMATS[found], file);
  return { data: mapPaths(data, (p) => resolveRecordedPath(p, file, roots)) as Extract<AnalysisData, { kind: K }> };
}

/** Whether a result kind is one of the analysis kinds. */
export function isAnalysisKind(kind: ResultKind): kind is AnalysisKind {
  return (ANALYSIS_KINDS as readonly string[]).includes(kind);
}
