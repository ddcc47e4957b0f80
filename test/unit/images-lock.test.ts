// The image build's lock (test/images/lock.ts): an interrupted run's lock does not block the next one, a live
// builder is waited for, a recycled pid is not mistaken for the owner, and two holders never overlap.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { identityOf, type LockOwner, ownerAlive, withLock } from '../images/lock.js';
import { procStat, running } from '../support/procs.js';

const work = mkdtempSync(join(tmpdir(), 'images-lock-'));
after(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const lockPath = () => join(work, `l${++n}.lock`);

/** A lock folder as a process left it: its owner.json, and a scratch folder with something in it. */
function leftBehind(dir: string, owner: Omit<LockOwner, 'scratch' | 'since'>): string {
  const scratch = `${dir}.scratch-left`;
  mkdirSync(scratch, { recursive: true });
  writeFileSync(join(scratch, 'half-built'), 'x');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'owner.json'),
    JSON.stringify({ ...owner, scratch, since: '2026-01-01T00:00:00Z' }),
  );
  return scratch;
}

async function sleeper(): Promise<ChildProcess> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  await once(child, 'spawn');
  return child;
}

test('a lock whose owner has exited (an interrupted run) is taken over at once, with its scratch', async () => {
  const child = await sleeper();
  const owner = identityOf(child.pid as number);
  child.kill('SIGKILL');
  await once(child, 'exit');
  const dir = lockPath();
  const scratch = leftBehind(dir, owner);
  const waited: LockOwner[] = [];
  const takenFrom: (LockOwner | undefined)[] = [];
  const ran = await withLock(dir, async () => 'built', {
    pollMs: 10,
    maxWaitMs: 2000,
    onWait: (o) => waited.push(o),
    onTakeOver: (o) => takenFrom.push(o),
  });
  assert.equal(ran, 'built');
  assert.deepEqual(waited, [], 'it waited for a dead owner');
  assert.deepEqual(
    takenFrom.map((o) => o?.pid),
    [owner.pid],
    'it said whose lock it took over',
  );
  assert.equal(existsSync(scratch), false, "the dead owner's scratch is removed");
  assert.equal(existsSync(dir), false, 'the lock is released after use');
});

test('a lock whose pid now belongs to another process (started at another time) is taken over at once', async () => {
  const dir = lockPath();
  const me = identityOf(process.pid);
  assert.ok(me.started, 'this system has /proc');
  leftBehind(dir, { pid: process.pid, started: String(Number(me.started) - 1) });
  const waited: LockOwner[] = [];
  await withLock(dir, async () => {}, { pollMs: 10, maxWaitMs: 2000, onWait: (o) => waited.push(o) });
  assert.deepEqual(waited, []);
});

test('a live owner is waited for; the lock is taken once it has exited', async () => {
  const child = await sleeper();
  const dir = lockPath();
  leftBehind(dir, identityOf(child.pid as number));
  const exited = once(child, 'exit');
  const waited: number[] = [];
  let killed = false;
  let ownerRunningInside: boolean | undefined;
  await withLock(
    dir,
    async () => {
      // Asked of the system, not of Node: the lock sees the owner gone once it is a zombie, which may be before
      // Node has reaped it and set child.exitCode.
      ownerRunningInside = !killed || running(child.pid as number);
    },
    {
      pollMs: 20,
      onWait: (o) => {
        waited.push(o.pid);
        setTimeout(() => {
          killed = child.kill('SIGKILL');
        }, 200);
      },
    },
  );
  await exited;
  assert.deepEqual(waited, [child.pid], 'it waited for the live owner, and said so once');
  assert.equal(ownerRunningInside, false, 'it went in only after the owner had gone');
});

test('two holders in one process take turns', async () => {
  const dir = lockPath();
  const events: string[] = [];
  const hold = (name: string) =>
    withLock(
      dir,
      async () => {
        events.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 100));
        events.push(`${name} out`);
      },
      { pollMs: 10 },
    );
  await Promise.all([hold('a'), hold('b')]);
  assert.deepEqual(events, ['a in', 'a out', 'b in', 'b out']);
});

test('a lock folder without a readable owner is taken over', async () => {
  const dir = lockPath();
  mkdirSync(dir);
  writeFileSync(join(dir, 'owner.json'), '{"pid":');
  assert.equal(await withLock(dir, async () => 1, { pollMs: 10, maxWaitMs: 2000 }), 1);
});

test('without /proc the owner is judged by its pid alone', async () => {
  const child = await sleeper();
  const noProc = join(work, 'no-proc');
  const owner = identityOf(child.pid as number, noProc);
  assert.deepEqual(owner, { pid: child.pid });
  assert.equal(ownerAlive(owner, noProc), true);
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.equal(ownerAlive(owner, noProc), false);
});

test('a zombie owner (exited, not yet reaped) counts as gone', async () => {
  // `sh` execs into a child that exits at once while sh (its parent) sleeps without reaping it.
  const parent = spawn('sh', ['-c', 'sleep 0 & exec sleep 60'], { stdio: 'ignore' });
  await once(parent, 'spawn');
  try {
    let zombie: number | undefined;
    for (let i = 0; i < 100 && zombie === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      zombie = childrenOf(parent.pid as number).find((p) => procStat(p)?.state === 'Z');
    }
    assert.ok(zombie, 'the child became a zombie');
    assert.equal(ownerAlive({ pid: zombie, started: identityOf(zombie).started }), false);
  } finally {
    parent.kill('SIGKILL');
  }
});

const childrenOf = (pid: number) =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && procStat(Number(d))?.ppid === pid)
    .map(Number);
