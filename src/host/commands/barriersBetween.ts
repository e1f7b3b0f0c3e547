import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { barriersFolder, checkpointsIn } from '../barriers';
import type { Services } from '../services';
import { runsFolder } from '../settings';
import { isCheckpointPath, primaryFolder } from '../workspace';
import { explorerSelection } from './pickMinima';

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A runs folder holds every epoch of every run; barriers are usually wanted
 * between the runs' final minima. Offer that choice when both are there.
 */
async function narrow(files: string[]): Promise<string[] | undefined> {
  const finals = files.filter((f) => path.basename(f) === 'final.safetensors');
  if (finals.length < 2 || finals.length === files.length) return files;
  const pick = await vscode.window.showQuickPick(
    [
      { label: `The final checkpoint of each run (${finals.length})`, value: finals },
      { label: `Every checkpoint (${files.length})`, description: 'best, final and periodic ones', value: files },
    ],
    { title: 'Landscape: Barriers Between Checkpoints', placeHolder: 'Which minima?' },
  );
  return pick?.value;
}

/** Landscape: Barriers Between Checkpoints — all pairs (or random ones) of a folder's checkpoints or a selection. */
export async function barriersBetween(s: Services, arg?: unknown, args?: unknown): Promise<void> {
  let selected = explorerSelection(arg, args).filter((u) => u.scheme === 'file').map((u) => u.fsPath);
  if (selected.length === 0) {
    const root = primaryFolder()?.uri.fsPath;
    const picked = await vscode.window.showOpenDialog({
      canSelectFiles: true,
      canSelectFolders: true,
      canSelectMany: true,
      openLabel: 'Compute Barriers',
      title: 'Landscape: a folder of checkpoints, or several checkpoints',
      defaultUri: root ? vscode.Uri.file(runsFolder(root)) : undefined,
    });
    if (!picked?.length) return;
    selected = picked.map((u) => u.fsPath);
  }
  const singleFolder = selected.length === 1 && isDir(selected[0]) ? selected[0] : undefined;
  const found: string[] = [];
  for (const p of selected) {
    if (isDir(p)) found.push(...checkpointsIn(p));
    else if (isCheckpointPath(p)) found.push(p);
  }
  const files = [...new Set(found)];
  if (files.length < 2) {
    void vscode.window.showErrorMessage(`Landscape: found ${files.length} checkpoint${files.length === 1 ? '' : 's'} in the selection; barriers need at least two.`);
    return;
  }
  const chosen = await narrow(files);
  if (!chosen) return;
  await s.barriers.computeAll(chosen, singleFolder ?? barriersFolder(chosen));
}
