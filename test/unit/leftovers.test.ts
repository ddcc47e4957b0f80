import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KEEPER_SCRIPT, killMarked } from '../../runner/runtime/leftovers.js';

/** Resolves once each process runs `sleep` (a process still in its exec has no environment /proc can read yet). */
async function execed(...pids: (number | undefined)[]): Promise<void> {
  const comm = (pid: number | undefined) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  };
  for (let i = 0; i < 200 && !pids.every((p) => comm(p) === 'sleep'); i++) await sleep(10);
}

test('killMarked ends exactly the processes whose environment holds the mark, in any session', async () => {
  const mark = randomUUID();
  const marked = spawn('setsid', ['sleep', '60'], { env: { ...process.env, RUN_LAMBDA_RUN_ID: mark } });
  const other = spawn('sleep', ['60'], { env: { ...process.env, RUN_LAMBDA_RUN_ID: `${mark}-not` } });
  await Promise.all([marked, other].map((c) => new Promise((r) => c.once('spawn', r))));
  await execed(marked.pid, other.pid);
  try {
    const gone = new Promise((r) => marked.once('exit', (_c, s) => r(s)));
    assert.deepEqual(killMarked('RUN_LAMBDA_RUN_ID', mark), [marked.pid]);
    assert.equal(await gone, 'SIGKILL');
    assert.equal(other.exitCode, null, 'a process with another mark keeps running');
  } finally {
    marked.kill('SIGKILL');
    other.kill('SIGKILL');
  }
});

test('killMarked leaves the processes of the group it is told was killed to that kill, and ends the marked ones outside it', async () => {
  const mark = randomUUID();
  const env = { ...process.env, RUN_LAMBDA_RUN_ID: mark };
  const inGroup = spawn('sleep', ['60'], { detached: true, env });
  const outside = spawn('setsid', ['sleep', '60'], { env });
  await Promise.all([inGroup, outside].map((c) => new Promise((r) => c.once('spawn', r))));
  await execed(inGroup.pid, outside.pid);
  try {
    const gone = new Promise((r) => outside.once('exit', (_c, s) => r(s)));
    assert.deepEqual(killMarked('RUN_LAMBDA_RUN_ID', mark, '/proc', inGroup.pid), [outside.pid]);
    assert.equal(await gone, 'SIGKILL');
    assert.equal(inGroup.exitCode, null, 'the group is left to the group kill');
  } finally {
    inGroup.kill('SIGKILL');
    outside.kill('SIGKILL');
  }
});

test('killMarked on a system without /proc does nothing', () => {
  assert.deepEqual(killMarked('RUN_LAMBDA_RUN_ID', 'x', '/no/such/proc'), []);
});

test('the keeper script, run by /bin/sh (dash on Debian), ends the whole process group when its stdin closes, marked or not', async () => {
  // A group leader whose processes carry no mark: only the group kill can end them.
  const group = spawn('sh', ['-c', 'sleep 60 & sleep 61 & wait'], {
    detached: true,
    env: { PATH: process.env.PATH ?? '' },
  });
  await new Promise((r) => group.once('spawn', r));
  const pgid = group.pid as number;
  const keeper = spawn(
    '/bin/sh',
    ['-c', KEEPER_SCRIPT, 'keeper', String(pgid), `RUN_LAMBDA_RUN_ID=${randomUUID()}`],
    {
      stdio: ['pipe', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  keeper.stderr.on('data', (b) => {
    stderr += b;
  });
  const ended = new Promise((r) => group.once('exit', (_c, s) => r(s)));
  try {
    keeper.stdin.end();
    assert.equal(await ended, 'SIGKILL', 'the group leader was killed by the keeper');
    await new Promise((r) => keeper.once('exit', r));
    assert.deepEqual(livingInGroup(pgid), [], 'no process of the group is left (zombies have ended)');
    assert.equal(stderr, '');
  } finally {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {}
  }
});

/** Processes of group `pgid` that are not zombies, from /proc/<pid>/stat (the state and pgrp follow the command). */
function livingInGroup(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(pgrp) === pgid && state !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}
