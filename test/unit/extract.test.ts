import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import yazl from 'yazl';
import { extractZip } from '../../runner/archive/extract.js';
import { resolvesInside } from '../../runner/archive/paths.js';
import { exitCodeOf, UnsafeArchiveError } from '../../runner/errors.js';

type Item =
  | { name: string; data: string | Buffer; mode?: number; compress?: boolean }
  | { name: string; link: string }
  | { name: string; dir: true };

async function zipOf(items: Item[]): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const it of items) {
    if ('dir' in it) z.addEmptyDirectory(it.name);
    else if ('link' in it) z.addBuffer(Buffer.from(it.link), it.name, { mode: 0o120777 });
    else
      z.addBuffer(Buffer.from(it.data), it.name, {
        mode: it.mode ?? 0o100644,
        compress: it.compress ?? true,
      });
  }
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** yazl refuses unsafe names, so unsafe zips are built with a same-length placeholder and patched. */
function rename(zip: Buffer, from: string, to: string): Buffer {
  assert.equal(from.length, to.length);
  const out = Buffer.from(zip);
  let at = out.indexOf(from);
  assert.ok(at >= 0, `placeholder ${from} not found`);
  while (at >= 0) {
    out.write(to, at, 'latin1');
    at = out.indexOf(from, at + 1);
  }
  return out;
}

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'extract-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes the zip into a fresh folder; returns the zip path, the target and the folder to check for leftovers. */
async function setup(zip: Buffer) {
  const base = join(dir, `case-${++n}`);
  await mkdir(base);
  const zipPath = join(base, 'code.zip');
  await writeFile(zipPath, zip);
  return { zipPath, target: join(base, 'out', 'task'), base };
}

async function refused(zip: Buffer, pattern: RegExp, opts?: { maxEntries?: number; maxBytes?: number }) {
  const { zipPath, target, base } = await setup(zip);
  await mkdir(join(base, 'out'));
  await assert.rejects(extractZip(zipPath, target, opts), (err: Error) => {
    assert.ok(err instanceof UnsafeArchiveError, `${err.name}: ${err.message}`);
    assert.equal(exitCodeOf(err), 3);
    assert.match(err.message, pattern);
    return true;
  });
  // Nothing left behind: no target, no temporary folder, nothing next to the zip.
  assert.deepEqual(await readdir(join(base, 'out')), []);
  assert.deepEqual((await readdir(base)).sort(), ['code.zip', 'out']);
}

test('extracts files, folders and empty folders and reports entries and bytes', async () => {
  const zip = await zipOf([
    { name: 'lambda_function.py', data: 'def handler(e, c):\n  return e\n' },
    { name: 'pkg/__init__.py', data: '' },
    { name: 'pkg/data/table.csv', data: 'a,b\n1,2\n' },
    { name: 'empty/', dir: true },
  ]);
  const { zipPath, target } = await setup(zip);
  const res = await extractZip(zipPath, target);
  assert.deepEqual(res, { entries: 4, bytes: 30 + 0 + 8 });
  assert.equal(await readFile(join(target, 'pkg/data/table.csv'), 'utf8'), 'a,b\n1,2\n');
  assert.ok((await stat(join(target, 'empty'))).isDirectory());
  assert.deepEqual(await readdir(join(target, 'empty')), []);
});

test('keeps file modes from the external attributes (executable bootstrap)', async () => {
  const zip = await zipOf([
    { name: 'bootstrap', data: '#!/bin/sh\necho hi\n', mode: 0o100755 },
    { name: 'bin/tool', data: 'x', mode: 0o100750 },
    { name: 'readme.txt', data: 'x', mode: 0o100644 },
  ]);
  const { zipPath, target } = await setup(zip);
  await extractZip(zipPath, target);
  assert.equal((await stat(join(target, 'bootstrap'))).mode & 0o777, 0o755);
  assert.equal((await stat(join(target, 'bin/tool'))).mode & 0o777, 0o750);
  assert.equal((await stat(join(target, 'readme.txt'))).mode & 0o777, 0o644);
});

test('keeps symlinks that stay inside the tree', async () => {
  const zip = await zipOf([
    { name: 'lib/libfoo.so.1', data: 'ELF' },
    { name: 'lib/libfoo.so', link: 'libfoo.so.1' },
    { name: 'bin/foo', link: '../lib/libfoo.so.1' },
  ]);
  const { zipPath, target } = await setup(zip);
  await extractZip(zipPath, target);
  assert.ok((await lstat(join(target, 'lib/libfoo.so'))).isSymbolicLink());
  assert.equal(await readlink(join(target, 'bin/foo')), '../lib/libfoo.so.1');
  assert.equal(await readFile(join(target, 'bin/foo'), 'utf8'), 'ELF');
});

test('refuses a zip-slip entry (../) and writes nothing outside the target', async () => {
  const zip = rename(
    await zipOf([
      { name: 'ok.txt', data: 'a' },
      { name: 'xx/evil.txt', data: 'b' },
    ]),
    'xx/evil',
    '../evil',
  );
  await refused(zip, /"\.\.\/evil\.txt".*outside/);
});

