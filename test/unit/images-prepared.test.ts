// How npm test hands its image tests what it prepared before them (test/images/prepared.ts): the build step says in
// one line that the image tests are skipped where no engine answers (DOCKER_HOST is honoured), and the files take
// its word (skipped with its reason, or failed with its error) instead of asking the engine or building again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { skipReason } from '../images/docker.js';
import { ensureImages } from '../images/images.js';
import { PREPARED_ENV, type Prepared, writePrepared } from '../images/prepared.js';
import { REPO_ROOT } from '../support/tools.js';

const work = mkdtempSync(join(tmpdir(), 'images-prepared-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('where no engine answers at DOCKER_HOST, the build step says so in one line and hands the files the skip', () => {
  const out = join(work, 'skip.json');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/images/images.ts', '--out', out], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, DOCKER_HOST: `unix://${join(work, 'no-engine.sock')}`, [PREPARED_ENV]: '' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(
    r.stderr,
    /^images: not built \(no Docker engine answers .*\): the image tests are skipped\n$/,
  );
  const prepared = JSON.parse(readFileSync(out, 'utf8')) as Prepared;
  assert.ok('skip' in prepared && /no Docker engine answers/.test(prepared.skip));
});

test('a file takes the reason npm test found instead of asking the engine again', (t) => {
  const file = join(work, 'skipped.json');
  writePrepared(file, { skip: 'the reason npm test found' });
  t.after(() => delete process.env[PREPARED_ENV]);
  process.env[PREPARED_ENV] = file;
  assert.equal(skipReason(), 'the reason npm test found');
});

test('a file told that the build failed fails with its error rather than build again', async (t) => {
  const file = join(work, 'failed.json');
  writePrepared(file, { error: 'debootstrap bookworm exited with code 1' });
  t.after(() => delete process.env[PREPARED_ENV]);
  process.env[PREPARED_ENV] = file;
  assert.equal(skipReason(), undefined, 'the image tests run (and fail)');
  await assert.rejects(
    ensureImages(),
    /^Error: the image build before the tests failed: debootstrap bookworm exited/,
  );
});

test('a hand-off file that cannot be read is an error the files report, not a skip', (t) => {
  t.after(() => delete process.env[PREPARED_ENV]);
  process.env[PREPARED_ENV] = join(work, 'missing.json');
  assert.equal(skipReason(), undefined);
});
