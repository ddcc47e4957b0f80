// Whether this machine can make the image tests' stand-in bases (test/images/standins.ts): debootstrap, as root; and
// whether it runs arm64 binaries (test/images/emulation.ts), which the arm64 stand-ins and images need.
// Where it cannot, npm test skips the image tests with this reason (the machine has no engine for them, in effect).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { emulationMissing, HOST_ARCH } from '../images/emulation.js';
import { debootstrapMissing } from '../images/standins.js';

const work = mkdtempSync(join(tmpdir(), 'standins-'));
after(() => rmSync(work, { recursive: true, force: true }));
const empty = join(work, 'empty');
const withDebootstrap = join(work, 'bin');
mkdirSync(empty);
mkdirSync(withDebootstrap);
writeFileSync(join(withDebootstrap, 'debootstrap'), '#!/bin/sh\n');
chmodSync(join(withDebootstrap, 'debootstrap'), 0o755);

test('as root with debootstrap on the PATH, the stand-ins can be made', () => {
  assert.equal(debootstrapMissing({ PATH: `${empty}:${withDebootstrap}` }, 0), undefined);
});

test('without debootstrap, the reason says so and how to get it', () => {
  assert.equal(
    debootstrapMissing({ PATH: empty }, 0),
    'the stand-in bases are made with debootstrap, which is not installed here (scripts/docker-setup.sh installs it)',
  );
});

test('not as root, the reason says debootstrap needs root', () => {
  assert.match(debootstrapMissing({ PATH: withDebootstrap }, 1000) ?? '', /debootstrap, which needs root/);
});

// Whether the arm64 stand-ins and images can be built and run here: a binfmt_misc folder of our own stands for the
// kernel's, in the shape the kernel shows an entry.
const binfmt = (name: string, text?: string) => {
  const dir = join(work, `binfmt-${name}`);
  mkdirSync(dir);
  if (text !== undefined) writeFileSync(join(dir, 'qemu-aarch64'), text);
  return dir;
};
const entry = (state: string, flags: string) =>
  `${state}\ninterpreter /usr/bin/qemu-aarch64-static\nflags: ${flags}\noffset 0\nmagic 7f454c46\n`;

test("this machine's own architecture always runs; arm64 needs qemu-aarch64 enabled with the F flag", () => {
  assert.equal(emulationMissing(HOST_ARCH, binfmt('none')), undefined);
  const arm = HOST_ARCH === 'x86_64' ? 'arm64' : 'x86_64';
  if (arm !== 'arm64') return; // the cases below are an x86_64 machine's
  assert.match(
    emulationMissing('arm64', binfmt('absent')) ?? '',
    /qemu-aarch64 registered with binfmt_misc, and .* does not exist/,
  );
  assert.match(emulationMissing('arm64', binfmt('disabled', entry('disabled', 'OCF'))) ?? '', /is disabled/);
  assert.match(emulationMissing('arm64', binfmt('no-f', entry('enabled', 'OC'))) ?? '', /lacks the F flag/);
  assert.equal(emulationMissing('arm64', binfmt('ok', entry('enabled', 'OCF'))), undefined);
});
