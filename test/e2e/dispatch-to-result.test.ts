// End to end on one machine: template deployed on moto → built dispatcher → Batch job → built runner → result in S3.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { createFunction, createLayer, putObject } from '../integration/harness/fixtures.js';
import { allowed, callerOf, permissionsFor, statementsOf } from './iam.js';
import { Callers, type E2eWorld, fnArn, retryAction, startE2e } from './world.js';

// Lambda's python3.12+ runtime client serialises with ensure_ascii=False: these reach S3 as raw UTF-8, not \u escapes.
const TEXT = 'Grüße, 世界 🌍 — "quoted" \\ back\tslash, line\u2028separator';

/** Shared by both functions: a result with unicode and nesting; the handler keeps its own serialisation of it. */
const RESULT_PY = `import json, os

ASCII_RUNTIMES = {"AWS_Lambda_python3.8", "AWS_Lambda_python3.9", "AWS_Lambda_python3.10", "AWS_Lambda_python3.11"}

def build(event, context, extra):
    features = event["features"]
    result = {
        "id": event["id"],
        "count": len(features),
        "features": features,
        "text": ${JSON.stringify(TEXT)},
        "nested": {"list": [1, 2.5, -3, True, None, {"deep": [[], {}]}], "empty": ""},
        "job": os.environ.get("AWS_BATCH_JOB_ID"),
        "function": context.function_name,
        **extra,
    }
    # What Lambda's runtime client sends (awslambdaric escapes non-ASCII up to python3.11), kept so the
    # test can compare it with the bytes that reach S3.
    ascii = os.environ["AWS_EXECUTION_ENV"] in ASCII_RUNTIMES
    path = os.path.join(os.environ["RESULT_COPIES"], os.environ["AWS_BATCH_JOB_ID"] + ".json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(result, ensure_ascii=ascii))
    return result
`;

const PLAIN_PY = `from result import build

def lambda_handler(event, context):
    return build(event, context, {"gdal": None})
`;

// Imported at init, as a GDAL task imports osgeo: the function cannot even start without its layer.
const GEO_PY = `import gdal_e2e
from result import build

def lambda_handler(event, context):
    return build(event, context, {"gdal": gdal_e2e.version()})
`;

const FAILING_PY = `def lambda_handler(event, context):
    raise ValueError("tile %s has no bands: ünïcödé" % event["id"])
`;

const IMAGES = { lambda: 'e2e-plain', geolambda: 'e2e-geo' } as const;

/** A payload of about `bytes` of JSON, with unicode in every feature. */
function payloadOf(id: string, bytes: number) {
  const feature = (i: number) => ({
    i,
    name: `tuile ${i} — ß 東京 🛰`,
    bbox: [i, -(i + 1) / 2, i + 0.25, 1e-7],
  });
  const each = Buffer.byteLength(JSON.stringify(feature(100_000))) + 1;
  return {
    id,
    features: Array.from({ length: Math.max(1, Math.floor(bytes / each)) }, (_, i) => feature(i)),
  };
}

let w: E2eWorld;
before(async () => {
  w = await startE2e('e2e');
  const env = { RESULT_COPIES: w.dir };
  const code = (handler: string) => ({ 'lambda_function.py': handler, 'result.py': RESULT_PY });
  const gdal = await createLayer(w.h, 'gdal-e2e', {
    'python/gdal_e2e.py': 'def version():\n    return "3.8.4-e2e"\n',
  });
  await createFunction(w.h, { name: IMAGES.lambda, runtime: 'python3.12', files: code(PLAIN_PY), env });
  await createFunction(w.h, {
    name: IMAGES.geolambda,
    runtime: 'python3.12',
    files: code(GEO_PY),
    env,
    layers: [gdal],
  });
  await createFunction(w.h, { name: 'e2e-failing', files: { 'lambda_function.py': FAILING_PY } });
  await createFunction(w.h, { name: 'e2e-py311', runtime: 'python3.11', files: code(PLAIN_PY), env });
});
after(() => w?.stop());

