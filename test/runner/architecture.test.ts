// Local code built for another machine, through the built runner: native files (real ELF objects from the C compilers)
// all for another architecture are refused (exit 3, the last line naming both architectures and the file), unless
// --ignore-architecture (or its env twin) says to run it anyway; code with this machine's native files, or none, runs.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compile, hostArch, missingCompiler, otherArch } from '../support/elf.js';
import { fx, parseLastLine, runCli } from './helpers.js';

const payload = fx('payload.json');
const skip = missingCompiler(otherArch) ?? missingCompiler(hostArch);

/** The Python fixture with a shared object built for each of `arches` under pkg/. */
function codeWith(arches: ('x86_64' | 'arm64')[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'arch-fn-'));
  cpSync(fx('python-fn'), dir, { recursive: true });
  for (const arch of arches) compile(arch, join(dir, 'pkg', `_native.${arch}.so`), 'shared');
  return dir;
}

test(`local code with only ${otherArch} native files is refused: exit 3, naming both architectures, the file and the image`, {
  skip,
}, async () => {
  const code = codeWith([otherArch]);
  const r = await runCli([code, payload, '-']);
  assert.equal(r.code, 3, r.stderr);
  const { type, message } = parseLastLine(r.last);
  assert.equal(type, 'ArchitectureMismatchError');
  assert.match(message, new RegExp(`built for ${otherArch} \\(pkg/_native\\.${otherArch}\\.so\\)`));
  assert.match(message, new RegExp(`none for this machine \\(${hostArch}\\)`));
  assert.match(message, new RegExp(`run-lambda:<version>-python3\\.12-${otherArch}`));
  assert.equal(r.stdout, '', 'the handler never ran');
});

test('--ignore-architecture runs it with one warning, and the record names both architectures', {
  skip,
}, async () => {
  const code = codeWith([otherArch]);
  const out = mkdtempSync(join(tmpdir(), 'arch-out-'));
  const r = await runCli([
    '--ignore-architecture',
    '--record',
    join(out, 'run.json'),
    code,
    payload,
    join(out, 'out.json'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.split('\n').filter((l) => l.includes('--ignore-architecture')).length, 1);
  const record = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(record.function.architecture, otherArch);
  assert.equal(record.runner.architecture, hostArch);
});

test('RUN_LAMBDA_IGNORE_ARCHITECTURE is the twin of --ignore-architecture', { skip }, async () => {
  const r = await runCli([codeWith([otherArch]), payload, '-'], {
    env: { RUN_LAMBDA_IGNORE_ARCHITECTURE: 'true' },
  });
  assert.equal(r.code, 0, r.stderr);
});

test("code with both machines' native files runs, and so does code with none", { skip }, async () => {
  const mixed = await runCli([codeWith([otherArch, hostArch]), payload, '-']);
  assert.equal(mixed.code, 0, mixed.stderr);
  assert.doesNotMatch(mixed.stderr, /built for/);
  const pure = await runCli([codeWith([]), payload, '-']);
  assert.equal(pure.code, 0, pure.stderr);
});
