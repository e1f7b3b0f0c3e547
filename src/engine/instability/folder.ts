/**
 * The analysis folder and what a re-run may take from it:
 *
 *   <out>/instability-plan.json        the plan (refused if a re-run's differs)
 *   <out>/parent/                      the parent's run folder (checkpoints at every spawn epoch)
 *   <out>/k-NNNN/child-C/              child C spawned at epoch NNNN (an ordinary run folder)
 *   <out>/k-NNNN/barriers.json         the barriers between that spawn epoch's children
 *   <out>/instability.json             the result
 *
 * Every file is written atomically, so a killed analysis leaves each
 * finished part whole; an unfinished run is started again from scratch (a
 * resumed run would restart its optimizer state, and the numbers would not
 * be those of an uninterrupted analysis).
 */
import * as fs from 'fs';
import * as path from 'path';
import { inputError } from '../errors';
import { writeJsonAtomic } from '../checkpoint/atomic';
import { readRunJson, type RunJson } from '../train';
import type { InstabilityPlan } from './options';

export const PLAN_FILE = 'instability-plan.json';
export const INSTABILITY_FILE = 'instability.json';

export function parentDir(out: string): string {
  return path.join(out, 'parent');
}

export function spawnDir(out: string, k: number): string {
  return path.join(out, `k-${String(k).padStart(4, '0')}`);
}

export function childDir(out: string, k: number, child: number): string {
  return path.join(spawnDir(out, k), `child-${child}`);
}

export function barriersFile(out: string, k: number): string {
  return path.join(spawnDir(out, k), 'barriers.json');
}

/** A run that completed and left its final weights: reused as it is. */
export function finishedRun(dir: string): RunJson | undefined {
  if (!fs.existsSync(path.join(dir, 'run.json')) || !fs.existsSync(path.join(dir, 'final.safetensors'))) return undefined;
  try {
    const rj = readRunJson(dir);
    return rj.status === 'completed' ? rj : undefined;
  } catch {
    return undefined;
  }
}

/** JSON with keys in a fixed order and undefined fields dropped, so equal plans compare equal. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => [k, canonical(o[k])]));
  }
  return v;
}

const DERIVED = new Set(['childSeeds', 'epochs', 'seed', 'dataSeed']);

/** The first setting two plans differ in, as "name: old → new". */
function firstDifference(was: Record<string, unknown>, now: Record<string, unknown>, prefix = ''): string | undefined {
  // Settings derived from others (the child seeds from --seed) are named last: the user changed the other one.
  const keys = [...new Set([...Object.keys(was), ...Object.keys(now)])].sort((x, y) => Number(DERIVED.has(x)) - Number(DERIVED.has(y)));
  for (const k of keys) {
    const a = was[k];
    const b = now[k];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
      return firstDifference(a as Record<string, unknown>, b as Record<string, unknown>, `${prefix}${k}.`);
    }
    return `${prefix}${k}: ${JSON.stringify(a ?? null)} then, ${JSON.stringify(b ?? null)} now`;
  }
  return undefined;
}

/**
 * Take the folder for this plan: a new folder gets the plan written; a folder
 * holding an analysis with a different plan is refused (its parts would not
 * belong to this one); the same plan continues where the last run stopped.
 */
export function claimFolder(out: string, plan: InstabilityPlan): void {
  const file = path.join(out, PLAN_FILE);
  const now = canonical(plan) as Record<string, unknown>;
  if (fs.existsSync(file)) {
    let was: Record<string, unknown>;
    try {
      was = canonical(JSON.parse(fs.readFileSync(file, 'utf8'))) as Record<string, unknown>;
    } catch (e) {
      throw inputError(`${PLAN_FILE} is unreadable (${(e as Error).message}); remove the folder or choose another --out`, out);
    }
    const diff = firstDifference(was, now);
    if (diff) throw inputError(`holds an instability analysis with other options (${diff}); re-run with the same options to continue it, or choose another --out`, out);
    return;
  }
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0) {
    throw inputError('is not empty and holds no instability analysis; choose an empty or new --out folder', out);
  }
  fs.mkdirSync(out, { recursive: true });
  writeJsonAtomic(file, now);
}
