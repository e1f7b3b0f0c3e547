/**
 * CSV datasets: numeric feature columns plus one label column. Every fault
 * in the file is an input error that names the file, the line and the column,
 * so a user can fix the file without guessing. Standardisation is not done
 * here: it must use the training part's statistics, so loadDataset applies it
 * after the split.
 *
 * Text from the file that appears in a message (cells, header names) is
 * escaped and cut short (src/engine/text.ts), so a message stays one
 * readable line.
 *
 * Memory bound: loadCsv reads a file only when it is within maxBytes
 * (CSV_MAX_BYTES, 256 MiB). parseCsv allocates at most 4 bytes per character
 * of text for the features, twice while trimming to the rows found (the row
 * count is bounded by the text length over the column count, so thousands of
 * columns or of blank lines cost nothing),
 * the label strings, and the one-hot labels: rows × classes float32 values,
 * with at most CSV_MAX_CLASSES classes. Cell parsing is linear in the cell's
 * length. test/unit/fuzz-csv.test.ts holds every case to this bound.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inputError } from '../errors';
import { escapeControl, quoteText, truncate } from '../text';
import { oneHot } from './split';
import type { Dataset, Task } from './types';

export type CsvTask = Task | 'auto';
export type CsvDelimiter = ',' | ';' | '\t';

export interface CsvOptions {
  /** Header name, or index (negative counts from the end). Default: the last column. */
  labelColumn?: string | number;
  /** Default 'auto': integer or non-numeric labels with at most `maxClasses` distinct values are classes. */
  task?: CsvTask;
  /** Default 'auto': the first row is a header when it has text where the next row has a number. */
  header?: boolean | 'auto';
  /** Default 'auto': tab if the first row has one, else ';' if it has one, else ','. */
  delimiter?: CsvDelimiter | 'auto';
  /** Refuse larger files before reading them. Default CSV_MAX_BYTES. */
  maxBytes?: number;
  /** Most distinct labels that 'auto' still treats as classes. Default 50. */
  maxClasses?: number;
}

/** 256 MiB: the decoded text must fit one JavaScript string with room to parse. */
export const CSV_MAX_BYTES = 256 * 1024 * 1024;
export const CSV_AUTO_MAX_CLASSES = 50;
/** Most classes any CSV may have: the one-hot labels take rows × classes floats. */
export const CSV_MAX_CLASSES = 1000;
const FLOAT32_MAX = 3.4028234663852886e38;

/** Read and parse a CSV file into a raw (unstandardised) dataset with id "csv:<basename>". */
export function loadCsv(file: string, opts: CsvOptions = {}): Dataset {
  const maxBytes = opts.maxBytes ?? CSV_MAX_BYTES;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw inputError('file not found; check the path of the CSV file', file);
    throw inputError(`cannot access the file (${(e as Error).message})`, file);
  }
  if (st.isDirectory()) throw inputError('is a directory, not a CSV file; pass the path of a .csv file', file);
  if (!st.isFile()) throw inputError('is not a regular file; pass the path of a .csv file', file);
  if (st.size > maxBytes) {
    throw inputError(`file is too large (${formatBytes(st.size)}; the limit is ${formatBytes(maxBytes)})`, file);
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw inputError(`cannot read the file (${(e as Error).message})`, file);
  }
  return parseCsv(text, file, opts);
}

function formatBytes(b: number): string {
  return b >= 1024 * 1024 ? `${(b / (1024 * 1024)).toFixed(1)} MB` : `${b} bytes`;
}

/** A parsed cell: a finite number, a non-finite number (NaN, inf, overflow), or text. */
type Cell = { kind: 'num'; v: number } | { kind: 'nonfinite' } | { kind: 'text' } | { kind: 'empty' };

// Unambiguous (digits, then an optional "." with digits), so a long run of
// digits followed by junk fails in linear time instead of backtracking.
const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NONFINITE_RE = /^[+-]?(?:inf|infinity|nan)$/i;
const DECIMAL_COMMA_RE = /^[+-]?\d+,\d+(?:[eE][+-]?\d+)?$/;

