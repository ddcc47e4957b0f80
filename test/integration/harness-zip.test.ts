// Self-tests of the harness zip builders: modes, symlinks, determinism, and the raw unsafe entries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import yauzl from 'yauzl';
import { buildZip, UNSAFE_KINDS, unsafeZip } from './harness/zip.js';

interface Listed {
  name: string;
  mode: number;
  content: string;
}

/** Lists a zip with yauzl, names undecoded so that unsafe names come through as written. */
function list(zip: Buffer): Promise<Listed[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, decodeStrings: false }, (err, zf) => {
      if (err || !zf) return reject(err);
      const out: Listed[] = [];
      zf.on('entry', (e: yauzl.Entry) => {
        const name = (e.fileName as unknown as Buffer).toString('utf8');
        const mode = (e.externalFileAttributes >>> 16) & 0xffff;
        if (name.endsWith('/')) {
          out.push({ name, mode, content: '' });
          zf.readEntry();
          return;
        }
        zf.openReadStream(e, (err2, s) => {
          if (err2 || !s) return reject(err2);
          const chunks: Buffer[] = [];
          s.on('data', (c: Buffer) => chunks.push(c));
          s.on('end', () => {
            out.push({ name, mode, content: Buffer.concat(chunks).toString('utf8') });
            zf.readEntry();
          });
        });
      });
      zf.on('end', () => resolve(out));
      zf.on('error', reject);
      zf.readEntry();
    });
  });
}

test('buildZip writes files, modes, symlinks and directories, and the same spec gives the same bytes', async () => {
  const spec = {
    'lambda_function.py': 'print(1)',
    bootstrap: { content: '#!/bin/sh\n', mode: 0o755 },
    link: { symlink: 'lambda_function.py' },
    'pkg/': { dir: true as const },
  };
  const zip = await buildZip(spec);
  assert.deepEqual(await list(zip), [
    { name: 'lambda_function.py', mode: 0o100644, content: 'print(1)' },
    { name: 'bootstrap', mode: 0o100755, content: '#!/bin/sh\n' },
    { name: 'link', mode: 0o120777, content: 'lambda_function.py' },
    { name: 'pkg/', mode: 0o040755, content: '' },
  ]);
  assert.deepEqual(await buildZip(spec), zip);
});

test('unsafeZip writes the names and links yazl would refuse', async () => {
  const names = await Promise.all(
    UNSAFE_KINDS.map(async (k) =>
      (await list(unsafeZip(k))).map((e) => `${e.name}${e.mode >> 12 === 0o12 ? ` -> ${e.content}` : ''}`),
    ),
  );
  assert.deepEqual(names, [
    ['lambda_function.py', '../escaped.txt'],
    ['lambda_function.py', `/tmp/escaped-${process.pid}.txt`],
    ['lambda_function.py', 'up -> ../../..'],
    ['lambda_function.py', 'etc -> /etc'],
    ['lambda_function.py', 'out -> ..', 'out/escaped.txt'],
  ]);
});
