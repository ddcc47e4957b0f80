// The architecture check (runner/runtime/architecture.ts) and its local-mode half, the native files' ELF headers
// (runner/runtime/native-files.ts): which machine a function is built for against this one, and what is refused.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readMatrix } from '../../images/matrix.mjs';
import { exitCodeOf } from '../../runner/errors.js';
import { createLogger } from '../../runner/log.js';
import { checkArchitecture, hostArchitecture, imageFor } from '../../runner/runtime/architecture.js';
import { familyOf } from '../../runner/runtime/families.js';
import {
  checkLocalArchitecture,
  EM_AARCH64,
  EM_X86_64,
  elfArchitecture,
  nativeFindings,
} from '../../runner/runtime/native-files.js';

/** The first 20 bytes of an ELF file for `machine`, little- or big-endian, as a linker writes them. */
function elfHeader(machine: number, bigEndian = false): Buffer {
  const b = Buffer.alloc(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, bigEndian ? 2 : 1, 1]);
  if (bigEndian) b.writeUInt16BE(machine, 18);
  else b.writeUInt16LE(machine, 18);
  return b;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'architecture-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** A folder of files: a Buffer is written as it is, a number as an ELF header for that machine. */
async function tree(name: string, files: Record<string, number | string>): Promise<string> {
  const root = join(dir, name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), typeof content === 'number' ? elfHeader(content) : content);
  }
  return root;
}

test("Node's x64 is Lambda's x86_64; arm64 is arm64", () => {
  assert.equal(hostArchitecture('x64'), 'x86_64');
  assert.equal(hostArchitecture('arm64'), 'arm64');
});

test("an ELF header's e_machine names the architecture, in either byte order; anything else names none", () => {
  assert.equal(elfArchitecture(elfHeader(EM_X86_64)), 'x86_64');
  assert.equal(elfArchitecture(elfHeader(EM_AARCH64)), 'arm64');
  assert.equal(elfArchitecture(elfHeader(EM_AARCH64, true)), 'arm64');
  assert.equal(elfArchitecture(elfHeader(3)), undefined, 'i386 is no Lambda architecture');
  assert.equal(elfArchitecture(Buffer.from('#!/bin/sh\necho not an ELF file\n')), undefined);
  assert.equal(elfArchitecture(elfHeader(EM_X86_64).subarray(0, 10)), undefined, 'a cut header');
});

test('the image to use: this image with the architecture after it, else the tag form for the runtime', () => {
  const env = { RUN_LAMBDA_IMAGE: 'cirrusgeo/run-lambda:1.0.0-python3.12' };
  assert.equal(imageFor('arm64', 'python3.12', env), 'cirrusgeo/run-lambda:1.0.0-python3.12-arm64');
  assert.equal(imageFor('x86_64', 'nodejs22.x', {}), 'run-lambda:<version>-nodejs22.x-x86_64');
});

test('another machine is refused with exit 3, naming both architectures and the image; --ignore-architecture warns once', () => {
  const lines: string[] = [];
  const check = (ignore: boolean) =>
    checkArchitecture({
      functionName: 'task',
      architecture: 'arm64',
      runtime: 'python3.12',
      ignore,
      env: {},
      log: createLogger('info', (l) => lines.push(l)),
      host: 'x86_64',
    });
  assert.throws(
    () => check(false),
    (e: Error) =>
      e.name === 'ArchitectureMismatchError' &&
      exitCodeOf(e) === 3 &&
      e.message.startsWith(
        'task is built for arm64 but this machine is x86_64: run it in run-lambda:<version>-python3.12-arm64',
      ),
  );
  assert.deepEqual(lines, []);
  check(true);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /warning: task is built for arm64 .* running it anyway \(--ignore-architecture\)/);
});

test('native files: one for this machine ends the walk; only another machine\'s names one file; none is "none"', async () => {
  const mixed = await tree('mixed', { 'a/x86.so': EM_X86_64, 'b/arm.so.1': EM_AARCH64 });
  assert.deepEqual(await nativeFindings([mixed], 'x86_64'), { kind: 'host' });
  assert.deepEqual(await nativeFindings([mixed], 'arm64'), { kind: 'host' });
  const arm = await tree('arm', { 'pkg/_speedups.cpython-312-aarch64-linux-gnu.so': EM_AARCH64 });
  assert.deepEqual(await nativeFindings([arm], 'x86_64'), {
    kind: 'other',
    architecture: 'arm64',
    file: 'pkg/_speedups.cpython-312-aarch64-linux-gnu.so',
  });
  const pure = await tree('pure', {
    'lambda_function.py': 'def h(e, c): return e\n',
    'bin/tool': '#!/bin/sh\n',
  });
  assert.deepEqual(await nativeFindings([pure], 'x86_64'), { kind: 'none' });
});

test('native files: only what may be native is read (an ELF named data.bin is not), and links are not followed', async () => {
  const root = await tree('names', { 'data.bin': EM_AARCH64, 'addon/build/x.node': EM_AARCH64 });
  const found = await nativeFindings([root], 'x86_64');
  assert.equal(found.kind === 'other' && found.file, 'addon/build/x.node');
  const linked = await tree('linked', { 'readme.txt': 'x' });
  await symlink(join(dir, 'arm'), join(linked, 'elsewhere'));
  assert.deepEqual(await nativeFindings([linked], 'x86_64'), { kind: 'none' });
});

test('local code whose native files are all for another machine is refused naming one; a layers folder counts too', async () => {
  const log = createLogger('silent');
  const deps = { functionName: 'fn', runtime: 'python3.12', ignore: false, env: {}, log, host: 'x86_64' };
  const code = await tree('code', { 'lambda_function.py': 'x' });
  const layers = await tree('layers', { 'python/lib/arm.so': EM_AARCH64 });
  await assert.rejects(
    checkLocalArchitecture({ ...deps, roots: [code, layers] }),
    /fn's native files are built for arm64 \(python\/lib\/arm\.so\), none for this machine \(x86_64\): run it in/,
  );
  assert.equal(await checkLocalArchitecture({ ...deps, roots: [code, layers], ignore: true }), 'arm64');
  assert.equal(await checkLocalArchitecture({ ...deps, roots: [code] }), undefined);
  assert.equal(await checkLocalArchitecture({ ...deps, roots: [layers], platform: 'darwin' }), undefined);
});

test('every runtime of images/matrix.json is one the runner knows (java*.al2023 among them)', () => {
  for (const { runtime } of readMatrix().images) assert.ok(familyOf(runtime), `${runtime} is unknown`);
});
