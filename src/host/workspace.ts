/** Workspace folders, trust, and checks on paths that arrive from webviews. */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';

/** The folder Landscape works in: the one holding the active file, else the first. */
export function primaryFolder(): vscode.WorkspaceFolder | undefined {
  const folders = vscode.workspace.workspaceFolders?.filter((f) => f.uri.scheme === 'file');
  if (!folders || folders.length === 0) return undefined;
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && active.scheme === 'file') {
    const f = vscode.workspace.getWorkspaceFolder(active);
    if (f && f.uri.scheme === 'file') return f;
  }
  return folders[0];
}

export function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel.length > 0 && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * A path a webview sent us is only used if it is absolute, inside a workspace
 * folder (after resolving symlinks), and names an existing file. A webview is
 * a web page; it must not be able to point the host at arbitrary files.
 */
export function checkWorkspaceFile(p: string): string | undefined {
  if (!path.isAbsolute(p) || p.includes('\0')) return undefined;
  let real: string;
  try {
    real = fs.realpathSync(p);
    if (!fs.statSync(real).isFile()) return undefined;
  } catch {
    return undefined;
  }
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    if (f.uri.scheme !== 'file') continue;
    let root = f.uri.fsPath;
    try {
      root = fs.realpathSync(root);
    } catch {
      // keep the unresolved root
    }
    if (isInside(root, real)) return p;
  }
  return undefined;
}

export function isCheckpointPath(p: string): boolean {
  const base = path.basename(p).toLowerCase();
  return base.endsWith('.safetensors') || base === 'model.json';
}

/**
 * Training and writing files need a trusted workspace (a landscape.json or a
 * CSV could come from anyone). Inspecting and plotting work without trust.
 */
export async function ensureTrusted(what: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const pick = await vscode.window.showWarningMessage(
    `Landscape: ${what} writes files in this workspace, so it needs a trusted workspace. Inspecting checkpoints works without trust.`,
    'Manage Workspace Trust',
  );
  if (pick) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}
