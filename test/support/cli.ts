/**
 * Runs the `landscape` CLI in-process (src/cli/main.ts) with its output
 * captured line by line, the way a terminal would show it.
 */
import { main } from '../../src/cli/main';
import type { Io } from '../../src/cli/output';

export interface CapturedIo extends Io {
  stdout: string[];
  stderr: string[];
}

/** An Io that keeps every line written to stdout and stderr (not a terminal: no progress bars). */
export function captureIo(): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), tty: false, columns: 80, status: () => {} };
}

/** An Io that drops everything, for runs whose files are what matters. */
export function silentIo(): Io {
  return { out: () => {}, err: () => {}, tty: false, columns: 80, status: () => {} };
}

/** `landscape <args>`: the exit code and the captured output, lines joined by "\n". */
export async function runCli(args: string[], signal?: AbortSignal): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo();
  const code = await main(args, io, signal);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}
