/**
 * The manifest (package.json's contributes, or package.contributes.json
 * before it is merged) and the code agree: every command in
 * src/host/commandTable.ts is contributed with its title, every contributed
 * command has a handler, the explorer menus, views, custom editor, settings
 * and walkthrough refer to things that exist.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ANALYSIS_SETTING_RANGES,
  BUILTIN_CONTEXT_KEYS,
  CATEGORY,
  CHECKPOINT_FILE_WHEN,
  COMMANDS,
  COMMAND_LIST,
  CONTEXT_KEYS,
  SECTION,
  SETTING_DEFAULTS,
  SETTING_KEYS,
  VIEW_IDS,
  WEBVIEW_TYPES,
} from '../../../src/host/commandTable';
import { BACKEND_SETTING_VALUES, EXPERIMENT_FILE } from '../../../src/host/experiment';
import { ANALYSIS_SUFFIXES } from '../../../src/host/analysisFiles';
import { KERNEL_NAMES } from '../../../src/protocol';

const root = path.join(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const extra = fs.existsSync(path.join(root, 'package.contributes.json'))
  ? JSON.parse(fs.readFileSync(path.join(root, 'package.contributes.json'), 'utf8'))
  : {};
/** The merged manifest: package.json wins where it already has the entries. */
const manifest = {
  ...extra,
  ...pkg,
  contributes: pkg.contributes ?? extra.contributes,
  activationEvents: pkg.activationEvents ?? extra.activationEvents,
  scripts: { ...extra.scripts, ...pkg.scripts },
};
const c = manifest.contributes;

type Cmd = { command: string; title: string; category?: string };
type MenuItem = { command: string; when?: string; group?: string };