const limit = () => Number(w.deployment.dispatcherEnv.INLINE_PAYLOAD_LIMIT);
const sizes = {
  'a large payload through S3': () => 300_000,
  'a small inline payload': () => limit() / 2,
} as const;

for (const [image, functionName] of Object.entries(IMAGES) as [keyof typeof IMAGES, string][]) {
  for (const [sizeName, bytes] of Object.entries(sizes)) {
    test(`${image} definition, ${sizeName}: the handler's result lands at url_out byte for byte`, async () => {
      const payload = payloadOf(`${image}-${bytes()}`, bytes());
      const size = Buffer.byteLength(JSON.stringify(payload));
      const answer = await w.dispatch({ lambda_function: functionName, payload });

      // The dispatcher chose the image (from the layer ARN alone) and placed the payload by its size.
      const { bucket, jobQueueArn, jobDefinitionArns, dispatcherEnv } = w.deployment;
      assert.equal(answer.image, image);
      assert.equal(answer.job_definition, jobDefinitionArns[image]);
      assert.equal(answer.job_queue, jobQueueArn);
      const prefix = `s3://${bucket}/${dispatcherEnv.PAYLOAD_PREFIX}${functionName}/`;
      assert.ok(answer.url_out.startsWith(prefix), answer.url_out);
      if (size > limit()) {
        assert.ok(answer.url.startsWith(prefix), answer.url);
        assert.deepEqual(JSON.parse(String(await w.read(answer.url))), payload);
      } else {
        assert.match(answer.url, /^data:application\/json;base64,/);
        assert.ok(size < 8192);
      }

      // Batch has the job as submitted: the template's definition and queue, the three parameters.
      const job = await w.describeJob(answer.job_id);
      assert.equal(job.jobDefinition, jobDefinitionArns[image]);
      assert.equal(job.jobQueue, jobQueueArn);
      assert.deepEqual(job.parameters, {
        lambda_function: fnArn(functionName),
        url: answer.url,
        url_out: answer.url_out,
      });

      const r = await w.runJob(answer.job_id);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.deepEqual(r.command, ['run', fnArn(functionName), answer.url, answer.url_out]);
      assert.equal(r.batchEnv.RUN_LAMBDA_LOG_LEVEL, dispatcherEnv.LOG_LEVEL);

      const bytesOut = await w.read(answer.url_out);
      assert.ok(bytesOut, `nothing at ${answer.url_out}`);
      const produced = await readFile(join(w.dir, `${answer.job_id}.json`));
      assert.ok(bytesOut.equals(produced), 'the object differs from the runtime client serialisation');
      assert.ok(bytesOut.includes(Buffer.from('世界 🌍')), 'unicode reached S3 escaped, not as UTF-8');
      assert.deepEqual(JSON.parse(bytesOut.toString('utf8')), {
        id: payload.id,
        count: payload.features.length,
        features: payload.features,
        text: TEXT,
        nested: { list: [1, 2.5, -3, true, null, { deep: [[], {}] }], empty: '' },
        job: answer.job_id,
        function: functionName,
        gdal: image === 'geolambda' ? '3.8.4-e2e' : null,
      });
      if (size > limit()) assert.deepEqual(JSON.parse(String(await w.read(answer.url))), payload);
    });
  }
}

test('a failing handler ends the job with exit 1, a Type: message last line, nothing at url_out, no retry', async () => {
  const payload = payloadOf('failing-7', 100_000);
  const answer = await w.dispatch({ lambda_function: 'e2e-failing', payload });
  assert.equal(answer.image, 'lambda');
  const r = await w.runJob(answer.job_id);
  assert.equal(r.exitCode, 1, r.stderr);
  // Cirrus's post-batch step re-raises the error from exactly this line.
  const m = /^(?:([.\w]+):)?\s*(.*)/.exec(r.lastLine);
  assert.equal(m?.[1], 'ValueError', r.lastLine);
  assert.equal(m?.[2], 'tile failing-7 has no bands: ünïcödé');
  assert.equal(await w.read(answer.url_out), undefined);
  assert.deepEqual(JSON.parse(String(await w.read(answer.url))), payload);
  const def = await w.describeDefinition(w.deployment.jobDefinitionArns.lambda);
  assert.equal(retryAction(def, 1), 'exit');
  assert.equal(retryAction(def, 4), 'retry');
});

