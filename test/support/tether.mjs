// Children that do not outlive the process that started them (moto_server, the image build and its steps): a test
// file killed by the runner's timeout, a Ctrl-C or a SIGKILL cannot clean up after itself, so the cleanup is set up
// before. The child leads a process group of its own, and a keeper (`sh`, in a session of its own) holds the read
// end of a pipe whose write end only this process has: when this process is gone, by any means, the keeper reads
// EOF and ends the child's group (SIGTERM, then SIGKILL). Plain JavaScript, so scripts/test.mjs uses it too.
import { spawn } from 'node:child_process';

/** Seconds between the keeper's SIGTERM and SIGKILL to the group. */
const GRACE_SECONDS = 2;

const KEEPER = [
  'read _ignored',
  'kill -TERM "-$1" 2>/dev/null || exit 0',
  `i=0; while [ $i -lt ${GRACE_SECONDS * 10} ] && kill -0 "-$1" 2>/dev/null; do sleep 0.1; i=$((i+1)); done`,
  'kill -KILL "-$1" 2>/dev/null',
].join('\n');

/**
 * Spawns `command` as `child_process.spawn` would (same options, `detached` aside), tethered to this process.
 * `child.kill(signal)` reaches the child alone; `endGroup(child, signal)` its whole group.
 */
export function spawnTethered(command, args, options = {}) {
  const child = spawn(command, args, { ...options, detached: true });
  child.once('spawn', () => {
    const keeper = spawn('/bin/sh', ['-c', KEEPER, 'tether-keeper', String(child.pid)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    keeper.on('error', () => {});
    keeper.stdin.on('error', () => {});
    // Neither the keeper nor its pipe keeps this process alive; the child's own stdio does, as usual.
    keeper.unref();
    keeper.stdin.unref?.();
    child.once('exit', () => keeper.kill('SIGKILL'));
  });
  return child;
}

/** Sends `signal` to the child's whole process group (what it started too); a group already gone is ignored. */
export function endGroup(child, signal = 'SIGTERM') {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: nothing of the group is left
  }
}
