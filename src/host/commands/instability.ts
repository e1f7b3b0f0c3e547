import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { experimentToTrainConfig, runFolderName } from '../experiment';
import { loadExperiment } from '../training';
import { reportError } from '../log';
import { backendSetting, runsFolder } from '../settings';
import { ensureTrusted, primaryFolder } from '../workspace';
import type { Services } from '../services';

const TITLE = 'Landscape: Instability Analysis';

/** 0, 1, 2, half-way and the last epoch: Frankle et al.'s early spawn points and two late ones. */
function defaultSpawnEpochs(epochs: number): string {
  return [...new Set([0, 1, 2, Math.round(epochs / 2), epochs].filter((k) => k <= epochs))].sort((a, b) => a - b).join(',');
}

/** "0,1,2" as numbers (the host does not load the engine; the engine checks the plan again). */
function parseSpawnEpochs(text: string): number[] {
  return text.split(',').map((p) => (/^\s*\d+\s*$/.test(p) ? Number(p) : NaN));
}

function spawnEpochError(text: string, epochs: number): string | null {
  const ks = parseSpawnEpochs(text);
  const bad = ks.some((k, i) => !Number.isInteger(k) || k > epochs || (i > 0 && k <= ks[i - 1]));
  return bad ? `Give increasing whole epochs from 0 to ${epochs}, separated by commas, e.g. ${defaultSpawnEpochs(epochs)}.` : null;
}

/**
 * Landscape: Instability Analysis — landscape.json's experiment (or the
 * defaults) as the parent run, the spawn epochs asked for, two copies per
 * spawn epoch; the analysis goes into a new folder under the runs folder.
 */
export async function instability(s: Services): Promise<void> {
  if (!(await ensureTrusted('The instability analysis'))) return;
  const folder = primaryFolder();
  if (!folder) return void vscode.window.showErrorMessage('Landscape: open a folder first: the instability analysis writes its runs there.');
  const root = folder.uri.fsPath;
  let exp;
  try {
    exp = loadExperiment(root).experiment;
  } catch (e) {
    return reportError(s.log, 'cannot start the instability analysis', e);
  }
  const typed = await vscode.window.showInputBox({
    title: TITLE,
    prompt: `Spawn epochs k (0 = the initial weights, up to ${exp.epochs}): at each, two copies of ${exp.model} on ${exp.dataset} train on from the parent's weights with other batch orders.`,
    value: defaultSpawnEpochs(exp.epochs),
    validateInput: (v) => spawnEpochError(v, exp.epochs),
  });
  if (typed === undefined) return;
  const runs = runsFolder(root);
  const out = path.join(runs, `instability-${runFolderName(exp, new Date(), (n) => fs.existsSync(path.join(runs, `instability-${n}`)))}`);
  const { out: _out, checkpointEvery: _every, stabilityEvery: _stability, resume: _resume, overwrite: _overwrite, ...train } = experimentToTrainConfig(exp, { root, out, backend: backendSetting() });
  await s.analysis.instability(train as unknown as Record<string, unknown>, parseSpawnEpochs(typed), out);
}
