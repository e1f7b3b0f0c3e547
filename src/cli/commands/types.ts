import type { FlagSpec } from '../args';
import type { Io } from '../output';

/**
 * What a file argument of a command should hold. test/unit/badinput-cli.test.ts
 * feeds every declared slot a missing path, a folder, a file of the wrong kind
 * and (for required slots) nothing, and expects exit code 2 with a message
 * that names the path and says what to do.
 *   checkpoint   one .safetensors file or tfjs model.json
 *   checkpoints  checkpoint files or folders of them
 *   dataset      a built-in dataset name or a .csv file
 *   runDir       a run folder (run.json, checkpoints/)
 *   outDir       a folder the command creates or fills
 *   outFile      a file the command writes
 */
export type FileArgKind = 'checkpoint' | 'checkpoints' | 'dataset' | 'runDir' | 'outDir' | 'outFile';

export interface FileSlot {
  /** A positional argument (0-based) or a flag such as '--dataset'. */
  at: number | `--${string}`;
  kind: FileArgKind;
  /** The command cannot run without it: leaving it out is an empty selection to refuse. */
  required?: boolean;
}

export interface FileArgs {
  slots: FileSlot[];
  /**
   * Flags that make a valid invocation (every slot filled with a good file)
   * finish in a second or two; the test runs one to show the slots are
   * declared right. Leave out for commands with no cheap invocation.
   */
  quick?: string[];
}

/**
 * One CLI subcommand. Adding a command is: write a CommandDef in
 * src/cli/commands/<name>.ts, declare its file arguments in `fileArgs`, and
 * list it in src/cli/commands/index.ts.
 */
export interface CommandDef {
  name: string;
  usage: string;
  summary: string;
  flags: FlagSpec[];
  /** The files it reads and writes, for the table-driven bad-input test (every command declares this; [] for none). */
  fileArgs?: FileArgs;
  /** Resolves to the exit code; throws LandscapeError for bad input or failed computation. */
  run(argv: string[], io: Io, signal: AbortSignal): Promise<number>;
}
