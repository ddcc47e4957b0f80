import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fx, runCli, runner, runnerNode } from './helpers.js';

const py = fx('python-fn');
const payload = fx('payload.json');

/** Running, that is: a zombie waiting for a reaper (PID 1 in some containers never reaps) counts as gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const pidsIn = (stderr: string) =>
  (/handler sleeping pids=([\d,]+)/.exec(stderr)?.[1] ?? '').split(',').filter(Boolean).map(Number);

/** A private TMPDIR for one run, so that runners of concurrently running test files do not show up in it. */
const privateTmp = () => mkdtempSync(join(tmpdir(), 'limits-test-tmp-'));

test('--timeout is enforced: exit 124, last line says so, the whole process group is killed', async () => {
  const r = await runCli(['--timeout', '1', '--handler', 'handlers.sleep', py, 'data:,{}']);
  assert.equal(r.code, 124, r.stderr);
  assert.equal(r.last, 'TimeoutError: the function timed out after 1 s');
  const pids = pidsIn(r.stderr);
  assert.equal(pids.length, 2, r.stderr);
  for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} still alive`);
  assert.equal(r.stdout, '');
});

test('a --timeout past the 32-bit timer limit (2147484 s and more) does not fire at once: the handler returns', async () => {
  for (const timeout of ['2147484', '1000000000']) {
    const r = await runCli(['--timeout', timeout, '--handler', 'handlers.echo', py, 'data:,{"t":1}']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { t: 1 });
  }
});

test('SIGTERM is passed to the runtime, the group ends, the runner exits 143 and leaves no temp files', async () => {
  const tmp = privateTmp();
  let sent = false;
  const r = await runCli(['--handler', 'handlers.sleep', py, '-'], {
    input: '{"seconds": 30}',
    env: { TMPDIR: tmp },
    onStderr(text, child) {
      if (!sent && /handler sleeping/.test(text)) {
        sent = true;
        child.kill('SIGTERM');
      }
    },
  });
  assert.equal(r.code, 143, r.stderr);
  assert.equal(r.last, 'StoppedBySignalError: stopped by SIGTERM');
  for (const pid of pidsIn(r.stderr)) assert.equal(alive(pid), false, `pid ${pid} still alive`);
  assert.deepEqual(readdirSync(tmp), [], 'the runner left temp files behind');
  rmSync(tmp, { recursive: true, force: true });
});

test('SIGTERM while the payload is still being read from stdin: exit 143, not a function failure', async () => {
  const tmp = privateTmp();
  const child = spawn(runnerNode, [runner, '--log-level', 'debug', '--handler', 'handlers.echo', py, '-'], {
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // The runtime is up and asking for the event, which is still arriving (stdin stays open).
    if (!sent && /runtime started/.test(stderr)) {
      sent = true;
      child.kill('SIGTERM');
    }
  });
  child.stdin.write('{"partial": ');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 143, stderr);
  assert.equal(stderr.trim().split('\n').at(-1), 'StoppedBySignalError: stopped by SIGTERM');
  assert.deepEqual(readdirSync(tmp), [], 'no temp files left');
});

test('SIGINT stops a Node.js handler with exit 130', async () => {
  let sent = false;
  const r = await runCli(['--handler', 'esm.sleep', fx('node-fn'), payload, '-'], {
    onStderr(text, child) {
      if (!sent && /handler sleeping/.test(text)) {
        sent = true;
        child.kill('SIGINT');
      }
    },
  });
  assert.equal(r.code, 130, r.stderr);
  assert.equal(r.last, 'StoppedBySignalError: stopped by SIGINT');
});

test('a payload of more than 100 MB streams through to the handler', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'big-payload-'));
  const path = join(dir, 'big.json');
  const item = JSON.stringify('x'.repeat(1000));
  const perBlock = 1000;
  const blocks = 105;
  const count = perBlock * blocks;
  const block = Buffer.from(`,${Array(perBlock).fill(item).join(',')}`);
  const fd = openSync(path, 'w');
  writeSync(fd, `{"items": [${item}`);
  for (let i = 0; i < blocks; i++) writeSync(fd, block);
  writeSync(fd, ']}');
  closeSync(fd);
  assert.ok(statSync(path).size > 100 * 1024 * 1024);
  try {
    const r = await runCli(['--handler', 'handlers.size', py, path, '-']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).items, count + 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a multi-megabyte result comes back whole (sent in chunks by the Python client)', async () => {
  const chars = 3_000_000;
  const r = await runCli(['--handler', 'handlers.big_result', py, `data:,{"chars":${chars}}`]);
  assert.equal(r.code, 0, r.stderr.slice(-500));
  const blob = JSON.parse(r.stdout).blob as string;
  assert.equal(blob.length, chars);
  assert.equal(blob, 'é'.repeat(chars));
});
