// sandbox.localdomain in /etc/hosts (runner/platform/sandbox-host.ts): added in the images when missing, never twice,
// and never outside the images; a file that cannot be written is a warning, not a failure.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../runner/log.js';
import { ensureSandboxName, namesSandbox } from '../../runner/platform/sandbox-host.js';

const hosts = (text: string) => {
  const f = join(mkdtempSync(join(tmpdir(), 'hosts-')), 'hosts');
  writeFileSync(f, text);
  return f;
};
const lines: string[] = [];
const log = createLogger('debug', (l) => lines.push(l));
const image = { RUN_LAMBDA_IMAGE_RUNTIME: 'python3.12' };

test('in an image, the name is added once to the loopback', async () => {
  const f = hosts('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost');
  assert.equal(await ensureSandboxName(image, log, f), 'added');
  assert.equal(
    readFileSync(f, 'utf8'),
    '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n127.0.0.1\tsandbox.localdomain sandbox\n',
  );
  assert.equal(await ensureSandboxName(image, log, f), 'present');
  assert.equal(namesSandbox('# 127.0.0.1 sandbox.localdomain\n'), false, 'a comment names nothing');
});

test('outside the images the file is left alone; an unwritable one is a warning', async () => {
  const f = hosts('127.0.0.1 localhost\n');
  assert.equal(await ensureSandboxName({}, log, f), 'left');
  assert.equal(readFileSync(f, 'utf8'), '127.0.0.1 localhost\n');
  // A file in a folder that does not exist cannot be written, as root or not.
  const result = await ensureSandboxName(image, log, join(f, '..', 'missing', 'hosts'));
  assert.equal(result, 'left');
  assert.ok(lines.some((l) => l.includes('warning: cannot add sandbox.localdomain')));
});
