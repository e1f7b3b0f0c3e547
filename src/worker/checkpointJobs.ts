/**
 * The worker's checkpoint jobs: inspect a file (tensors, histograms, the
 * network it describes), re-evaluate it on its data, and probe the backend.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend, describeBackend } from '../engine/backend';
import { CancelledError } from '../engine/errors';
import { loadAnyCheckpoint, reevaluateCheckpoint } from '../engine/evaluate';
import { readSafetensors } from '../engine/checkpoint';
import { DATASET_NAMES } from '../engine/data';
import { OPTIMIZER_NAMES } from '../engine/optim/types';
import { paramLayout, specToString, paramCount, type ModelSpec } from '../engine/model/spec';
import { formatNodes } from '../engine/model/arch/format';
import type { NodeShapes } from '../engine/model/arch';
import type { CheckpointDetails, EvalResult, Histogram, ModelSpecInfo } from '../protocol';
import { histogram, tensorStat } from './tensorStats';
import { HISTOGRAM_BINS, type ProbeResult } from './protocol';

function specInfo(spec: ModelSpec, theta: Float32Array): ModelSpecInfo {
  const filters = firstFilters(spec, theta);
  return {
    text: specToString(spec),
    layers: [...spec.layers],
    activation: spec.activation,
    bias: spec.bias,
    loss: spec.loss,
    paramCount: paramCount(spec),
    ...(spec.arch ? { layerLines: layerLines(spec.arch.shapes.nodes) } : {}),
    ...(filters ? { filters } : {}),
  };
}

/** "conv(6,5,pad=2) → 6×28×28" for every layer, residual blocks' layers indented under them. */
function layerLines(nodes: readonly NodeShapes[], indent = ''): string[] {
  return nodes.flatMap((n) => {
    const line = `${indent}${formatNodes([n.node.op === 'res' ? { op: 'res', body: [] } : n.node]).replace('res()', 'res')} → ${n.output.join('×')}`;
    const inner = [...layerLines(n.body ?? [], `${indent}  `), ...(n.shortcut?.length ? layerLines(n.shortcut, `${indent}  shortcut: `) : [])];
    return [line, ...inner];
  });
}

/** The first convolution's weight, when it is small enough to show as images (the viewer draws each filter). */
function firstFilters(spec: ModelSpec, theta: Float32Array): ModelSpecInfo['filters'] {
  const w = spec.arch?.layout.params.find((t) => t.owner.node.op === 'conv' && t.role === 'weight');
  if (!w) return undefined;
  const [out, inC, k] = w.shape;
  if (out > 64 || inC > 3 || k > 11) return undefined;
  return { name: w.name, shape: [...w.shape], values: Array.from(theta.subarray(w.offset, w.offset + w.size)) };
}

export async function inspect(file: string): Promise<CheckpointDetails> {
  const fileSize = fs.statSync(file).size;
  const isJson = path.basename(file).toLowerCase().endsWith('.json');
  try {
    const ck = await loadAnyCheckpoint(file);
    const layout = paramLayout(ck.spec);
    const histograms: Histogram[] = [];
    for (const e of layout) {
      if (e.kind !== 'weight') continue;
      const h = histogram(e.name, ck.theta.subarray(e.offset, e.offset + e.size), HISTOGRAM_BINS);
      if (h) histograms.push(h);
    }
    const tensors = layout.map((e) => {
      const t = ck.tensors.find((x) => x.name === e.name);
      return tensorStat(e.name, t?.dtype ?? 'F32', e.shape, ck.theta.subarray(e.offset, e.offset + e.size));
    });
    return {
      format: ck.format,
      fileSize,
      metadata: Object.entries(ck.meta).map(([k, v]) => [k, String(v)] as [string, string]),
      spec: specInfo(ck.spec, ck.theta),
      tensors,
      histograms,
    };
  } catch (e) {
    if (isJson || e instanceof CancelledError) throw e;
    // Not a model we can rebuild (e.g. PyTorch weights without a spec): still show what is inside.
    const specError = e instanceof Error ? e.message : String(e);
    const decoded = await readSafetensors(file);
    const tensors = [...decoded.tensors].map(([name, t]) => tensorStat(name, t.dtype, t.shape, t.data));
    const histograms = [...decoded.tensors]
      .filter(([, t]) => t.shape.length === 2)
      .map(([name, t]) => histogram(name, t.data, HISTOGRAM_BINS))
      .filter((h): h is Histogram => h !== undefined);
    return { format: 'safetensors', fileSize, metadata: Object.entries(decoded.metadata), spec: null, specError, tensors, histograms };
  }
}

export async function evaluate(file: string, backend: string): Promise<EvalResult> {
  const t0 = Date.now();
  const info = await initBackend(backend);
  const ck = await loadAnyCheckpoint(file);
  const r = await reevaluateCheckpoint(ck);
  const n = (x: number | undefined) => (x === undefined ? undefined : Number.isFinite(x) ? x : null);
  return {
    dataset: r.dataset,
    backend: info.name,
    train: { loss: n(r.trainLoss) ?? null, ...(r.trainAccuracy !== undefined ? { accuracy: n(r.trainAccuracy) } : {}) },
    test: { loss: n(r.testLoss) ?? null, ...(r.testAccuracy !== undefined ? { accuracy: n(r.testAccuracy) } : {}) },
    seconds: (Date.now() - t0) / 1000,
  };
}

export async function probe(backend: string): Promise<ProbeResult> {
  const info = await initBackend(backend);
  return {
    backend: { text: `${info.name} · tfjs ${info.tfjsVersion}`, detail: describeBackend(info) },
    datasets: [...DATASET_NAMES],
    optimizers: [...OPTIMIZER_NAMES],
  };
}