describe('extension manifest', () => {
  it('contributes exactly the commands of the command table, with the palette titles the tests use', () => {
    const contributed = (c.commands as Cmd[]).filter((x) => x.command.startsWith('landscape.'));
    assert.deepEqual(contributed.map((x) => x.command).sort(), COMMAND_LIST.map((x) => x.id).sort());
    for (const info of COMMAND_LIST) {
      const entry = contributed.find((x) => x.command === info.id)!;
      assert.equal(entry.title, info.title, info.id);
      assert.equal(entry.category, CATEGORY, info.id);
    }
    const palette = contributed.map((x) => `${x.category}: ${x.title}`).sort();
    assert.deepEqual(palette, [
      'Landscape: Add to Kernel PCA Set',
      'Landscape: Barriers Between Checkpoints',
      'Landscape: Clear Kernel PCA Set',
      'Landscape: Compare Optimizers',
      'Landscape: Compute Barrier Between Selected',
      'Landscape: Compute Barrier to Minimum A',
      'Landscape: Find Path Between Minima',
      'Landscape: Gradient Check',
      'Landscape: Hessian Spectrum and Stability',
      'Landscape: Inspect Checkpoint',
      'Landscape: Instability Analysis',
      'Landscape: Kernel PCA of Checkpoints',
      'Landscape: New Experiment',
      'Landscape: Open Panel',
      'Landscape: Plot Slice',
      'Landscape: Plot Slice Around',
      'Landscape: Select Backend',
      'Landscape: Set as Minimum A',
      'Landscape: Show Log',
      'Landscape: Stop',
      'Landscape: Train',
    ]);
  });

  it('has a handler for every command (the handler table is typed by the command table)', () => {
    const src = fs.readFileSync(path.join(root, 'src/host/commands/index.ts'), 'utf8');
    for (const key of Object.keys(COMMANDS)) {
      assert.ok(fs.existsSync(path.join(root, `src/host/commands/${key}.ts`)), `src/host/commands/${key}.ts`);
      assert.match(src, new RegExp(`\\b${key},`), `commands/index.ts lists ${key}`);
    }
  });

  it('offers the checkpoint actions in the explorer context menu, and only those, with their when clauses', () => {
    const items = (c.menus['explorer/context'] as MenuItem[]).filter((m) => m.command.startsWith('landscape.'));
    assert.deepEqual(items.map((m) => m.command).sort(), COMMAND_LIST.filter((x) => x.explorerContext).map((x) => x.id).sort());
    for (const m of items) {
      const info = COMMAND_LIST.find((x) => x.id === m.command)!;
      assert.equal(m.when, info.explorerWhen ?? CHECKPOINT_FILE_WHEN, m.command);
      assert.match(m.group ?? '', /^landscape@\d+$/);
    }
    const when = (id: string) => items.find((m) => m.command === id)!.when!;
    // The barrier to A only once A is set; between selected only with several files selected.
    assert.match(when(COMMANDS.barrierToMinimumA.id), /^landscape\.minimumASet && \(/);
    assert.match(when(COMMANDS.barrierBetweenSelected.id), /listMultiSelection && !explorerResourceIsFolder && \(/);
    assert.match(when(COMMANDS.barriersBetween.id), /explorerResourceIsFolder/);
    // Kernel PCA takes a folder or several files; the per-checkpoint analyses take the clicked file.
    assert.match(when(COMMANDS.kernelPca.id), /explorerResourceIsFolder \|\| listMultiSelection/);
    for (const k of ['addToKpcaSet', 'plotSliceAround', 'hessianSpectrum', 'gradientCheck'] as const) assert.equal(when(COMMANDS[k].id), CHECKPOINT_FILE_WHEN, k);
  });

  it('hides the explorer-only entries from the palette and shows Clear Kernel PCA Set only with a set', () => {
    const palette = c.menus.commandPalette as MenuItem[];
    const when = (id: string) => palette.find((m) => m.command === id)?.when;
    assert.equal(when(COMMANDS.plotSliceAround.id), 'false');
    assert.equal(when(COMMANDS.barrierBetweenSelected.id), 'false');
    assert.equal(when(COMMANDS.clearKpcaSet.id), CONTEXT_KEYS.kpcaSetNonEmpty);
    assert.equal(when(COMMANDS.plotSlice.id), undefined, 'Plot Slice is in the palette');
  });

  it('uses only known context keys and commands in when clauses and menus', () => {
    const known = new Set<string>([...Object.values(CONTEXT_KEYS), ...BUILTIN_CONTEXT_KEYS, 'false']);
    for (const [menu, items] of Object.entries(c.menus as Record<string, MenuItem[]>)) {
      for (const m of items) {
        assert.ok(COMMAND_LIST.some((x) => x.id === m.command), `${menu}: ${m.command}`);
        for (const term of (m.when ?? '').split(/&&|\|\|/)) {
          const key = term.replace(/[()!\s]/g, ' ').trim().split(/\s*(?:==|!=)\s*|\s+/)[0];
          if (key) assert.ok(known.has(key), `${menu}: unknown context key "${key}" in "${m.when}"`);
        }
        // Parentheses must balance, or VS Code ignores the whole clause.
        const w = m.when ?? '';
        assert.equal((w.match(/\(/g) ?? []).length, (w.match(/\)/g) ?? []).length, `${menu}: ${w}`);
      }
    }
  });

  it('declares the side view, the custom editor and the serializers the code registers', () => {
    assert.ok(c.viewsContainers.activitybar.some((v: { id: string; title: string }) => v.id === VIEW_IDS.container && v.title === 'Landscape'));
    const views = c.views[VIEW_IDS.container] as { id: string; type: string }[];
    assert.deepEqual(views.map((v) => [v.id, v.type]), [[VIEW_IDS.side, 'webview']]);
    const editors = c.customEditors as { viewType: string; selector: { filenamePattern: string }[]; priority: string }[];
    const ed = editors.find((e) => e.viewType === WEBVIEW_TYPES.checkpointEditor)!;
    assert.deepEqual(ed.selector, [{ filenamePattern: '*.safetensors' }]);
    assert.equal(ed.priority, 'default');
    const res = editors.find((e) => e.viewType === WEBVIEW_TYPES.resultEditor)!;
    assert.deepEqual(res.selector, [
      { filenamePattern: '*.path.json' },
      { filenamePattern: 'barriers.json' },
      ...Object.values(ANALYSIS_SUFFIXES).map((suffix) => ({ filenamePattern: `*${suffix}` })),
      { filenamePattern: 'instability.json' },
    ]);
    assert.equal(res.priority, 'default');
    assert.equal(editors.length, 2);
    for (const t of [WEBVIEW_TYPES.result, WEBVIEW_TYPES.checkpointPanel, WEBVIEW_TYPES.report]) assert.ok(manifest.activationEvents.includes(`onWebviewPanel:${t}`), t);
  });

  it('declares the settings the code reads, with the same defaults', () => {
    const props = c.configuration.properties as Record<string, { default: unknown; enum?: string[] }>;
    assert.deepEqual(Object.keys(props).sort(), Object.values(SETTING_KEYS).map((k) => `${SECTION}.${k}`).sort());
    for (const [key, name] of Object.entries(SETTING_KEYS)) {
      assert.deepEqual(props[`${SECTION}.${name}`].default, SETTING_DEFAULTS[key as keyof typeof SETTING_DEFAULTS], name);
    }
    assert.deepEqual(props['landscape.backend'].enum, [...BACKEND_SETTING_VALUES]);
    assert.deepEqual(props['landscape.kpca.kernel'].enum, [...KERNEL_NAMES]);
    // The ranges the settings editor enforces are the ones the code falls back from.
    for (const [key, [min, max]] of Object.entries(ANALYSIS_SETTING_RANGES)) {
      const prop = props[`${SECTION}.${SETTING_KEYS[key as keyof typeof SETTING_KEYS]}`] as { minimum?: number; maximum?: number };
      assert.deepEqual([prop.minimum, prop.maximum], [min, max], key);
    }
  });

  it('runs as a workspace extension with limited support for untrusted workspaces', () => {
    assert.deepEqual(manifest.extensionKind, ['workspace']);
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.ok(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('landscape.runsFolder'));
  });

  it('points at files that exist: schema, icons, walkthrough media', () => {
    const v = c.jsonValidation[0];
    assert.equal(v.fileMatch, EXPERIMENT_FILE);
    assert.ok(fs.existsSync(path.join(root, v.url)), v.url);
    assert.ok(fs.existsSync(path.join(root, manifest.icon)), manifest.icon);
    assert.equal(fs.readFileSync(path.join(root, manifest.icon)).subarray(1, 4).toString(), 'PNG', 'the marketplace icon must be a PNG');
    for (const vc of c.viewsContainers.activitybar) assert.ok(fs.existsSync(path.join(root, vc.icon)), vc.icon);
    const steps = c.walkthroughs[0].steps as { id: string; description: string; media: { markdown: string }; completionEvents: string[] }[];
    for (const s of steps) {
      assert.ok(fs.existsSync(path.join(root, s.media.markdown)), s.media.markdown);
      for (const cmd of s.description.match(/command:([\w.]+)/g) ?? []) assert.ok(COMMAND_LIST.some((x) => `command:${x.id}` === cmd), cmd);
      for (const ev of s.completionEvents) {
        const [kind, id] = ev.split(':');
        if (kind === 'onCommand') assert.ok(COMMAND_LIST.some((x) => x.id === id), ev);
        if (kind === 'onView') assert.equal(id, VIEW_IDS.side);
      }
    }
    assert.deepEqual(steps.map((s) => s.id), ['newExperiment', 'openPanel', 'train', 'inspect', 'firstBarrier', 'compareOptimizers']);
  });

  it('has the scripts to package the extension and type-check the webview', () => {
    assert.match(manifest.scripts.package, /vsce package/);
    assert.match(manifest.scripts['typecheck:webview'], /tsc -p webview/);
    assert.match(manifest.scripts['vscode:prepublish'], /esbuild\.mjs --production/);
    assert.equal(manifest.main, './dist/extension.js');
  });
});
