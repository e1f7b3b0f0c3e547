import * as vscode from 'vscode';
import type { Services } from '../services';

/** Landscape: Clear Kernel PCA Set. */
export async function clearKpcaSet(s: Services): Promise<void> {
  const n = s.kpcaSet.files.length;
  await s.kpcaSet.clear();
  void vscode.window.showInformationMessage(`Landscape: the kernel PCA set is empty (${n} checkpoint${n === 1 ? '' : 's'} removed).`);
}
