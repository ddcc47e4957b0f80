// test/support/tether.mjs: a tethered child and everything it started end when the process that started it dies,
// whatever kills that process; a child that ends by itself leaves no keeper behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { running, stillRunningAfter } from '../support/procs.js';
import { spawnTethered } from '../support/tether.mjs';

const TETHER = new URL('../support/tether.mjs', import.meta.url).href;

// A parent that tethers `sh`, which starts a background `sleep` and then becomes a `sleep` itself; it prints both
// pids and waits to be killed.
const PARENT = `
import { spawnTethered } from ${JSON.stringify(TETHER)};
const child = spawnTethered('sh', ['-c', 'sleep 60 & echo $!; exec sleep 61'], { stdio: ['ignore', 'pipe', 'inherit'] });
child.stdout.once('data', (d) => console.log(JSON.stringify({ child: child.pid, grandchild: Number(String(d).trim()) })));
`;

/** Keepers still watching `pid` (their command line names it). */
const keepersOf = (pid: number) =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        return argv.includes('tether-keeper') && argv.includes(String(pid)) && running(Number(d));
      } catch {
        return false;
      }
    });

for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT'] as const) {
  test(`a tethered child and its own children end when their starter is killed with ${signal}`, async () => {
    const parent = spawn(process.execPath, ['--input-type=module', '-e', PARENT], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const { child, grandchild } = JSON.parse(String(line)) as { child: number; grandchild: number };
    assert.ok(running(child) && running(grandchild), 'both run while their starter does');
    parent.kill(signal);
    await once(parent, 'exit');
    assert.deepEqual(
      await stillRunningAfter([child, grandchild], 10_000),
      [],
      'nothing outlived the starter',
    );
    assert.deepEqual(
      await stillRunningAfter(keepersOf(child).map(Number), 5_000),
      [],
      'the keeper ended too',
    );
  });
}

test('a tethered child that exits by itself takes its keeper with it', async () => {
  const child = spawnTethered('sh', ['-c', 'sleep 0.3'], { stdio: 'ignore' });
  await once(child, 'spawn');
  const pid = child.pid as number;
  let keepers: string[] = [];
  for (let i = 0; i < 50 && keepers.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
    keepers = keepersOf(pid);
  }
  assert.equal(keepers.length, 1, 'a keeper watches the running child');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
  assert.deepEqual(await stillRunningAfter(keepers.map(Number), 5_000), []);
});
