/**
 * Finding and running the PyTorch reference (bench/reference.py). Optional:
 * without python3 + torch the benchmark prints "n/a" ratios.
 */
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';

export interface TorchRuntime {
  python: string;
  version: string;
  script: string;
}

export interface TorchResult {
  workload: string;
  threads: number;
  torch: string;
  blas: string;
  timesMs: number[];
  rssBaseMb: number;
  rssPeakMb: number;
  info: Record<string, number | string>;
}

/** A BLAS library choice for torch: the installed default, or a directory put first on LD_LIBRARY_PATH. */
export interface BlasVariant {
  label: string;
  libDir?: string;
}

export const NO_TORCH = 'n/a (python3-torch not installed)';

function findScript(): string | undefined {
  const candidates = [path.join(__dirname, 'reference.py'), path.join(__dirname, '..', 'bench', 'reference.py'), path.resolve('bench', 'reference.py')];
  return candidates.find((p) => fs.existsSync(p));
}

/** The first python that imports torch and numpy: --python, LANDSCAPE_PYTHON, python3, /usr/bin/python3. */
export function findTorch(explicit?: string): TorchRuntime | undefined {
  const script = findScript();
  if (!script) return undefined;
  const candidates = [explicit, process.env.LANDSCAPE_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const python of [...new Set(candidates)]) {
    const r = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { python, version: r.stdout.trim(), script };
  }
  return undefined;
}

/**
 * The BLAS libraries torch can be pointed at. Debian's python3-torch calls
 * whatever libblas.so.3 the alternatives system selects: the reference
 * (netlib) BLAS unless an optimised one (OpenBLAS, BLIS) is installed.
 */
export function blasVariants(mode: 'installed' | 'all'): BlasVariant[] {
  const out: BlasVariant[] = [{ label: 'installed' }];
  if (mode === 'installed') return out;
  const roots = ['/usr/lib', '/usr/lib64'];
  for (const root of roots) {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(root);
    } catch {
      continue;
    }
    for (const e of entries) {
      const dir = path.join(root, e);
      for (const sub of safeList(dir)) {
        if ((sub === 'blas' || sub.startsWith('openblas') || sub.startsWith('blis')) && fs.existsSync(path.join(dir, sub, 'libblas.so.3'))) {
          out.push({ label: sub === 'blas' ? 'netlib' : sub, libDir: path.join(dir, sub) });
        }
      }
    }
  }
  return out;
}

function safeList(dir: string): string[] {
  try {
    return fs.statSync(dir).isDirectory() ? fs.readdirSync(dir) : [];
  } catch {
    return [];
  }
}

/** The reference of the convolutional workloads W7–W10, beside reference.py (whose loader and W3/W5 it imports). */
export function cnnScript(rt: TorchRuntime): string {
  return path.join(path.dirname(rt.script), 'reference_cnn.py');
}

export function runTorch(
  rt: TorchRuntime,
  data: string,
  workload: string,
  o: { threads: number; repeats: number; warmup: number; budgetS: number; blas: BlasVariant; script?: string },
): TorchResult | { error: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: String(o.threads), OPENBLAS_NUM_THREADS: String(o.threads) };
  if (o.blas.libDir) env.LD_LIBRARY_PATH = [o.blas.libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  const args = [o.script ?? rt.script, '--data', data, '--workload', workload, '--threads', String(o.threads), '--repeats', String(o.repeats), '--warmup', String(o.warmup), '--budget', String(o.budgetS)];
  const r = spawnSync(rt.python, args, { encoding: 'utf8', env, maxBuffer: 64 * 2 ** 20, timeout: 30 * 60_000 });
  if (r.status !== 0) {
    const msg = (r.stderr || r.stdout || String(r.error ?? 'failed')).trim().split('\n').slice(-1)[0];
    return { error: `reference ${workload} failed: ${msg}` };
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as TorchResult;
  } catch {
    return { error: `reference ${workload} printed no result` };
  }
}
