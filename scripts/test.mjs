// Runs every test/**/*.test.ts with node:test (TypeScript through tsx). Extra arguments filter by path substring.
// Before the tests:
// - it makes sure moto_server, cfn-lint and samtranslator can be started (scripts/tools.mjs: from the PATH, or
//   installed into .venv), and puts .venv/bin first on the tests' PATH when it used that;
// - when a selected file runs images (test/images/, test/e2e/), it builds them once (test/images/images.ts, one
//   line per stand-in and image), so that no file's timeout cuts a build; the files find them ready, or skipped
//   with the reason, through RUN_LAMBDA_TEST_IMAGES.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { spawnTethered } from '../test/support/tether.mjs';
import { ensureTools, ToolsError } from './tools.mjs';

/** Files that run containers of the images test/images builds. */
const IMAGE_DIRS = ['test/images/', 'test/e2e/'];
const NODE_TEST = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000'];

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return find(p);
    return p.endsWith('.test.ts') ? [p] : [];
  });
}

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

process.exit(first.status === 0 ? 0 : 1);
