// End to end on one machine: template.yaml deployed as a stack on moto's CloudFormation (bucket, queue created) →
// the deployed dispatcher → Batch job → built runner → result in S3, from the stack's outputs only; then every AWS
// call made on the way is checked against the deployed IAM policies.
// What moto cannot do and the harness does instead: its Lambda runs no code, so the front answers the dispatcher's
// Invoke in this process from the deployed code and configuration (lambda-container.ts) and serves code bytes for
// GetFunction/GetLayerVersion; its Batch runs no container, so batch-exec.ts runs each job's command (reading the []
// moto's CloudFormation makes of an empty parameter default as ""); its CloudFormation needs a ServiceRole on the
// compute environment, loses a layer's name and ARN, and returns inline role policies as Python reprs (stack.ts,
// iam.ts, which also list what is left unfilled).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { AttachRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import type { BatchJobAnswer } from '../../lib/request.js';
import { skipReason } from '../images/docker.js';
import { emulationMissing } from '../images/emulation.js';
import { REPO_ROOT } from '../integration/harness/batch-exec.js';
import { TEST_CREDENTIALS } from '../integration/harness/clients.js';
import {
  ACCOUNT_ID,
  createFunction,
  createLayer,
  createRole,
  putObject,
  REGION,
} from '../integration/harness/fixtures.js';
import { runProcess } from '../support/process.js';
import { callerOf, decide, permissionsFor, rolePolicies, wildcardAllows } from './iam.js';
import { fetchDeployedLayer } from './lambda-container.js';
import { Callers, E2E_SETUP_TIMEOUT_MS, type E2eWorld, fnArn, retryAction, startE2e } from './world.js';

const RUNNER = join(REPO_ROOT, 'dist/run-lambda.mjs');

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

// A function that carries what runs beside its handler, in its layer: an external extension (/opt/extensions) and a
// wrapper its environment names in AWS_LAMBDA_EXEC_WRAPPER, both written from AWS's documents (Extensions API,
// Telemetry API, "Wrapper scripts"). What this leaves out of Lambda and Batch: the image is built on the stand-in
// Python base, whose bootstrap applies the wrapper as the real base's does (test/images/standins); Docker, not ECS,
// starts the container; the listener binds every address, so sandbox.localdomain in /etc/hosts is not what is tested
// here (test/images/extensions.test.ts is). And what the runner leaves out of Lambda (docs/extensions.md): the job is
// one execution environment, so SHUTDOWN (spindown) follows the job's only INVOKE, and no X-Ray segment is sent.
const EXT_NAME = 'e2e-telemetry-ext';
const EXTENSION = `#!/usr/bin/env python3
# Registers for INVOKE and SHUTDOWN, subscribes a listener of its own to the Telemetry API (platform and function
# events), prints each event it is given, and appends each batch its listener receives to $TELEMETRY_OUT.
import http.server, json, os, sys, threading, urllib.request

API = "http://%s/" % os.environ["AWS_LAMBDA_RUNTIME_API"]
NAME = os.path.basename(sys.argv[0])

def call(method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(API + path, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req) as r:
        return r.headers, r.read()

class Listener(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        batch = self.rfile.read(int(self.headers["Content-Length"]))
        with open(os.environ["TELEMETRY_OUT"], "ab") as f:
            f.write(batch + b"\\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass

headers, _ = call("POST", "2020-01-01/extension/register", {"events": ["INVOKE", "SHUTDOWN"]},
                  {"Lambda-Extension-Name": NAME})
me = {"Lambda-Extension-Identifier": headers["Lambda-Extension-Identifier"]}
listener = http.server.HTTPServer(("0.0.0.0", 0), Listener)
threading.Thread(target=listener.serve_forever, daemon=True).start()
call("PUT", "2022-07-01/telemetry", {
    "schemaVersion": "2022-12-13",
    "types": ["platform", "function"],
    "buffering": {"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 25},
    "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain:%d/" % listener.server_port},
}, me)
while True:
    _, body = call("GET", "2020-01-01/extension/event/next", None, me)
    event = json.loads(body)
    print("%s: %s %s" % (NAME, event["eventType"], event.get("requestId") or event.get("shutdownReason")), flush=True)
    if event["eventType"] == "SHUTDOWN":
        break
`;
// Lambda hands a wrapper the interpreter and its arguments; this one marks the environment and runs them.
const WRAPPER = `#!/bin/sh
export WRAPPED_BY="$(basename "$0") $1"
exec "$@"
`;
const CARRIED_PY = `import os

def lambda_handler(event, context):
    print("e2e-carried: handling %s" % event["id"], flush=True)
    return {"id": event["id"], "wrapped_by": os.environ.get("WRAPPED_BY")}
`;

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
let feederRole: string;
before(
  async () => {
    w = await startE2e('e2e');
    // A feeder's role, as a user sets it up: its own role with the stack's SubmitPolicyArn attached.
    feederRole = await createRole(w.h, 'e2e-feeder-role', 'lambda.amazonaws.com');
    const iam = new IAMClient({ endpoint: w.h.motoEndpoint, region: REGION, credentials: TEST_CREDENTIALS });
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: 'e2e-feeder-role',
        PolicyArn: w.stack.outputs.SubmitPolicyArn,
      }),
    );
    iam.destroy();
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
    await createFunction(w.h, { name: 'e2e-py310', runtime: 'python3.10', files: code(PLAIN_PY), env });
    const carried = await createLayer(w.h, 'e2e-carried', {
      [`extensions/${EXT_NAME}`]: { content: EXTENSION, mode: 0o755 },
      'e2e-wrapper.sh': { content: WRAPPER, mode: 0o755 },
    });
    await createFunction(w.h, {
      name: 'e2e-carried',
      files: { 'lambda_function.py': CARRIED_PY },
      layers: [carried],
      env: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/e2e-wrapper.sh', TELEMETRY_OUT: join(w.dir, 'telemetry.jsonl') },
    });
  },
  { timeout: E2E_SETUP_TIMEOUT_MS },
);
after(() => w?.stop());

