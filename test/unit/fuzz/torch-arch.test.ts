/**
 * Hardening fuzzer for importing PyTorch state_dicts into layer-grammar models
 * (src/engine/checkpoint/torch-arch-import.ts): the right tensors of a small
 * BatchNorm residual net with names, shapes and tensors mutated (renamed,
 * dropped, duplicated under other names, reshaped, extra running statistics),
 * 10,000 cases. Every case must end quickly and either load (then every
 * parameter came from a tensor of the right shape) or give a readable input
 * error naming the file (see test/support/fuzz-harness.ts). Also random
 * --tensor-map objects.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkpointFromDecoded, type DecodedSafetensors } from '../../../src/engine/checkpoint';
import { modelSpecFromText } from '../../../src/engine/model/archModel';
import { FUZZ_RUNS, Tally, anyText, fuzzParams, runCase } from '../../support/fuzz-harness';

const FILE = '/fuzz/torch.safetensors';
const SPEC = 'input(1,6,6) conv(2,3,pad=1,bias=false) bn relu res(conv(3,3,stride=2,pad=1,bias=false) bn) relu gap dense(2)';
const spec = modelSpecFromText(SPEC);

/** The state_dict PyTorch writes for SPEC, as (name, shape) in its own naming. */
function torchNames(): [string, number[]][] {
  const layout = spec.arch!.layout;
  const strip = (n: string) => n.replace(/^layers\./, '');
  return [...layout.params, ...layout.buffers].map((t) => [strip(t.name), [...t.shape]] as [string, number[]]);
}

type Mutation = { kind: 'rename'; at: number; to: string } | { kind: 'drop'; at: number } | { kind: 'reshape'; at: number; shape: number[] } | { kind: 'extra'; name: string; shape: number[] };

const shapeArb = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 0, maxLength: 4 });
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('rename' as const), at: fc.nat(40), to: fc.oneof(anyText(30), fc.constantFrom('3.body.0.weight', '3.shortcut.1.running_var', 'weight', '.weight', '0..bias', '10.weight')) }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat(40) }),
  fc.record({ kind: fc.constant('reshape' as const), at: fc.nat(40), shape: shapeArb }),
  fc.record({ kind: fc.constant('extra' as const), name: fc.oneof(anyText(30), fc.constantFrom('9.running_mean', '1.num_batches_tracked', '7.bias')), shape: shapeArb }),
);

function decodedFrom(entries: [string, number[]][]): DecodedSafetensors {
  const tensors = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
  for (const [name, shape] of entries) tensors.set(name, { dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });
  return { tensors, metadata: { format: 'pt' } } as unknown as DecodedSafetensors;
}

function apply(entries: [string, number[]][], ms: Mutation[]): [string, number[]][] {
  const out = entries.map(([n, s]) => [n, [...s]] as [string, number[]]);
  for (const m of ms) {
    if (m.kind === 'extra') out.push([m.name, m.shape]);
    else if (out.length) {
      const i = m.at % out.length;
      if (m.kind === 'rename') out[i][0] = m.to;
      else if (m.kind === 'drop') out.splice(i, 1);
      else out[i][1] = m.shape;
    }
  }
  return out;
}

describe('PyTorch import of layer-grammar models (fuzz)', () => {
  it('the unmutated state_dict loads, with its running statistics', () => {
    const ck = checkpointFromDecoded(decodedFrom(torchNames()), FILE, { spec });
    assert.equal(ck.theta.length, spec.arch!.layout.paramCount);
    assert.equal(ck.buffers?.length, spec.arch!.layout.bufferCount);
  });

  it(`mutated names, shapes and tensors (${FUZZ_RUNS} cases)`, { timeout: 300_000 }, () => {
    const t = new Tally();
    fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (ms) => {
        const decoded = decodedFrom(apply(torchNames(), ms));
        const r = runCase(() => {
          const ck = checkpointFromDecoded(decoded, FILE, { spec });
          assert.equal(ck.theta.length, spec.arch!.layout.paramCount);
        }, { file: FILE, input: new Uint8Array(0) });
        t.add(r);
      }),
      fuzzParams(4401),
    );
    assert.ok(t.rejected > FUZZ_RUNS / 4, String(t));
  });

  it(`random tensor maps (${FUZZ_RUNS} cases)`, { timeout: 300_000 }, () => {
    const t = new Tally();
    const ours = [...spec.arch!.layout.params, ...spec.arch!.layout.buffers].map((p) => p.name);
    const theirs = torchNames().map(([n]) => n);
    const nameArb = fc.oneof(fc.constantFrom(...ours, ...theirs), anyText(20));
    fc.assert(
      fc.property(fc.dictionary(nameArb, nameArb, { maxKeys: 24 }), (map) => {
        const decoded = decodedFrom(torchNames());
        t.add(runCase(() => checkpointFromDecoded(decoded, FILE, { spec, tensorMap: map }), { file: FILE, input: new Uint8Array(0) }));
      }),
      fuzzParams(4402),
    );
    assert.ok(t.rejected > FUZZ_RUNS / 2, String(t));
  });
});
