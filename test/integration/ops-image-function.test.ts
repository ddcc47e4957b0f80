// lambda-batch on a container-image function's job: one task of three containers (the runner, the gate, the function's
// own image), which the executor runs as processes (the function's image a folder). status names each container and
// its exit code from DescribeJobs' taskProperties; logs reads every container's stream (`<definition>/<container>/<ECS
// task id>`), each line named by its container, oldest first.
// Gaps filled, each in its file: moto's Batch refuses ecsProperties definitions (harness/front-batch-ecs.ts) and runs
// nothing (batch-exec.ts, batch-task.ts, batch-logs.ts; front-batch-jobs.ts puts each container's stream and exit code
// in DescribeJobs); images are folders (local-images.ts); moto's Lambda checks no image (fixtures.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Context } from 'aws-lambda';
import { readConfig } from '../../functions/dispatcher/config.js';
import { createHandler } from '../../functions/dispatcher/handler.js';
import { createJsonLogger } from '../../lib/logger.js';
import type { BatchJobAnswer } from '../../lib/request.js';
import { ACCOUNT_ID, createImageFunction, createRole, REGION } from './harness/fixtures.js';
import { folderImage, type LocalImage } from './harness/local-images.js';
import { BUCKET, type OpsWorld, startOpsWorld } from './ops-world.js';

const REGISTRY = `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com`;
const APP = `import sys

def handler(event, context):
    print("image function got %s" % event["n"], flush=True)
    print("image function warns", file=sys.stderr, flush=True)
    return {"n": event["n"]}
`;

let w: OpsWorld;
let dispatch: (event: unknown) => Promise<BatchJobAnswer>;
let image: LocalImage;
before(async () => {
  w = await startOpsWorld();
  const config = readConfig({
    PAYLOAD_BUCKET: BUCKET,
    JOB_QUEUE: 'ops-queue',
    JOB_DEFINITION_LAMBDA: 'ops-run-lambda',
    JOB_DEFINITION_GEOLAMBDA: 'ops-run-lambda',
    ALLOWED_IMAGE_REPOSITORIES: `arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/ops/*`,
    RUNNER_IMAGE: 'cirrusgeo/run-lambda:0.1.0-provided.al2023',
    JOB_ROLE_ARN: await createRole(w.h, 'ops-job-role', 'ecs-tasks.amazonaws.com'),
    JOB_EXECUTION_ROLE_ARN: await createRole(w.h, 'ops-exec-role', 'ecs-tasks.amazonaws.com'),
    // The runner's container logs at the dispatcher's level: info, so that it has lines of its own.
    LOG_LEVEL: 'info',
  });
  const handler = createHandler({
    ...w.h.frontClients,
    config,
    logger: createJsonLogger({ service: 'dispatcher', level: 'error', write: () => {} }),
  });
  const context = {
    awsRequestId: 'r',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:d`,
  };
  dispatch = (event) => handler(event, context as Context) as Promise<BatchJobAnswer>;
  const fn = await createImageFunction(w.h, {
    name: 'ops-image',
    imageUri: `${REGISTRY}/ops/ops-image:v1`,
    command: ['app.handler'],
  });
  image = await folderImage(join(w.dir, 'ops-image'), {
    runtime: 'python',
    files: { 'app.py': APP },
    cmd: ['app.handler'],
  });
  assert.ok(fn.resolvedImage);
});
after(() => w?.stop());

test("an image function's job: status names its three containers and their exits; logs reads each one's stream", async () => {
  const a = await dispatch({ lambda_function: 'ops-image', payload: { n: 5 }, memory: 1024, vcpus: 1 });
  const r = await w.run(a.job_id, { images: (i) => (i === a.function_image ? image : undefined) });
  assert.equal(r.exitCode, 0, `${r.stderr}\n--- function:\n${r.containers?.function?.stderr}`);

  const status = await w.cli(['status', a.job_id, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const job = JSON.parse(status.stdout).job;
  assert.equal(job.multi_container, true);
  const exits = Object.fromEntries(
    job.containers.map((c: { name: string; exit_code: number | null }) => [c.name, c.exit_code]),
  );
  assert.deepEqual(Object.keys(exits).sort(), ['function', 'ready', 'runner']);
  assert.deepEqual([exits.runner, exits.ready], [0, 0], 'the runner (essential) and the gate exit 0');
  assert.equal(typeof exits.function, 'number', "the function's own container is stopped at the task's end");
  const lines = (await w.cli(['status', a.job_id])).stdout;
  assert.match(lines, /^job {7}\S+ {2}ops-image {2}\(one task of 3 containers\)$/m);
  assert.match(lines, /^container runner: exit 0$/m);

  const logs = await w.cli(['logs', a.job_id, '--json']);
  assert.equal(logs.code, 0, logs.stderr);
  const j = JSON.parse(logs.stdout) as {
    streams: { container: string; group: string; stream: string }[];
    events: { container: string; message: string }[];
  };
  const definition = a.job_definition.split('/').at(-1)!.replace(/:\d+$/, '');
  for (const s of j.streams) {
    assert.equal(s.group, '/aws/batch/job', 'the registered definition names no group: Batch’s own');
    assert.match(s.stream, new RegExp(`^${definition}/${s.container}/[0-9a-f]{32}$`));
  }
  assert.deepEqual(j.streams.map((s) => s.container).sort(), ['function', 'ready', 'runner']);
  const fromFunction = j.events.filter((e) => e.container === 'function').map((e) => e.message);
  assert.ok(fromFunction.includes('image function got 5'), fromFunction.join('\n'));
  assert.ok(fromFunction.includes('image function warns'), fromFunction.join('\n'));
  assert.ok(
    j.events.some((e) => e.container === 'runner' && /result \(\d+ bytes\) written/.test(e.message)),
    JSON.stringify(j.events),
  );
  const human = (await w.cli(['logs', a.job_id])).stdout;
  assert.match(human, /^\S+ \[function\] image function got 5$/m);
  assert.match(human, /^\S+ \[runner\] run-lambda: /m);
});
