/**
 * The `landscape` command line. Exit codes: 0 success, 1 computation
 * failure, 2 bad input or usage. Errors print as one readable line on stderr;
 * a stack trace only appears for genuine bugs or with LANDSCAPE_DEBUG=1.
 */
import { COMMANDS } from './commands';
import { formatHelp } from './args';
import { processIo, Io } from './output';
import { LandscapeError } from '../engine/errors';
import { LANDSCAPE_VERSION } from '../engine/version';

export async function main(argv: string[], io: Io = processIo(), signal?: AbortSignal): Promise<number> {
  const [name, ...rest] = argv;
  const overview = () =>
    `landscape ${LANDSCAPE_VERSION}: debug the loss landscapes of neural networks\n\nUsage: landscape <command> [options]\n\nCommands:\n` +
    COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join('\n') +
    `\n\nRun "landscape <command> --help" for a command's options.`;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(overview());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    io.out(LANDSCAPE_VERSION);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`landscape: unknown command "${name}"; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(formatHelp(cmd.name, cmd.usage, cmd.summary, cmd.flags));
    return 0;
  }
  const ac = new AbortController();
  signal?.addEventListener('abort', () => ac.abort());
  try {
    return await cmd.run(rest, io, ac.signal);
  } catch (e) {
    if (e instanceof LandscapeError) {
      io.err(`landscape ${cmd.name}: ${e.message.split('\n').join(' ')}`);
      return e.kind === 'input' ? 2 : 1;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`landscape ${cmd.name}: internal error: ${msg.split('\n')[0]} (please report it; LANDSCAPE_DEBUG=1 shows the stack)`);
    if (process.env.LANDSCAPE_DEBUG && e instanceof Error) io.err(String(e.stack));
    return 1;
  }
}

/**
 * Exits once stdout and stderr have handed their last bytes to the OS. The
 * command is done; what could still hold the process is library timers, such
 * as the Redis reply parser's buffer-pool interval after a large reply (about
 * 1.5 s after a queue run).
 */
function exitOnceFlushed(): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit()));
}

if (require.main === module) {
  const ac = new AbortController();
  let interrupted = 0;
  process.on('SIGINT', () => {
    // First Ctrl-C cancels cleanly (the run keeps its last finished epoch); a second one exits now.
    if (++interrupted > 1) process.exit(130);
    process.stderr.write('\ncancelling… (press Ctrl-C again to quit at once)\n');
    ac.abort();
  });
  main(process.argv.slice(2), processIo(), ac.signal).then(
    (code) => {
      process.exitCode = interrupted ? 130 : code;
      exitOnceFlushed();
    },
    (e) => {
      process.stderr.write(`landscape: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
