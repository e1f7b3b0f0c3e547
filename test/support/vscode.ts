/**
 * The one stand-in for the `vscode` module. Host code runs against it in plain
 * Node, so this file is the contract the host is tested against: what is
 * modelled here (URIs, events, commands, notifications, the status bar,
 * workspace folders) records what the host did in `rec`; anything else
 * answers with a harmless do-nothing value, so a host module can be loaded
 * without its whole API being faked.
 *
 * install() before requiring host modules (with require(), not import, so
 * the resolver hook is in place first); remove() afterwards.
 */
import * as path from 'node:path';
import Module from 'node:module';

/** What the host did through the stand-in. */
export interface Recorder {
  commands: { id: string; args: unknown[] }[];
  errors: string[];
  warnings: string[];
  infos: string[];
  statusText: string;
  statusShown: boolean;
  /** The workspace folders the stand-in reports; a test sets them. */
  folders: string[];
  /** Save dialogs shown (each answered with Cancel). */
  saveDialogs: number;
}

export const rec: Recorder = { commands: [], errors: [], warnings: [], infos: [], statusText: '', statusShown: false, folders: [], saveDialogs: 0 };

/** Forget the commands and notifications seen so far (folders and the status bar stay). */
export function resetRecorder(): void {
  rec.commands = [];
  rec.errors = [];
  rec.warnings = [];
  rec.infos = [];
  rec.saveDialogs = 0;
}

export class FakeUri {
  constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}
  static file(p: string): FakeUri {
    return new FakeUri('file', p);
  }
  static joinPath(base: FakeUri, ...parts: string[]): FakeUri {
    return new FakeUri(base.scheme, path.join(base.fsPath, ...parts));
  }
  static parse(s: string): FakeUri {
    return new FakeUri(s.split(':')[0], s);
  }
  toString(): string {
    return `${this.scheme}://${this.fsPath}`;
  }
}

class FakeEmitter<T> {
  private listeners: ((e: T) => void)[] = [];
  event = (l: (e: T) => void) => {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  };
  fire(e: T): void {
    for (const l of this.listeners) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

class FakeDisposable {
  constructor(private readonly f: () => void) {}
  dispose(): void {
    this.f();
  }
  static from(): { dispose(): void } {
    return { dispose() {} };
  }
}

/** Anything not modelled answers with itself: calls, property reads and `new` all work. */
const anything: unknown = new Proxy(function () {}, {
  get: (_t, k) => (k === 'then' ? undefined : anything),
  apply: () => anything,
  construct: () => anything as object,
});

const noDispose = () => ({ dispose() {} });

function fakeStatusBarItem() {
  return {
    set text(t: string) {
      rec.statusText = t;
    },
    get text() {
      return rec.statusText;
    },
    show: () => (rec.statusShown = true),
    hide: () => (rec.statusShown = false),
    dispose: () => undefined,
  };
}

const fakeWindow = {
  showErrorMessage: async (m: string) => void rec.errors.push(m),
  showWarningMessage: async (m: string) => void rec.warnings.push(m),
  showInformationMessage: async (m: string) => void rec.infos.push(m),
  showOpenDialog: async () => undefined,
  showSaveDialog: async () => void rec.saveDialogs++,
  showQuickPick: async () => undefined,
  createStatusBarItem: fakeStatusBarItem,
  activeTextEditor: undefined,
};

const fakeWorkspace = {
  get workspaceFolders() {
    return rec.folders.map((f, index) => ({ uri: FakeUri.file(f), name: path.basename(f), index }));
  },
  getWorkspaceFolder: () => undefined,
  getConfiguration: () => ({ get: (_k: string, d: unknown) => d, update: async () => undefined }),
  createFileSystemWatcher: () => ({ onDidChange: noDispose, onDidCreate: noDispose, onDidDelete: noDispose, dispose() {} }),
  textDocuments: [],
  isTrusted: true,
  asRelativePath: (p: string) => p,
  fs: anything,
};

const fakeVscode: Record<string, unknown> = {
  Uri: FakeUri,
  EventEmitter: FakeEmitter,
  Disposable: FakeDisposable,
  ViewColumn: { Active: -1, One: 1, Beside: -2 },
  ProgressLocation: { Notification: 15, Window: 10 },
  StatusBarAlignment: { Left: 1, Right: 2 },
  QuickPickItemKind: { Separator: -1, Default: 0 },
  commands: {
    executeCommand: async (id: string, ...args: unknown[]) => {
      rec.commands.push({ id, args });
      return undefined;
    },
    registerCommand: noDispose,
  },
  window: fakeWindow,
  workspace: fakeWorkspace,
};
const fakeModule = new Proxy(fakeVscode, { get: (t, k) => (k in t ? t[k as string] : k === '__esModule' ? false : anything) });

const FAKE_ID = path.join(__dirname, '__fake_vscode__.js');
type ResolveFn = (request: string, ...rest: unknown[]) => string;
const M = Module as unknown as { _resolveFilename: ResolveFn; _cache: Record<string, unknown> };
const originalResolve = M._resolveFilename;

/** From now on, require('vscode') gets the stand-in. */
export function installFakeVscode(): void {
  M._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
    if (request === 'vscode') return FAKE_ID;
    return originalResolve.call(this, request, ...rest);
  } as ResolveFn;
  const m = new Module(FAKE_ID);
  m.filename = FAKE_ID;
  m.loaded = true;
  m.exports = fakeModule;
  M._cache[FAKE_ID] = m;
}

export function removeFakeVscode(): void {
  M._resolveFilename = originalResolve;
  delete M._cache[FAKE_ID];
}

/** A log channel that keeps its lines, for checking what the host logged. */
export function fakeLog() {
  const lines: { level: string; text: string }[] = [];
  const push = (level: string) => (text: string) => lines.push({ level, text });
  return { lines, info: push('info'), warn: push('warn'), error: push('error'), debug: push('debug'), trace: () => {}, show: () => {} };
}

/**
 * A stand-in webview panel (`view`: the side view's kind, with
 * onDidChangeVisibility instead of onDidChangeViewState). What the host
 * posts is kept in `posted`; `send` plays the page posting a message.
 */
export function fakeWebviewPanel(kind: 'panel' | 'view' = 'panel') {
  const posted: unknown[] = [];
  const received = new FakeEmitter<unknown>();
  const changed = new FakeEmitter<void>();
  const disposed = new FakeEmitter<void>();
  const webview = {
    options: {},
    html: '',
    cspSource: 'https://webview.test',
    asWebviewUri: (u: FakeUri) => u,
    onDidReceiveMessage: received.event,
    postMessage: async (m: unknown) => (posted.push(m), true),
  };
  const panel: Record<string, unknown> = {
    webview,
    visible: true,
    active: true,
    viewType: 'landscape.test',
    title: '',
    onDidDispose: disposed.event,
    reveal() {},
    dispose: () => disposed.fire(),
  };
  panel[kind === 'panel' ? 'onDidChangeViewState' : 'onDidChangeVisibility'] = changed.event;
  return {
    panel,
    posted,
    send: (m: unknown) => received.fire(m),
    hide() {
      panel.visible = false;
      changed.fire();
    },
  };
}
