// An item's own files in the work folder go with one unlink once it is done with them (runner/payload/remove.ts).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeFile } from '../../runner/payload/remove.js';

test('removeFile removes the file; a file that is not there is no error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'remove-file-'));
  try {
    const file = join(dir, 'item-3.json');
    await writeFile(file, '{}');
    await removeFile(file);
    await assert.rejects(stat(file), { code: 'ENOENT' });
    await removeFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('removeFile throws what else stops it: a folder in the file’s place stays, with its contents', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'remove-file-'));
  try {
    const folder = join(dir, 'item-3.json');
    await mkdir(folder);
    await writeFile(join(folder, 'kept'), 'x');
    await assert.rejects(removeFile(folder), (err: NodeJS.ErrnoException) =>
      ['EISDIR', 'EPERM'].includes(err.code ?? ''),
    );
    assert.ok((await stat(join(folder, 'kept'))).isFile());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
