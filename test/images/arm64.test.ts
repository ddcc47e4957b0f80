// An arm64 image, python3.12, built from the same recipe on arm64 stand-ins and run here under emulation (qemu-aarch64
// registered with binfmt_misc's F flag, so that it works inside containers): it declares arm64, its runner's Node.js
// is the arm64 build, and a local Python function whose folder carries an aarch64 program (compiled here by Debian's
// cross compiler) runs it there, where the machine is aarch64.
// Gap: the public bases are replaced by stand-ins (support.ts); the whole arm64 matrix is `npm run images -- --arch
// arm64`, not built here. Where arm64 binaries cannot run, or the cross compiler is missing, this file says so and skips.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker } from './docker.js';
import type { BuiltImage } from './images.js';
import { readPrepared } from './prepared.js';
import { emulationMissing } from './standins.js';
import { BUILD_TIMEOUT_MS, images, skip as noEngine, ranOn, runIn } from './support.js';

const CC = 'aarch64-linux-gnu-gcc';
const prepared = readPrepared();

/** Why this file's tests cannot run here, or undefined. */
function arm64Skip(): string | undefined {
  if (noEngine) return noEngine;
  const reason = (prepared && 'ready' in prepared && prepared.ready.arm64Skip) || emulationMissing('arm64');
  if (reason) return reason;
  if (spawnSync(CC, ['--version']).status !== 0)
    return `${CC} is not installed (Debian's gcc-aarch64-linux-gnu; scripts/docker-setup.sh installs it)`;
  return undefined;
}

const skip = arm64Skip();
if (skip && !noEngine) process.stderr.write(`arm64 image tests SKIPPED: ${skip}\n`);

const version = (JSON.parse(await readFile('package.json', 'utf8')) as { version: string }).version;

// The native code: what the machine is, and a sum computed by aarch64 instructions.
const PROGRAM = `#include <stdio.h>
#include <sys/utsname.h>

int main(void) {
  struct utsname u;
  unsigned long sum = 0;
  if (uname(&u) != 0) return 1;
  for (unsigned long i = 1; i <= 1000; i++) sum += i * i;
  printf("{\\"machine\\": \\"%s\\", \\"sum\\": %lu}\\n", u.machine, sum);
  return 0;
}
`;

const TASK = `import json
import platform
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def lambda_handler(event, context):
    native = json.loads(subprocess.run([os.path.join(HERE, "bin", "tile-sum")], check=True,
                                       capture_output=True, text=True).stdout)
    return {"event": event, "python_machine": platform.machine(), "native": native}
`;

let image: BuiltImage;
let work: string;
before(
  async () => {
    if (skip) return;
    image = (await images()).get('lambda', 'python3.12', 'arm64');
    work = await mkdtemp(join(tmpdir(), 'image-arm64-'));
  },
  { timeout: BUILD_TIMEOUT_MS },
);
after(() => (work ? rm(work, { recursive: true, force: true }) : undefined));

test('run-lambda python3.12 arm64: declares arm64, runs on aarch64 here, with the arm64 build of the runner’s Node.js', {
  skip,
}, async (t) => {
  t.diagnostic(ranOn(image));
  assert.equal(image.tags[0], `run-lambda-test/run-lambda:${version}-python3.12-arm64`);
  const inspect = await docker([
    'image',
    'inspect',
    '--format',
    '{{.Architecture}} {{.Variant}} {{.Os}}',
    image.id,
  ]);
  assert.equal(inspect.stdout.trim(), 'arm64 v8 linux');
  const r = await runIn(image, [
    'sh',
    '-c',
    'run --version && uname -m && /usr/local/lib/run-lambda/bin/node -p process.arch',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [`run-lambda ${version}`, 'aarch64', 'arm64']);
});

test('run-lambda python3.12 arm64: a local function whose folder carries an aarch64 program runs it there', {
  skip,
}, async (t) => {
  t.diagnostic(ranOn(image));
  const dir = join(work, 'tile-sum');
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(join(work, 'tile-sum.c'), PROGRAM);
  await writeFile(join(dir, 'lambda_function.py'), TASK);
  const cc = spawnSync(CC, ['-static', '-O2', '-o', join(dir, 'bin', 'tile-sum'), join(work, 'tile-sum.c')], {
    encoding: 'utf8',
  });
  assert.equal(cc.status, 0, cc.stderr);
  // An ELF object for the aarch64 machine (EM_AARCH64 = 183), not for this one.
  const elf = await readFile(join(dir, 'bin', 'tile-sum'));
  assert.equal(elf.subarray(0, 4).toString('latin1'), '\x7fELF');
  assert.equal(elf.readUInt16LE(18), 183);
  const event = { tile: '31UFS' };
  const payload = `data:application/json;base64,${Buffer.from(JSON.stringify(event)).toString('base64')}`;
  const r = await runIn(image, ['run', '--runtime', 'python3.12', '/var/function', payload, '-'], {
    volumes: [`${dir}:/var/function:ro`],
    timeoutMs: 300_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /served by the image's runtime client/);
  assert.deepEqual(JSON.parse(r.stdout), {
    event,
    python_machine: 'aarch64',
    native: { machine: 'aarch64', sum: 333833500 },
  });
});
