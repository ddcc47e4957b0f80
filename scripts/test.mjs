// Runs every test/**/*.test.ts with node:test (TypeScript through tsx). Extra arguments filter by path substring.
// Before the tests:
// - it makes sure moto_server, cfn-lint and samtranslator can be started (scripts/tools.mjs: from the PATH, or
//   installed into .venv), and puts .venv/bin first on the tests' PATH when it used that;
// - when a selected file runs images (test/images/, test/e2e/), it builds them once (test/images/images.ts, one
//   line per stand-in and image), so that no file's timeout cuts a build; the files find them ready, or skipped
//   with the reason, through RUN_LAMBDA_TEST_IMAGES.
// After them, it runs the selected runner files (test/runner/) again with the runner on the Node.js the images'
// runner runs on (RUN_LAMBDA_TEST_NODE: the pinned official binary, test/support/lambda-node.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { spawnTethered } from '../test/support/tether.mjs';
import { ensureTools, ToolsError } from './tools.mjs';

/** Files that run containers of the images test/images builds. */
const IMAGE_DIRS = ['test/images/', 'test/e2e/'];
/** Files that run the built runner, run again on the images' runner Node.js. */
const RUNNER_DIR = 'test/runner/';
const NODE_TEST = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000'];

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return find(p);
    return p.endsWith('.test.ts') ? [p] : [];
  });
}

const seconds = (since) => `${Math.round((Date.now() - since) / 1000)} s`;

/** Builds (or finds) the images once; returns the file the test files read (test/images/prepared.ts). */
async function prepareImages(env, work) {
  const out = join(work, 'images.json');
  // Tethered: should this run be killed, the build ends with it and the next run takes its lock over.
  const child = spawnTethered(process.execPath, ['--import', 'tsx', 'test/images/images.ts', '--out', out], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env,
  });
  await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  return out;
}

/** The images' runner Node.js ({path, version}), or {skip} with the reason; exits when it cannot be fetched. */
function imagesRunnerNode(env) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'test/support/lambda-node.ts', '--images-runner'],
    { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (r.status !== 0) {
    console.error('the Node.js the images run could not be fetched for the runner tests (above)');
    process.exit(1);
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

const filters = process.argv.slice(2);
const files = find('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const env = { ...process.env };
delete env.RUN_LAMBDA_TEST_IMAGES;
delete env.RUN_LAMBDA_TEST_NODE;
try {
  const { bin } = ensureTools({ root: new URL('..', import.meta.url).pathname });
  if (bin) env.PATH = `${bin}${delimiter}${env.PATH ?? ''}`;
} catch (err) {
  if (!(err instanceof ToolsError)) throw err;
  console.error(err.message);
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), 'run-lambda-npm-test-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

if (files.some((f) => IMAGE_DIRS.some((d) => f.startsWith(d)))) {
  env.RUN_LAMBDA_TEST_IMAGES = await prepareImages(env, work);
}
const first = spawnSync(process.execPath, [...NODE_TEST, ...files], { stdio: 'inherit', env });

let second = { status: 0 };
const runnerFiles = files.filter((f) => f.startsWith(RUNNER_DIR));
if (runnerFiles.length > 0) {
  const started = Date.now();
  const node = imagesRunnerNode(env);
  if (node.skip) {
    console.error(`runner tests on the images' Node.js SKIPPED: ${node.skip}`);
  } else {
    console.error(
      `the runner tests again, the runner on Node.js ${node.version} (what the images run): ${runnerFiles.length} files`,
    );
    second = spawnSync(process.execPath, [...NODE_TEST, ...runnerFiles], {
      stdio: 'inherit',
      env: { ...env, RUN_LAMBDA_TEST_NODE: node.path },
    });
    console.error(`the runner tests on Node.js ${node.version} took ${seconds(started)}`);
  }
}
process.exit(first.status === 0 && second.status === 0 ? 0 : 1);
