import * as vscode from 'vscode';
import type { Services } from '../services';
import { clearKpcaSet } from './clearKpcaSet';

/** The status-bar item "kPCA set: N": run kernel PCA on the set, or clear it. */
export async function kpcaSetMenu(s: Services): Promise<void> {
  const files = s.kpcaSet.files;
  const items: (vscode.QuickPickItem & { value: 'run' | 'clear' })[] = [];
  if (files.length >= 2) items.push({ label: `$(graph-scatter) Run Kernel PCA on the set`, description: `${files.length} checkpoints`, value: 'run' });
  items.push({ label: '$(clear-all) Clear the set', description: files.length < 2 ? 'kernel PCA needs at least two checkpoints: add more with right-click > Add to Kernel PCA Set' : undefined, value: 'clear' });
  const pick = await vscode.window.showQuickPick(items, { title: `Landscape: Kernel PCA set (${files.length})`, placeHolder: files.map((f) => vscode.workspace.asRelativePath(f)).slice(0, 5).join(', ') });
  if (pick?.value === 'run') await s.analysis.kernelPca(files);
  else if (pick?.value === 'clear') await clearKpcaSet(s);
}
