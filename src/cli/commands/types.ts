import type { FlagSpec } from '../args';
import type { Io } from '../output';

/**
 * One CLI subcommand. Adding a command is: write a CommandDef in
 * src/cli/commands/<name>.ts and list it in src/cli/commands/index.ts.
 */
export interface CommandDef {
  name: string;
  usage: string;
  summary: string;
  flags: FlagSpec[];
  /** Resolves to the exit code; throws LandscapeError for bad input or failed computation. */
  run(argv: string[], io: Io, signal: AbortSignal): Promise<number>;
}
