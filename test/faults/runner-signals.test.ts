import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import { createFunction, getJson, getObject } from '../integration/harness/fixtures.js';
import type { Harness, RecordedRequest } from '../integration/harness/index.js';
import {
  cacheLeftovers,
  freshRun,
  listTree,
  type RunSpec,
  runLambda,
  waitForRequest,
  withRunnerHarness,
} from './support.js';

const BUCKET = 'faults-signals';
const FN = 'fs-sleepy';
// Says it started (with its pid), then sleeps unless the event says not to.
const HANDLER = `import os, sys, time

def lambda_handler(event, context):
    print(f"handler started pid={os.getpid()}", file=sys.stderr, flush=True)
    time.sleep(event.get("sleep", 0))
    return {"echo": event, "blob": "r" * 2000}
`;

let h: Harness;
let dir: string;
withRunnerHarness({ prefix: 'faults-signals-', bucket: BUCKET }, async (started) => {
  ({ h, dir } = started);
  await createFunction(h, { name: FN, files: { 'lambda_function.py': HANDLER } });
});

/** A fresh input, cache and TMPDIR for one run, and its output URL. */
async function fresh(name: string, event: Record<string, unknown>) {
  const f = await freshRun(h, dir, BUCKET, name, event);
  return { ...f, outKey: `${name}/out.json`, out: `s3://${BUCKET}/${name}/out.json` };
}

type Fresh = Awaited<ReturnType<typeof fresh>>;

/** The runner on f's input and output, in f's TMPDIR and cache (`extra` adds the callbacks, or other args). */
const run = (f: Fresh, extra: Partial<RunSpec> = {}) =>
  runLambda({ h, tmp: f.tmp, cacheDir: f.cacheDir, args: [FN, f.url, f.out], ...extra });

/** Nothing at the output URL, the input as it was, the runner's TMPDIR empty, no temp files or locks in the cache. */
async function assertNoTrace(f: Fresh): Promise<void> {
  assert.equal(await getObject(h, BUCKET, f.outKey), undefined, 'no output object');
  assert.deepEqual(await getJson(h, BUCKET, f.key), f.input);
  assert.deepEqual(await listTree(f.tmp), [], 'TMPDIR is empty');
  assert.deepEqual(await cacheLeftovers(f.cacheDir), [], 'no temp files or locks in the cache');
}

const handlerPid = (stderr: string) => Number(/handler started pid=(\d+)/.exec(stderr)?.[1]);

test('the runtime killed with SIGKILL mid-invocation: exit 1, Runtime.ExitError last line, no output', async () => {
  const f = await fresh('kill9', { sleep: 30 });
  let killed = false;
  const r = await run(f, {
    onStderr(text) {
      const pid = handlerPid(text);
      if (!killed && pid) {
        killed = true;
        process.kill(pid, 'SIGKILL');
      }
    },
  });
  assert.ok(killed);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.lastLine, 'Runtime.ExitError: runtime was killed with SIGKILL before it returned a result');
  await assertNoTrace(f);
});

test('SIGTERM during the handler: exit 143, no output, temp files removed', async () => {
  const f = await fresh('term-handler', { sleep: 30 });
  let sent = false;
  const r = await run(f, {
    onStderr(text, child) {
      if (!sent && handlerPid(text)) {
        sent = true;
        child.kill('SIGTERM');
      }
    },
  });
  assert.equal(r.code, 143, r.stderr);
  assert.equal(r.lastLine, 'StoppedBySignalError: stopped by SIGTERM');
  await assertNoTrace(f);
});

for (const cache of [true, false]) {
  test(`SIGTERM during the code download (${cache ? 'cache' : '--no-cache'}): exit 143, no output, no temp files, no lock`, async () => {
    const f = await fresh(`term-download-${cache}`, {});
    const isCode = (r: RecordedRequest) => r.service === 'code';
    h.front.fault({ match: isCode, kind: 'latency', ms: 2000 });
    let child: ChildProcess | undefined;
    const running = run(f, {
      args: [...(cache ? [] : ['--no-cache']), FN, f.url, f.out],
      onSpawn: (c) => {
        child = c;
      },
    });
    await waitForRequest(h, isCode);
    child?.kill('SIGTERM');
    const r = await running;
    assert.equal(r.code, 143, r.stderr);
    assert.equal(r.lastLine, 'StoppedBySignalError: stopped by SIGTERM');
    await assertNoTrace(f);
    assert.deepEqual(await listTree(f.cacheDir).then((l) => l.filter((x) => !x.startsWith('clients'))), []);
  });
}

test('SIGTERM during the result upload: exit 143, no output object, temp files removed', async () => {
  const f = await fresh('term-upload', {});
  const isPut = (r: RecordedRequest) =>
    r.service === 's3' && r.operation === 'PutObject' && r.path === `/${BUCKET}/${f.outKey}`;
  h.front.fault({ match: isPut, kind: 'latency', ms: 2000 });
  let child: ChildProcess | undefined;
  const running = run(f, {
    onSpawn: (c) => {
      child = c;
    },
  });
  const put = await waitForRequest(h, isPut);
  child?.kill('SIGTERM');
  const r = await running;
  assert.equal(r.code, 143, r.stderr);
  assert.equal(r.lastLine, 'StoppedBySignalError: stopped by SIGTERM');
  // The front passes the held request on once its latency is over: look only after that.
  await new Promise((res) => setTimeout(res, Math.max(0, put.time + 2000 + 300 - Date.now())));
  await assertNoTrace(f);
});

test('SIGTERM while the S3 payload is still arriving: exit 143 (not 4, which Batch would retry), nothing written', async () => {
  const f = await fresh('term-payload', {});
  const isGet = (r: RecordedRequest) =>
    r.service === 's3' && r.operation === 'GetObject' && r.path === `/${BUCKET}/${f.key}`;
  h.front.fault({ match: isGet, kind: 'stall' });
  let sent = false;
  const r = await run(f, {
    // The runtime is up and waiting for its event, whose GetObject has not been answered.
    onStderr(text, child) {
      if (!sent && /runtime started/.test(text) && h.front.find(isGet)) {
        sent = true;
        child.kill('SIGTERM');
      }
    },
  });
  assert.ok(sent);
  assert.equal(r.code, 143, r.stderr);
  assert.equal(r.lastLine, 'StoppedBySignalError: stopped by SIGTERM');
  h.front.clearFaults();
  await assertNoTrace(f);
});
