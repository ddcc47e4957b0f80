// images/ without an engine: what the matrix refuses, the names each image gets on each architecture, which registry
// the publish step talks to over plain HTTP, and the build's usage errors (before any docker call).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  archTag,
  baseFor,
  type ImageEntry,
  listTags,
  nodeImageFor,
  parseMatrix,
  readMatrix,
} from '../../images/matrix.mjs';
import { isLoopback, registryHost } from '../../images/publish.mjs';
import { imageConfig } from '../images/rootfs-image.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const text = readFileSync(join(root, 'images/matrix.json'), 'utf8');

/** The matrix with its first entry changed by `edit`. */
function withFirst(edit: (e: Record<string, unknown>) => void): string {
  const m = JSON.parse(text) as { images: Record<string, unknown>[] };
  edit(m.images[0] as Record<string, unknown>);
  return JSON.stringify(m);
}

test('the matrix refuses a base not pinned by a dated tag, unless the entry says why', () => {
  const moving = (e: Record<string, unknown>) => {
    e.base = 'public.ecr.aws/lambda/python:3.11';
  };
  assert.throws(() => parseMatrix(withFirst(moving)), /is not pinned by an exact dated tag/);
  assert.doesNotThrow(() =>
    parseMatrix(
      withFirst((e) => {
        moving(e);
        e.unpinned = 'no dated tag confirmed';
      }),
    ),
  );
  assert.throws(
    () =>
      parseMatrix(
        withFirst((e) => {
          e.base = 'public.ecr.aws/lambda/python:latest';
          e.unpinned = 'why';
        }),
      ),
    /says why it is not pinned/,
  );
});

test('the matrix refuses a digest that is not one, an unknown OS or architecture, and a runtime twice', () => {
  const cases: [(e: Record<string, unknown>) => void, RegExp][] = [
    [(e) => (e.digests = { arm64: 'sha256:abc' }), /digests\.arm64 must be/],
    [(e) => (e.digests = { mips: `sha256:${'0'.repeat(64)}` }), /digests\.mips must be/],
    [(e) => (e.os = 'al1'), /os must be al2 or al2023/],
    [
      (e) => (e.standin = { target: 'lambda-python', suite: 'bookworm', npm_test: ['riscv64'] }),
      /npm_test names riscv64/,
    ],
    [(e) => (e.runtime = 'python3.12'), /lists lambda:python3\.12 twice/],
  ];
  for (const [edit, error] of cases) assert.throws(() => parseMatrix(withFirst(edit)), error);
  assert.throws(
    () => parseMatrix(JSON.stringify({ ...JSON.parse(text), arches: ['arm'] })),
    /arches must list/,
  );
});

test('each architecture builds from its own tag of the base and of the Node.js image, and is tagged with it', () => {
  const m = readMatrix();
  const py = m.images.find((e) => e.flavour === 'lambda' && e.runtime === 'python3.12') as ImageEntry;
  assert.equal(baseFor(py, 'arm64'), 'public.ecr.aws/lambda/python:3.12.2026.10.03.13-arm64');
  assert.equal(baseFor(py, 'x86_64'), 'public.ecr.aws/lambda/python:3.12.2026.10.03.13-x86_64');
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.equal(baseFor({ ...py, digests: { arm64: digest } }, 'arm64'), `${py.base}-arm64@${digest}`);
  assert.equal(nodeImageFor(m, 'x86_64'), `amd64/${m.node.image}`);
  assert.equal(nodeImageFor(m, 'arm64'), `arm64v8/${m.node.image}`);
  const where = { repo: 'r.example/x', version: '1.2.3' };
  assert.equal(archTag(py, { ...where, arch: 'arm64' }), 'r.example/x/run-lambda:1.2.3-python3.12-arm64');
  assert.deepEqual(listTags(py, where), [
    'r.example/x/run-lambda:1.2.3-python3.12',
    'r.example/x/run-lambda:1.2.3',
  ]);
});

test('the publish step speaks plain HTTP to a registry on loopback only', () => {
  assert.equal(registryHost('127.0.0.1:5000/cirrus'), '127.0.0.1:5000');
  assert.equal(registryHost('cirrusgeo'), 'docker.io');
  assert.equal(
    registryHost('123456789012.dkr.ecr.us-west-2.amazonaws.com'),
    '123456789012.dkr.ecr.us-west-2.amazonaws.com',
  );
  for (const host of ['127.0.0.1:5000', '127.1.2.3', 'localhost:5000', '[::1]:5000'])
    assert.ok(isLoopback(host), host);
  for (const host of [
    'docker.io',
    '10.0.0.1:5000',
    '123456789012.dkr.ecr.us-west-2.amazonaws.com',
    'localhost.example',
  ])
    assert.ok(!isLoopback(host), host);
});

test("a stand-in's root filesystem image declares the architecture it is for", () => {
  const arm = JSON.parse(imageConfig('arm64', 'f'.repeat(64))) as Record<string, unknown>;
  assert.equal(arm.architecture, 'arm64');
  assert.equal(arm.variant, 'v8');
  assert.deepEqual(arm.rootfs, { type: 'layers', diff_ids: [`sha256:${'f'.repeat(64)}`] });
  assert.equal(
    (JSON.parse(imageConfig('x86_64', 'f'.repeat(64))) as { architecture: string }).architecture,
    'amd64',
  );
});

test('npm run images: bad arguments are usage errors (exit 2) before any docker call', () => {
  for (const [args, error] of [
    [['--arch', 'mips'], /--arch: unknown architecture "mips" \(expected x86_64 or arm64\)/],
    [['--only', 'cobol1.0'], /--only cobol1\.0: not a runtime or <flavour>:<runtime>/],
    [['--push', 'a.example', '--repo', 'b.example'], /give one \(--push names the repository prefix\)/],
    [['--frobnicate'], /unknown argument --frobnicate/],
  ] as const) {
    const r = spawnSync(process.execPath, ['images/build.mjs', ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, PATH: '/nonexistent' },
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, error);
    assert.match(r.stderr, /Usage: npm run images/);
  }
});