test('a python3.11 result reaches S3 as Lambda serialises it for python3.11 (non-ASCII escaped)', async () => {
  const answer = await w.dispatch({ lambda_function: 'e2e-py311', payload: payloadOf('py311', 2000) });
  const r = await w.runJob(answer.job_id);
  assert.equal(r.exitCode, 0, r.stderr);
  const bytesOut = await w.read(answer.url_out);
  assert.ok(bytesOut?.equals(await readFile(join(w.dir, `${answer.job_id}.json`))));
});

test('straight to a template definition: no url_out writes the result beside the payload (_out.json), the input unchanged; no url exits 2, not retried', async () => {
  const { bucket, jobQueueArn, jobDefinitionArns } = w.deployment;
  const payload = payloadOf('direct', 1000);
  await putObject(w.h, bucket, 'batch/direct/in.json', payload);
  const submit = async (parameters: Record<string, string>) => {
    const { jobId } = await w.h.frontClients.batch.send(
      new SubmitJobCommand({
        jobName: 'direct',
        jobQueue: jobQueueArn,
        jobDefinition: jobDefinitionArns.lambda,
        parameters,
      }),
    );
    assert.ok(jobId);
    return w.runJob(jobId);
  };
  const url = `s3://${bucket}/batch/direct/in.json`;
  // The definition's empty defaults stand in for the parameters left out, as Batch substitutes them.
  const ok = await submit({ lambda_function: IMAGES.lambda, url });
  assert.equal(ok.exitCode, 0, ok.stderr);
  assert.deepEqual(ok.command, ['run', IMAGES.lambda, url, '']);
  const written = JSON.parse(String(await w.read(`s3://${bucket}/batch/direct/in_out.json`))) as {
    id: string;
    count: number;
  };
  assert.deepEqual([written.id, written.count], ['direct', payload.features.length]);
  assert.deepEqual(JSON.parse(String(await w.read(url))), payload, 'the input is never overwritten');

  const bad = await submit({ lambda_function: IMAGES.lambda });
  assert.deepEqual(bad.command, ['run', IMAGES.lambda, '', '']);
  assert.equal(bad.exitCode, 2, bad.stderr);
  assert.match(bad.lastLine, /^UsageError: /);
  assert.equal(retryAction(await w.describeDefinition(jobDefinitionArns.lambda), 2), 'exit');
});

// Runs last: it reads what every job above did from the front's log.
test("IAM: each AWS call the dispatcher and the jobs made above is allowed by the template's policies", () => {
  const { stack, bucket } = w.deployment;
  const needs = {
    Dispatcher: ['batch:SubmitJob', 'lambda:GetFunction', 's3:PutObject'],
    JobRole: ['lambda:GetFunction', 'lambda:GetLayerVersion', 's3:GetObject', 's3:PutObject'],
  };
  for (const [caller, id] of [
    [Callers.dispatcher, 'Dispatcher'],
    [Callers.job, 'JobRole'],
  ] as const) {
    const statements = statementsOf(w.deployment, id);
    const calls = w.h.front.requests.filter((r) => callerOf(r) === caller);
    const permissions = calls.flatMap((r) => permissionsFor(r, stack.region, stack.accountId));
    const seen = new Set(permissions.map((p) => p.action));
    for (const action of needs[id]) assert.ok(seen.has(action), `${id} made no ${action} call`);
    const refused = permissions.filter((p) => !allowed(statements, p));
    assert.deepEqual(refused, [], `${id} would be refused these`);
    // …and the same check does refuse what the role was not given.
    const outside = { action: 's3:PutObject', resource: `arn:aws:s3:::${bucket}/elsewhere/x.json` };
    assert.equal(allowed(statements, outside), false);
  }
});
