/**
 * Hardening fuzzer for the pairs file of `landscape path --pairs`
 * (parsePairsFile, on strings, with a fake file system): random text, text
 * over the characters the format is made of, and mutations of valid files.
 * 10,000 cases per property; every case must end quickly, stay small, and
 * either give pairs that keep the format's promises (each checkpoint once,
 * two different checkpoints per pair, no pair twice in either order, lines
 * in order) or a readable input error naming the file.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import fc from 'fast-check';
import { parsePairsFile, type PairsFile } from '../../../src/cli/commands/pathPairsFile';
import { FUZZ_RUNS, Tally, anyText, applyTextMutations, fuzzParams, runCase, textMutation, type CaseContext } from '../../support/fuzz-harness';

const FILE = '/fuzz/lists/pairs.txt';
const TIMEOUT = { timeout: 180_000 };

const ctx = (input: string): CaseContext => ({ file: FILE, input, bounds: { arrayBufferBytes: (1 << 20) + 8 * input.length } });

/** Every path exists except those with "missing" in them. */
const exists = (p: string) => !p.includes('missing');

/** Parse, and check what a successful parse promises. */
function parseChecked(text: string): PairsFile {
  const r = parsePairsFile(text, FILE, { exists });
  assert.ok(r.pairs.length >= 1, 'at least one pair');
  assert.equal(new Set(r.files).size, r.files.length, 'each checkpoint once');
  for (const f of r.files) {
    assert.ok(path.isAbsolute(f), `absolute: ${f}`);
    assert.ok(exists(f), `only existing files: ${f}`);
  }
  const seen = new Set<string>();
  let line = 0;
  for (const p of r.pairs) {
    assert.ok(p.line > line, 'lines in file order');
    line = p.line;
    assert.ok(Number.isInteger(p.i) && Number.isInteger(p.j) && p.i >= 0 && p.j >= 0 && p.i < r.files.length && p.j < r.files.length, 'indices in range');
    assert.notEqual(p.i, p.j, 'two different checkpoints');
    const key = p.i < p.j ? `${p.i},${p.j}` : `${p.j},${p.i}`;
    assert.ok(!seen.has(key), 'no pair twice');
    seen.add(key);
  }
  assert.ok(r.files.every((_, k) => r.pairs.some((p) => p.i === k || p.j === k)), 'every checkpoint is in a pair');
  return r;
}

const VALID = [
  'runs/s1/final.safetensors runs/s2/final.safetensors\n',
  '# seeds\n\n../runs/a.safetensors\t../runs/b.safetensors\n  ../runs/b.safetensors ../runs/c.safetensors  \n# done\n',
  '\uFEFF/abs/x.safetensors rel/y.safetensors\r\n"with space/a.safetensors" "b c.safetensors"\r\n',
  'a b\nb c\nc a\na d\n',
];

const pairsChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'abcs12') },
  { weight: 4, arbitrary: fc.constantFrom(' ', '\t', '\n', '\r\n', '/', '.', '..', '#', '"', '.safetensors', 'missing') },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\u001b', '\u202e', '\u2028', '\u00a0', '\uFEFF', '\r', 'undefined', '~', '\\', '//') },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
);
const pairsText = (maxLength: number) => fc.array(pairsChar, { maxLength }).map((a) => a.join(''));

describe(`pairs file fuzz (${FUZZ_RUNS} cases per property)`, () => {
  it('the valid fixtures parse', () => {
    for (const v of VALID) assert.equal(runCase(() => parseChecked(v), ctx(v)), 'ok', v);
    const r = parsePairsFile(VALID[2], FILE);
    assert.deepEqual(r.files, ['/abs/x.safetensors', '/fuzz/lists/rel/y.safetensors', '/fuzz/lists/with space/a.safetensors', '/fuzz/lists/b c.safetensors']);
    assert.deepEqual(r.pairs, [{ line: 1, i: 0, j: 1 }, { line: 2, i: 2, j: 3 }]);
  });

  it('random text', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(fc.property(anyText(400), (text) => t.add(runCase(() => parseChecked(text), ctx(text)))), fuzzParams(911));
    assert.ok(t.rejected > 0, String(t));
  });

  it("text made of the format's own characters", TIMEOUT, () => {
    const t = new Tally();
    fc.assert(fc.property(pairsText(300), (text) => t.add(runCase(() => parseChecked(text), ctx(text)))), fuzzParams(912));
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('mutations of valid files', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.array(textMutation(200, pairsChar), { minLength: 1, maxLength: 6 }), (valid, ms) => {
        const text = applyTextMutations(valid, ms);
        t.add(runCase(() => parseChecked(text), ctx(text)));
      }),
      fuzzParams(913),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });
});
