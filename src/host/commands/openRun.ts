import * as path from 'path';
import * as vscode from 'vscode';
import type { Services } from '../services';

/** Internal: the result panel of a run folder (from the side view or the "training done" message). */
export function openRun(s: Services, arg?: unknown): void {
  if (!(arg instanceof vscode.Uri) || arg.scheme !== 'file' || path.basename(arg.fsPath) !== 'run.json') {
    s.log.warn('open run: expected the Uri of a run.json');
    return;
  }
  s.results.open('trainingRun', arg.fsPath);
}
