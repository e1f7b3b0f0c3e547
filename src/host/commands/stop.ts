import * as vscode from 'vscode';
import type { Services } from '../services';

/** Landscape: Stop — cancels the training run (or the optimizer study); finished epochs stay on disk. */
export function stop(s: Services): void {
  if (!s.training.stop() && !s.study.stop()) void vscode.window.showInformationMessage('Landscape: no training run to stop.');
}
