import * as path from 'path';
import * as vscode from 'vscode';
import type { Services } from '../services';
import { pickCheckpoint } from './pickCheckpoint';

/** Landscape: Set as Minimum A — the first end of a barrier computation. */
export async function setMinimumA(s: Services, arg?: unknown): Promise<void> {
  const file = await pickCheckpoint(s, arg, 'Set as Minimum A');
  if (!file) return;
  await s.minimumA.set(file);
  s.log.info(`minimum A: ${file}`);
  void vscode.window.showInformationMessage(`Landscape: Minimum A is ${path.basename(file)}.`);
}
