/**
 * Checks on what reaches the extension from outside its own code: paths a
 * webview sends (a webview is a web page, and a checkpoint's metadata is
 * shown in one), and what the user selected for an action. Pure (no vscode
 * import), so the unit tests exercise them directly; src/host/workspace.ts
 * and the command handlers call them with the live workspace.
 */
import * as fs from 'fs';
import * as path from 'path';
import { escapeControl, truncate } from '../engine/text';

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Longest path a webview may send (PATH_MAX on Linux). */
export const MAX_WEBVIEW_PATH = 4096;

/** `file` lies strictly inside `dir` (both already resolved). */
export function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel.length > 0 && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * A path from a webview, accepted only when it is an absolute path to an
 * existing regular file inside one of `roots` after resolving symlinks (so
 * neither "../" nor a link inside the workspace can point the host at a file
 * outside it). Returns the path as given, or why it was refused.
 */
export function containedFile(p: unknown, roots: readonly string[]): Checked<string> {
  if (typeof p !== 'string') return { ok: false, reason: 'not a string' };
  if (p.length === 0 || p.length > MAX_WEBVIEW_PATH) return { ok: false, reason: 'empty or too long' };
  if (p.includes('\0')) return { ok: false, reason: 'holds a NUL character' };
  if (!path.isAbsolute(p)) return { ok: false, reason: 'not an absolute path' };
  let real: string;
  try {
    real = fs.realpathSync(p);
    if (!fs.statSync(real).isFile()) return { ok: false, reason: 'not a file' };
  } catch {
    return { ok: false, reason: 'no such file' };
  }
  for (const root of roots) {
    let r = root;
    try {
      r = fs.realpathSync(root);
    } catch {
      // keep the unresolved root
    }
    if (isInside(r, real)) return { ok: true, value: p };
  }
  return { ok: false, reason: 'outside the workspace' };
}

/** What a path from a webview may name. */
export type WebviewPathKind = 'checkpoint' | 'runJson' | 'result';

export function isCheckpointFileName(p: string): boolean {
  const base = path.basename(p).toLowerCase();
  return base.endsWith('.safetensors') || base === 'model.json';
}

/** containedFile, plus the kind of file the message may name. */
export function checkWebviewPath(p: unknown, roots: readonly string[], kind: WebviewPathKind): Checked<string> {
  const c = containedFile(p, roots);
  if (!c.ok) return c;
  if (kind === 'checkpoint' && !isCheckpointFileName(c.value)) return { ok: false, reason: 'not a checkpoint file' };
  if (kind === 'runJson' && path.basename(c.value) !== 'run.json') return { ok: false, reason: 'not a run.json' };
  if (kind === 'result' && !/\.json$/i.test(c.value)) return { ok: false, reason: 'not a result file' };
  return c;
}

/** A path from a webview for the log: quoted, one line, bounded. */
export function describeUntrustedPath(p: unknown): string {
  if (typeof p !== 'string') return typeof p;
  return JSON.stringify(escapeControl(truncate(p, 300)));
}

/**
 * Text from a file name or an error message, safe to show in a VS Code
 * notification: one line, bounded, and without "[label](command:…)" links,
 * which notifications turn into clickable commands.
 */
export function notificationText(s: string, max = 600): string {
  return escapeControl(truncate(s, max)).replace(/\]\(/g, '] (');
}

/**
 * The checkpoint an action was given (an explorer click, the open viewer, a
 * file dialog). Refusals say what to do; `verb` names the action, e.g.
 * "Inspect Checkpoint". A folder holding a tfjs model.json means that file.
 */
export function checkCheckpointChoice(file: string | undefined, verb: string): Checked<string> {
  const pick = `choose a .safetensors checkpoint or a tfjs model.json (right-click one in the explorer, or open it first)`;
  if (file === undefined || file.trim() === '') return { ok: false, reason: `Landscape: ${verb} needs a checkpoint; ${pick}.` };
  const name = notificationText(path.basename(file), 200);
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return { ok: false, reason: `Landscape: ${verb}: ${notificationText(file, 300)} does not exist; ${pick}.` };
  }
  if (st.isDirectory()) {
    const mj = path.join(file, 'model.json');
    if (fs.existsSync(mj)) return { ok: true, value: mj };
    return { ok: false, reason: `Landscape: ${verb}: ${name} is a folder; choose a .safetensors file inside it, or a folder holding a tfjs model.json.` };
  }
  if (!st.isFile() || !isCheckpointFileName(file)) {
    return { ok: false, reason: `Landscape: ${verb}: ${name} is not a checkpoint; ${pick}.` };
  }
  return { ok: true, value: file };
}

/**
 * Several checkpoints (an explorer multi-selection): each must be one, and
 * there must be at least `min` distinct ones.
 */
export function checkCheckpointChoices(files: readonly string[], verb: string, min: number, max = Infinity): Checked<string[]> {
  const out: string[] = [];
  for (const f of files) {
    const c = checkCheckpointChoice(f, verb);
    if (!c.ok) return c;
    if (!out.includes(c.value)) out.push(c.value);
  }
  if (out.length < min) {
    const got = out.length === 0 ? 'none is selected' : `only ${out.length} ${out.length === 1 ? 'is' : 'are'} selected`;
    return { ok: false, reason: `Landscape: ${verb} needs ${min} different checkpoints, but ${got}; select ${min} .safetensors files in the explorer (Ctrl/Cmd-click), then run it again.` };
  }
  if (out.length > max) {
    return { ok: false, reason: `Landscape: ${verb} takes at most ${max} checkpoints, but ${out.length} are selected; select fewer.` };
  }
  return { ok: true, value: out };
}
