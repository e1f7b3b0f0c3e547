import type { CommandDef } from './types';
import { trainCommand } from './train';
import { infoCommand } from './info';
import { studyCommand } from './study';

/** Every `landscape` subcommand, in the order `landscape --help` lists them. */
export const COMMANDS: CommandDef[] = [studyCommand, trainCommand, infoCommand];
