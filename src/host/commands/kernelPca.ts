import * as path from 'path';
import * as vscode from 'vscode';
import type { Services } from '../services';
import { runsFolder } from '../settings';
import { primaryFolder } from '../workspace';
import { checkpointsInSelection, explorerSelection, narrowToFinals, pickWorkspaceCheckpoints } from './pickMinima';

const TITLE = 'Landscape: Kernel PCA of Checkpoints';


type Choice = vscode.QuickPickItem & { value: 'set' | 'pick' | 'folder' };

/** Where the checkpoints come from when the command is run from the palette. */
async function choose(s: Services): Promise<{ paths: string[]; fromSet?: boolean } | undefined> {
  const set = s.kpcaSet.files;
  const items: Choice[] = [];
  if (set.length >= 2) items.push({ label: `The kernel PCA set (${set.length} checkpoints)`, description: 'gathered with Add to Kernel PCA Set', value: 'set' });
  items.push({ label: 'Choose checkpoints…', description: 'from the runs in this workspace', value: 'pick' });
  items.push({ label: 'Choose a folder…', description: 'every checkpoint under it, e.g. runs/', value: 'folder' });
  const pick = await vscode.window.showQuickPick(items, { title: TITLE, placeHolder: 'Which checkpoints go into the map?' });
  if (!pick) return undefined;
  if (pick.value === 'set') return { paths: set, fromSet: true };
  if (pick.value === 'pick') {
    const files = await pickWorkspaceCheckpoints(s, TITLE, 'Select two or more checkpoints (Space to select, Enter to run)');
    return files ? { paths: files } : undefined;
  }
  const root = primaryFolder()?.uri.fsPath;
  const folder = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    openLabel: 'Map Its Checkpoints',
    title: 'Landscape: a folder of checkpoints (e.g. runs/)',
    defaultUri: root ? vscode.Uri.file(runsFolder(root)) : undefined,
  });
  const f = folder?.[0];
  return f && f.scheme === 'file' ? { paths: [f.fsPath] } : undefined;
}

/**
 * Landscape: Kernel PCA of Checkpoints — files or folders selected in the
 * explorer; from the palette the kernel PCA set, a multi-pick or a folder.
 */
export async function kernelPca(s: Services, arg?: unknown, args?: unknown): Promise<void> {
  let selected = explorerSelection(arg, args).filter((u) => u.scheme === 'file').map((u) => u.fsPath);
  if (selected.length === 0) {
    const c = await choose(s);
    if (!c) return;
    if (c.fromSet) {
      await s.analysis.kernelPca(c.paths);
      return;
    }
    selected = c.paths;
  }
  const { files, singleFolder } = checkpointsInSelection(selected);
  if (files.length < 2) {
    const where = singleFolder ? path.basename(singleFolder) : 'the selection';
    void vscode.window.showErrorMessage(`Landscape: found ${files.length} checkpoint${files.length === 1 ? '' : 's'} in ${where}; kernel PCA needs at least two.`);
    return;
  }
  const chosen = await narrowToFinals(files, TITLE);
  if (!chosen) return;
  await s.analysis.kernelPca(chosen, singleFolder && chosen.length === files.length ? singleFolder : undefined);
}
