// images/: both Dockerfiles lint clean, copy only files the build makes, and `run` starts the bundle with plain node.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';

const root = fileURLToPath(new URL('../../', import.meta.url));
const images = ['run-lambda', 'run-geolambda'] as const;
const dockerfile = (image: string) => readFileSync(join(root, 'images', image, 'Dockerfile'), 'utf8');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

/** `COPY` instructions (line continuations joined), without `--from` stages: [sources..., destination]. */
function copies(text: string): string[][] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => /^COPY\s/i.test(line))
    .map((line) => line.split(/\s+/).slice(1))
    .filter((args) => !args.some((a) => a.startsWith('--from=')))
    .map((args) => args.filter((a) => !a.startsWith('--')));
}

let sandbox = '';
before(() => {
  if (!existsSync(join(root, 'dist/run-lambda.mjs'))) {
    const b = spawnSync(process.execPath, ['scripts/build.mjs', 'runner'], { cwd: root, encoding: 'utf8' });
    assert.equal(b.status, 0, `building dist/run-lambda.mjs failed:\n${b.stderr}`);
  }
  // The image's layout: /usr/local/bin/run and /usr/local/lib/run-lambda/run-lambda.mjs, and no node_modules.
  sandbox = mkdtempSync(join(tmpdir(), 'run-image-'));
  for (const [source, destination] of copies(dockerfile('run-lambda')).map(
    (a) => [a[0], a.at(-1)] as const,
  )) {
    const target = join(sandbox, String(destination).replace(/^\/usr\/local\//, ''));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(root, String(source)), target);
  }
});
after(() => {
  if (sandbox) rmSync(sandbox, { recursive: true, force: true });
});

for (const image of images) {
  test(`images/${image}/Dockerfile passes dockerfile-utils with no problem`, () => {
    assert.deepEqual(
      validate(dockerfile(image)).map((d) => `${d.range.start.line + 1}: ${d.message}`),
      [],
    );
  });

  test(`images/${image}/Dockerfile copies only files that exist after the build and its dockerignore keeps`, () => {
    const list = copies(dockerfile(image));
    assert.ok(list.length >= 2, 'copies the runner and the run wrapper');
    const ignore = readFileSync(join(root, 'images', image, 'Dockerfile.dockerignore'), 'utf8');
    for (const args of list) {
      for (const source of args.slice(0, -1)) {
        assert.ok(existsSync(join(root, source)), `COPY source ${source} does not exist`);
        assert.ok(
          ignore.split('\n').includes(`!${source}`),
          `${source} is excluded by Dockerfile.dockerignore`,
        );
      }
    }
    const sources = list.flatMap((a) => a.slice(0, -1));
    assert.ok(sources.includes('dist/run-lambda.mjs') && sources.includes('images/run'));
  });

  test(`images/${image}/Dockerfile pins its base by tag, resets the entrypoint and installs node`, () => {
    const text = dockerfile(image);
    const base = /^ARG BASE_IMAGE=(\S+)$/m.exec(text)?.[1];
    assert.ok(base, 'ARG BASE_IMAGE=<image>:<tag>');
    assert.match(base, /:[\w.-]+$/, 'base image has a tag');
    assert.doesNotMatch(base, /:latest$/);
    assert.match(text, /^ENTRYPOINT \[\]$/m);
    assert.match(text, /dnf install -y "nodejs\$\{NODE_MAJOR\}"/);
  });
}

test('run-lambda is on the AWS Lambda Python base (AL2023), run-geolambda on lambgeo with GDAL_DATA and PROJ_LIB', () => {
  assert.match(dockerfile('run-lambda'), /^ARG BASE_IMAGE=public\.ecr\.aws\/lambda\/python:3\.1[2-9]$/m);
  const geo = dockerfile('run-geolambda');
  assert.match(geo, /^ARG BASE_IMAGE=ghcr\.io\/lambgeo\/lambda-gdal:[\d.]+-python3\.1[2-9]$/m);
  assert.match(geo, /GDAL_DATA=\/opt\/share\/gdal/);
  assert.match(geo, /PROJ_LIB=\/opt\/share\/proj/);
});

test('the run wrapper is an executable POSIX sh script that runs the bundle with plain node', () => {
  const wrapper = join(root, 'images/run');
  assert.ok((statSync(wrapper).mode & 0o111) !== 0, 'images/run is executable (COPY keeps the mode)');
  const text = readFileSync(wrapper, 'utf8');
  assert.match(text, /^#!\/bin\/sh\n/);
  assert.match(text, /exec node "[^"]*run-lambda\.mjs" "\$@"/);
  const syntax = spawnSync('sh', ['-n', wrapper]);
  assert.equal(syntax.status, 0);
});

// As in the image: only the wrapper and the bundle, node found on the PATH, no NODE_PATH, no node_modules above.
function runInSandbox(args: string[]) {
  const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: sandbox, LANG: 'C.UTF-8' };
  return spawnSync(join(sandbox, 'bin/run'), args, { cwd: sandbox, env, encoding: 'utf8', timeout: 30_000 });
}

test('the sandbox has nothing to resolve packages from', () => {
  for (let dir = join(sandbox, 'lib/run-lambda'); ; dir = dirname(dir)) {
    assert.ok(!existsSync(join(dir, 'node_modules')), `${dir}/node_modules exists`);
    if (dirname(dir) === dir) break;
  }
});

test('run --version prints the package version, from the image layout, with plain node', () => {
  const r = runInSandbox(['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`\\b${version.replace(/\./g, '\\.')}\\b`));
});

test('run --help prints the usage and exits 0', () => {
  const r = runInSandbox(['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /<function> <payload-url> \[<output-url>\]/);
});

test('the job definitions’ defaults reach the runner as empty arguments: a usage error (exit 2, not retried)', () => {
  const r = runInSandbox(['', '', '']);
  assert.equal(r.status, 2, r.stderr);
  const last = r.stderr.trimEnd().split('\n').at(-1) ?? '';
  assert.match(last, /^UsageError: /);
});
