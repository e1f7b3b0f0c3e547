import type { CommandDef } from './types';
import { trainCommand } from './train';
import { infoCommand } from './info';
import { evalCommand } from './eval';
import { pathCommand } from './path';
import { barriersCommand } from './barriers';
import { studyCommand } from './study';
import { kpcaCommand } from './kpca';
import { hessianCommand } from './hessian';
import { gradcheckCommand } from './gradcheck';
import { sliceCommand } from './slice';
import { workerCommand } from './worker';
import { instabilityCommand } from './instability';

/** Every `landscape` subcommand, in the order `landscape --help` lists them. */
export const COMMANDS: CommandDef[] = [studyCommand, trainCommand, infoCommand, evalCommand, pathCommand, barriersCommand, kpcaCommand, hessianCommand, gradcheckCommand, sliceCommand, instabilityCommand, workerCommand];
