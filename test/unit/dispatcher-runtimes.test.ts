// The built dispatcher runs on both of Lambda's current Node.js runtimes (nodejs22.x, nodejs24.x), not only on the
// Node.js that runs the tests: loaded as Lambda loads it, it makes its SDK clients and answers a bad request.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { DISPATCHER_BUNDLE } from '../integration/helper-dispatcher.js';
import { loadTemplate, resource } from '../support/cfn-yaml.js';
import {
  LAMBDA_NODE,
  LAMBDA_NODE_PLATFORM_OK,
  type LambdaNodeRuntime,
  lambdaNode,
} from '../support/lambda-node.js';

// What a Lambda Node.js runtime does with `index.handler` of an ES module: import it, call the export.
const INVOKE = `
const { handler } = await import(process.env.BUNDLE);
const context = { awsRequestId: 'r-1', functionName: 'dispatcher', invokedFunctionArn:
  'arn:aws:lambda:us-east-1:123456789012:function:dispatcher', getRemainingTimeInMillis: () => 30000 };
try {
  await handler({ payload: { a: 1 } }, context);
  console.log(JSON.stringify({ node: process.version, error: null }));
} catch (err) {
  console.log(JSON.stringify({ node: process.version, error: err.name, message: err.message }));
}
`;

test('the template runs the dispatcher on one of the runtimes checked here', () => {
  const runtime = resource(loadTemplate(), 'Dispatcher').Properties?.Runtime as string;
  assert.ok(runtime in LAMBDA_NODE, `${runtime} is not one of ${Object.keys(LAMBDA_NODE).join(', ')}`);
});

for (const runtime of Object.keys(LAMBDA_NODE) as LambdaNodeRuntime[]) {
  test(`on ${runtime} (Node.js ${LAMBDA_NODE[runtime].version}) the bundle loads and refuses a request with no lambda_function`, {
    skip: LAMBDA_NODE_PLATFORM_OK ? false : 'the pinned Node.js binaries are linux-x64 ones',
  }, () => {
    const r = spawnSync(lambdaNode(runtime), ['--input-type=module', '-e', INVOKE], {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        BUNDLE: DISPATCHER_BUNDLE,
        // The template's configuration, as Lambda sets it; no AWS call happens for a bad request.
        NODE_OPTIONS: '--enable-source-maps',
        AWS_REGION: 'us-east-1',
        AWS_LAMBDA_FUNCTION_NAME: 'dispatcher',
        JOB_QUEUE: 'q',
        JOB_DEFINITION_LAMBDA: 'd-lambda',
        JOB_DEFINITION_GEOLAMBDA: 'd-geolambda',
        LOG_LEVEL: 'error',
      },
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, string | null>;
    assert.equal(out.node, `v${LAMBDA_NODE[runtime].version}`);
    assert.equal(out.error, 'InvalidRequestError', String(out.message));
    assert.match(String(out.message), /lambda_function/);
  });
}
