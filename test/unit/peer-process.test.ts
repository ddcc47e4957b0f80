// Finding the external runtime's process from its connection, and watching it (runner/runtime/procfs.ts,
// peer-process.ts): on this machine's real /proc with a real child process that connects, and on /proc trees laid
// out by the test for what a machine cannot be made to show at will (a shared namespace's parents, a reused pid, a
// runner that may not look into other processes).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findPeerProcess, watchProcess } from '../../runner/runtime/peer-process.js';
import { inodeInTable, parseStat } from '../../runner/runtime/procfs.js';

// Fields 5 to 21, between ppid and starttime.
const STAT_TAIL = '0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0';

/** A /proc/<pid>/stat line: `pid (comm) state ppid` then fields up to starttime (22nd). */
const statLine = (pid: number, comm: string, ppid: number, start: number, state = 'S') =>
  `${pid} (${comm}) ${state} ${ppid} ${STAT_TAIL} ${start} 0 0\n`;

/** The watch's timer does not hold the runner's process up (its server does): here a timer of the test's own does. */
async function held<T>(p: Promise<T>): Promise<T> {
  const keep = setInterval(() => {}, 1000);
  try {
    return await p;
  } finally {
    clearInterval(keep);
  }
}

test('procfs: a stat line is read from its last parenthesis (a name may hold spaces and parentheses)', () => {
  assert.deepEqual(parseStat(statLine(57, 'py (worker) 2', 1, 4242)), {
    pid: 57,
    comm: 'py (worker) 2',
    state: 'S',
    ppid: 1,
    startTime: '4242',
  });
  assert.equal(parseStat('garbage'), undefined);
});

