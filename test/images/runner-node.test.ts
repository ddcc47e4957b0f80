// The runner's Node.js on the Amazon Linux 2 bases (python3.11, java8.al2, java11, java17), whose glibc 2.26 is older
// than the 2.28 Node.js 18 and later need: it comes with the Node.js image's own loader and libraries and loads nothing
// of the base's, even where the base's LD_LIBRARY_PATH names its own folders. On the Amazon Linux 2023 bases it runs on
// the base's C library. On the nodejs bases the image ships none: the base's own /var/lang/bin/node runs the runner.
// And what all that costs a job's pull: the layers each image adds over its base, compressed as a registry ships them.
// Gap: the stand-in of the python3.11 base is Debian bookworm (glibc 2.36), so the old glibc itself is not here: what
// the tests show is that node maps no library from outside its own folder.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BuiltImage, ImageSet } from './images.js';
import { ranOn, runIn, skip, withImagesAndHarness } from './support.js';

let set: ImageSet;
withImagesAndHarness({}, (started) => {
  ({ set } = started);
});

const NODE = '/usr/local/lib/run-lambda/bin/node';
const LIB = '/usr/local/lib/run-lambda/lib/';
/** The shared objects node has mapped, read from its own /proc/self/maps. */
const MAPS = `${NODE} -e "const m = require('fs').readFileSync('/proc/self/maps', 'utf8'); console.log([...new Set(m.split('\\\\n').map((l) => l.split(/ +/)[5]).filter((p) => p && p.includes('.so')))].join('\\\\n'))"`;
// A C++ library that is no library, found first where LD_LIBRARY_PATH is honoured: what an Amazon Linux 2 base's own
// libstdc++ (too old for Node.js 22) is to a node that takes the base's libraries. The shells on the way need no C++.
const POISON =
  'mkdir -p /tmp/poison && echo not-a-library > /tmp/poison/libstdc++.so.6 && LD_LIBRARY_PATH=/tmp/poison';

test('python3.11 (Amazon Linux 2): the runner’s node maps only the loader and libraries beside it', {
  skip,
}, async (t) => {
  const image = set.get('lambda', 'python3.11');
  t.diagnostic(ranOn(image));
  const r = await runIn(image, ['sh', '-c', MAPS]);
  assert.equal(r.code, 0, r.stderr);
  const libs = r.stdout.trim().split('\n');
  t.diagnostic(`mapped: ${libs.join(', ')}`);
  assert.ok(
    libs.some((l) => /\/libc\.so\.6$/.test(l)),
    'node maps a C library',
  );
  for (const lib of libs) assert.ok(lib.startsWith(LIB), `${lib} is not one of the runner's own`);
});

test('python3.11 (Amazon Linux 2): a library the environment points at is not the one node loads; run works', {
  skip,
}, async (t) => {
  const image = set.get('lambda', 'python3.11');
  t.diagnostic(ranOn(image));
  const r = await runIn(image, ['sh', '-c', `${POISON} run --version`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^run-lambda /);
});

test('python3.12 (Amazon Linux 2023): the runner’s node runs on the base’s C library, as the loader finds it', {
  skip,
}, async (t) => {
  const image = set.get('lambda', 'python3.12');
  t.diagnostic(ranOn(image));
  const r = await runIn(image, ['sh', '-c', MAPS]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes(LIB), r.stdout);
  // The same poisoned environment reaches it: what the bundled node is proof against.
  const poisoned = await runIn(image, ['sh', '-c', `${POISON} run --version`]);
  assert.notEqual(poisoned.code, 0);
});

for (const runtime of ['nodejs22.x', 'nodejs24.x']) {
  test(`${runtime}: the base’s own Node.js (/var/lang/bin/node) runs the runner; the image ships no other`, {
    skip,
  }, async (t) => {
    const image = set.get('lambda', runtime);
    t.diagnostic(ranOn(image));
    const traced = await runIn(image, ['sh', '-x', '/usr/local/bin/run', '--version']);
    assert.equal(traced.code, 0, traced.stderr);
    assert.match(traced.stdout, /^run-lambda /);
    // The images' entry (start.mjs: the baked compile cache on, then the bundle).
    assert.match(traced.stderr, /exec \/var\/lang\/bin\/node \S+\/run-lambda\/start\.mjs --version/);
    // Without the base's node the runner cannot start: no Node.js of the image's own is there to take over.
    const r = await runIn(image, [
      'sh',
      '-c',
      'mv /var/lang/bin/node /tmp/ && { run --version; echo "exit $?"; }',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^exit [1-9]\d*$/m);
    assert.doesNotMatch(r.stdout, /^run-lambda /m);
  });
}

/**
 * The bound of what an image adds over its base, which a job's task pulls each time: the runner's bundles over a nodejs
 * base; a stripped Node.js (39.8 MB) too over the others; and on Amazon Linux 2 the C libraries it brings (2.3 MB).
 */
const bound = (image: BuiltImage) => (image.runner_node === 'base' ? 5e6 : image.os === 'al2' ? 45e6 : 42e6);

test('each image adds at most 5 MB over a nodejs base, 42 MB over the others (45 on Amazon Linux 2), compressed', {
  skip,
}, (t) => {
  for (const image of set.images) {
    t.diagnostic(`${image.tags[0]}: +${(image.addedBytes / 1e6).toFixed(1)} MB over ${image.base}`);
    assert.ok(image.addedBytes > 0, `${image.tags[0]} adds nothing: the measure is broken`);
    assert.ok(
      image.addedBytes <= bound(image),
      `${image.tags[0]} adds ${image.addedBytes} bytes, over ${bound(image)}`,
    );
  }
});
