import * as path from 'path';
import * as vscode from 'vscode';
import type { Services } from '../services';
import { checkpointFromUri, explorerSelection, pickWorkspaceCheckpoint } from './pickMinima';

/**
 * Landscape: Find Path Between Minima — two selected checkpoints; or Minimum A
 * and one to pick; or two to pick.
 */
export async function findPath(s: Services, arg?: unknown, args?: unknown): Promise<void> {
  const selected = explorerSelection(arg, args);
  if (selected.length === 2) {
    const [a, b] = selected.map((u) => checkpointFromUri(u));
    if (a && b) await s.barriers.computePath(a, b);
    return;
  }
  const given = selected.length === 1 ? checkpointFromUri(selected[0]) : undefined;
  if (selected.length === 1 && !given) return;
  const minA = s.minimumA.get();
  let a: string | undefined;
  let b: string | undefined;
  if (given && minA && given !== minA) {
    a = minA;
    b = given;
  } else if (given) {
    a = given;
  } else if (minA) {
    a = minA;
  }
  if (!a) {
    a = await pickWorkspaceCheckpoint(s, 'Landscape: Find Path Between Minima (1/2)', 'Minimum A: where the path starts');
    if (!a) return;
  }
  if (!b) {
    b = await pickWorkspaceCheckpoint(s, `Landscape: Find Path Between Minima (2/2)`, `Minimum B: the path goes from ${path.basename(path.dirname(a))}/${path.basename(a)} to…`, a);
    if (!b) return;
  }
  if (a === b) void vscode.window.showInformationMessage('Landscape: A and B are the same file; its barrier is zero (H is its own loss).');
  await s.barriers.computePath(a, b);
}