test('refuses a backslash traversal (..\\..\\x) the same way', async () => {
  const zip = rename(await zipOf([{ name: 'xxxxx/evil', data: 'b' }]), 'xxxxx/evil', '..\\..\\evil');
  await refused(zip, /evil.*outside/);
});

test('refuses an absolute path', async () => {
  const zip = rename(await zipOf([{ name: 'xtmp/evil', data: 'b' }]), 'xtmp/evil', '/tmp/evil');
  await refused(zip, /"\/tmp\/evil": absolute path/);
});

test('refuses a symlink pointing outside the target, relative to its own folder', async () => {
  await refused(
    await zipOf([{ name: 'a/b/link', link: '../../../etc' }]),
    /symlink "a\/b\/link" points outside/,
  );
  await refused(await zipOf([{ name: 'link', link: '/etc/passwd' }]), /symlink "link" points outside/);
});

test('refuses a symlink that escapes through another symlink made after it', async () => {
  const zip = await zipOf([
    { name: 'a', link: 'b/l/../..' },
    { name: 'b/l', link: '..' },
  ]);
  await refused(zip, /symlink "a" points outside/);
});

test('refuses an entry written through a symlink in the archive', async () => {
  const zip = await zipOf([
    { name: 'sub', dir: true },
    { name: 'd', link: 'sub' },
    { name: 'd/file.txt', data: 'x' },
  ]);
  await refused(zip, /goes through the symlink d/);
});

test('refuses more entries than the cap', async () => {
  const items = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}.txt`, data: 'x' }));
  await refused(await zipOf(items), /5 entries, more than the limit of 4/, { maxEntries: 4 });
});

test('refuses an archive that unzips past the size budget', async () => {
  const zip = await zipOf([
    { name: 'a.bin', data: Buffer.alloc(600) },
    { name: 'b.bin', data: Buffer.alloc(600) },
  ]);
  await refused(zip, /more than the 1000 bytes allowed \(at entry "b\.bin"\)/, { maxBytes: 1000 });
});

test('refuses a zip bomb whose declared sizes lie, before writing it out', async () => {
  // 5 MB of zeros deflates to a few KB; the headers then claim it unzips to 10 bytes.
  const big = Buffer.alloc(5 * 1024 * 1024);
  const zip = await zipOf([{ name: 'bomb.bin', data: big }]);
  const lied = Buffer.from(zip);
  const compressedLen = deflateRawSync(big).length;
  // Patch the uncompressed-size fields (local header offset 22, central header offset 24).
  const local = lied.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
  const central = lied.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  lied.writeUInt32LE(10, local + 22);
  lied.writeUInt32LE(10, central + 24);
  assert.ok(compressedLen < 100_000);
  await refused(lied, /bomb\.bin/, { maxBytes: 1_000_000 });
});

test('a large entry (streamed, not inflated in memory) comes out byte for byte', async () => {
  const random = randomBytes(1536 * 1024);
  const { zipPath, target } = await setup(
    await zipOf([{ name: 'lib/native.so', data: random, mode: 0o100755 }]),
  );
  const res = await extractZip(zipPath, target);
  assert.equal(res.bytes, random.length);
  assert.ok((await readFile(join(target, 'lib/native.so'))).equals(random));
  assert.equal((await stat(join(target, 'lib/native.so'))).mode & 0o777, 0o755);
});

test('a large streamed entry whose declared size lies is refused', async () => {
  const zip = Buffer.from(await zipOf([{ name: 'big.bin', data: randomBytes(1536 * 1024) }]));
  zip.writeUInt32LE(10, zip.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04])) + 22);
  zip.writeUInt32LE(10, zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 24);
  await refused(zip, /big\.bin/);
});

test('a refused archive leaves an empty target folder made by the caller untouched', async () => {
  const zip = await zipOf([{ name: 'link', link: '../x' }]);
  const { zipPath, target } = await setup(zip);
  await mkdir(target, { recursive: true });
  await assert.rejects(extractZip(zipPath, target), UnsafeArchiveError);
  assert.deepEqual(await readdir(target), []);
});

test('extracts into an empty folder the caller already made', async () => {
  const { zipPath, target } = await setup(await zipOf([{ name: 'a.txt', data: 'a' }]));
  await mkdir(target, { recursive: true });
  await extractZip(zipPath, target);
  assert.equal(await readFile(join(target, 'a.txt'), 'utf8'), 'a');
});

test('a file that is not a zip is refused as an unsafe archive', async () => {
  const { zipPath, target } = await setup(Buffer.from('not a zip at all'));
  await assert.rejects(extractZip(zipPath, target), UnsafeArchiveError);
  assert.equal(existsSync(target), false);
});

test('link resolution follows chains and refuses loops', () => {
  const links = new Map([
    ['a', 'b'],
    ['b', 'c/d'],
    ['x', 'y'],
    ['y', 'x'],
  ]);
  assert.equal(resolvesInside('a', links), true);
  assert.equal(resolvesInside('x', links), false);
  assert.equal(resolvesInside('p/q', new Map([['p/q', '../r']])), true);
  assert.equal(resolvesInside('p/q', new Map([['p/q', '../../r']])), false);
});
