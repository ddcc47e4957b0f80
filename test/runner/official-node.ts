// The official Node.js runtime client (npm `aws-lambda-ric`, a devDependency) as a reference: the same handler
// run under it and under the runner's own client must give the same exit code, last line and result.
// It is used through an opt dir whose `bootstrap` starts it (the runner prefers an opt-dir bootstrap, as Lambda
// does for a custom runtime layer), on the Node.js that runs the runner (so on 22 in npm test's second pass, as
// Lambda's nodejs22.x runs it). Its native part (rapid-client.node) ships prebuilt in the package; where it
// does not load here, `npm rebuild aws-lambda-ric` builds it (Debian: cmake autoconf automake libtool g++ make).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { type CliResult, root, runCli, runnerNode } from './helpers.js';

export type Reference = { optDir: string } | { skip: string };

let cached: Reference | undefined;
let entry: { index: string } | { skip: string } | undefined;

/** The official client's entry point (its index.mjs), or why it cannot run here. */
export function officialNodeEntry(): { index: string } | { skip: string } {
  if (entry) return entry;
  let pkg: string;
  try {
    pkg = dirname(createRequire(join(root, 'package.json')).resolve('aws-lambda-ric/package.json'));
  } catch {
    entry = { skip: 'aws-lambda-ric is not installed (npm ci installs it as a devDependency)' };
    return entry;
  }
  const native = join(pkg, 'rapid-client.node');
  // Loading the native client needs the variable (it reads it at load), not a server.
  const probe = spawnSync(runnerNode, ['-e', `require(${JSON.stringify(native)})`], {
    env: { ...process.env, AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9' },
    encoding: 'utf8',
  });
  if (!existsSync(native) || probe.status !== 0) {
    const why = probe.stderr.trim().split('\n').at(-1) ?? 'missing';
    entry = {
      skip: `aws-lambda-ric's native client does not load here (${why}); run npm rebuild aws-lambda-ric after installing cmake, autoconf, automake, libtool, g++ and make`,
    };
    return entry;
  }
  entry = { index: join(pkg, 'index.mjs') };
  return entry;
}

/** An opt dir that starts the official client, or why it cannot run here. */
export function officialNodeClient(): Reference {
  if (cached) return cached;
  const found = officialNodeEntry();
  if ('skip' in found) {
    cached = found;
    return cached;
  }
  const optDir = mkdtempSync(join(tmpdir(), 'official-node-'));
  const bootstrap = join(optDir, 'bootstrap');
  writeFileSync(bootstrap, `#!/bin/sh\nexec ${JSON.stringify(runnerNode)} ${JSON.stringify(found.index)}\n`);
  chmodSync(bootstrap, 0o755);
  cached = { optDir };
  return cached;
}

/**
 * Runs `args` (without --opt-dir) under the official client too and checks it ends as `own` did: exit code,
 * last line and result. Says plainly, as a test diagnostic, when the reference cannot run here.
 */
export async function sameAsOfficial(
  t: TestContext,
  args: string[],
  own: CliResult,
  opts: { input?: string; env?: Record<string, string> } = {},
): Promise<CliResult | undefined> {
  const ref = officialNodeClient();
  if ('skip' in ref) {
    t.diagnostic(`reference skipped: ${ref.skip}`);
    return undefined;
  }
  const official = await runCli(['--opt-dir', ref.optDir, ...args], opts);
  assert.equal(
    official.code,
    own.code,
    `exit code: official ${official.code}, own ${own.code}\n${official.stderr.slice(-2000)}`,
  );
  assert.equal(official.last, own.last, 'last line');
  assert.equal(official.stdout, own.stdout, 'result');
  return official;
}
