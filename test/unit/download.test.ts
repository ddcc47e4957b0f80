import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  appendFile,
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import yazl from 'yazl';
import { unqualifiedArn } from '../../lib/lambda-arn.js';
import { folderFor, materialize, openCodeCache, sharedExtractor } from '../../runner/aws/code-cache.js';
import { downloadVerified } from '../../runner/aws/download.js';
import { functionRefOf, getFunctionInput } from '../../runner/aws/get-function.js';
import { overlayLayers, parseLayerArn } from '../../runner/aws/layers.js';
import { ChecksumMismatchError, exitCodeOf, FunctionPrepareError } from '../../runner/errors.js';
import { createLogger } from '../../runner/log.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');

async function zipOf(files: Record<string, string>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, data] of Object.entries(files)) z.addBuffer(Buffer.from(data), name);
  z.end();
  const chunks: Buffer[] = [];
  for await (const c of z.outputStream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** A tiny server: path → bytes; `/expired-once/…` answers 403 the first time; counts requests per path. */
const routes = new Map<string, Buffer>();
const hits = new Map<string, number>();
const endlessClosed: number[] = [];
let server: Server;
let base: string;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'download-test-'));
  server = createServer((req, res) => {
    const path = req.url ?? '';
    const count = (hits.get(path) ?? 0) + 1;
    hits.set(path, count);
    if (path === '/endless') {
      // A body that never ends (no Content-Length): 64 KiB chunks until the client hangs up.
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => endlessClosed.push(Date.now()));
      pump();
      return;
    }
    if (path === '/announces-big') {
      res.writeHead(200, { 'content-length': String(1 << 30) });
      res.write('PK');
      return;
    }
    const body = routes.get(path.replace(/^\/expired-once/, ''));
    if (path.startsWith('/expired-once') && count === 1) {
      res
        .writeHead(403)
        .end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
    } else if (!body) res.writeHead(404).end();
    else res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

function quietLog(lines: string[] = []) {
  return createLogger('info', (l) => lines.push(l));
}

test('a download whose SHA-256 matches CodeSha256 is kept', async () => {
  const body = Buffer.from('code bytes');
  routes.set('/ok', body);
  const dest = join(dir, 'ok.zip');
  const bytes = await downloadVerified(`${base}/ok`, dest, {
    label: 'code of f',
    sha256Base64: sha(body),
    log: quietLog(),
  });
  assert.equal(bytes, body.length);
  assert.deepEqual(await readFile(dest), body);
});

test('a download whose SHA-256 differs is refused with exit 3 and removed', async () => {
  routes.set('/tampered', Buffer.from('tampered bytes'));
  const dest = join(dir, 'tampered.zip');
  await assert.rejects(
    downloadVerified(`${base}/tampered`, dest, {
      label: 'code of f',
      sha256Base64: sha(Buffer.from('original bytes')),
      log: quietLog(),
    }),
    (err: Error) =>
      err instanceof ChecksumMismatchError && exitCodeOf(err) === 3 && /code of f/.test(err.message),
  );
  assert.equal(existsSync(dest), false);
});

test('an expired URL (403) is retried once with a fresh URL', async () => {
  const body = Buffer.from('layer bytes');
  routes.set('/layer', body);
  let refreshed = 0;
  const dest = join(dir, 'layer.zip');
  await downloadVerified(`${base}/expired-once/layer`, dest, {
    label: 'layer l:1',
    sha256Base64: sha(body),
    refreshUrl: async () => {
      refreshed += 1;
      return `${base}/layer`;
    },
    log: quietLog(),
  });
  assert.equal(refreshed, 1);
  assert.deepEqual(await readFile(dest), body);
});

test('a URL that is still refused after the refresh fails with the status', async () => {
  const dest = join(dir, 'gone.zip');
  await assert.rejects(
    downloadVerified(`${base}/missing`, dest, {
      label: 'code of f',
      sha256Base64: 'x',
      refreshUrl: async () => `${base}/missing-too`,
      log: quietLog(),
    }),
    (err: Error) => err instanceof FunctionPrepareError && /HTTP 404/.test(err.message),
  );
  assert.equal(existsSync(dest), false);
});

test('a download is capped at the CodeSize Lambda reported: an endless body is refused (exit 3) naming both sizes', async () => {
  const dest = join(dir, 'endless.zip');
  await assert.rejects(
    downloadVerified(`${base}/endless`, dest, {
      label: 'code of tiny',
      sha256Base64: sha(Buffer.from('x')),
      expectedSize: 188,
      log: quietLog(),
    }),
    (err: Error) =>
      err instanceof ChecksumMismatchError &&
      exitCodeOf(err) === 3 &&
      /^the code of tiny is larger than the 188 bytes Lambda reported \(CodeSize\): stopped after \d+ bytes$/.test(
        err.message,
      ),
  );
  assert.equal(existsSync(dest), false);
  assert.equal(hits.get('/endless'), 1, 'a refusal is not retried');
});

test('a download whose Content-Length is above CodeSize is refused before its body is read', async () => {
  await assert.rejects(
    downloadVerified(`${base}/announces-big`, join(dir, 'big.zip'), {
      label: 'layer l:1',
      sha256Base64: sha(Buffer.from('x')),
      expectedSize: 1000,
      log: quietLog(),
    }),
    /^ChecksumMismatchError: the layer l:1 is larger than the 1000 bytes Lambda reported \(CodeSize\): the server announced 1073741824 bytes$/,
  );
});

test('a download whose server goes silent fails with a timeout after its retries, naming it', async () => {
  const lines: string[] = [];
  await assert.rejects(
    downloadVerified(`${base}/announces-big`, join(dir, 'silent.zip'), {
      label: 'code of quiet',
      sha256Base64: sha(Buffer.from('x')),
      timeouts: { connectMs: 1000, idleMs: 200 },
      log: quietLog(lines),
    }),
    /^FunctionPrepareError: could not download the code of quiet: no data for 200 ms$/,
  );
  assert.equal(lines.filter((l) => /trying again/.test(l)).length, 2, 'three tries in all');
});

test('large downloads log progress every 25%', async () => {
  const body = Buffer.alloc(12 * 1024 * 1024, 7);
  routes.set('/big', body);
  const lines: string[] = [];
  await downloadVerified(`${base}/big`, join(dir, 'big.zip'), {
    label: 'code of big',
    sha256Base64: sha(body),
    log: quietLog(lines),
  });
  assert.deepEqual(
    lines.map((l) => /(\d+)%/.exec(l)?.[1]),
    ['25', '50', '75', '100'],
  );
});

test('the cache extracts a version once; the second run downloads nothing', async () => {
  const zip = await zipOf({ 'index.py': 'x = 1\n' });
  routes.set('/cached', zip);
  const store = await openCodeCache(join(dir, 'cache1'), true);
  const fetch = (zipPath: string) =>
    downloadVerified(`${base}/cached`, zipPath, { label: 'code', sha256Base64: sha(zip), log: quietLog() });
  const first = await materialize(store, 'code', sha(zip), fetch, sharedExtractor());
  const second = await materialize(store, 'code', sha(zip), fetch, sharedExtractor());
  assert.equal(first.downloaded, true);
  assert.equal(second.downloaded, false);
  assert.equal(hits.get('/cached'), 1);
  assert.equal(first.dir, join(dir, 'cache1', folderFor('code', sha(zip))));
  assert.match(first.dir, /code-[0-9a-f]{64}$/);
  // Only the extracted folder is left: no temp zip, no temp folder.
  const entry = folderFor('code', sha(zip));
  assert.deepEqual((await readdir(join(dir, 'cache1'))).sort(), [entry, `${entry}.manifest`]);
});

/** Changes an earlier run could make to a cached entry, each of which must make the next run extract it again. */
const tamperings: [string, (entry: string) => Promise<void>][] = [
  ['a module appended to', (e) => appendFile(join(e, 'index.py'), 'x = 2\n')],
  [
    'a module rewritten and its mtime put back',
    async (e) => {
      const before = await stat(join(e, 'index.py'));
      await writeFile(join(e, 'index.py'), 'x = 3\n');
      await utimes(join(e, 'index.py'), before.atime, before.mtime);
    },
  ],
  ['a new file in a subfolder', (e) => writeFile(join(e, 'pkg', 'evil.py'), 'import os\n')],
  [
    'a file replaced by another inode',
    async (e) => {
      await writeFile(join(e, 'pkg', 'mod.tmp'), 'y = 9\n');
      await rename(join(e, 'pkg', 'mod.tmp'), join(e, 'pkg', 'mod.py'));
    },
  ],
  ['a mode changed', (e) => chmod(join(e, 'index.py'), 0o777)],
  ['a file removed', (e) => rm(join(e, 'pkg', 'mod.py'))],
];

for (const [what, tamper] of tamperings) {
  test(`a cached entry changed after its extraction (${what}) is not used: it is extracted again, with a warning`, async () => {
    const zip = await zipOf({ 'index.py': 'x = 1\n', 'pkg/mod.py': 'y = 1\n' });
    const route = `/tamper-${tamperings.findIndex(([w]) => w === what)}`;
    routes.set(route, zip);
    const store = await openCodeCache(await mkdtemp(join(dir, 'tamper-')), true);
    const fetch = (zipPath: string) =>
      downloadVerified(`${base}${route}`, zipPath, {
        label: 'code',
        sha256Base64: sha(zip),
        log: quietLog(),
      });
    const first = await materialize(store, 'code', sha(zip), fetch, sharedExtractor());
    await tamper(first.dir);
    const told: string[] = [];
    const second = await materialize(store, 'code', sha(zip), fetch, sharedExtractor(), {
      onChanged: (why) => told.push(why),
    });
    assert.equal(second.downloaded, true);
    assert.equal(hits.get(route), 2);
    assert.equal(told.length, 1, 'told once');
    assert.equal(await readFile(join(second.dir, 'index.py'), 'utf8'), 'x = 1\n');
    assert.equal(await readFile(join(second.dir, 'pkg', 'mod.py'), 'utf8'), 'y = 1\n');
    assert.equal(existsSync(join(second.dir, 'pkg', 'evil.py')), false);
    // The third run finds the fresh extraction intact.
    const third = await materialize(store, 'code', sha(zip), fetch, sharedExtractor());
    assert.equal(third.downloaded, false);
  });
}

test('a cached entry without its manifest (an older runner, or killed before writing it) is extracted again', async () => {
  const zip = await zipOf({ 'index.py': 'x = 1\n' });
  routes.set('/no-manifest', zip);
  const store = await openCodeCache(await mkdtemp(join(dir, 'nomanifest-')), true);
  const fetch = (zipPath: string) =>
    downloadVerified(`${base}/no-manifest`, zipPath, {
      label: 'code',
      sha256Base64: sha(zip),
      log: quietLog(),
    });
  const first = await materialize(store, 'code', sha(zip), fetch, sharedExtractor());
  await rm(`${first.dir}.manifest`);
  const second = await materialize(store, 'code', sha(zip), fetch, sharedExtractor());
  assert.equal(second.downloaded, true);
  assert.ok(existsSync(`${second.dir}.manifest`));
});

test('three runners filling the cache at once share one download (the entry lock) and all get the complete folder', async () => {
  const zip = await zipOf({ 'a.txt': 'a', 'b/c.txt': 'c' });
  routes.set('/race', zip);
  const cacheDir = join(dir, 'cache2');
  const run = async () => {
    const store = await openCodeCache(cacheDir, true);
    return materialize(
      store,
      'layer',
      sha(zip),
      (p) => downloadVerified(`${base}/race`, p, { label: 'layer', sha256Base64: sha(zip), log: quietLog() }),
      sharedExtractor(),
    );
  };
  const results = await Promise.all([run(), run(), run()]);
  // All three saw an empty cache; the first took the entry's lock and the others waited for its folder.
  assert.equal(hits.get('/race'), 1);
  for (const r of results) assert.equal(await readFile(join(r.dir, 'b/c.txt'), 'utf8'), 'c');
  const entry = folderFor('layer', sha(zip));
  assert.deepEqual((await readdir(cacheDir)).sort(), [entry, `${entry}.manifest`]);
});

test('without the cache, the store is a temp folder that cleanup removes', async () => {
  const store = await openCodeCache(join(dir, 'unused'), false);
  assert.equal(existsSync(join(dir, 'unused')), false);
  await writeFile(join(store.dir, 'x'), 'x');
  await store.cleanup();
  assert.equal(existsSync(store.dir), false);
});

test('the code and layers share one unzipped-size budget', async () => {
  const a = await zipOf({ 'a.bin': 'x'.repeat(600) });
  const b = await zipOf({ 'b.bin': 'y'.repeat(600) });
  await writeFile(join(dir, 'a.zip'), a);
  await writeFile(join(dir, 'b.zip'), b);
  const extract = sharedExtractor(1000);
  await extract(join(dir, 'a.zip'), join(dir, 'budget-a'));
  await assert.rejects(extract(join(dir, 'b.zip'), join(dir, 'budget-b')), /more than the 400 bytes/);
});

test('layers are overlaid into the opt dir in order, a later layer over an earlier one', async () => {
  const l1 = join(dir, 'l1');
  const l2 = join(dir, 'l2');
  await mkdir(join(l1, 'python'), { recursive: true });
  await mkdir(join(l2, 'python'), { recursive: true });
  await writeFile(join(l1, 'python/shared.py'), 'first');
  await writeFile(join(l1, 'python/only1.py'), '1');
  await writeFile(join(l2, 'python/shared.py'), 'second');
  const opt = join(dir, 'opt');
  await mkdir(opt);
  await writeFile(join(opt, 'from-image'), 'kept');
  await overlayLayers([l1, l2], opt);
  assert.equal(await readFile(join(opt, 'python/shared.py'), 'utf8'), 'second');
  assert.equal(await readFile(join(opt, 'python/only1.py'), 'utf8'), '1');
  assert.equal(await readFile(join(opt, 'from-image'), 'utf8'), 'kept');
});

test('function references: names, ARNs and qualifiers become FunctionName, Qualifier and region', () => {
  const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:my-task';
  // What GetFunction is asked, and the region it is asked in (none: AWS_REGION's).
  const target = (ref: string) => {
    const parts = functionRefOf(ref);
    return { ...getFunctionInput(parts), ...(parts.region ? { region: parts.region } : {}) };
  };
  assert.deepEqual(target('my-task'), { FunctionName: 'my-task' });
  assert.deepEqual(target('my-task:live'), { FunctionName: 'my-task', Qualifier: 'live' });
  assert.deepEqual(target(arn), { FunctionName: arn, region: 'eu-west-1' });
  assert.deepEqual(target(`${arn}:42`), {
    FunctionName: arn,
    Qualifier: '42',
    region: 'eu-west-1',
  });
  assert.deepEqual(target(`${arn}:$LATEST`), {
    FunctionName: arn,
    Qualifier: '$LATEST',
    region: 'eu-west-1',
  });
  assert.equal(unqualifiedArn(`${arn}:7`), arn);
  for (const bad of ['', 'a:b:c', 'my task', `${arn}:1:2`]) {
    assert.throws(
      () => functionRefOf(bad),
      (err: Error) => err.name === 'UsageError',
      bad,
    );
  }
});

test('layer version ARNs split into the layer ARN (GetLayerVersion LayerName) and the version', () => {
  const layer = 'arn:aws:lambda:us-west-2:552188055668:layer:geolambda';
  assert.deepEqual(parseLayerArn(`${layer}:4`), { arn: `${layer}:4`, layerName: layer, version: 4 });
  assert.throws(() => parseLayerArn(layer), FunctionPrepareError);
});

test('a later layer replaces an earlier layer symlink instead of writing through it', async () => {
  const l1 = join(dir, 'sl1');
  const l2 = join(dir, 'sl2');
  await mkdir(join(l1, 'lib'), { recursive: true });
  await mkdir(join(l2, 'lib'), { recursive: true });
  await writeFile(join(l1, 'lib/real.so'), 'real');
  await symlink('real.so', join(l1, 'lib/alias.so'));
  await writeFile(join(l2, 'lib/alias.so'), 'replacement');
  const opt = join(dir, 'opt-links');
  await overlayLayers([l1, l2], opt);
  assert.equal((await lstat(join(opt, 'lib/alias.so'))).isSymbolicLink(), false);
  assert.equal(await readFile(join(opt, 'lib/alias.so'), 'utf8'), 'replacement');
  assert.equal(await readFile(join(opt, 'lib/real.so'), 'utf8'), 'real');
  assert.equal(await readFile(join(l1, 'lib/real.so'), 'utf8'), 'real');
});