const limit = () => Number(w.stack.parameters.InlinePayloadLimit);
const out = (name: string) => {
  const value = w.stack.outputs[name];
  assert.ok(value, `the stack has no output ${name}`);
  return value;
};
const definitionArn = (image: keyof typeof IMAGES) =>
  out(image === 'lambda' ? 'LambdaJobDefinitionArn' : 'GeoLambdaJobDefinitionArn');
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
      const [bucket, jobQueueArn] = [out('PayloadBucket'), out('JobQueue')];
      assert.equal(answer.image, image);
      assert.equal(answer.job_definition, definitionArn(image));
      assert.equal(answer.job_queue, jobQueueArn);
      const prefix = `s3://${bucket}/${w.stack.parameters.PayloadPrefix}${functionName}/`;
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
      assert.equal(job.jobDefinition, definitionArn(image));
      assert.equal(job.jobQueue, jobQueueArn);
      assert.deepEqual(job.parameters, {
        lambda_function: fnArn(functionName),
        url: answer.url,
        url_out: answer.url_out,
      });

      const r = await w.runJob(answer.job_id);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.deepEqual(r.command, ['run', fnArn(functionName), answer.url, answer.url_out]);
      assert.equal(r.batchEnv.RUN_LAMBDA_LOG_LEVEL, w.stack.parameters.LogLevel);
      // The handler's deadline is the attempt's: the definition gives the runner JobTimeoutSeconds (which moto's
      // CloudFormation hands Batch as the Number parameter's number, where CloudFormation's Ref is its text).
      assert.equal(String(r.batchEnv.RUN_LAMBDA_JOB_TIMEOUT), w.stack.parameters.JobTimeoutSeconds);

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
  const def = await w.describeDefinition(definitionArn('lambda'));
  assert.equal(retryAction(def, 1), 'exit');
  assert.equal(retryAction(def, 4), 'retry');
});

test('a python3.10 function (a runtime AWS has deprecated) has no image (no job definition for lambda:python3.10): refused before anything is written', async () => {
  const puts = () => w.h.front.calls('s3', 'PutObject').length;
  const submits = () => w.h.front.calls('batch', 'SubmitJob').length;
  const [p0, s0] = [puts(), submits()];
  await assert.rejects(
    w.dispatch({ lambda_function: 'e2e-py310', payload: payloadOf('py310', 20_000) }),
    (err: Error) => err.name === 'UnsupportedRuntimeError' && /lambda:python3\.10/.test(err.message),
  );
  assert.deepEqual([puts(), submits()], [p0, s0], 'nothing written, nothing submitted');
});

