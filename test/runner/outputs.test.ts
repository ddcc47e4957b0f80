// Local outputs that exist and are not regular files keep being what they are (docs/runner.md: "Where the result goes").
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  createReadStream,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fx, runCli } from './helpers.js';

const fn = fx('python-fn');
const echo = ['--handler', 'handlers.echo', fn];
const fresh = () => mkdtempSync(join(tmpdir(), 'outputs-'));

test('a FIFO as the output is written through and stays a FIFO', async () => {
  const dir = fresh();
  const fifo = join(dir, 'result.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  // The reader opens the FIFO as a consumer would; the runner writes once the handler returned.
  const chunks: Buffer[] = [];
  const read = new Promise<void>((resolve, reject) => {
    createReadStream(fifo)
      .on('data', (c) => chunks.push(Buffer.from(c)))
      .on('end', resolve)
      .on('error', reject);
  });
  const r = await runCli([...echo, fx('payload.json'), fifo]);
  await read;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(Buffer.concat(chunks).toString()), { a: 1 });
  assert.ok(lstatSync(fifo).isFIFO(), 'still a FIFO');
});

test('a symlink as the output is followed: the file it names gets the result, the link stays a link', async () => {
  const dir = fresh();
  const real = join(dir, 'real.json');
  writeFileSync(real, 'old');
  symlinkSync('real.json', join(dir, 'link.json'));
  const r = await runCli([...echo, fx('payload.json'), join(dir, 'link.json')]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(lstatSync(join(dir, 'link.json')).isSymbolicLink(), 'still a symlink');
  assert.equal(readlinkSync(join(dir, 'link.json')), 'real.json');
  assert.deepEqual(JSON.parse(readFileSync(real, 'utf8')), { a: 1 });
});

test('a character device as the output (a null device made with mknod) is written through, not replaced', async (t) => {
  // Making a device node needs root; CI runs as root, so the test runs there (a laptop run says why it skipped).
  if (process.getuid?.() !== 0) return t.skip('mknod needs root'); // not root: a device node cannot be made; CI is root
  const dir = fresh();
  const dev = join(dir, 'null');
  // Our own node for /dev/null's device (1,3): a failing runner must not replace the machine's /dev/null.
  assert.equal(spawnSync('mknod', [dev, 'c', '1', '3']).status, 0);
  const r = await runCli([...echo, fx('payload.json'), dev]);
  assert.equal(r.code, 0, r.stderr);
  const s = statSync(dev);
  assert.ok(s.isCharacterDevice(), 'still a character device');
  assert.equal(s.rdev, statSync('/dev/null').rdev);
});

test('an output that is a folder is refused before the handler runs, and the folder is untouched', async () => {
  const dir = fresh();
  const r = await runCli(['--handler', 'handlers.side_effect', fn, fx('payload.json'), dir], {
    env: { SIDE_EFFECT: join(dir, 'ran') },
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.last, /^InvalidOutputError: cannot write the result to .*: it is a folder$/);
  assert.equal(spawnSync('ls', ['-A', dir]).stdout.toString(), '', 'the handler did not run');
});

test('an output whose folder does not exist is refused before the handler runs', async () => {
  const dir = fresh();
  const r = await runCli(
    ['--handler', 'handlers.side_effect', fn, fx('payload.json'), join(dir, 'no', 'out.json')],
    { env: { SIDE_EFFECT: join(dir, 'ran') } },
  );
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.last, /^InvalidOutputError: .*no folder/);
  assert.equal(spawnSync('ls', ['-A', dir]).stdout.toString(), '', 'the handler did not run');
});

test('an s3:// output without a key is refused before the handler runs (no AWS needed to say so)', async () => {
  const dir = fresh();
  const r = await runCli(['--handler', 'handlers.side_effect', fn, fx('payload.json'), 's3://bucket-only'], {
    env: { SIDE_EFFECT: join(dir, 'ran') },
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.last, /^UsageError: bad output URL: missing object key/);
  assert.equal(spawnSync('ls', ['-A', dir]).stdout.toString(), '', 'the handler did not run');
});

test('an output that is a symlink to nothing is refused before the handler runs', async () => {
  const dir = fresh();
  symlinkSync('missing.json', join(dir, 'dangling.json'));
  const r = await runCli(
    ['--handler', 'handlers.side_effect', fn, fx('payload.json'), join(dir, 'dangling.json')],
    {
      env: { SIDE_EFFECT: join(dir, 'ran') },
    },
  );
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.last,
    /^InvalidOutputError: cannot write the result to .*dangling\.json: it is a symlink to nothing$/,
  );
  assert.equal(lstatSync(join(dir, 'dangling.json')).isSymbolicLink(), true);
});
