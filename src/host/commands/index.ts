/**
 * Command id -> handler. The Record types make the compiler insist that every
 * command in commandTable.ts has a handler here.
 */
import * as vscode from 'vscode';
import { COMMANDS, INTERNAL_COMMANDS, type CommandKey } from '../commandTable';
import { reportError } from '../log';
import type { CommandHandler, Services } from '../services';
import { addToKpcaSet } from './addToKpcaSet';
import { barrierBetweenSelected } from './barrierBetweenSelected';
import { barriersBetween } from './barriersBetween';
import { barrierToMinimumA } from './barrierToMinimumA';
import { clearKpcaSet } from './clearKpcaSet';
import { compareOptimizers } from './compareOptimizers';
import { instability } from './instability';
import { findPath } from './findPath';
import { gradientCheck } from './gradientCheck';
import { hessianSpectrum } from './hessianSpectrum';
import { inspectCheckpoint } from './inspectCheckpoint';
import { kernelPca } from './kernelPca';
import { kpcaSetMenu } from './kpcaSetMenu';
import { newExperiment } from './newExperiment';
import { openPanel } from './openPanel';
import { openRun } from './openRun';
import { plotSlice } from './plotSlice';
import { plotSliceAround } from './plotSliceAround';
import { selectBackend } from './selectBackend';
import { setMinimumA } from './setMinimumA';
import { showLog } from './showLog';
import { stop } from './stop';
import { train } from './train';

export const HANDLERS: Record<CommandKey, CommandHandler> = {
  newExperiment,
  train,
  stop,
  openPanel,
  inspectCheckpoint,
  selectBackend,
  showLog,
  setMinimumA,
  findPath,
  barrierToMinimumA,
  barrierBetweenSelected,
  barriersBetween,
  compareOptimizers,
  instability,
  kernelPca,
  addToKpcaSet,
  clearKpcaSet,
  hessianSpectrum,
  gradientCheck,
  plotSlice,
  plotSliceAround,
};

const INTERNAL_HANDLERS: Record<keyof typeof INTERNAL_COMMANDS, CommandHandler> = {
  openRun,
  kpcaSetMenu,
};

export function registerCommands(s: Services): vscode.Disposable[] {
  const wrap = (id: string, title: string, h: CommandHandler) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await h(s, ...args);
      } catch (e) {
        reportError(s.log, title, e);
        return undefined;
      }
    });
  return [
    ...(Object.keys(COMMANDS) as CommandKey[]).map((k) => wrap(COMMANDS[k].id, COMMANDS[k].title, HANDLERS[k])),
    ...(Object.keys(INTERNAL_COMMANDS) as (keyof typeof INTERNAL_COMMANDS)[]).map((k) => wrap(INTERNAL_COMMANDS[k], k, INTERNAL_HANDLERS[k])),
  ];
}
