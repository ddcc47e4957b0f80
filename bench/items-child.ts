// Figure 7: per-item cost in one child of an item set (100 items, code cached, a Batch first attempt), against the
// floor done by hand in the same run: one python3 process for all the items, each an S3 GET, the handler, an S3 PUT.
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fakeAuth } from '../test/integration/harness/clients.js';
import { createBucket, createFunction, getObject, putObject } from '../test/integration/harness/fixtures.js';
import { type BenchContext, type Comparison, compare } from './context.js';
import { runRunner, timed } from './proc.js';
import { median, round } from './stats.js';
import { itemsPayload } from './workload.js';

const BUCKET = 'bench-item-child';
const FUNCTION = 'bench-item-child';
export const CHILD_ITEMS = 100;
/** About the size of a Cirrus item: a STAC Item's JSON. */
const EVENT_BYTES = 8 * 1024;

const HANDLER = `def lambda_handler(event, context):
    items = event["items"]
    return {"count": len(items), "items": [s[::-1] for s in items]}
`;

/**
 * The floor: what a user writes by hand to do the same items in one process. One keep-alive connection to S3
 * (through the harness front, as the runner's requests go), GET, json.loads, the handler, json.dumps, PUT.
 */
const FLOOR = `import http.client, json, sys, time
sys.path.insert(0, sys.argv[1])
from lambda_function import lambda_handler
host, port, bucket, src, dst, n, auth = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], int(sys.argv[7]), sys.argv[8]
conn = http.client.HTTPConnection(host, port)
for i in range(n):
    conn.request("GET", "/%s/%s%d.json" % (bucket, src, i), headers={"authorization": auth})
    r = conn.getresponse()
    body = r.read()
    assert r.status == 200, r.status
    result = json.dumps(lambda_handler(json.loads(body), None), ensure_ascii=False).encode()
    conn.request("PUT", "/%s/%s%d.json" % (bucket, dst, i), body=result,
                 headers={"authorization": auth, "content-type": "application/json"})
    r = conn.getresponse()
    r.read()
    assert r.status == 200, r.status
`;

/** One way of serving S3: moto as it is, or with a fixed latency per request added at the front. */
export interface ItemChildVariant {
  /** latency the front adds to every S3 request of the figure (0: moto as it is) */
  s3LatencyMs: number;
  /** whole child (runner) vs whole floor process, wall time */
  child: Comparison;
  /** per item: the same divided by the item count */
  perItemRunnerMs: number;
  perItemFloorMs: number;
  /** the runner's steady state: from its first item's end to its last's, per item (debug log times) */
  steadyPerItemMs: number;
  /** the runner's fixed part: wall time minus steady state × items (start, GetFunction, runtime start, last writes) */
  fixedMs: number;
  /**
   * the runner process's own CPU time per item (its whole CPU time, start-up included, divided by the items):
   * less sensitive to the machine's other load than the wall times, which share its cores with moto and the front
   */
  runnerCpuPerItemMs?: number;
  /** S3 requests per item: the runner's (GET, PUT result, PUT record) and the floor's (GET, PUT) */
  requestsPerItem: { runner: number; floor: number };
}

export interface ItemChildResult {
  items: number;
  eventBytes: number;
  /** moto through the front as it is: bound by moto's throughput, so every request counts */
  moto: ItemChildVariant;
  /** the same with S3-like latency per request, where overlapping requests pays */
  latency: ItemChildVariant;
}

/** Times of `item N succeeded` lines in a debug log (`run-lambda [123 ms]: item 4 succeeded …`). */
function itemTimes(stderr: string): number[] {
  return [...stderr.matchAll(/^run-lambda \[(\d+) ms\]: item \d+ succeeded/gm)].map((m) => Number(m[1]));
}

