// The harness's moto_server does not outlive the test file that started it, however the file ends: killed by the
// test runner's timeout (SIGTERM) or outright (SIGKILL), it cannot stop its harness in after(), and its moto_server
// must go anyway.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { running, stillRunningAfter } from '../support/procs.js';
import { REPO_ROOT } from '../support/tools.js';

const HARNESS = new URL('./harness/index.ts', import.meta.url).href;

// A stand-in for a test file: it starts a harness, says moto_server's pid, and never stops it.
const FILE = `
const { startHarness } = await import(${JSON.stringify(HARNESS)});
const h = await startHarness();
console.log(h.moto.pid);
setInterval(() => {}, 60_000);
`;

for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  test(`moto_server ends when the file that started it is killed with ${signal}`, async () => {
    const file = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', FILE], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(file.stdout, 'data')) as [Buffer];
    const moto = Number(String(line).trim());
    assert.ok(moto > 0 && running(moto), `moto_server runs while the file does (pid ${moto})`);
    file.kill(signal);
    await once(file, 'exit');
    assert.deepEqual(await stillRunningAfter([moto], 10_000), [], 'moto_server outlived its file');
  });
}
