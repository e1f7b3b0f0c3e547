/**
 * Hardening fuzzer for the CSV loader (parseCsv on strings, no disk):
 * random text, mutations of valid CSVs, extreme shapes (thousands of columns
 * or lines), very long cells, many classes, and random options. 10,000 cases
 * per property; every case must end quickly, stay within the memory bound
 * stated in src/engine/data/csv.ts, and either parse or give a readable input
 * error naming the file.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCsv, CSV_MAX_CLASSES, type CsvOptions } from '../../../src/engine/data/csv';
import { FUZZ_RUNS, Tally, applyTextMutations, fuzzParams, runCase, textMutation, type CaseContext } from '../../support/fuzz-harness';

const FILE = '/fuzz/data.csv';
const TIMEOUT = { timeout: 180_000 };

/**
 * The documented bound: a few bytes per character of text for the features
 * and labels, plus the one-hot labels (rows × classes float32, classes at most
 * CSV_MAX_CLASSES).
 */
function ctx(text: string, opts?: CsvOptions): CaseContext {
  let rows = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) rows++;
  // Options count as input: a label column named "undefined" may be quoted back.
  return { file: FILE, input: opts ? text + JSON.stringify(opts) : text, bounds: { arrayBufferBytes: (1 << 20) + 16 * text.length + 4 * rows * Math.min(rows, CSV_MAX_CLASSES) } };
}

const parse = (text: string, opts?: CsvOptions) => () => parseCsv(text, FILE, opts);

const csvChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'0123456789') },
  { weight: 3, arbitrary: fc.constantFrom(',', ';', '\t', '\n', '\r\n', '"', '.', '-', '+', 'e', 'E', ' ') },
  { weight: 2, arbitrary: fc.constantFrom(...'abcxyzABC_') },
  { weight: 1, arbitrary: fc.constantFrom('inf', 'NaN', 'Infinity', '1e39', '\uFEFF', '\u0000', '\u001b', '\u202e', '\u2028', '\r', '""', 'undefined') },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
);
const csvText = (maxLength: number) => fc.array(csvChar, { maxLength }).map((a) => a.join(''));

const VALID = [
  'x1,x2,label\n0.5,1.5,cat\n-1,2e-3,dog\n3,4,cat\n1,1,dog\n',
  '1,2,0\n3,4,1\n5,6,0\n7,8,1\n',
  'a;b;y\n1,5;2,25;1\n3,0;4;0\n-1,5;0;1\n',
  'f1\tf2\tf3\ttarget\n0.1\t0.2\t0.3\t1.5\n0.4\t0.5\t0.6\t2.25\n0.7\t0.8\t0.9\t-3\n',
  '\uFEFF"name, with comma",x,"y"\r\n1,2,"a ""q"""\r\n3,4,b\r\n\r\n5,6,a\r\n',
  'x,y\n1,0\n2,1\n3,2\n4,3\n5,0\n6,1\n7,2\n8,3\n',
];

const optionsArb: fc.Arbitrary<CsvOptions> = fc.record(
  {
    labelColumn: fc.oneof(
      fc.integer({ min: -5, max: 5 }),
      fc.constantFrom('label', 'y', 'x1', 'LABEL', ' label ', '0', '-1', '99', '1.5', '', 'nope', 'undefined'),
      fc.constantFrom(NaN, Infinity, -Infinity, 2 ** 53, 1.5, -0),
      fc.string({ maxLength: 6 }),
    ),
    task: fc.constantFrom('auto', 'classification', 'regression') as fc.Arbitrary<CsvOptions['task']>,
    header: fc.constantFrom(true, false, 'auto') as fc.Arbitrary<CsvOptions['header']>,
    delimiter: fc.constantFrom(',', ';', '\t', 'auto') as fc.Arbitrary<CsvOptions['delimiter']>,
    maxClasses: fc.constantFrom(1, 2, 50, 5000),
  },
  { requiredKeys: [] },
);

describe(`CSV loader fuzz (${FUZZ_RUNS} cases per property)`, () => {
  it('the valid fixtures parse', () => {
    for (const v of VALID) assert.equal(runCase(parse(v), ctx(v)), 'ok', v);
  });

  it('random text, with random options', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(csvText(600), fc.option(optionsArb, { nil: undefined }), (text, opts) => t.add(runCase(parse(text, opts), ctx(text, opts)))),
      fuzzParams(301),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('mutations of valid CSVs', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(fc.nat(VALID.length - 1), fc.array(textMutation(200, csvChar), { minLength: 1, maxLength: 5 }), fc.option(optionsArb, { nil: undefined }), (i, ms, opts) => {
        const text = applyTextMutations(VALID[i], ms);
        t.add(runCase(parse(text, opts), ctx(text, opts)));
      }),
      fuzzParams(302),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('extreme shapes: thousands of columns, lines, or both', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.constantFrom('blank', 'rows', 'short', 'ragged'),
        fc.constantFrom(',', ';', '\t'),
        (cols, lines, kind, d) => {
          const header = Array.from({ length: cols }, (_, j) => `c${j}`).join(d);
          let body: string;
          if (kind === 'blank') body = '\n'.repeat(lines);
          else if (kind === 'rows') {
            const n = Math.min(lines, Math.floor(20000 / cols) + 1);
            body = Array.from({ length: n }, (_, i) => Array.from({ length: cols }, (_, j) => String((i + j) % 3)).join(d)).join('\n');
          }
          else if (kind === 'short') body = '1\n'.repeat(lines);
          else body = Array.from({ length: Math.min(lines, 200) }, (_, i) => Array.from({ length: 1 + (i % (cols + 1)) }, () => '1').join(d)).join('\n');
          const text = `${header}\n${body}`;
          t.add(runCase(parse(text), ctx(text)));
        },
      ),
      fuzzParams(303, Math.min(FUZZ_RUNS, 2000)),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('very long cells (regular-expression blow-ups) and very long lines', TIMEOUT, () => {
    const chunk = fc.constantFrom('1', '12', '1.', '.1', '1e', 'e1', '+1', '-', '1,', ',1', ' ', '"', '""', 'a', 'inf', '1e1', '9');
    fc.assert(
      fc.property(chunk, fc.integer({ min: 1000, max: 60000 }), fc.constantFrom('', 'x', '!', ',', '.', 'e', '"'), fc.nat(2), (c, n, tail, where) => {
        const cell = c.repeat(n) + tail;
        const text = where === 0 ? `a,b\n${cell},1\n2,3\n` : where === 1 ? `a;b\n1;${cell}\n2;3\n` : `${cell},b\n1,2\n`;
        runCase(parse(text), ctx(text));
      }),
      fuzzParams(304, Math.min(FUZZ_RUNS, 1000)),
    );
  });

  it('many distinct labels, as classes when asked', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 3000 }), fc.constantFrom('classification', 'auto', 'regression') as fc.Arbitrary<CsvOptions['task']>, fc.boolean(), (n, task, textual) => {
        const text = Array.from({ length: n }, (_, i) => `${i % 7},${textual ? `c${i}` : i}`).join('\n');
        t.add(runCase(parse(text, { task }), ctx(text)));
      }),
      fuzzParams(305, Math.min(FUZZ_RUNS, 1000)),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });
});