export async function measureItemChild(ctx: BenchContext): Promise<ItemChildResult> {
  const { h, scratch } = ctx;
  await createBucket(h, BUCKET);
  await createFunction(h, { name: FUNCTION, files: { 'lambda_function.py': HANDLER }, timeout: 60 });
  const task = join(scratch, 'item-child-task');
  await rm(task, { recursive: true, force: true });
  await mkdir(task, { recursive: true });
  await writeFile(join(task, 'lambda_function.py'), HANDLER);
  for (let i = 0; i < CHILD_ITEMS; i++) await putObject(h, BUCKET, `in/${i}.json`, itemsPayload(EVENT_BYTES));
  const cache = join(scratch, 'item-child-cache');
  const env = {
    ...h.env,
    RUN_LAMBDA_ITEM_COUNT: String(CHILD_ITEMS),
    RUN_LAMBDA_ITEMS_PER_JOB: String(CHILD_ITEMS),
    AWS_BATCH_JOB_ID: 'bench-child',
    AWS_BATCH_JOB_ATTEMPT: '1',
    AWS_BATCH_JOB_ARRAY_INDEX: '0',
  };
  const args = (out: string, opt: string) => [
    '--cache-dir',
    cache,
    '--opt-dir',
    opt,
    FUNCTION,
    `s3://${BUCKET}/in/`,
    `s3://${BUCKET}/${out}/`,
  ];
  // One untimed run: the code is cached, as for any child after the first on a host with a cache volume.
  await runRunner(args('prime', join(scratch, 'item-child-opt-prime')), scratch, { env });
  const moto = await variant(ctx, 0, args, env, task);
  const latency = await variant(ctx, S3_LATENCY_MS, args, env, task);
  const check = JSON.parse(String(await getObject(h, BUCKET, `out-0-0/${CHILD_ITEMS - 1}.json`)));
  assert.equal(check.count, Math.floor(EVENT_BYTES / 67));
  return { items: CHILD_ITEMS, eventBytes: EVENT_BYTES, moto, latency };
}

/** About S3's time to first byte for a small object in the same region. */
const S3_LATENCY_MS = 15;

async function variant(
  ctx: BenchContext,
  latencyMs: number,
  args: (out: string, opt: string) => string[],
  env: Record<string, string>,
  task: string,
): Promise<ItemChildVariant> {
  const { h, scratch, reps, progress } = ctx;
  const slow =
    latencyMs > 0
      ? h.front.fault({
          match: (r) => r.service === 's3' && r.path.startsWith(`/${BUCKET}/`),
          kind: 'latency',
          ms: latencyMs,
        })
      : undefined;
  try {
    const { hostname: host, port } = new URL(h.endpoint);
    const auth = fakeAuth('s3').authorization;
    const runner: number[] = [];
    const floor: number[] = [];
    const steady: number[] = [];
    const cpu: number[] = [];
    let requests = { runner: 0, floor: 0 };
    for (let i = 0; i < reps; i++) {
      progress(
        `item child: ${CHILD_ITEMS} items, S3 latency ${latencyMs} ms, repetition ${i + 1} of ${reps}`,
      );
      h.front.clear();
      const f = await timed(ctx.python, [
        '-c',
        FLOOR,
        task,
        host.replace(/^\[|\]$/g, ''),
        port,
        BUCKET,
        'in/',
        `floor-${latencyMs}-${i}/`,
        String(CHILD_ITEMS),
        auth,
      ]);
      floor.push(f.ms);
      const floorRequests = h.front.calls('s3').length;
      h.front.clear();
      const opt = join(scratch, `item-child-opt-${latencyMs}-${i}`);
      const r = await runRunner(args(`out-${latencyMs}-${i}`, opt), scratch, { env });
      await rm(opt, { recursive: true, force: true });
      runner.push(r.ms);
      cpu.push(r.cpuMs);
      const s3 = h.front.calls('s3').length;
      requests = { runner: s3 / CHILD_ITEMS, floor: floorRequests / CHILD_ITEMS };
      const t = itemTimes(r.stderr);
      assert.equal(t.length, CHILD_ITEMS, 'every item succeeded');
      steady.push(((t.at(-1) ?? 0) - (t[0] ?? 0)) / (CHILD_ITEMS - 1));
    }
    const child = compare(runner, floor);
    const steadyMs = [...steady].sort((a, b) => a - b)[Math.floor(steady.length / 2)] ?? 0;
    return {
      s3LatencyMs: latencyMs,
      child,
      perItemRunnerMs: round(child.runnerMs / CHILD_ITEMS, 2),
      perItemFloorMs: round(child.baselineMs / CHILD_ITEMS, 2),
      steadyPerItemMs: round(steadyMs, 2),
      fixedMs: round(child.runnerMs - steadyMs * CHILD_ITEMS),
      runnerCpuPerItemMs: round(median(cpu) / CHILD_ITEMS, 2),
      requestsPerItem: { runner: round(requests.runner, 2), floor: round(requests.floor, 2) },
    };
  } finally {
    slow?.remove();
  }
}
