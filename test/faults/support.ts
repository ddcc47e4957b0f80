// Shared pieces of the tests that run the built runner against the harness (the fault tests and the runner's
// integration tests): a file's harness and temp folder, fresh inputs, spawning the runner with its own TMPDIR,
// waiting on the front's log.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createBucket, putObject } from '../integration/harness/fixtures.js';
import { type Harness, type RecordedRequest, startHarness } from '../integration/harness/index.js';
import { lastLineOf } from '../support/process.js';

/** The built runner, as the images run it (`npm test` builds first). */
export const RUNNER = new URL('../../dist/run-lambda.mjs', import.meta.url).pathname;

/** A Python function's lambda_function.py that answers {"echo": <the event>}. */
export const ECHO_HANDLER = 'def lambda_handler(event, context):\n    return {"echo": event}\n';

export function assertBuilt(): void {
  assert.ok(existsSync(RUNNER), 'dist/run-lambda.mjs is missing: run `npm run build` first');
}

/**
 * A test file's setup (its before()): checks the runner is built, starts a harness, makes a temp folder named
 * `<prefix>…` and, when given, the bucket. Undo it with stopRunnerHarness in after(); withRunnerHarness does both.
 */
export async function startRunnerHarness(
  prefix: string,
  bucket?: string,
): Promise<{ h: Harness; dir: string }> {
  assertBuilt();
  const h = await startHarness();
  try {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    if (bucket) await createBucket(h, bucket);
    return { h, dir };
  } catch (err) {
    await h.stop();
    throw err;
  }
}

/** Stops the harness and removes the temp folder (either may be missing when before() failed). */
export async function stopRunnerHarness(h: Harness | undefined, dir: string | undefined): Promise<void> {
  await h?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}

/**
 * A test file's harness and temp folder: before() starts them (startRunnerHarness) and hands them to `ready` (to
 * deploy the file's functions…); after() stops the harness and removes the folder.
 */
export function withRunnerHarness(
  opts: { prefix: string; bucket?: string },
  ready: (started: { h: Harness; dir: string }) => Promise<void> | void,
): void {
  let started: { h: Harness; dir: string } | undefined;
  before(async () => {
    started = await startRunnerHarness(opts.prefix, opts.bucket);
    await ready(started);
  });
  after(() => stopRunnerHarness(started?.h, started?.dir));
}

export interface FreshRun {
  /** this run's number in the file, part of its input */
  i: number;
  key: string;
  input: Record<string, unknown>;
  url: string;
  tmp: string;
  cacheDir: string;
}

let runs = 0;
/**
 * A fresh input object for one run (`<name>/in.json` in `bucket`: `event` plus the run's number `i`), its own
 * TMPDIR and cache dir under `dir`; the front's log and faults are cleared.
 */
export async function freshRun(
  h: Harness,
  dir: string,
  bucket: string,
  name: string,
  event: Record<string, unknown> = {},
): Promise<FreshRun> {
  const i = ++runs;
  const key = `${name}/in.json`;
  const input = { ...event, i };
  await putObject(h, bucket, key, input);
  h.front.clear();
  h.front.clearFaults();
  return {
    i,
    key,
    input,
    url: `s3://${bucket}/${key}`,
    tmp: join(dir, `tmp-${i}`),
    cacheDir: join(dir, `cache-${i}`),
  };
}

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lastLine: string;
}

export interface RunSpec {
  h: Harness;
  args: string[];
  /** the runner's TMPDIR: a folder of the test's own, so leftovers can be asserted */
  tmp: string;
  cacheDir: string;
  optDir?: string;
  env?: Record<string, string>;
  /** called once the child is spawned (e.g. to send it a signal later) */
  onSpawn?: (child: ChildProcess) => void;
  /** called with the whole stderr so far after each chunk */
  onStderr?: (text: string, child: ChildProcess) => void;
}

/** Runs the built runner asynchronously (the harness front answers from this process). */
export async function runLambda(spec: RunSpec): Promise<Ran> {
  await mkdir(spec.tmp, { recursive: true });
  const child = spawn(
    process.execPath,
    [
      RUNNER,
      '--cache-dir',
      spec.cacheDir,
      '--opt-dir',
      spec.optDir ?? join(spec.tmp, 'opt'),
      '--log-level',
      'debug',
      ...spec.args,
    ],
    {
      env: { ...process.env, ...spec.h.env, TMPDIR: spec.tmp, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  spec.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    spec.onStderr?.(stderr, child);
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr, lastLine: lastLineOf(stderr) });
    });
  });
}

/** Polls the front's log until a request matches (no fixed sleeps); rejects after `timeoutMs`. */
export async function waitForRequest(
  h: Harness,
  pred: (r: RecordedRequest) => boolean,
  timeoutMs = 15_000,
): Promise<RecordedRequest> {
  const until = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    const hit = h.front.find(pred);
    if (hit) return hit;
    if (Date.now() > until) throw new Error('timed out waiting for a request at the front');
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Everything under `dir`, relative, sorted (folders end in /). */
export async function listTree(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.push(`${r}/`);
        await walk(join(d, e.name), r);
      } else out.push(r);
    }
  };
  await walk(dir, '');
  return out.sort();
}

/**
 * Entries of a cache dir other than finished archives, their manifests and the layer versions' records
 * (runner/aws/layer-index.ts): temp zips, half folders, locks…
 */
export async function cacheLeftovers(cacheDir: string): Promise<string[]> {
  const kept =
    /^((code|layer)-[0-9a-f]{64}\/.*|(code|layer)-[0-9a-f]{64}\.manifest|\.layer-version-[0-9a-f]{64})$/;
  return (await listTree(cacheDir)).filter((f) => !kept.test(f) && !/^(code|layer)-[0-9a-f]{64}\/$/.test(f));
}