test('straight to a template definition: no url_out writes the result beside the payload (_out.json), the input unchanged; no url exits 2, not retried', async () => {
  const [bucket, jobQueueArn] = [out('PayloadBucket'), out('JobQueue')];
  const payload = payloadOf('direct', 1000);
  await putObject(w.h, bucket, 'batch/direct/in.json', payload);
  const submit = async (parameters: Record<string, string>) => {
    const { jobId } = await w.h.frontClients.batch.send(
      new SubmitJobCommand({
        jobName: 'direct',
        jobQueue: jobQueueArn,
        jobDefinition: definitionArn('lambda'),
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
  assert.equal(retryAction(await w.describeDefinition(definitionArn('lambda')), 2), 'exit');
});

test('the dispatcher answering Invoke is what the stack deployed: the packaged dist/dispatcher, byte for byte', async () => {
  const { configuration, taskRoot } = w.dispatcher;
  const artifact = w.stack.artifacts['dist/dispatcher'];
  assert.ok(artifact, 'dist/dispatcher was packaged');
  assert.equal(configuration.CodeSha256, artifact.codeSha256, 'Lambda reports the packaged zip');
  assert.equal(configuration.Runtime, 'nodejs24.x');
  for (const file of ['index.mjs', 'index.mjs.map']) {
    const built = await readFile(join(REPO_ROOT, 'dist/dispatcher', file));
    assert.ok(built.equals(await readFile(join(taskRoot, file))), `${file} differs from npm run build's`);
  }
});

test("the deployed definitions: one per image of the matrix and architecture, each on that architecture's tag, under the names the dispatcher derives", async () => {
  const matrix = JSON.parse(await readFile(join(REPO_ROOT, 'images/matrix.json'), 'utf8')) as {
    images: { flavour: string; runtime: string; default?: boolean }[];
  };
  const env = w.dispatcher.configuration.Environment?.Variables ?? {};
  const x86 = JSON.parse(out('JobDefinitions')) as Record<string, string>;
  const arm = JSON.parse(out('JobDefinitionsArm64')) as Record<string, string>;
  const keys = matrix.images.map((i) => `${i.flavour}:${i.runtime}`);
  assert.deepEqual(Object.keys(x86).sort(), [...keys].sort());
  assert.deepEqual(Object.keys(arm).sort(), keys.map((k) => `${k}:arm64`).sort());
  const { ImageVersion, LambdaImageRepository, GeoLambdaImageRepository } = w.stack.parameters;
  const names: Record<string, string> = {};
  for (const [key, arn] of [...Object.entries(x86), ...Object.entries(arm)]) {
    const [flavour, runtime, arch = 'x86_64'] = key.split(':');
    const def = await w.describeDefinition(arn);
    assert.equal(def.status, 'ACTIVE', key);
    const repository = flavour === 'geolambda' ? GeoLambdaImageRepository : LambdaImageRepository;
    assert.equal(def.containerProperties?.image, `${repository}:${ImageVersion}-${runtime}-${arch}`, key);
    assert.deepEqual(def.containerProperties?.command, [
      'run',
      'Ref::lambda_function',
      'Ref::url',
      'Ref::url_out',
    ]);
    assert.equal(def.containerProperties?.jobRoleArn, out('JobRoleArn'), key);
    assert.equal(
      def.jobDefinitionName,
      `${w.stack.name}-${definitionSuffix(flavour ?? '', runtime ?? '', arch)}`,
      key,
    );
    if (arch === 'x86_64') names[key] = def.jobDefinitionName ?? '';
  }
  // No map of names: the dispatcher derives them from the prefix for the images it is told of, on both architectures.
  assert.equal(env.JOB_DEFINITIONS, undefined);
  assert.deepEqual(String(env.JOB_DEFINITION_RUNTIMES).split(/\s+/).sort(), [...keys].sort());
  assert.deepEqual(Object.keys(names).sort(), [...keys].sort());
  assert.equal(env.JOB_DEFINITION_LAMBDA, x86['lambda:python3.12']);
  assert.equal(x86['lambda:python3.12'], out('LambdaJobDefinitionArn'));
  assert.equal(x86['geolambda:python3.12'], out('GeoLambdaJobDefinitionArn'));
  assert.equal(env.JOB_DEFINITION_PREFIX, w.stack.name);
});

/** A definition's name after `<stack>-`: `<flavour>[-<runtime with dots as dashes>][-arm64]`. */
function definitionSuffix(flavour: string, runtime: string, arch: string): string {
  const name = runtime === 'python3.12' ? flavour : `${flavour}-${runtime.replaceAll('.', '-')}`;
  return arch === 'arm64' ? `${name}-arm64` : name;
}

// An arm64 function with native code, from the deployed stack to its result, in the arm64 image of its runtime (run
// here under emulation); where no engine answers or arm64 binaries cannot run here, this says so and skips.
const arm64Skip =
  skipReason() ??
  emulationMissing('arm64') ??
  (spawnSync('aarch64-linux-gnu-gcc', ['--version']).status === 0
    ? undefined
    : "aarch64-linux-gnu-gcc is not installed (Debian's gcc-aarch64-linux-gnu)");
if (arm64Skip) process.stderr.write(`the arm64 job end to end SKIPPED: ${arm64Skip}\n`);

const NATIVE_PY = `import os, platform, subprocess

def lambda_handler(event, context):
    here = os.path.dirname(os.path.abspath(__file__))
    native = subprocess.run([os.path.join(here, "bin", "machine")], check=True, capture_output=True, text=True)
    return {"id": event["id"], "python": platform.machine(), "native": native.stdout.strip()}
`;

test('an arm64 function with native code runs on the arm64 definition, in the arm64 image, to its result', {
  skip: arm64Skip,
  timeout: 600_000,
}, async () => {
  const program = join(w.dir, 'machine-arm64');
  await writeFile(
    `${program}.c`,
    '#include <stdio.h>\nint main(void) { puts("aarch64 code ran"); return 0; }\n',
  );
  const cc = spawnSync('aarch64-linux-gnu-gcc', ['-static', '-Os', '-o', program, `${program}.c`], {
    encoding: 'utf8',
  });
  assert.equal(cc.status, 0, cc.stderr);
  await createFunction(w.h, {
    name: 'e2e-arm64',
    architectures: ['arm64'],
    files: {
      'lambda_function.py': NATIVE_PY,
      'bin/machine': { content: await readFile(program), mode: 0o755 },
    },
  });
  const answer = await w.dispatch({ lambda_function: 'e2e-arm64', payload: { id: 'arm-1' } });
  assert.equal(answer.job_definition, `${w.stack.name}-lambda-arm64`);
  assert.equal(answer.job_queue, out('JobQueue'), 'on FARGATE arm64 jobs share the queue');
  const r = await w.runJob(answer.job_id);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(String(r.ranIn), /python3\.12-arm64/);
  assert.deepEqual(JSON.parse(String(await w.read(answer.url_out))), {
    id: 'arm-1',
    python: 'aarch64',
    native: 'aarch64 code ran',
  });
  const record = JSON.parse(String(await w.read(answer.record_url)));
  assert.equal(record.function.architecture, 'arm64');
  assert.equal(record.runner.architecture, 'arm64');
});

test("the deployed dispatcher's environment is within Lambda's 4 KB", (t) => {
  const env = w.dispatcher.configuration.Environment?.Variables ?? {};
  const bytes = Buffer.byteLength(JSON.stringify(env));
  t.diagnostic(`${bytes} bytes for the stack ${w.stack.name} (${w.stack.name.length} characters)`);
  assert.ok(bytes < 4096, `${bytes} bytes`);
  // On FARGATE arm64 jobs share the queue.
  assert.equal(env.JOB_QUEUE_ARM64, env.JOB_QUEUE);
});

// A feeder with the stack's helper layer, run by the runner as Lambda runs it (its code, the layer as its /opt).
// Its event asks for a payload over Lambda's 6 MB invoke limit, so the helper stages it on S3 first.
const FEEDER = `const { submitBatchJob } = require('cirrus-batch');
exports.handler = async (event) => {
  const features = Array.from({ length: event.count }, (_, i) => ({ i, name: 'tuile ' + i + ' — 東京', pad: 'x'.repeat(120) }));
  return submitBatchJob({ id: event.id, features }, event.target, { idempotencyKey: event.id });
};
`;

async function runFeeder(event: Record<string, unknown>) {
  const layer = await fetchDeployedLayer(w.h, out('HelperLayerArn'), join(w.dir, `layer-${event.id}`));
  const code = join(w.dir, 'feeder');
  await mkdir(code, { recursive: true });
  await writeFile(join(code, 'index.js'), FEEDER);
  await writeFile(join(w.dir, `${event.id}.json`), JSON.stringify(event));
  return runProcess(
    process.execPath,
    [
      RUNNER,
      '--no-cache',
      '--log-level',
      'warn',
      '--opt-dir',
      layer,
      '--handler',
      'index.handler',
      code,
      join(w.dir, `${event.id}.json`),
      '-',
    ],
    {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: w.dir,
        ...w.h.env,
        AWS_ACCESS_KEY_ID: Callers.feeder,
        BATCH_DISPATCHER_FUNCTION: out('DispatcherName'),
        PAYLOAD_BUCKET: out('PayloadBucket'),
        PAYLOAD_PREFIX: w.stack.parameters.PayloadPrefix ?? '',
        // Lambda's Node.js runtimes ship the AWS SDK v3 on their NODE_PATH and the layer leans on it.
        NODE_PATH: join(REPO_ROOT, 'node_modules'),
      },
    },
  );
}

const feederPuts = () =>
  w.h.front.requests
    .filter((r) => callerOf(r) === Callers.feeder && r.operation === 'PutObject')
    .map((r) => r.path);

test("a feeder with the stack's helper layer stages a 6 MB event on S3, and the job's result lands at url_out", async () => {
  const before = feederPuts().length;
  const r = await runFeeder({ id: 'fat-1', count: 45_000, target: IMAGES.lambda });
  assert.equal(r.code, 0, r.stderr);
  const answer = JSON.parse(r.stdout) as BatchJobAnswer;
  const staged = feederPuts().slice(before);
  assert.equal(staged.length, 1, 'one PutObject of the staged payload');
  assert.equal(answer.url, `s3:/${staged[0]}`, 'the dispatcher was handed the staged payload');
  assert.ok(answer.url.startsWith(`s3://${out('PayloadBucket')}/${w.stack.parameters.PayloadPrefix}`));
  const sent = JSON.parse(String(await w.read(answer.url))) as { features: unknown[] };
  assert.equal(sent.features.length, 45_000);

  const job = await w.runJob(answer.job_id);
  assert.equal(job.exitCode, 0, job.stderr);
  const result = JSON.parse(String(await w.read(answer.url_out))) as { id: string; count: number };
  assert.deepEqual([result.id, result.count], ['fat-1', 45_000]);
});

test('a refused dispatch through the helper fails the feeder with the dispatcher’s error; the staged payload stays to expire', async () => {
  const before = feederPuts().length;
  const r = await runFeeder({ id: 'fat-2', count: 45_000, target: 'e2e-no-such-function' });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr.trim().split('\n').at(-1) ?? '', /^FunctionNotFoundError: /);
  const [staged, ...more] = feederPuts().slice(before);
  assert.ok(staged && more.length === 0);
  // The helper does not delete it (docs/helper.md "What both do": the lifecycle rule on the prefix expires it).
  assert.ok(await w.read(`s3:/${staged}`), 'the staged payload is still there');
  assert.deepEqual(
    w.h.front.requests.filter((q) => callerOf(q) === Callers.feeder && q.operation === 'DeleteObject'),
    [],
  );
});

test('a function whose layer carries an extension and a wrapper runs as in Lambda: the wrapper starts the runtime, the extension gets INVOKE then SHUTDOWN and its telemetry, the log has START/END/REPORT', async (t) => {
  const ran = await w.jobsRun();
  if (!ran.startsWith('in the run-lambda images')) {
    // As a process the layer goes elsewhere than /opt, where AWS_LAMBDA_EXEC_WRAPPER points.
    t.skip(`jobs run ${ran}`);
    return;
  }
  const answer = await w.dispatch({ lambda_function: 'e2e-carried', payload: { id: 'carried-1' } });
  assert.equal(answer.image, 'lambda');
  const r = await w.runJob(answer.job_id);
  assert.equal(r.exitCode, 0, r.stderr);
  const result = JSON.parse(String(await w.read(answer.url_out))) as { id: string; wrapped_by: string };
  assert.equal(result.id, 'carried-1');
  assert.match(
    String(result.wrapped_by),
    /^e2e-wrapper\.sh \/\S*python3/,
    'the runtime did not start through the wrapper',
  );

  // The job's log: the extension's own lines (INVOKE, then SHUTDOWN), and Lambda's START/END/REPORT around the invoke.
  const lines = r.stderr.split('\n');
  const said = lines.flatMap((l) => /e2e-telemetry-ext: (INVOKE|SHUTDOWN) (\S+)/.exec(l)?.slice(1, 3) ?? []);
  const requestId = String(said[1]);
  assert.deepEqual(said, ['INVOKE', requestId, 'SHUTDOWN', 'spindown'], r.stderr);
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const start = at(new RegExp(`^START RequestId: ${requestId} Version: \\$LATEST$`));
  const end = at(new RegExp(`^END RequestId: ${requestId}$`));
  const report = at(
    new RegExp(`^REPORT RequestId: ${requestId}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms`),
  );
  assert.ok(start >= 0 && start < end && end < report, r.stderr);

  // What its telemetry listener received: the platform events of the invoke and the handler's own line.
  const events = (await readFile(join(w.dir, 'telemetry.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .flatMap((batch) => JSON.parse(batch) as { type: string; record: unknown }[]);
  const ofInvoke = (type: string) =>
    events.find((e) => e.type === type && (e.record as { requestId?: string }).requestId === requestId);
  for (const type of ['platform.start', 'platform.runtimeDone', 'platform.report'])
    assert.ok(ofInvoke(type), `no ${type} among ${events.map((e) => e.type).join(', ')}`);
  const done = ofInvoke('platform.runtimeDone')?.record as { status?: string } | undefined;
  assert.equal(done?.status, 'success');
  assert.ok(
    events.some((e) => e.type === 'function' && String(e.record).includes('e2e-carried: handling carried-1')),
    'the function event of the handler line',
  );
});

// Runs last: it reads what every call above did from the front's log.
test('IAM: every AWS call the dispatcher, the helper and the jobs made above is allowed by the policies the stack deployed', async () => {
  const region = REGION;
  const roles = {
    // The execution role SAM made for the dispatcher, as Lambda reports it; the job role of the definitions used;
    // the feeder's own role, which has the SubmitPolicyArn output attached and nothing else.
    dispatcher: String(w.dispatcher.configuration.Role),
    job: out('JobRoleArn'),
    feeder: feederRole,
  };
  const needs: Record<keyof typeof roles, string[]> = {
    dispatcher: ['batch:SubmitJob', 'lambda:GetFunctionConfiguration', 'lambda:ListTags', 's3:PutObject'],
    job: ['lambda:GetFunction', 'lambda:GetLayerVersion', 's3:GetObject', 's3:PutObject'],
    feeder: ['lambda:InvokeFunction', 's3:PutObject'],
  };
  for (const who of Object.keys(roles) as (keyof typeof roles)[]) {
    const { statements } = await rolePolicies(w.h, roles[who]);
    assert.ok(statements.length > 0, `${who}: no policies read back from IAM`);
    assert.deepEqual(wildcardAllows(statements), [], `${who}: an Allow with a wildcard action`);
    const calls = w.h.front.requests.filter((r) => callerOf(r) === Callers[who]);
    const permissions = calls.flatMap((r) => permissionsFor(r, region, ACCOUNT_ID));
    const seen = new Set(permissions.map((p) => p.action));
    for (const action of needs[who]) assert.ok(seen.has(action), `${who} made no ${action} call`);
    const refused = permissions.filter((p) => decide(statements, p) !== 'allow');
    assert.deepEqual(refused, [], `${who} would be refused these`);
    // …and the same check does refuse what the role was not given.
    const outside = {
      action: 's3:PutObject',
      resource: `arn:aws:s3:::${out('PayloadBucket')}/elsewhere/x.json`,
    };
    assert.equal(decide(statements, outside), 'deny', `${who} may write outside the prefix`);
  }
});
