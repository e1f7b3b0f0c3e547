import * as fs from 'fs';
import { FlagSpec, parseArgs } from '../args';
import type { Io } from '../output';
import { fmt } from '../output';
import { inputError } from '../../engine/errors';
import { BACKEND_CHOICES, initBackend } from '../../engine/backend';
import { loadAnyCheckpoint } from '../../engine/evaluate';
import { evaluateOnData } from '../../engine/evaluateOnData';
import { SUBSET_FLAG, TENSOR_MAP_FLAG, readTensorMap, subsetFlag } from './common-analysis';
import type { CommandDef } from './types';

const flags: FlagSpec[] = [
  { name: 'data', type: 'string', description: 'dataset to evaluate on, every row as given (no split, no standardisation)', metavar: 'name|path' },
  { name: 'model', type: 'string', description: 'model spec, for checkpoints without Landscape metadata (e.g. PyTorch safetensors)', metavar: 'spec' },
  SUBSET_FLAG,
  TENSOR_MAP_FLAG,
  { name: 'backend', type: 'string', description: 'tfjs backend', choices: BACKEND_CHOICES, defaultText: 'auto' },
  { name: 'json', type: 'boolean', description: 'print {"loss", "accuracy", "samples"} as one JSON object' },
];

export const evalCommand: CommandDef = {
  name: 'eval',
  usage: '<checkpoint> --data <dataset> [--model spec] [--json]',
  summary: 'Loss and accuracy of a checkpoint on every row of a dataset as given: the number PyTorch prints for the module in eval mode.',
  flags,
  fileArgs: {
    slots: [
      { at: 0, kind: 'checkpoint', required: true },
      { at: '--data', kind: 'dataset' },
    ],
    quick: [],
  },
  async run(argv: string[], io: Io): Promise<number> {
    const { flags: f, positionals } = parseArgs(argv, flags, 'eval');
    if (positionals.length !== 1) throw inputError('"landscape eval" needs exactly one checkpoint, e.g. landscape eval lenet.safetensors --data test.npz --model lenet');
    const data = f.data as string | undefined;
    if (!data) throw inputError('"landscape eval" needs --data <dataset>: a built-in name, a named image set (fashion-mnist) or a file (.npz, .csv, a folder of IDX files)');
    const file = positionals[0];
    if (!fs.existsSync(file)) throw inputError('file not found; check the path', file);
    await initBackend(f.backend as string | undefined);
    const ck = await loadAnyCheckpoint(file, f.model as string | undefined, { tensorMap: readTensorMap(f.tensorMap as string | undefined) });
    const r = await evaluateOnData(ck, data, { subset: subsetFlag(f.subset) });
    if (f.json) {
      io.out(JSON.stringify({ loss: r.loss, ...(r.accuracy !== undefined ? { accuracy: r.accuracy } : {}), samples: r.samples, dataset: r.dataset, model: ck.specString, ...(r.preprocessing ? { preprocessing: r.preprocessing } : {}), ...(r.batchNorm ? { batchNorm: r.batchNorm } : {}), ...(ck.notes ? { notes: ck.notes } : {}) }));
      return 0;
    }
    io.out(`${file} on ${r.dataset} (${r.samples} rows, as given): loss ${fmt(r.loss)}${r.accuracy !== undefined ? `, accuracy ${fmt(r.accuracy)}` : ''}`);
    if (r.preprocessing === 'standardised as in training') io.out('features standardised as in training (the training part\'s statistics of the recorded split)');
    else if (r.preprocessing) io.out(`inputs normalised per channel as in training (mean ${r.preprocessing.normalization.mean.map((v) => fmt(v)).join(', ')}, std ${r.preprocessing.normalization.std.map((v) => fmt(v)).join(', ')})`);
    if (r.batchNorm) io.out(`BatchNorm used the ${r.batchNorm}`);
    for (const note of ck.notes ?? []) io.out(`note: ${note}`);
    return 0;
  },
};
