/**
 * The bench starts many processes (CLI runs, queue workers, redis-server,
 * PyTorch) and some of those start their own. Killing `npm run bench` used
 * to stop only the bench itself and leave them running, one of them burning
 * both cores. So the bench runs as the leader of a process group of its own,
 * under a small parent that stays in the terminal's group:
 *
 * - Ctrl-C, SIGTERM or SIGHUP reach the parent, which passes SIGTERM to the
 *   whole group and, after a grace period, SIGKILL;
 * - if the parent itself dies (even by SIGKILL), the IPC channel between the
 *   two closes, and the group leader kills its group;
 * - when the bench finishes, anything it left behind is killed too.
 */
import { spawn } from 'child_process';

const LEADER_ENV = 'LANDSCAPE_BENCH_GROUP_LEADER';
const GRACE_MS = 3000;

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** In the group leader: die with the parent, and take the group along. */
function followParent(): void {
  process.on('disconnect', () => killGroup(process.pid, 'SIGKILL'));
  // The channel must not keep the bench alive once its work is done.
  process.channel?.unref();
}

/** In the parent: start the leader and stay until it ends, forwarding stop signals to its group. */
function superviseLeader(): void {
  const leader = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [LEADER_ENV]: '1' },
  });
  const pgid = leader.pid!;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return killGroup(pgid, 'SIGKILL');
    stopping = true;
    process.stderr.write(`\nbench: ${signal}: stopping every process it started\n`);
    killGroup(pgid, 'SIGTERM');
    setTimeout(() => killGroup(pgid, 'SIGKILL'), GRACE_MS).unref();
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => stop(s));
  leader.on('exit', (code, signal) => {
    killGroup(pgid, 'SIGKILL');
    process.exit(code ?? (signal ? 128 + 15 : 1));
  });
}

/**
 * Call first thing. Returns true in the process that should run the bench
 * (the group leader); false in the supervising parent, which must then do
 * nothing else. Not available on Windows (no process groups): runs inline.
 */
export function runInOwnProcessGroup(): boolean {
  if (process.platform === 'win32') return true;
  if (process.env[LEADER_ENV] === '1') {
    followParent();
    return true;
  }
  superviseLeader();
  return false;
}
