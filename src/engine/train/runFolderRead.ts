/**
 * Reading run folders back: beside the code that writes them (runFolder.ts),
 * so that the format has one owner.
 */
import * as fs from 'fs';
import * as path from 'path';
import { inputError } from '../errors';
import type { EpochEvent, RunJson, StabilityEvent } from './types';

/** Read a run folder's run.json with a clear error when it is missing or broken. */
export function readRunJson(dir: string): RunJson {
  const p = path.join(dir, 'run.json');
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch {
    throw inputError('no run.json here; is this a Landscape run folder?', p);
  }
  try {
    return JSON.parse(text) as RunJson;
  } catch (e) {
    throw inputError(`run.json is not valid JSON (${(e as Error).message})`, p);
  }
}

/** The lines of metrics.jsonl up to and including `upToEpoch`; torn and empty lines are dropped. */
export function keptMetrics(metricsPath: string, upToEpoch: number): string {
  let text = '';
  try {
    text = fs.readFileSync(metricsPath, 'utf8');
  } catch {
    return '';
  }
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    try {
      const e = JSON.parse(line) as EpochEvent | StabilityEvent;
      if ((e.type === 'epoch' || e.type === 'stability') && e.epoch <= upToEpoch) kept.push(line);
    } catch {
      // torn or empty line
    }
  }
  return kept.length ? kept.join('\n') + '\n' : '';
}