function classify(raw: string, decimalComma: boolean): Cell {
  const s = raw.trim();
  if (s === '') return { kind: 'empty' };
  let t = s;
  if (decimalComma && DECIMAL_COMMA_RE.test(t)) t = t.replace(',', '.');
  if (NUMBER_RE.test(t)) {
    const v = Number(t);
    // Overflowing float32 is as non-finite as "inf" once the rows become float32.
    return Number.isFinite(v) && Math.abs(v) <= FLOAT32_MAX ? { kind: 'num', v } : { kind: 'nonfinite' };
  }
  if (NONFINITE_RE.test(t)) return { kind: 'nonfinite' };
  return { kind: 'text' };
}

/** Split one line into fields; double quotes protect delimiters and "" is a literal quote. */
function splitFields(line: string, delim: string, lineNo: number, file: string): string[] {
  if (line.indexOf('"') < 0) return line.split(delim);
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delim) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (quoted) throw inputError(`line ${lineNo}: unterminated quoted field (quoted fields cannot span lines)`, file);
  out.push(cur);
  return out;
}

interface Line {
  no: number;
  text: string;
}

/** Non-blank lines with their 1-based line numbers, lazily. */
function* lines(text: string): Generator<Line> {
  let start = 0;
  let no = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    no++;
    let s = text.slice(start, end);
    if (s.endsWith('\r')) s = s.slice(0, -1);
    start = end + 1;
    if (s.trim() !== '') yield { no, text: s };
  }
}

function describeDelimiter(d: string): string {
  return d === '\t' ? 'tab' : `"${d}"`;
}

/** Parse CSV text (the file name is used in messages and the dataset id). */
export function parseCsv(text: string, file: string, opts: CsvOptions = {}): Dataset {
  const maxClasses = opts.maxClasses ?? CSV_AUTO_MAX_CLASSES;
  const taskOpt: CsvTask = opts.task ?? 'auto';
  if (taskOpt !== 'auto' && taskOpt !== 'classification' && taskOpt !== 'regression') {
    throw inputError(`task must be classification, regression or auto (got ${quoteText(String(taskOpt))})`, file);
  }
  text = checkedText(text, file);
  const it = lines(text);
  const first = it.next().value as Line;
  const second = it.next().value as Line | undefined;
  const delim = opts.delimiter === undefined || opts.delimiter === 'auto' ? sniffDelimiter(first.text) : opts.delimiter;
  // With ";" between fields, "1,5" is the European way of writing 1.5.
  const decimalComma = delim === ';';

  const row0 = splitFields(first.text, delim, first.no, file);
  const ncols = row0.length;
  const header = opts.header === true || opts.header === false ? opts.header : looksLikeHeader(row0, second, delim, decimalComma, file);
  if (ncols < 2) {
    throw inputError(
      `needs at least 2 columns (features and a label) but line ${first.no} has 1 (delimiter ${describeDelimiter(delim)})`,
      file,
    );
  }
  const names = header ? row0.map((s, j) => s.trim() || `column${j + 1}`) : undefined;
  const colName = (j: number) => (names ? quoteText(names[j], 40) : `${j + 1} (index ${j})`);
  const labelCol = resolveLabelColumn(opts.labelColumn, names, ncols, file);

  const table = new RowReader(text, file, { ncols, labelCol, decimalComma, colName, firstLineNo: first.no });
  if (!header) table.add(first, row0);
  if (second) table.add(second, splitFields(second.text, delim, second.no, file));
  for (const ln of it) table.add(ln, splitFields(ln.text, delim, ln.no, file));

  const n = table.labelText.length;
  if (n === 0) throw inputError(`no data rows (only the header line ${first.no})`, file);
  const labels: LabelColumn = { text: table.labelText, line: table.labelLine, cells: table.labelText.map((s) => classify(s, decimalComma)), name: colName(labelCol) };
  const task = chooseTask(labels, taskOpt, maxClasses, file);
  const nFeat = ncols - 1;
  const featureNames = names
    ? names.filter((_, j) => j !== labelCol)
    : Array.from({ length: ncols }, (_, j) => `column${j + 1}`).filter((_, j) => j !== labelCol);
  const features = { id: `csv:${path.basename(file)}`, n, features: nFeat, x: table.x.slice(0, n * nFeat), featureNames };
  return task === 'regression' ? regressionDataset(features, labels, file) : classificationDataset(features, labels, file);
}

/** The text without a byte-order mark, refused when it is empty or binary. */
function checkedText(text: string, file: string): string {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw inputError('empty file; pass a CSV file with a label column and at least one feature column', file);
  // Text files hold no NUL; a checkpoint or another binary file passed as data does.
  const nul = text.indexOf('\u0000');
  if (nul >= 0 && nul < 65536) throw inputError('is not a CSV text file (it holds binary data, e.g. a checkpoint); pass a .csv file', file);
  return text;
}

