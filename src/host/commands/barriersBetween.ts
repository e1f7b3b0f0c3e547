import * as vscode from 'vscode';
import { barriersFolder } from '../barriers';
import type { Services } from '../services';
import { runsFolder } from '../settings';
import { primaryFolder } from '../workspace';
import { checkpointsInSelection, explorerSelection, narrowToFinals } from './pickMinima';


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
  const { files, singleFolder } = checkpointsInSelection(selected);
  if (files.length < 2) {
    void vscode.window.showErrorMessage(`Landscape: found ${files.length} checkpoint${files.length === 1 ? '' : 's'} in the selection; barriers need at least two.`);
    return;
  }
  const chosen = await narrowToFinals(files, 'Landscape: Barriers Between Checkpoints');
  if (!chosen) return;
  await s.barriers.computeAll(chosen, singleFolder ?? barriersFolder(chosen));
}
