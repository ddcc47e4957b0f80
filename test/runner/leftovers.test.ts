// The runtime dies with the run: processes that left its group, a runner killed outright, and the signals
// that used to kill the runner alone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'node:test';
import { LAMBDA_NODE_PLATFORM_OK, lambdaNode } from '../support/lambda-node.js';
import { fx, runner, runnerNode } from './helpers.js';

const py = fx('python-fn');
const nodeFn = fx('node-fn');

/** Running, that is: a zombie waiting for a reaper counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits (bounded, no fixed sleep) until none of `pids` runs; returns those still running at the bound. */
async function gone(pids: number[], boundMs = 10_000): Promise<number[]> {
  const until = Date.now() + boundMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, delay));
  }
}

interface Started {
  child: ReturnType<typeof spawn>;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; aliveAtExit: number[] }>;
}

/** Starts the built runner; `watch` picks pids out of stderr, checked the moment the runner exits. */
function start(
  args: string[],
  onText: (text: string, s: Started) => void,
  watch: (text: string) => number[],
  node = runnerNode,
): Started {
  const child = spawn(node, [runner, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const s: Started = {
    child,
    stderr: () => text,
    exited: new Promise((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal, aliveAtExit: watch(text).filter(alive) })),
    ),
  };
  child.stderr?.on('data', (d: Buffer) => {
    text += d.toString();
    onText(text, s);
  });
  child.stdout?.resume();
  return s;
}

const pidsOf = (re: RegExp) => (text: string) =>
  (re.exec(text)?.[1] ?? '').split(',').filter(Boolean).map(Number);

test('a setsid daemon started by the handler ends with the run and does not hold the caller’s pipe', async () => {
  const daemonPid = pidsOf(/daemon started pid=(\d+)/);
  const s = start(['--handler', 'handlers.daemon', py, 'data:,{}'], () => {}, daemonPid);
  const closed = new Promise<void>((resolve) => s.child.on('close', () => resolve()));
  const { code, aliveAtExit } = await s.exited;
  const pid = daemonPid(s.stderr())[0] as number;
  try {
    assert.equal(code, 0, s.stderr());
    assert.ok(pid > 0, s.stderr());
    assert.deepEqual(aliveAtExit, [], 'the daemon was ended before the runner exited');
    await closed;
  } finally {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
});

test('the runner killed with SIGKILL: its keeper ends the runtime’s group (handler and grandchild)', async () => {
  const pids = pidsOf(/handler sleeping pids=([\d,]+)/);
  let killed = false;
  const s = start(
    ['--handler', 'handlers.sleep', py, 'data:,{}'],
    (text, st) => {
      if (!killed && pids(text).length === 2) {
        killed = true;
        st.child.kill('SIGKILL');
      }
    },
    pids,
  );
  const { signal } = await s.exited;
  const watched = pids(s.stderr());
  try {
    assert.equal(signal, 'SIGKILL');
    assert.equal(watched.length, 2, s.stderr());
    assert.deepEqual(await gone(watched), [], 'no process of the run outlives the runner');
  } finally {
    for (const p of watched) if (alive(p)) process.kill(p, 'SIGKILL');
  }
});

for (const [sig, code] of [
  ['SIGQUIT', 131],
  ['SIGUSR2', 140],
  ['SIGALRM', 142],
] as const) {
  test(`${sig} stops the run like SIGTERM: passed on, the group ended, exit ${code}`, async () => {
    const pids = pidsOf(/handler sleeping pids=([\d,]+)/);
    let sent = false;
    const s = start(
      ['--handler', 'handlers.sleep', py, 'data:,{}'],
      (text, st) => {
        if (!sent && pids(text).length === 2) {
          sent = true;
          st.child.kill(sig);
        }
      },
      pids,
    );
    const exit = await s.exited;
    const watched = pids(s.stderr());
    try {
      assert.equal(exit.code, code, s.stderr());
      assert.equal(s.stderr().trim().split('\n').at(-1), `StoppedBySignalError: stopped by ${sig}`);
      assert.deepEqual(exit.aliveAtExit, []);
    } finally {
      for (const p of watched) if (alive(p)) process.kill(p, 'SIGKILL');
    }
  });
}

test('SIGUSR1 does not open the Node.js inspector in the runner; the run carries on and succeeds', async () => {
  const pids = pidsOf(/handler sleeping pids=([\d,]+)/);
  let sent = false;
  const s = start(
    ['--handler', 'handlers.sleep', py, 'data:,{"seconds": 1}'],
    (text, st) => {
      if (!sent && pids(text).length === 2) {
        sent = true;
        st.child.kill('SIGUSR1');
      }
    },
    pids,
  );
  const exit = await s.exited;
  assert.equal(exit.code, 0, s.stderr());
  assert.doesNotMatch(s.stderr(), /Debugger listening/);
  assert.match(s.stderr(), /ignoring SIGUSR1/);
});

/** Whether something accepts connections on 127.0.0.1:`port` (Node's inspector listens on 9229). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.on('error', () => resolve(false));
  });
}

// Node.js 22.14 and later open the inspector at SIGUSR1 unless told not to (--disable-sigusr1); the images' runner
// Node is 22, so the runtime client it starts for a Node function is checked on that release here.
test("SIGUSR1 to a Node function's runtime (the runner on Node.js 22) opens no inspector: the runtime runs with --disable-sigusr1", {
  skip: LAMBDA_NODE_PLATFORM_OK ? false : 'the pinned Node.js binaries are linux-x64 ones',
}, async () => {
  const node22 = lambdaNode('nodejs22.x');
  const handlerPid = pidsOf(/handler sleeping pids=(\d+)/);
  let poked: Promise<{ inspector: boolean }> | undefined;
  const s = start(
    ['--handler', 'esm.sleep', '--runtime', 'nodejs22.x', nodeFn, 'data:,{}'],
    (text, st) => {
      const [pid] = handlerPid(text);
      if (poked || pid === undefined) return;
      poked = (async () => {
        process.kill(pid, 'SIGUSR1');
        // An inspector opens within milliseconds of the signal; give it ample time to show before the stop.
        let inspector = false;
        for (let i = 0; i < 20 && !inspector; i++) {
          await new Promise((r) => setTimeout(r, 100));
          inspector = /Debugger listening/.test(st.stderr()) || (await listening(9229));
        }
        st.child.kill('SIGTERM');
        return { inspector };
      })();
    },
    handlerPid,
    node22,
  );
  const exit = await s.exited;
  assert.ok(poked, `the handler never said its pid:\n${s.stderr()}`);
  const { inspector } = await poked;
  assert.equal(inspector, false, `an inspector opened:\n${s.stderr()}`);
  assert.doesNotMatch(s.stderr(), /Debugger listening/);
  assert.equal(exit.code, 143, s.stderr());
});

test('the runner killed with SIGKILL: its keeper also ends a setsid daemon of the handler, by the run’s mark', async () => {
  const daemonPid = pidsOf(/daemon started pid=(\d+)/);
  let killed = false;
  const s = start(
    ['--handler', 'handlers.daemon_then_sleep', py, 'data:,{}'],
    (text, st) => {
      if (!killed && daemonPid(text).length === 1) {
        killed = true;
        st.child.kill('SIGKILL');
      }
    },
    daemonPid,
  );
  await s.exited;
  const watched = daemonPid(s.stderr());
  try {
    assert.equal(watched.length, 1, s.stderr());
    assert.deepEqual(await gone(watched), []);
  } finally {
    for (const p of watched) if (alive(p)) process.kill(p, 'SIGKILL');
  }
});