function sniffDelimiter(firstLine: string): CsvDelimiter {
  return firstLine.includes('\t') ? '\t' : firstLine.includes(';') ? ';' : ',';
}

/** A header has a text field where the next line has a number (or there is no next line). */
function looksLikeHeader(row0: string[], second: Line | undefined, delim: string, decimalComma: boolean, file: string): boolean {
  const row1 = second ? splitFields(second.text, delim, second.no, file) : undefined;
  return row0.some((f, j) => {
    if (classify(f, decimalComma).kind !== 'text') return false;
    if (!row1) return true;
    const k = row1[j] === undefined ? 'text' : classify(row1[j], decimalComma).kind;
    return k === 'num' || k === 'nonfinite';
  });
}

interface RowLayout {
  ncols: number;
  labelCol: number;
  decimalComma: boolean;
  colName: (j: number) => string;
  /** The line whose column count every row must have. */
  firstLineNo: number;
}

/** Data rows into one float32 feature buffer and the label texts, refusing missing and non-numeric features. */
class RowReader {
  readonly x: Float32Array;
  readonly labelText: string[] = [];
  readonly labelLine: number[] = [];
  private readonly nFeat: number;

  constructor(
    text: string,
    private readonly file: string,
    private readonly layout: RowLayout,
  ) {
    this.nFeat = layout.ncols - 1;
    this.x = new Float32Array(maxRows(text, layout.ncols) * this.nFeat);
  }

  add(ln: Line, fields: string[]): void {
    const { ncols, labelCol, decimalComma, colName, firstLineNo } = this.layout;
    const file = this.file;
    if (fields.length !== ncols) {
      throw inputError(`line ${ln.no} has ${fields.length} columns, expected ${ncols} (as in line ${firstLineNo})`, file);
    }
    const r = this.labelText.length;
    let f = 0;
    for (let j = 0; j < ncols; j++) {
      if (j === labelCol) continue;
      const c = classify(fields[j], decimalComma);
      if (c.kind === 'num') this.x[r * this.nFeat + f++] = c.v;
      else if (c.kind === 'empty') {
        throw inputError(`line ${ln.no}, column ${colName(j)}: empty value (missing values are not supported)`, file);
      } else if (c.kind === 'nonfinite') {
        throw inputError(`line ${ln.no}, column ${colName(j)}: non-finite value ${quoteText(fields[j].trim())}`, file);
      } else {
        throw inputError(`line ${ln.no}, column ${colName(j)}: ${quoteText(fields[j].trim())} is not a number`, file);
      }
    }
    const lab = fields[labelCol].trim();
    if (lab === '') throw inputError(`line ${ln.no}: empty label in column ${colName(labelCol)}`, file);
    this.labelText.push(lab);
    this.labelLine.push(ln.no);
  }
}

/**
 * Upper bound on rows, so features go straight into one float32 buffer. A
 * row of ncols fields holds at least ncols - 1 delimiters plus a line end,
 * so rows <= (length + 1) / ncols: wide files with many lines stay linear.
 */
function maxRows(text: string, ncols: number): number {
  let rows = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) rows++;
  return Math.min(rows, Math.floor((text.length + 1) / ncols));
}

/** The label column's values: as written, where, and what they parse as. */
interface LabelColumn {
  text: string[];
  line: number[];
  cells: Cell[];
  /** The column's name for messages. */
  name: string;
}

type FeatureTable = Pick<Dataset, 'id' | 'n' | 'features' | 'x' | 'featureNames'>;

/** Labels decide the task when it is 'auto': few distinct integers or texts are classes, other numbers a regression target. */
function chooseTask(labels: LabelColumn, taskOpt: CsvTask, maxClasses: number, file: string): Task {
  const { cells, text: labelText, line: labelLine, name: labelName } = labels;
  const badNum = cells.findIndex((c) => c.kind === 'nonfinite');
  const firstText = cells.findIndex((c) => c.kind === 'text');
  const allNumeric = firstText < 0;
  if (badNum >= 0 && (allNumeric || taskOpt === 'regression')) {
    throw inputError(`line ${labelLine[badNum]}, label column ${labelName}: non-finite value ${quoteText(labelText[badNum])}`, file);
  }
  if (taskOpt !== 'auto') return taskOpt;
  const distinct = new Set<string | number>(allNumeric ? cells.map((c) => (c as { v: number }).v) : labelText).size;
  const integral = allNumeric && cells.every((c) => Number.isInteger((c as { v: number }).v));
  if ((integral || !allNumeric) && distinct <= maxClasses) return 'classification';
  if (allNumeric) return 'regression';
  throw inputError(
    `label column ${labelName} has ${distinct} distinct values, not all numbers: too many for classification ` +
      `(at most ${maxClasses}) and not numeric for regression (line ${labelLine[firstText]}: ${quoteText(labelText[firstText])})`,
    file,
  );
}

