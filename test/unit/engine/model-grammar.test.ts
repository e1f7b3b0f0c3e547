/**
 * The model-spec grammar: built-in networks have the shapes and parameter
 * counts worked out by hand from their definitions, today's dense specs mean
 * the same networks, the canonical text round-trips, and every malformed
 * spec gets an input error that says what is wrong where.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_MODELS, formatArchitecture, inferShapes, parseArchitecture } from '../../../src/engine/model/arch';
import { makeSpec, paramCount } from '../../../src/engine/model/spec';
import { LandscapeError } from '../../../src/engine/errors';

const conv = (cin: number, cout: number, k: number, bias = true) => cout * cin * k * k + (bias ? cout : 0);
const dense = (nin: number, nout: number, bias = true) => nin * nout + (bias ? nout : 0);
const bn = (c: number) => 2 * c;

function inputErrorOf(f: () => unknown): LandscapeError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof LandscapeError && e.kind === 'input', `expected an input error, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an input error');
}

describe('model spec grammar', () => {
  it('lenet: the feature maps of LeNet-5 on 28×28 and its 61,706 parameters', () => {
    const s = inferShapes(parseArchitecture('lenet'));
    assert.deepEqual(s.nodes.map((n) => n.output.join('x')), ['6x28x28', '6x28x28', '6x14x14', '16x10x10', '16x10x10', '16x5x5', '400', '120', '120', '84', '84', '10']);
    const expected = conv(1, 6, 5) + conv(6, 16, 5) + dense(400, 120) + dense(120, 84) + dense(84, 10);
    assert.equal(expected, 61_706);
    assert.equal(s.paramCount, expected);
    assert.equal(s.bufferCount, 0);
  });

  it('resnet20: 3×32×32 to 10 classes, the parameter count of its convolutions, BatchNorms and 1×1 shortcuts', () => {
    const s = inferShapes(parseArchitecture('resnet20'));
    assert.deepEqual(s.output, [10]);
    const stage = (cin: number, c: number) => {
      const first = conv(cin, c, 3, false) + bn(c) + conv(c, c, 3, false) + bn(c) + (cin !== c ? conv(cin, c, 1, false) + bn(c) : 0);
      return first + 2 * (2 * conv(c, c, 3, false) + 2 * bn(c));
    };
    const expected = conv(3, 16, 3, false) + bn(16) + stage(16, 16) + stage(16, 32) + stage(32, 64) + dense(64, 10);
    assert.equal(s.paramCount, expected);
    assert.ok(expected > 265_000 && expected < 275_000, `about 0.27 M: ${expected}`);
    // Running statistics are buffers, not parameters: mean and variance of every bn.
    const bnChannels = 16 + 6 * 16 + (6 * 32 + 32) + (6 * 64 + 64);
    assert.equal(s.bufferCount, 2 * bnChannels);
    // The second and third stages start with a stride-2 block whose shortcut is a 1×1 conv and bn.
    const strided = s.nodes.filter((n) => n.node.op === 'res' && (n.shortcut?.length ?? 0) > 0);
    assert.deepEqual(strided.map((n) => [n.input.join('x'), n.output.join('x')]), [['16x32x32', '32x16x16'], ['32x16x16', '64x8x8']]);
  });

  it('cnn-digits trains on the built-in 8×8 digits', () => {
    const s = inferShapes(parseArchitecture('cnn-digits'));
    assert.deepEqual(s.nodes[0].input, [1, 8, 8]);
    assert.deepEqual(s.output, [10]);
  });

  it("today's dense specs mean the same network", () => {
    for (const [text, opts] of [
      ['64-32-32-10 relu no-bias', { activation: 'relu', bias: false }],
      ['64-32-32-10', {}],
      ['2-8-3 tanh mse', { activation: 'tanh', loss: 'mse' }],
      ['4x16x2 linear', { activation: 'linear' }],
    ] as const) {
      const a = parseArchitecture(text);
      const legacy = makeSpec(text.split(' ')[0], opts);
      assert.equal(inferShapes(a).paramCount, paramCount(legacy), text);
      const dense = a.nodes.filter((n) => n.op === 'dense');
      assert.deepEqual(dense.map((n) => n.op === 'dense' && n.units), legacy.layers.slice(1), text);
      assert.ok(dense.every((n) => n.op === 'dense' && n.bias === legacy.bias), text);
      const acts = a.nodes.filter((n) => n.op === 'activation').map((n) => n.op === 'activation' && n.fn);
      assert.deepEqual(acts, legacy.activation === 'linear' ? [] : Array(legacy.layers.length - 2).fill(legacy.activation), text);
      if ('loss' in opts) assert.equal(a.loss, opts.loss);
    }
    assert.equal(formatArchitecture(parseArchitecture('64-32-32-10 relu no-bias')), 'input(64) dense(32,bias=false) relu dense(32,bias=false) relu dense(10,bias=false)');
  });

  it('options: stride, padding, bias; pools default their stride to the window', () => {
    const a = parseArchitecture('input(3,9,9) conv(4,3,stride=2,pad=1,bias=false) avgpool(2) maxpool(2,stride=1) gap bn dense(2)');
    assert.deepEqual(a.nodes[1], { op: 'conv', out: 4, kernel: 3, stride: 2, pad: 1, bias: false });
    assert.deepEqual(a.nodes[2], { op: 'avgpool', kernel: 2, stride: 2 });
    assert.deepEqual(a.nodes[3], { op: 'maxpool', kernel: 2, stride: 1 });
    const s = inferShapes(a);
    assert.deepEqual(s.nodes.map((n) => n.output.join('x')), ['4x5x5', '4x2x2', '4x1x1', '4', '4', '2']);
    assert.equal(s.paramCount, conv(3, 4, 3, false) + bn(4) + dense(4, 2));
    assert.deepEqual(inferShapes(parseArchitecture('input(1,5,5) conv(2,3,pad=same) flatten dense(1)')).nodes[0].output, [2, 5, 5]);
  });

  it('the canonical text parses back to the same network (built-ins and a hand-written one)', () => {
    for (const text of [...Object.values(BUILTIN_MODELS), 'input(2,6,6) res(conv(2,3,pad=1) bn relu) maxpool(3,stride=1) flatten dense(3,bias=false)']) {
      const a = parseArchitecture(text);
      assert.deepEqual(parseArchitecture(formatArchitecture(a)), a);
    }
  });

  it('names what is wrong, and where', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['conv(6,5) relu', /must start with input/],
      ['input(1,28,28) conv(6,5', /unclosed/],
      ['input(1,28,28) conv(6,5))', /without its "\("/],
      ['input(1,28,28) convolution(6,5)', /unknown layer "convolution"/],
      ['input(1,28,28) conv(6)', /needs 2 plain arguments/],
      ['input(1,28,28) conv(6,5,stride=0)', /stride must be a whole number from 1/],
      ['input(1,28,28) conv(6,5,padding=2)', /no option "padding"/],
      ['input(1,28,28) conv(6,5,bias=no)', /bias= is true or false/],
      ['input(1,28,28) conv(6,4,pad=same)', /layer 2 .*odd kernel/],
      ['input(1,28,28) conv(6,3,stride=2,pad=same)', /needs stride 1/],
      ['input(784) conv(6,5)', /layer 2 .*needs an image/],
      ['input(1,28,28) dense(10)', /layer 2 .*put flatten/],
      ['input(1,4,4) conv(2,5)', /window of 5 does not fit in 4/],
      ['input(1,28,28) conv(6,5)', /ends with a 6×24×24 feature map/],
      ['input(8) res(dense(4)) dense(2)', /flat features must keep their width/],
      ['input(1,8,8) res(conv(2,3)) flatten dense(2)', /no whole stride/],
      ['input(1,8,8) relu(2)', /takes no arguments/],
      ['input(8) input(8)', /second input/],
      ['input(8) res()', /needs the layers of its block/],
      ['64-32-10 swish', /"swish" is not an activation/],
      ['input(8) ' + 'res('.repeat(6) + 'relu' + ')'.repeat(6) + ' dense(2)', /nest more than 4 deep/],
    ];
    for (const [text, re] of cases) {
      const e = inputErrorOf(() => inferShapes(parseArchitecture(text)));
      assert.match(e.message, re, `${text}: ${e.message}`);
    }
    assert.match(inputErrorOf(() => parseArchitecture('input(8) oops', '/w/landscape.json')).message, /^\/w\/landscape\.json: model spec: unknown layer "oops"/);
  });
});
