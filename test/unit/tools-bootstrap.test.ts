// scripts/tools.mjs decides where npm test's Python tools come from. CI's machine has them, so the branch that makes
// .venv is tested here with stand-ins: a PATH of small shell scripts for python3 (with and without venv), its pip
// and the tools; nothing reaches the network.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const SCRIPT = new URL('../../scripts/tools.mjs', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'tools-bootstrap-'));
after(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
function exe(file: string, body: string) {
  mkdirSync(join(file, '..'), { recursive: true });
  // The stand-ins need the system's mkdir and friends; the PATH under test holds only the stand-ins.
  writeFileSync(file, `#!/bin/sh\nPATH=/usr/bin:/bin\n${body}\n`);
  chmodSync(file, 0o755);
}

/** A project folder with a requirements-dev.txt, and an empty bin folder for the PATH. */
function project() {
  const root = join(work, `p${++n}`);
  mkdirSync(join(root, 'bin'), { recursive: true });
  writeFileSync(join(root, 'requirements-dev.txt'), 'moto[server]==5.2.1\ncfn-lint==1.51.0\n');
  return { root, bin: join(root, 'bin'), log: join(root, 'calls.log') };
}

// A python3 whose `-m venv DIR` makes DIR/bin/python3; that one's `-m pip install …` logs its arguments and lays
// out moto_server and cfn-lint as pip would (or fails, with PIP_FAILS set).
const VENV_PIP = (log: string) => `
case "$1" in
  --version) echo "Python 3.12.1" ;;
  -c) exit 1 ;;
  -m) [ "$2" = venv ] || exit 9
      mkdir -p "$3/bin"
      cat > "$3/bin/python3" <<'PY'
#!/bin/sh
PATH=/usr/bin:/bin
echo "pip $*" >> "${log}"
[ -n "$PIP_FAILS" ] && { echo "ERROR: No matching distribution found for moto==5.2.1" >&2; exit 1; }
dir=$(dirname "$0")
printf '#!/bin/sh\\n' > "$dir/moto_server"; printf '#!/bin/sh\\n' > "$dir/cfn-lint"
chmod +x "$dir/moto_server" "$dir/cfn-lint"
PY
      chmod +x "$3/bin/python3"
      echo "venv $3" >> "${log}" ;;
esac`;

function run(root: string, bin: string, extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [SCRIPT, '--root', root], {
    encoding: 'utf8',
    env: { PATH: bin, ...extraEnv },
  });
  return { status: r.status, stdout: r.stdout.trim(), lines: r.stderr.trim().split('\n').filter(Boolean) };
}

const calls = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

test('with moto_server, cfn-lint and a python3 that imports samtranslator on the PATH, no .venv is made', () => {
  const p = project();
  exe(join(p.bin, 'moto_server'), 'exit 0');
  exe(join(p.bin, 'cfn-lint'), 'exit 0');
  exe(join(p.bin, 'python3'), `echo "python3 $*" >> "${p.log}"; [ "$1" = -c ] && exit 0; exit 9`);
  const r = run(p.root, p.bin);
  assert.equal(r.status, 0, r.lines.join('\n'));
  assert.equal(r.stdout, '', 'nothing to put on the PATH');
  assert.deepEqual(calls(p.log), ['python3 -c import samtranslator']);
  assert.equal(existsSync(join(p.root, '.venv')), false);
});

test('without the tools, it makes .venv, pip-installs requirements-dev.txt there and hands back .venv/bin', () => {
  const p = project();
  exe(join(p.bin, 'python3'), VENV_PIP(p.log));
  const r = run(p.root, p.bin);
  assert.equal(r.status, 0, r.lines.join('\n'));
  const venvBin = join(p.root, '.venv/bin');
  assert.equal(r.stdout, venvBin);
  assert.deepEqual(r.lines, ['moto_server, cfn-lint not found: installing requirements-dev.txt into .venv']);
  assert.deepEqual(calls(p.log), [
    `venv ${join(p.root, '.venv')}`,
    `pip -m pip install --disable-pip-version-check -r ${join(p.root, 'requirements-dev.txt')}`,
  ]);
  assert.ok(existsSync(join(venvBin, 'moto_server')) && existsSync(join(venvBin, 'cfn-lint')));

  // Next time the same .venv serves as it is; a changed requirements-dev.txt is installed again into it.
  const again = run(p.root, p.bin);
  assert.equal(again.stdout, venvBin);
  assert.equal(calls(p.log).length, 2, 'no second venv or pip run');
  writeFileSync(join(p.root, 'requirements-dev.txt'), 'moto[server]==5.2.2\ncfn-lint==1.51.0\n');
  const changed = run(p.root, p.bin);
  assert.equal(changed.status, 0);
  assert.deepEqual(calls(p.log).slice(2), [
    `pip -m pip install --disable-pip-version-check -r ${join(p.root, 'requirements-dev.txt')}`,
  ]);
});

test('moto on the PATH but a python3 without samtranslator still gets the pinned set in .venv', () => {
  const p = project();
  exe(join(p.bin, 'moto_server'), 'exit 0');
  exe(join(p.bin, 'cfn-lint'), 'exit 0');
  exe(join(p.bin, 'python3'), VENV_PIP(p.log));
  const r = run(p.root, p.bin);
  assert.equal(r.status, 0, r.lines.join('\n'));
  assert.equal(r.stdout, join(p.root, '.venv/bin'));
  assert.match(r.lines[0] ?? '', /^samtranslator \(for python3\) not found/);
});

test('no python3 at all: one line that says to install Python 3, exit 1', () => {
  const p = project();
  const r = run(p.root, p.bin);
  assert.equal(r.status, 1);
  assert.equal(r.lines.length, 2, r.lines.join('\n'));
  assert.match(r.lines[1] ?? '', /needs Python 3 .* no python3 on the PATH/);
});

test('a python3 without its venv module: one line that names python3-venv, exit 1', () => {
  const p = project();
  exe(
    join(p.bin, 'python3'),
    `[ "$1" = --version ] && { echo "Python 3.11.2"; exit 0; }
[ "$1" = -m ] && { echo "The virtual environment was not created successfully because ensurepip is not available." >&2; exit 1; }
exit 1`,
  );
  const r = run(p.root, p.bin);
  assert.equal(r.status, 1);
  assert.equal(r.lines.length, 2, r.lines.join('\n'));
  assert.match(
    r.lines[1] ?? '',
    /could not make the virtual environment .*ensurepip is not available.*python3-venv/,
  );
});

test('pip failing (no package index reachable) ends with one line after pip’s own output, exit 1', () => {
  const p = project();
  exe(join(p.bin, 'python3'), VENV_PIP(p.log));
  const r = run(p.root, p.bin, { PIP_FAILS: '1' });
  assert.equal(r.status, 1);
  assert.match(r.lines.at(-2) ?? '', /No matching distribution/);
  assert.match(r.lines.at(-1) ?? '', /^pip could not install requirements-dev.txt into .venv \(exit 1/);
  assert.equal(
    existsSync(join(p.root, '.venv', '.requirements-dev.sha256')),
    false,
    'not marked as installed',
  );
});

test('requirements-dev.txt pins the versions the project is tested with', () => {
  const text = readFileSync(new URL('../../requirements-dev.txt', import.meta.url), 'utf8');
  const pins = text.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.ok(pins.includes('moto[server]==5.2.1'));
  assert.ok(pins.includes('cfn-lint==1.51.0'));
  for (const pin of pins) assert.match(pin, /^[\w[\]-]+==[\w.]+$/, `${pin} is not an exact pin`);
});
