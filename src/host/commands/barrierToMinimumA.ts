import * as vscode from 'vscode';
import { COMMANDS } from '../commandTable';
import type { Services } from '../services';
import { pickCheckpoint } from './pickCheckpoint';

/** Landscape: Compute Barrier to Minimum A — the path from Minimum A to the clicked (or viewed, or chosen) checkpoint. */
export async function barrierToMinimumA(s: Services, arg?: unknown): Promise<void> {
  const a = s.minimumA.get();
  if (!a) {
    const pick = await vscode.window.showWarningMessage('Landscape: no Minimum A yet. Right-click a checkpoint and choose Set as Minimum A first.', 'Set Minimum A…');
    if (pick) await vscode.commands.executeCommand(COMMANDS.setMinimumA.id);
    return;
  }
  const b = await pickCheckpoint(s, arg, 'Compute Barrier');
  if (!b) return;
  await s.barriers.computePath(a, b);
}
