// images/ without an engine: the one Dockerfile lints clean and copies only files the build makes and the root
// .dockerignore keeps; the matrix pins every base; `run` starts the bundle with plain node. (test/images/ runs them.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';
import { RUN_LAMBDA_IMAGE, RUN_LAMBDA_IMAGE_RUNTIME } from '../../lib/job-plan.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dockerfiles = ['images/Dockerfile', 'images/geo-base/Dockerfile'] as const;
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const dockerfile = () => read('images/Dockerfile');
const version = (JSON.parse(read('package.json')) as { version: string }).version;

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
  if (!existsSync(join(root, 'dist/run-lambda-aws.mjs'))) {
    const b = spawnSync(process.execPath, ['scripts/build.mjs', 'runner'], { cwd: root, encoding: 'utf8' });
    assert.equal(b.status, 0, `building dist/run-lambda.mjs failed:\n${b.stderr}`);
  }
  // The image's layout: /usr/local/bin/run, /usr/local/lib/run-lambda/{start,run-lambda}.mjs, and no node_modules
  // (nor the compile cache the image bakes: start.mjs runs the bundle without one).
  sandbox = mkdtempSync(join(tmpdir(), 'run-image-'));
  for (const [source, destination] of [
    ['images/run', 'bin/run'],
    ['images/start.mjs', 'lib/run-lambda/start.mjs'],
    ['dist/run-lambda.mjs', 'lib/run-lambda/run-lambda.mjs'],
    ['dist/run-lambda-aws.mjs', 'lib/run-lambda/run-lambda-aws.mjs'],
  ] as const) {
    mkdirSync(dirname(join(sandbox, destination)), { recursive: true });
    copyFileSync(join(root, source), join(sandbox, destination));
  }
});
after(() => {
  if (sandbox) rmSync(sandbox, { recursive: true, force: true });
});

for (const file of dockerfiles) {
  test(`${file} passes dockerfile-utils with no problem`, () => {
    assert.deepEqual(
      validate(read(file)).map((d) => `${d.range.start.line + 1}: ${d.message}`),
      [],
    );
  });

  test(`${file} needs no BuildKit: no syntax line, no per-Dockerfile ignore file`, () => {
    assert.doesNotMatch(read(file), /^# syntax=/m);
    assert.ok(!existsSync(join(root, `${file}.dockerignore`)));
  });
}

test('images/Dockerfile copies only files that exist after the build and the root .dockerignore keeps', () => {
  const list = copies(dockerfile());
  const keep = read('.dockerignore')
    .split('\n')
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1));
  const sources = list.flatMap((a) => a.slice(0, -1));
  for (const source of sources) {
    assert.ok(existsSync(join(root, source)), `COPY source ${source} does not exist`);
    assert.ok(keep.includes(source), `${source} is excluded by .dockerignore`);
  }
  for (const needed of [
    'dist/run-lambda.mjs',
    'dist/run-lambda-aws.mjs',
    'images/run',
    'images/start.mjs',
    'images/bake-cache.mjs',
  ]) {
    assert.ok(sources.includes(needed), `the image copies ${needed}`);
  }
});

test('images/Dockerfile: Node.js from the NODE_IMAGE stage (no distro package manager on the base; binutils to strip it in that stage only), the SDK by npm ci from a lockfile', () => {
  const text = dockerfile();
  assert.match(text, /^FROM \$\{NODE_IMAGE\} AS node$/m);
  assert.match(text, /^FROM node AS runner-node$/m);
  assert.match(text, /^COPY --from=runner-node \/runner\/ \/usr\/local\/lib\/run-lambda\/$/m);
  const [build = '', onBase = ''] = text.split(/^FROM \$\{BASE_IMAGE\} AS lambda$/m);
  assert.ok(onBase, 'the lambda stage starts FROM the BASE_IMAGE argument');
  assert.doesNotMatch(onBase, /\b(dnf|yum|microdnf|apt-get|apk) /);
  const runnerNode = build.slice(build.indexOf('FROM node AS runner-node'));
  assert.match(runnerNode, /apt-get install -y --no-install-recommends binutils\b/);
  assert.match(runnerNode, /strip --strip-unneeded -o \/runner\/node \/usr\/local\/bin\/node/);
  assert.doesNotMatch(
    build.slice(0, build.indexOf('FROM node AS runner-node')),
    /\b(dnf|yum|microdnf|apt-get|apk) /,
  );
  assert.match(text, /\bbundled\) npm ci --omit=dev /);
  assert.doesNotMatch(text, /npm install/);
  const lock = JSON.parse(read('images/aws-sdk/package-lock.json')) as {
    packages: Record<string, { version?: string }>;
  };
  assert.ok(
    lock.packages['node_modules/@aws-sdk/client-s3']?.version,
    'the lockfile pins @aws-sdk/client-s3',
  );
  assert.match(text, /^ENV RUN_LAMBDA_IMAGE_RUNTIME=\$\{RUNTIME\}/m);
  assert.match(text, /^ {4}AWS_EXECUTION_ENV=AWS_Lambda_\$\{RUNTIME\} \\$/m);
  assert.match(text, /^ENTRYPOINT \[\]$/m);
});

