// Whether this machine can make the image tests' stand-in bases (test/images/standins.ts): debootstrap, as root.
// Where it cannot, npm test skips the image tests with this reason (the machine has no engine for them, in effect).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
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
