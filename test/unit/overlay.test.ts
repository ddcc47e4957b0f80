import assert from 'node:assert/strict';
import { existsSync, lstatSync, readlinkSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { FunctionPrepareError, UnsafeArchiveError } from '../../runner/errors.js';
import { move } from '../../runner/opt/journal.js';
import { applyLayers, JOURNAL_DIR, recoverOverlay } from '../../runner/opt/overlay.js';

type Tree = Record<string, string | { link: string } | { dir: true }>;

/** Writes a tree (files, links, empty folders) under `root`, as an extracted layer or an image's /opt. */
async function make(root: string, tree: Tree): Promise<string> {
  await mkdir(root, { recursive: true });
  for (const [rel, v] of Object.entries(tree)) {
    const p = join(root, rel);
    await mkdir(dirname(p), { recursive: true });
    if (typeof v === 'string') await writeFile(p, v);
    else if ('link' in v) await symlink(v.link, p);
    else await mkdir(p, { recursive: true });
  }
  return root;
}

/** Everything under `root`: files with their content, links with their target, folders with a slash. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const e of await readdir(rel ? join(root, rel) : root, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) out[r] = `-> ${readlinkSync(join(root, r))}`;
      else if (e.isDirectory()) {
        out[`${r}/`] = '';
        await walk(r);
      } else out[r] = await readFile(join(root, r), 'utf8');
    }
  };
  await walk('');
  return out;
}

const fresh = () => mkdtemp(join(tmpdir(), 'overlay-'));

test('layers that are safe alone but escape together (a -> x/y, esc -> a/../..; then a -> .; then esc/planted) write nothing outside the opt dir', async () => {
  const base = await fresh();
  const opt = join(base, 'deep', 'opt');
  const l1 = await make(join(base, 'l1'), { 'x/y/keep': 'k', a: { link: 'x/y' }, esc: { link: 'a/../..' } });
  const l2 = await make(join(base, 'l2'), { a: { link: '.' } });
  const l3 = await make(join(base, 'l3'), { 'esc/planted': 'evil' });
  const overlay = await applyLayers([l1, l2, l3], opt);
  assert.equal(existsSync(join(base, 'planted')), false, 'nothing two levels above the opt dir');
  assert.equal(existsSync(join(base, 'deep', 'planted')), false);
  // The later layer's folder replaced the earlier layer's link instead of writing through it.
  assert.ok(lstatSync(join(opt, 'esc')).isDirectory());
  assert.equal(await readFile(join(opt, 'esc', 'planted'), 'utf8'), 'evil');
  await overlay.undo();
  assert.equal(existsSync(opt), false, 'the opt dir the run created is gone again');
});

test('a merged tree whose links point out of the opt dir is refused (exit 3), and the opt dir is left as it was', async () => {
  const base = await fresh();
  const opt = await make(join(base, 'opt'), { 'image.txt': 'mine' });
  const l1 = await make(join(base, 'l1'), { 'x/y/keep': 'k', a: { link: 'x/y' }, esc: { link: 'a/../..' } });
  const l2 = await make(join(base, 'l2'), { a: { link: '.' } });
  const before = await snapshot(opt);
  await assert.rejects(
    applyLayers([l1, l2], opt),
    (err: Error) =>
      err instanceof UnsafeArchiveError &&
      /the layers together make the symlink esc point outside .*: a\/\.\.\/\.\./.test(err.message),
  );
  assert.deepEqual(await snapshot(opt), before);
});

test('a layer folder over a symlink the opt dir already has is made a real folder: nothing is written where the link points', async () => {
  const base = await fresh();
  const outside = await make(join(base, 'outside'), { 'sys.so': 'system' });
  const opt = await make(join(base, 'opt'), { lib: { link: outside } });
  const layer = await make(join(base, 'layer'), { 'lib/libx.so': 'layer' });
  const overlay = await applyLayers([layer], opt);
  assert.deepEqual(await readdir(outside), ['sys.so']);
  assert.equal(await readFile(join(opt, 'lib', 'libx.so'), 'utf8'), 'layer');
  await overlay.undo();
  assert.equal(readlinkSync(join(opt, 'lib')), outside, 'the link is back');
});

test('the image’s own /opt files are covered by a layer for the run and found again after it', async () => {
  const base = await fresh();
  const image: Tree = {
    'share/gdal/gdalvrt.xsd': 'image gdal data',
    'python/image_mod.py': 'IMAGE = 1\n',
    'lib/libgdal.so': 'image lib',
    'bin/gdalinfo': 'image tool',
  };
  const opt = await make(join(base, 'opt'), image);
  const before = await snapshot(opt);
  const l1 = await make(join(base, 'l1'), {
    'share/gdal/gdalvrt.xsd': 'layer gdal data',
    'python/layer_mod.py': 'LAYER = 1\n',
    'lib/libgdal.so': { link: 'libgdal.so.34' },
    'lib/libgdal.so.34': 'layer lib',
  });
  const l2 = await make(join(base, 'l2'), {
    'python/layer_mod.py': 'LAYER = 2\n',
    'bin/gdalinfo/': { dir: true },
  });
  const overlay = await applyLayers([l1, l2], opt);
  assert.equal(await readFile(join(opt, 'share/gdal/gdalvrt.xsd'), 'utf8'), 'layer gdal data');
  assert.equal(await readFile(join(opt, 'python/layer_mod.py'), 'utf8'), 'LAYER = 2\n');
  assert.equal(await readFile(join(opt, 'lib/libgdal.so'), 'utf8'), 'layer lib');
  assert.ok(lstatSync(join(opt, 'bin/gdalinfo')).isDirectory());
  assert.equal(await readFile(join(opt, 'python/image_mod.py'), 'utf8'), 'IMAGE = 1\n');
  await overlay.undo();
  assert.deepEqual(await snapshot(opt), before, 'exactly the image’s files again, nothing of the layers');
});

test('a run killed before it took its layers off: the next run finds its record and takes them off', async () => {
  const base = await fresh();
  const opt = await make(join(base, 'opt'), { 'python/image_mod.py': 'IMAGE = 1\n' });
  const before = await snapshot(opt);
  const layer = await make(join(base, 'layer'), {
    'python/image_mod.py': 'LAYER\n',
    'python/a_mod.py': 'A\n',
  });
  await applyLayers([layer], opt);
  // As if its runner had died: an owner pid that no longer runs.
  await writeFile(join(opt, JOURNAL_DIR, 'owner'), `999999999@${(await import('node:os')).hostname()}`);
  const warnings: string[] = [];
  await recoverOverlay(opt, { warn: (m) => warnings.push(m) });
  assert.deepEqual(await snapshot(opt), before);
  assert.match(warnings[0] ?? '', /taking the layers of a run that ended without doing so \(999999999@/);
});

test('a second run with layers on an opt dir in use is refused naming the other run; the first run’s layers stay', async () => {
  const base = await fresh();
  const opt = join(base, 'opt');
  const a = await make(join(base, 'a'), { 'python/a.py': 'A\n' });
  const b = await make(join(base, 'b'), { 'python/b.py': 'B\n' });
  const first = await applyLayers([a], opt);
  await assert.rejects(
    applyLayers([b], opt),
    (err: Error) =>
      err instanceof FunctionPrepareError &&
      /the opt dir .* is in use by another run \(\d+@/.test(err.message),
  );
  assert.equal(await readFile(join(opt, 'python/a.py'), 'utf8'), 'A\n');
  assert.equal(existsSync(join(opt, 'python/b.py')), false);
  await first.undo();
  assert.equal(existsSync(opt), false);
});

test('a layer with an entry in the runner’s own journal folder is refused', async () => {
  const base = await fresh();
  const layer = await make(join(base, 'layer'), {
    [`${JOURNAL_DIR}/journal`]: '{"op":"add","rel":"../../x"}\n',
  });
  await assert.rejects(applyLayers([layer], join(base, 'opt')), UnsafeArchiveError);
});

test('moving aside across file systems (EXDEV, as for an image folder on overlayfs) copies links and modes, then removes the source', async (t) => {
  const shm = '/dev/shm';
  const base = await fresh();
  if (!existsSync(shm) || statSync(shm).dev === statSync(base).dev)
    return t.skip('needs /dev/shm on another file system');
  const from = await make(await mkdtemp(join(shm, 'overlay-move-')), {
    'lib/a.so': 'a',
    'lib/b.so': { link: 'a.so' },
  });
  await chmod(join(from, 'lib', 'a.so'), 0o751);
  const to = join(base, 'moved');
  await move(from, to);
  assert.equal(existsSync(from), false);
  assert.equal(await readFile(join(to, 'lib', 'a.so'), 'utf8'), 'a');
  assert.equal(readlinkSync(join(to, 'lib', 'b.so')), 'a.so');
  assert.equal(statSync(join(to, 'lib', 'a.so')).mode & 0o777, 0o751);
});
