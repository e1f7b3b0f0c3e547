/**
 * Which kind of result a file holds, whoever wrote it (the CLI's --out, the
 * extension, Landscape 0.1.0), and where the checkpoints it names are. Every
 * kind reads through its own reader (src/host/analysisFiles.ts,
 * barrierFiles.ts), which validates with the kind's schema and upgrades
 * format-1 files.
 *
 * Node (fs), no vscode, no tfjs; not for the webviews. Faults name the file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { inputError } from '../engine/errors';
import { RESULT_KINDS, type ResultKind } from './index';
import { CLI_BARRIERS_KIND_V1 } from './barriers';
import { CLI_PATH_KIND_V1 } from './path';
import { RESULT_FILE_VERSION, readResultJson } from './resultFiles';

type Json = Record<string, unknown>;

/** The analysis commands whose format-1 JSON named the result kind in "command". */
export const CLI_ANALYSIS_COMMANDS = ['kpca', 'hessian', 'gradcheck', 'slice'] as const;

/** Parse a result file of either origin, size-limited; faults name the file. */
export function readJsonResult(file: string): Json {
  const raw = readResultJson(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw inputError('result file does not hold a JSON object', file);
  return raw as Json;
}

/**
 * Which panel shows a result file: format 2 says its kind (and version);
 * format 1 wrapped the extension's results ({"landscapeResult": 1, "kind"}),
 * and the CLI's said landscape.path, landscape.barriers or the command.
 */
export function resultKindOf(doc: Json, file: string): ResultKind {
  const kind = doc.kind;
  if (typeof kind === 'string' && (RESULT_KINDS as readonly string[]).includes(kind) && (typeof doc.formatVersion === 'number' || doc.landscapeResult === RESULT_FILE_VERSION)) return kind as ResultKind;
  if (kind === CLI_PATH_KIND_V1) return 'barrierPath';
  if (kind === CLI_BARRIERS_KIND_V1) return 'barrierMatrix';
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
