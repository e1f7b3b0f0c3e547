import * as vscode from 'vscode';
import { BACKEND_SETTING_VALUES, type BackendSetting } from '../experiment';
import type { Services } from '../services';
import { backendSetting, setBackendSetting } from '../settings';

const DESCRIPTIONS: Record<BackendSetting, string> = {
  auto: 'tfjs-node if installed, else WASM, else CPU',
  tensorflow: 'native TensorFlow via @tensorflow/tfjs-node (install it next to the extension)',
  wasm: 'WebAssembly with SIMD: fast and always available',
  cpu: 'plain JavaScript: slowest, the reference',
};

/** Landscape: Select Backend — sets landscape.backend; the next job uses it. */
export async function selectBackend(s: Services): Promise<void> {
  const current = backendSetting();
  const items = BACKEND_SETTING_VALUES.map((v) => ({
    label: v,
    description: v === current ? `${DESCRIPTIONS[v]} (current)` : DESCRIPTIONS[v],
    value: v,
  }));
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Landscape: compute backend',
    placeHolder: `In use now: ${s.backend.label.text}`,
  });
  if (!pick || pick.value === current) return;
  await setBackendSetting(pick.value);
  s.log.info(`landscape.backend set to ${pick.value}`);
  void vscode.window.showInformationMessage(`Landscape: backend set to ${pick.value}; the next job uses it.`);
}