test('images/Dockerfile sets the image variables the runner reads, under the names lib/job-plan.ts gives them', () => {
  const env = dockerfile().replace(/\\\r?\n/g, ' ');
  const set = /^ENV (.*)$/m.exec(env)?.[1] ?? '';
  // The values are the build arguments, as the Dockerfile writes them: `${RUNTIME}`, `${IMAGE_NAME}`.
  for (const [name, arg] of [
    [RUN_LAMBDA_IMAGE_RUNTIME, 'RUNTIME'],
    [RUN_LAMBDA_IMAGE, 'IMAGE_NAME'],
  ])
    assert.ok(set.split(/\s+/).includes(`${name}=\${${arg}}`), `ENV sets ${name} from the ${arg} argument`);
});

test('images/node-bundled is an executable POSIX sh script that starts node through the loader beside it', () => {
  const script = join(root, 'images/node-bundled');
  assert.ok((statSync(script).mode & 0o111) !== 0, 'images/node-bundled is executable');
  const text = readFileSync(script, 'utf8');
  assert.match(text, /^#!\/bin\/sh\n/);
  assert.match(text, /exec "\$loader" --library-path "\$here\/lib" "\$here\/libexec\/node" "\$@"/);
  assert.equal(spawnSync('sh', ['-n', script]).status, 0);
});

/** The Lambda base image of a runtime and the start of its tags: python3.13 → python:3.13., java8.al2023 → java:8.al2023. */
function lambdaBase(runtime: string): string {
  const m =
    /^(python|nodejs|java|ruby|dotnet|provided)\.?(\d+(?:\.\d+)?|al2023)?(?:\.x)?(\.al2(?:023)?)?$/.exec(
      runtime,
    );
  assert.ok(m, `${runtime} is a Lambda runtime identifier`);
  return `public.ecr.aws/lambda/${m[1]}:${m[2] ?? ''}${m[3] ?? ''}`;
}

test('images/matrix.json: every Lambda runtime AWS supports, once per flavour, each on its own base, pinned by date', () => {
  const m = JSON.parse(read('images/matrix.json')) as {
    arches: string[];
    node: { image: string };
    images: {
      flavour: string;
      runtime: string;
      base: string;
      os: string;
      unpinned?: string;
      default?: boolean;
      standin: { target: string; npm_test?: string[] };
    }[];
  };
  assert.deepEqual(m.arches, ['x86_64', 'arm64']);
  const runtimes = (f: string) => m.images.filter((e) => e.flavour === f).map((e) => e.runtime);
  // AWS's supported runtimes on 2026-12-06 (its Lambda runtimes page): those with a deprecation date still ahead.
  assert.deepEqual(runtimes('lambda'), [
    'python3.11',
    'python3.12',
    'python3.13',
    'python3.14',
    'nodejs22.x',
    'nodejs24.x',
    'java8.al2',
    'java8.al2023',
    'java11',
    'java11.al2023',
    'java17',
    'java17.al2023',
    'java21',
    'java25',
    'ruby3.3',
    'ruby3.4',
    'ruby4.0',
    'dotnet10',
    'provided.al2023',
  ]);
  assert.deepEqual(runtimes('geolambda'), ['python3.12', 'python3.13']);
  for (const e of m.images) {
    assert.ok(
      e.base.startsWith(`${lambdaBase(e.runtime)}.`) || e.base === lambdaBase(e.runtime),
      `${e.runtime}: ${e.base} is its Lambda base`,
    );
    if (e.unpinned) assert.equal(e.base, lambdaBase(e.runtime), `${e.runtime} says why it is not pinned`);
    else assert.match(e.base, /\.\d{4}\.\d\d\.\d\d\.\d\d$/, `${e.base} is an exact dated tag`);
    // Amazon Linux 2: python3.11 and the java8.al2, java11 and java17 bases; all others are Amazon Linux 2023.
    assert.equal(
      e.os,
      /^(python3\.11|java8\.al2|java11|java17)$/.test(e.runtime) ? 'al2' : 'al2023',
      e.runtime,
    );
    assert.ok(e.standin.target, `${e.flavour} ${e.runtime} names its stand-in`);
  }
  assert.match(m.node.image, /^node:\d+\.\d+\.\d+-[a-z]+-slim$/);
  assert.deepEqual(
    m.images.filter((e) => e.default).map((e) => `${e.flavour}:${e.runtime}`),
    ['lambda:python3.12', 'geolambda:python3.12'],
  );
  // npm test builds one arm64 image, python3.12 (the whole arm64 matrix is `npm run images -- --arch arm64`).
  assert.deepEqual(
    m.images.filter((e) => e.standin.npm_test?.includes('arm64')).map((e) => `${e.flavour}:${e.runtime}`),
    ['lambda:python3.12'],
  );
});

test('the run wrapper is an executable POSIX sh script that runs the images’ entry (else the bundle) with plain node', () => {
  const wrapper = join(root, 'images/run');
  assert.ok((statSync(wrapper).mode & 0o111) !== 0, 'images/run is executable (COPY keeps the mode)');
  const text = readFileSync(wrapper, 'utf8');
  assert.match(text, /^#!\/bin\/sh\n/);
  assert.match(text, /^entry="\$lib\/start\.mjs"\n\[ -f "\$entry" \] \|\| entry="\$lib\/run-lambda\.mjs"$/m);
  assert.match(text, /exec "\$node" "\$entry" "\$@"/);
  const syntax = spawnSync('sh', ['-n', wrapper]);
  assert.equal(syntax.status, 0);
});

// As in the image: only the wrapper, the entry and the bundle, node found on the PATH, no NODE_PATH, no node_modules above.
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
