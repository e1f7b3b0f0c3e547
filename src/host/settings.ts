/** The extension's settings (contributes.configuration), read fresh each time. */
import * as path from 'path';
import * as vscode from 'vscode';
import { clampRate } from './coalescer';
import { BACKEND_SETTING_VALUES, type BackendSetting } from './experiment';
import { ANALYSIS_SETTING_RANGES, SECTION, SETTING_DEFAULTS, SETTING_KEYS } from './commandTable';
import { KERNEL_NAMES } from '../protocol';
import type { KpcaJobSettings, PathJobSettings } from '../worker/protocol';

export { ANALYSIS_SETTING_RANGES, SECTION, SETTING_DEFAULTS, SETTING_KEYS };

function cfg(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION);
}

export function backendSetting(): BackendSetting {
  const v = cfg().get<string>(SETTING_KEYS.backend, SETTING_DEFAULTS.backend);
  return (BACKEND_SETTING_VALUES as readonly string[]).includes(v) ? (v as BackendSetting) : SETTING_DEFAULTS.backend;
}

export function checkpointEverySetting(): number {
  const v = cfg().get<number>(SETTING_KEYS.checkpointEvery, SETTING_DEFAULTS.checkpointEvery);
  return Number.isInteger(v) && v >= 0 ? v : SETTING_DEFAULTS.checkpointEvery;
}

export function maxStreamRateSetting(): number {
  return clampRate(cfg().get<number>(SETTING_KEYS.maxStreamRate, SETTING_DEFAULTS.maxStreamRate), SETTING_DEFAULTS.maxStreamRate);
}

type IntSettingKey = 'pathSteps' | 'pathPoints' | 'pathPlaneGrid' | 'slicePoints1d' | 'slicePoints2d' | 'hessianTopK' | 'hessianTraceSamples';

function intSetting(key: IntSettingKey, min: number, max: number): number {
  const v = cfg().get<number>(SETTING_KEYS[key], SETTING_DEFAULTS[key]);
  return Number.isInteger(v) && v >= min && v <= max ? v : SETTING_DEFAULTS[key];
}

/** landscape.path.*: the path finder's size for barriers (a bad value falls back to the default). */
export function pathSettings(): PathJobSettings {
  return {
    steps: intSetting('pathSteps', 0, 100_000),
    points: intSetting('pathPoints', 3, 1000),
    planeGrid: intSetting('pathPlaneGrid', 0, 200),
    method: pathMethodSetting(),
  };
}

/** landscape.path.method; anything else falls back to FourierPathFinder. */
function pathMethodSetting(): 'fourier' | 'bezier' | 'polychain' {
  const v = cfg().get<string>(SETTING_KEYS.pathMethod, SETTING_DEFAULTS.pathMethod);
  return v === 'bezier' || v === 'polychain' ? v : 'fourier';
}

/** landscape.slice.points1d / points2d: grid points per axis of a slice. */
export function slicePointsSetting(twoD: boolean): number {
  const key = twoD ? 'slicePoints2d' : 'slicePoints1d';
  const [min, max] = ANALYSIS_SETTING_RANGES[key];
  return intSetting(key, min, max);
}

/** landscape.hessian.*: how many top eigenvalues, and the trace's probes (0: no trace; 1 becomes 2, the fewest with a standard error). */
export function hessianSettings(): { k: number; traceSamples: number; density: boolean; perLayer: boolean } {
  const samples = intSetting('hessianTraceSamples', ...ANALYSIS_SETTING_RANGES.hessianTraceSamples);
  const flag = (key: 'hessianDensity' | 'hessianPerLayer') => cfg().get<boolean>(SETTING_KEYS[key], SETTING_DEFAULTS[key]) !== false;
  return { k: intSetting('hessianTopK', ...ANALYSIS_SETTING_RANGES.hessianTopK), traceSamples: samples === 1 ? 2 : samples, density: flag('hessianDensity'), perLayer: flag('hessianPerLayer') };
}

/** landscape.kpca.kernel (components are two: the map is a plane). */
export function kpcaSettings(): KpcaJobSettings {
  const v = cfg().get<string>(SETTING_KEYS.kpcaKernel, SETTING_DEFAULTS.kpcaKernel);
  const kernel = (KERNEL_NAMES as readonly string[]).includes(v) ? (v as KpcaJobSettings['kernel']) : SETTING_DEFAULTS.kpcaKernel;
  return { kernel, components: 2 };
}

/**
 * landscape.tfjsNodePath: the folder holding tfjs-node, or undefined. A
 * relative path resolves against the first workspace folder. An untrusted
 * workspace cannot set it (only the user's own value counts): the worker
 * runs the code in that folder.
 */
export function tfjsNodePathSetting(): string | undefined {
  const c = cfg();
  const v = vscode.workspace.isTrusted ? c.get<string>(SETTING_KEYS.tfjsNodePath, '') : c.inspect<string>(SETTING_KEYS.tfjsNodePath)?.globalValue;
  const folder = typeof v === 'string' ? v.trim() : '';
  if (!folder) return undefined;
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return path.isAbsolute(folder) || folder.startsWith('~') || !root ? folder : path.resolve(root, folder);
}

/**
 * landscape.queue: the Redis address of a BullMQ queue for barrier pairs, or
 * undefined. An untrusted workspace cannot set it (only the user's own value
 * counts): it decides where checkpoints are sent.
 */
export function queueSetting(): string | undefined {
  const c = cfg();
  const v = vscode.workspace.isTrusted ? c.get<string>(SETTING_KEYS.queue, '') : c.inspect<string>(SETTING_KEYS.queue)?.globalValue;
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/** Absolute runs folder: relative settings resolve against the workspace folder. */
export function runsFolder(workspaceRoot: string): string {
  const v = (cfg().get<string>(SETTING_KEYS.runsFolder, SETTING_DEFAULTS.runsFolder) ?? '').trim() || SETTING_DEFAULTS.runsFolder;
  return path.resolve(workspaceRoot, v);
}

export async function setBackendSetting(value: BackendSetting): Promise<void> {
  const c = cfg();
  const inspect = c.inspect(SETTING_KEYS.backend);
  // Change it where it is set, so a workspace value is not silently shadowing the new choice.
  const target =
    inspect?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : inspect?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  await c.update(SETTING_KEYS.backend, value, target);
}

export function affects(e: vscode.ConfigurationChangeEvent, key: keyof typeof SETTING_KEYS): boolean {
  return e.affectsConfiguration(`${SECTION}.${SETTING_KEYS[key]}`);
}