function regressionDataset(features: FeatureTable, labels: LabelColumn, file: string): Dataset {
  const firstText = labels.cells.findIndex((c) => c.kind === 'text');
  if (firstText >= 0) {
    throw inputError(
      `line ${labels.line[firstText]}, label column ${labels.name}: ${quoteText(labels.text[firstText])} is not a number; regression needs numeric targets`,
      file,
    );
  }
  const y = Float32Array.from(labels.cells, (c) => (c as { v: number }).v);
  const { id, n, features: nFeat, x, featureNames } = features;
  return { id, task: 'regression', n, features: nFeat, x, outputs: 1, y, featureNames };
}

function classificationDataset(features: FeatureTable, labels: LabelColumn, file: string): Dataset {
  const { cells, text: labelText, name: labelName } = labels;
  const allNumeric = cells.every((c) => c.kind !== 'text');
  // Classes in sorted order: numerically when every label is a number, else by text.
  let keys: (string | number)[];
  let classNames: string[];
  if (allNumeric) {
    const vals = [...new Set(cells.map((c) => (c as { v: number }).v))].sort((a, b) => a - b);
    keys = vals;
    classNames = vals.map((v) => String(v));
  } else {
    const vals = [...new Set(labelText)].sort();
    keys = vals;
    classNames = vals;
  }
  if (keys.length < 2) {
    throw inputError(`label column ${labelName} has a single class (${quoteText(classNames[0])}); classification needs at least 2`, file);
  }
  if (keys.length > CSV_MAX_CLASSES) {
    throw inputError(
      `label column ${labelName} has ${keys.length} distinct values, more than the ${CSV_MAX_CLASSES} classes Landscape supports; ` +
        `use --task regression for numeric targets, or another --label column`,
      file,
    );
  }
  const index = new Map<string | number, number>(keys.map((k, i) => [k, i]));
  const n = features.n;
  const labelsOut = new Int32Array(n);
  for (let i = 0; i < n; i++) labelsOut[i] = index.get(allNumeric ? (cells[i] as { v: number }).v : labelText[i])!;
  return {
    id: features.id,
    task: 'classification',
    n,
    features: features.features,
    x: features.x,
    outputs: keys.length,
    y: oneHot(labelsOut, keys.length),
    labels: labelsOut,
    featureNames: features.featureNames,
    classNames,
  };
}

function resolveLabelColumn(col: string | number | undefined, names: string[] | undefined, ncols: number, file: string): number {
  if (col === undefined) return ncols - 1;
  if (typeof col === 'string') {
    const s = col.trim();
    if (names) {
      let j = names.indexOf(s);
      if (j < 0) j = names.findIndex((nm) => nm.toLowerCase() === s.toLowerCase());
      if (j >= 0) return j;
    }
    if (/^[+-]?\d+$/.test(s)) return resolveLabelIndex(Number(s), ncols, file);
    if (!names) {
      throw inputError(
        `the file has no header row, so label column ${quoteText(s)} cannot be found by name; give its index instead (0..${ncols - 1}, or -1 for the last)`,
        file,
      );
    }
    const listed = names.slice(0, 20).map((n) => escapeControl(truncate(n, 40)));
    throw inputError(`label column ${quoteText(s)} not found; available columns: ${listed.join(', ')}${names.length > 20 ? `, … (${names.length} in all)` : ''}`, file);
  }
  return resolveLabelIndex(col, ncols, file);
}

function resolveLabelIndex(i: number, ncols: number, file: string): number {
  if (!Number.isInteger(i) || i >= ncols || i < -ncols) {
    throw inputError(
      `label column index ${i} is out of range: the file has ${ncols} columns (use 0..${ncols - 1}, or -${ncols}..-1 from the end)`,
      file,
    );
  }
  return i < 0 ? ncols + i : i;
}
