import * as fs from 'fs';
import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt, table } from '../output';
import { inputError } from '../../engine/errors';
import { BACKEND_CHOICES, describeBackend, initBackend } from '../../engine/backend';
import { reevaluateCheckpoint } from '../../engine/evaluate';
import { loadAnyCheckpoint } from '../../engine/evaluate';
import { SUBSET_FLAG, TENSOR_MAP_FLAG, readTensorMap, subsetFlag } from './common-analysis';
import type { CommandDef } from './types';

const flags: FlagSpec[] = [
  { name: 'model', type: 'string', description: 'model spec, for checkpoints without Landscape metadata (e.g. PyTorch safetensors)', metavar: 'spec' },
  { name: 'dataset', type: 'string', description: 'dataset to evaluate on (default: the one in the metadata)', metavar: 'name|path' },
  SUBSET_FLAG,
  TENSOR_MAP_FLAG,
  { name: 'no-eval', type: 'boolean', description: 'print the metadata only, without re-evaluating' },
  { name: 'backend', type: 'string', description: 'tfjs backend', choices: BACKEND_CHOICES, defaultText: 'auto' },
  { name: 'json', type: 'boolean', description: 'print one JSON object' },
];

export const infoCommand: CommandDef = {
  name: 'info',
  usage: '<checkpoint.safetensors | model.json> [--json]',
  summary: 'Show a checkpoint\'s metadata and tensors, and re-evaluate its train/test loss and accuracy.',
  flags,
  fileArgs: {
    slots: [
      { at: 0, kind: 'checkpoint', required: true },
      { at: '--dataset', kind: 'dataset' },
    ],
    quick: [],
  },
  async run(argv: string[], io: Io): Promise<number> {
    const { flags: f, positionals } = parseArgs(argv, flags, 'info');
    if (positionals.length !== 1) throw inputError('"landscape info" needs exactly one checkpoint file, e.g. landscape info runs/digits-sgd-s0/final.safetensors');
    const file = positionals[0];
    if (!fs.existsSync(file)) throw inputError('file not found; check the path', file);
    const backend = await initBackend(f.backend as string | undefined);
    const ck = await loadAnyCheckpoint(file, f.model as string | undefined, { tensorMap: readTensorMap(f.tensorMap as string | undefined) });
    const evaluation = f.noEval ? undefined : await reevaluateCheckpoint(ck, { dataset: f.dataset as string | undefined, subset: subsetFlag(f.subset) });
    if (f.json) {
      io.out(
        JSON.stringify({
          file,
          backend: backend.name,
          model: ck.specString,
          paramCount: ck.theta.length,
          metadata: ck.meta,
          tensors: ck.tensors,
          evaluation,
          ...(ck.notes ? { notes: ck.notes } : {}),
        }),
      );
      return 0;
    }
    io.out(`${file}`);
    io.out(`model      ${ck.specString} (${ck.theta.length} parameters)`);
    for (const note of ck.notes ?? []) io.out(`note       ${note}`);
    io.out('metadata');
    const metaRows = Object.entries(ck.meta).map(([k, v]) => ['  ' + k, v]);
    if (metaRows.length) io.out(table(metaRows));
    else io.out('  (none)');
    io.out('tensors');
    io.out(table(ck.tensors.map((t) => ['  ' + t.name, t.dtype, `[${t.shape.join(', ')}]`, `norm ${fmt(t.norm)}`])));
    if (evaluation) {
      io.out(`evaluated on ${evaluation.dataset} (${describeBackend(backend)})`);
      const rows = [['', 'loss', 'accuracy'], ['  train', fmt(evaluation.trainLoss), fmt(evaluation.trainAccuracy)], ['  test', fmt(evaluation.testLoss), fmt(evaluation.testAccuracy)]];
      io.out(table(rows));
    }
    return 0;
  },
};