const TCP_HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const tcpLine = (local: number, remote: number, inode: number) =>
  `   0: 0100007F:${local.toString(16).toUpperCase().padStart(4, '0')} 0100007F:${remote.toString(16).toUpperCase().padStart(4, '0')} 01 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;

test('procfs: the client end of a connection is the line from its port to the server’s; a TIME_WAIT (inode 0) is nobody’s', () => {
  const table = TCP_HEADER + tcpLine(9001, 40000, 111) + tcpLine(40000, 9001, 222) + tcpLine(40001, 9001, 0);
  assert.equal(inodeInTable(table, { clientPort: 40000, serverPort: 9001 }), '222');
  assert.equal(inodeInTable(table, { clientPort: 40001, serverPort: 9001 }), undefined);
  assert.equal(inodeInTable(table, { clientPort: 40002, serverPort: 9001 }), undefined);
});

test('peer process: on this machine’s /proc, the process at the other end of a real connection is found and seen to go', async () => {
  const accepted = new Promise<Socket>((resolve) => {
    const server = createServer((s) => {
      server.close();
      resolve(s);
    }).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      child = spawn(
        process.execPath,
        ['-e', `require('net').connect(${port}, '127.0.0.1'); setInterval(() => {}, 1000)`],
        {
          stdio: 'ignore',
        },
      );
    });
  });
  let child: ReturnType<typeof spawn> | undefined;
  const socket = await accepted;
  const found = await findPeerProcess({
    clientPort: socket.remotePort ?? 0,
    serverPort: socket.localPort ?? 0,
  });
  assert.ok(found.ok, found.ok ? '' : found.why);
  assert.equal(found.stat.pid, child?.pid, 'the child itself: its parent (this process) is the runner’s too');
  assert.equal(found.holder, child?.pid);
  const watch = watchProcess(found.stat, { pollMs: 20 });
  child?.kill('SIGKILL');
  await held(watch.gone);
  socket.destroy();
});

/** A /proc tree: `procs` by pid (comm, ppid, start, holding inode), one TCP line from 40000 to 9001 (inode 555). */
function fakeProc(
  procs: Record<number, { comm: string; ppid: number; start?: number; holds?: boolean; hidden?: boolean }>,
) {
  const root = mkdtempSync(join(tmpdir(), 'fake-proc-'));
  mkdirSync(join(root, 'net'));
  writeFileSync(join(root, 'net', 'tcp'), TCP_HEADER + tcpLine(9001, 40000, 444) + tcpLine(40000, 9001, 555));
  writeFileSync(join(root, 'net', 'tcp6'), TCP_HEADER);
  for (const [pid, p] of Object.entries(procs)) {
    mkdirSync(join(root, pid));
    writeFileSync(join(root, pid, 'stat'), statLine(Number(pid), p.comm, p.ppid, p.start ?? 1000));
    if (p.hidden) continue;
    mkdirSync(join(root, pid, 'fd'));
    symlinkSync('/dev/null', join(root, pid, 'fd', '0'));
    if (p.holds) symlinkSync('socket:[555]', join(root, pid, 'fd', '3'));
  }
  return root;
}
const CONN = { clientPort: 40000, serverPort: 9001 };

test('peer process: in a task’s shared namespace, a custom runtime that asks with a short-lived curl is its bootstrap (parent outside the namespace)', async () => {
  // 1: the runner (the first container), 20: the function container's bootstrap (parent 0), 21: its curl.
  const root = fakeProc({
    1: { comm: 'node', ppid: 0 },
    20: { comm: 'bootstrap', ppid: 0 },
    21: { comm: 'curl', ppid: 20, holds: true },
  });
  const found = await findPeerProcess(CONN, { root, selfPid: 1 });
  assert.ok(found.ok);
  assert.deepEqual([found.holder, found.stat.pid, found.stat.comm], [21, 20, 'bootstrap']);
  rmSync(root, { recursive: true });
});

test('peer process: on one machine, the walk up stops below the process that started both (the runner’s parent)', async () => {
  const root = fakeProc({
    1: { comm: 'init', ppid: 0 },
    50: { comm: 'harness', ppid: 1 },
    60: { comm: 'node', ppid: 50 },
    70: { comm: 'python3', ppid: 50, holds: true },
  });
  const found = await findPeerProcess(CONN, { root, selfPid: 60 });
  assert.ok(found.ok);
  assert.equal(found.stat.pid, 70);
  rmSync(root, { recursive: true });
});

test('peer process: not found says why (no holder in sight; holders the runner may not look into; no such connection)', async () => {
  const alone = fakeProc({ 1: { comm: 'node', ppid: 0 } });
  const none = await findPeerProcess(CONN, { root: alone, selfPid: 1 });
  assert.deepEqual(none, { ok: false, why: 'no process this runner can see holds its connection' });
  const other = await findPeerProcess({ clientPort: 1, serverPort: 2 }, { root: alone, selfPid: 1 });
  assert.ok(!other.ok && /port 1 to 2\) is not in .*net\/tcp$/.test(other.why));
  rmSync(alone, { recursive: true });
  const denied = fakeProc({ 1: { comm: 'node', ppid: 0 }, 20: { comm: 'python3', ppid: 0, hidden: true } });
  // A folder that cannot be listed reads as EACCES only where permissions hold (not for root): make it unreadable.
  mkdirSync(join(denied, '20', 'fd'), { mode: 0 });
  const d = await findPeerProcess(CONN, { root: denied, selfPid: 1 });
  assert.equal(d.ok, false);
  if (process.getuid?.() !== 0 && !d.ok) assert.match(d.why, /1 process\(es\) could not be looked into/);
  rmSync(denied, { recursive: true });
});

test('peer process: the watch sees a process end, turn zombie, or its pid reused by another (start time)', async () => {
  for (const change of ['gone', 'zombie', 'reused'] as const) {
    const root = fakeProc({ 20: { comm: 'python3', ppid: 0, start: 1000 } });
    const stat = parseStat(statLine(20, 'python3', 0, 1000));
    assert.ok(stat);
    const watch = watchProcess(stat, { root, pollMs: 10 });
    let ended = false;
    void watch.gone.then(() => {
      ended = true;
    });
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(ended, false, `${change}: alive until then`);
    if (change === 'gone') rmSync(join(root, '20'), { recursive: true });
    else
      writeFileSync(
        join(root, '20', 'stat'),
        statLine(20, 'python3', 0, change === 'reused' ? 2000 : 1000, change === 'zombie' ? 'Z' : 'S'),
      );
    await held(watch.gone);
    watch.stop();
    rmSync(root, { recursive: true });
  }
});
