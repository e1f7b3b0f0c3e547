/**
 * Finds the runs (run.json) and checkpoints (*.safetensors, tfjs model.json)
 * in the workspace and keeps the list current with a file watcher.
 */
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { RunsList } from '../protocol';
import type { Log } from './log';
import { buildRunsList, SCAN_LIMITS } from './runScan';
import { primaryFolder } from './workspace';

const EXCLUDE = '{**/node_modules/**,**/.git/**}';
const MAX_RUN_JSON_BYTES = 5 * 1024 * 1024;
const TFJS_SNIFF_BYTES = 256 * 1024;
const DEBOUNCE_MS = 400;

export function readJsonFile(file: string, maxBytes = MAX_RUN_JSON_BYTES): unknown {
  try {
    if (fs.statSync(file).size > maxBytes) return undefined;
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A model.json is a tfjs LayersModel when it carries a weights manifest (not every model.json is one). */
export function isTfjsModelJson(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(TFJS_SNIFF_BYTES);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).includes('"weightsManifest"');
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export class WorkspaceRuns implements vscode.Disposable {
  private current: RunsList = { runs: [], others: [], truncated: false };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private readonly emitter = new vscode.EventEmitter<RunsList>();
  readonly onDidChange = this.emitter.event;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly log: Log) {
    const w = vscode.workspace.createFileSystemWatcher('**/{run.json,*.safetensors,model.json}');
    this.subs.push(w, w.onDidCreate(() => this.refresh()), w.onDidDelete(() => this.refresh()), w.onDidChange(() => this.refresh()));
    this.subs.push(vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()));
  }

  get list(): RunsList {
    return this.current;
  }

  /** Rescan soon (file events come in bursts while a run writes checkpoints). */
  refresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.scanNow();
    }, DEBOUNCE_MS);
  }

  async scanNow(): Promise<RunsList> {
    if (this.scanning) {
      this.again = true;
      await this.scanning;
      return this.current;
    }
    this.scanning = this.scan().finally(() => (this.scanning = undefined));
    await this.scanning;
    if (this.again) {
      this.again = false;
      return this.scanNow();
    }
    return this.current;
  }

  private async scan(): Promise<void> {
    const root = primaryFolder()?.uri.fsPath;
    if (!root) {
      this.set({ runs: [], others: [], truncated: false });
      return;
    }
    try {
      const [runJson, ckpts, models] = await Promise.all([
        vscode.workspace.findFiles('**/run.json', EXCLUDE, SCAN_LIMITS.runs + 1),
        vscode.workspace.findFiles('**/*.safetensors', EXCLUDE, SCAN_LIMITS.checkpoints + 1),
        vscode.workspace.findFiles('**/model.json', EXCLUDE, 200),
      ]);
      const files = (uris: vscode.Uri[]) => uris.filter((u) => u.scheme === 'file').map((u) => u.fsPath);
      const tfjs = files(models).filter(isTfjsModelJson);
      const list = buildRunsList({
        root,
        runJsonFiles: files(runJson),
        checkpointFiles: [...files(ckpts), ...tfjs],
        readRunJson: (f) => readJsonFile(f),
        truncated: runJson.length > SCAN_LIMITS.runs || ckpts.length > SCAN_LIMITS.checkpoints,
      });
      this.set(list);
    } catch (e) {
      this.log.warn(`scanning the workspace for runs failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private set(list: RunsList): void {
    this.current = list;
    this.emitter.fire(list);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
    this.emitter.dispose();
  }
}
