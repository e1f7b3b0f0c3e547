/**
 * Hardening fuzzer for the model-spec grammar (parseArchitecture and
 * inferShapes on strings): random token soup, mutations of valid specs and
 * deep nesting. Every case ends quickly and either parses, with a canonical
 * text that parses back to the same network, or gives a readable input error
 * naming its source.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BUILTIN_MODELS, formatArchitecture, inferShapes, parseArchitecture } from '../../../src/engine/model/arch';
import { FUZZ_RUNS, Tally, applyTextMutations, fuzzParams, runCase, textMutation } from '../../support/fuzz-harness';

const SOURCE = '/fuzz/landscape.json';
const TIMEOUT = { timeout: 180_000 };

const VALID = [
  ...Object.values(BUILTIN_MODELS),
  '64-32-32-10 relu no-bias',
  'input(3,9,9) conv(4,3,stride=2,pad=1,bias=false) avgpool(2) maxpool(2,stride=1) gap bn dense(2)',
  'input(2,6,6) res(conv(2,3,pad=1) bn relu res(conv(2,3,pad=same) tanh)) flatten bn dense(3,bias=false)',
  'input(1,8,8) zeropad(1) conv(4,3) res(zeropad(0,1,0,1) conv(4,2) relu) zeropad(2,0) zeropad(0,1,2,3) maxpool(2) flatten dense(3)',
];

const piece = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('input', 'conv', 'maxpool', 'avgpool', 'gap', 'bn', 'relu', 'elu', 'flatten', 'dense', 'res', 'tanh', 'zeropad', 'zeropad(1)', 'zeropad(0,1,0,1)') },
  { weight: 5, arbitrary: fc.constantFrom('(', ')', ',', ' ', '=', 'stride', 'pad', 'bias', 'same', 'valid', 'false', 'true', '-', 'x') },
  { weight: 4, arbitrary: fc.constantFrom('0', '1', '2', '3', '5', '8', '28', '99999999', '1048577', '-1', '1.5', '1e3') },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\u202e', '\n', 'undefined', '__proto__', 'constructor', 'lenet', 'no-bias', 'mse') },
);
const soup = fc.array(piece, { maxLength: 80 }).map((a) => a.join(''));

/** One case: parse and infer shapes; a spec that parses must round-trip through its canonical text. */
function check(text: string) {
  return () => {
    const a = parseArchitecture(text, SOURCE);
    inferShapes(a, SOURCE);
    assert.deepEqual(parseArchitecture(formatArchitecture(a), SOURCE).nodes, a.nodes);
  };
}

describe(`model spec fuzz (${FUZZ_RUNS} cases per property)`, () => {
  it('the valid specs parse', () => {
    for (const v of VALID) assert.equal(runCase(check(v), { file: SOURCE, input: v }), 'ok', v);
  });

  it('token soup', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(fc.property(soup, (text) => t.add(runCase(check(text), { file: SOURCE, input: text }))), fuzzParams(801));
    assert.ok(t.rejected > 0, String(t));
  });

  it('mutations of valid specs', TIMEOUT, () => {
    const t = new Tally();
    fc.assert(
      fc.property(fc.nat(VALID.length - 1), fc.array(textMutation(40, piece), { minLength: 1, maxLength: 4 }), (i, ms) => {
        const text = applyTextMutations(VALID[i], ms);
        t.add(runCase(check(text), { file: SOURCE, input: text }));
      }),
      fuzzParams(802),
    );
    assert.ok(t.ok > 0 && t.rejected > 0, String(t));
  });

  it('size bombs: very long, very deep, very many layers', () => {
    for (const text of ['input(8) ' + 'relu '.repeat(5000), 'input(8) ' + 'res('.repeat(200) + ')'.repeat(200), '('.repeat(100_000), 'input(' + '9'.repeat(50_000) + ')']) {
      assert.equal(runCase(check(text), { file: SOURCE, input: text }), 'input-error', text.slice(0, 40));
    }
  });
});
