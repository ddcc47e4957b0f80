// An arm64 image, python3.12, built from the same recipe on arm64 stand-ins and run here under emulation (qemu-aarch64
// registered with binfmt_misc's F flag, so that it works inside containers): it declares arm64, its runner's Node.js
// is the arm64 build, and a local Python function whose folder carries an aarch64 program (compiled here by Debian's
// cross compiler) runs it there, where the machine is aarch64. Deployed (moto), an arm64 function whose zip carries
// that program runs in the arm64 image, and each image refuses the other machine's function before downloading it.
// Gap: the public bases are replaced by stand-ins (support.ts); the whole arm64 matrix is `npm run images -- --arch
// arm64`, not built here. Where arm64 binaries cannot run, or the cross compiler is missing, this file says so and skips.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createFunction } from '../integration/harness/fixtures.js';
import { type Harness, startHarness } from '../integration/harness/index.js';
import { parseLastLine } from '../runner/helpers.js';
import { compile, missingCompiler } from '../support/elf.js';
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
let x86: BuiltImage;
let work: string;
let h: Harness | undefined;
before(
  async () => {
    if (skip) return;
    const set = await images();
    image = set.get('lambda', 'python3.12', 'arm64');
    x86 = set.get('lambda', 'python3.12', 'x86_64');
    work = await mkdtemp(join(tmpdir(), 'image-arm64-'));
    h = await startHarness();
  },
  { timeout: BUILD_TIMEOUT_MS },
);
after(async () => {
  await h?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

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

const x86Skip = skip ?? missingCompiler('x86_64');

/** A deployed python3.12 function built for `arch`, whose zip carries bin/tile-sum, a static program for `arch`. */
async function deployTileSum(name: string, arch: 'x86_64' | 'arm64'): Promise<void> {
  const program = join(work, `${name}.bin`);
  await writeFile(join(work, 'tile-sum.c'), PROGRAM);
  if (arch === 'arm64') {
    const cc = spawnSync(CC, ['-static', '-O2', '-o', program, join(work, 'tile-sum.c')], {
      encoding: 'utf8',
    });
    assert.equal(cc.status, 0, cc.stderr);
  } else compile('x86_64', program, 'program');
  await createFunction(h!, {
    name,
    architectures: [arch],
    files: {
      'lambda_function.py': TASK,
      'bin/tile-sum': { content: await readFile(program), mode: 0o755 },
    },
  });
}

const payload = `data:application/json;base64,${Buffer.from('{"tile": "31UFS"}').toString('base64')}`;

test('run-lambda python3.12 arm64: a deployed arm64 function whose zip carries aarch64 code runs in it', {
  skip,
}, async (t) => {
  t.diagnostic(ranOn(image));
  await deployTileSum('tile-arm64', 'arm64');
  // By id: the tag is shared by every worktree's build on this engine.
  const r = await runIn(image.id, ['run', 'tile-arm64', payload, '-'], { env: h!.env, timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).native, { machine: 'aarch64', sum: 333833500 });
});

test("each python3.12 image refuses the other machine's deployed function before downloading it: exit 3, naming the image to use", {
  skip: x86Skip,
}, async (t) => {
  t.diagnostic(ranOn(image));
  await deployTileSum('tile-arm64-refused', 'arm64');
  await deployTileSum('tile-x86', 'x86_64');
  for (const [on, fn, built, machine] of [
    [x86, 'tile-arm64-refused', 'arm64', 'x86_64'],
    [image, 'tile-x86', 'x86_64', 'arm64'],
  ] as const) {
    h!.front.clear();
    const r = await runIn(on.id, ['run', fn, payload, '-'], { env: h!.env, timeoutMs: 300_000 });
    assert.equal(r.code, 3, r.stderr);
    const { type, message } = parseLastLine(r.lastLine);
    assert.equal(type, 'ArchitectureMismatchError');
    assert.match(message, new RegExp(`built for ${built} but this machine is ${machine}`));
    assert.match(
      message,
      new RegExp(`run-lambda-test/run-lambda:${version.replaceAll('.', '\\.')}-python3\\.12-${built}`),
    );
    assert.equal(h!.front.downloads().length, 0, `${fn}'s code was not fetched`);
  }
});
