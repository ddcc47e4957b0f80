// scripts/docker-setup.sh (what CI and a user with Docker run before npm test), on stand-ins: a PATH of small
// scripts for docker, apt-get and the emulator, and a folder of its own as binfmt_misc, so nothing here installs a
// package or touches the machine's registrations.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../support/tools.js';

const SCRIPT = join(REPO_ROOT, 'scripts/docker-setup.sh');
const work = mkdtempSync(join(tmpdir(), 'docker-setup-'));
after(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

const MAGIC = String.raw`\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00`;
const MASK = String.raw`\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff`;

function exe(file: string, body: string) {
  writeFileSync(file, `#!/bin/sh\nPATH=/usr/bin:/bin\n${body}\n`);
  chmodSync(file, 0o755);
}

/** A machine: `have` names the stand-ins on its PATH besides docker (whose engine answers); binfmt_misc is a folder. */
function machine(have: string[]) {
  const dir = join(work, `m${++n}`);
  const bin = join(dir, 'bin');
  const binfmt = join(dir, 'binfmt_misc');
  const log = join(dir, 'calls.log');
  mkdirSync(bin, { recursive: true });
  mkdirSync(binfmt);
  symlinkSync('/usr/bin/grep', join(bin, 'grep'));
  const stub = (name: string) => exe(join(bin, name), `echo "${name} $*" >> '${log}'`);
  exe(join(bin, 'docker'), `echo "docker $*" >> '${log}'; echo 20.10.24`);
  for (const name of ['mountpoint', ...have]) stub(name);
  // apt-get install lays out what it was asked for
  exe(
    join(bin, 'apt-get'),
    `echo "apt-get $*" >> '${log}'
for p in "$@"; do
  case "$p" in
    debootstrap) f=debootstrap ;; qemu-user-static) f=qemu-aarch64-static ;;
    gcc-aarch64-linux-gnu) f=aarch64-linux-gnu-gcc ;; docker-registry) f=docker-registry ;; *) continue ;;
  esac
  printf '#!/bin/sh\\n' > '${bin}'/$f; chmod +x '${bin}'/$f
done`,
  );
  const run = () => {
    const r = spawnSync('/bin/bash', [SCRIPT], { encoding: 'utf8', env: { PATH: bin, BINFMT_DIR: binfmt } });
    const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    return { status: r.status, out: `${r.stdout}${r.stderr}`, calls };
  };
  return { bin, binfmt, run, read: (f: string) => readFileSync(join(binfmt, f), 'utf8') };
}

const entryText = (interpreter: string, flags: string) =>
  `enabled\ninterpreter ${interpreter}\nflags: ${flags}\noffset 0\nmagic 7f454c46\n`;

test('with everything in place it installs nothing, starts nothing and leaves the registration alone', () => {
  const m = machine(['debootstrap', 'qemu-aarch64-static', 'aarch64-linux-gnu-gcc', 'docker-registry']);
  writeFileSync(join(m.binfmt, 'qemu-aarch64'), entryText(join(m.bin, 'qemu-aarch64-static'), 'OCF'));
  const r = m.run();
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /qemu-aarch64 is registered with the F flag/);
  assert.equal(existsSync(join(m.binfmt, 'register')), false, 'nothing was registered');
  assert.deepEqual(
    r.calls.filter((c) => !c.startsWith('docker version')),
    [],
    'only the engine was asked whether it answers',
  );
});

test('what is missing is installed with apt-get', () => {
  const m = machine([]);
  const r = m.run();
  assert.ok(
    r.calls.includes(
      'apt-get install -y -qq debootstrap qemu-user-static gcc-aarch64-linux-gnu docker-registry',
    ),
    r.calls.join('\n'),
  );
  assert.ok(!r.calls.some((c) => c.includes('docker.io')), 'docker was there');
});

test('an entry without the F flag is removed and qemu-aarch64 registered again with OCF; the result is checked', () => {
  const m = machine(['debootstrap', 'qemu-aarch64-static']);
  const qemu = join(m.bin, 'qemu-aarch64-static');
  writeFileSync(join(m.binfmt, 'qemu-aarch64'), entryText(qemu, 'OC'));
  const r = m.run();
  assert.equal(m.read('qemu-aarch64'), '-1\n', 'the old entry was removed');
  assert.equal(m.read('register'), `:qemu-aarch64:M::${MAGIC}:${MASK}:${qemu}:OCF\n`);
  // A folder is no kernel: no entry appears, and the script says so rather than claim success.
  assert.equal(r.status, 1);
  assert.match(r.out, /qemu-aarch64 could not be registered with the F flag/);
});
