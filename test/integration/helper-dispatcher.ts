// Shared setup of the helper tests: the built dispatcher answers Lambda Invoke in process, with moto behind it.
import type { Context } from 'aws-lambda';
import { createBatchEnvironment, registerJobDefinition } from './harness/batch-fixtures.js';
import { createBucket } from './harness/fixtures.js';
import type { Harness } from './harness/index.js';

export const DISPATCHER_BUNDLE = new URL('../../dist/dispatcher/index.mjs', import.meta.url).pathname;

/** Creates the payload bucket, queue and the job definitions (python3.12 of both images, nodejs22.x), and serves `dispatcher` invokes from the bundle. */
export async function serveBuiltDispatcher(h: Harness): Promise<void> {
  // The in-process dispatcher's SDK clients read endpoint and credentials from this process's environment.
  Object.assign(process.env, h.env);
  await createBucket(h, 'payloads');
  await createBatchEnvironment(h);
  await registerJobDefinition(h, { name: 'lambda-as-batch' });
  await registerJobDefinition(h, { name: 'geolambda-as-batch', image: 'cirrusgeo/run-geolambda' });
  await registerJobDefinition(h, {
    name: 'lambda-nodejs22-as-batch',
    image: 'cirrusgeo/run-lambda:nodejs22.x',
  });
  const { handlerFromEnv } = (await import(DISPATCHER_BUNDLE)) as {
    handlerFromEnv(env: Record<string, string | undefined>): (e: unknown, c: Context) => Promise<unknown>;
  };
  const dispatcher = handlerFromEnv({
    ...process.env,
    PAYLOAD_BUCKET: 'payloads',
    JOB_QUEUE: 'harness-queue',
    JOB_DEFINITION_LAMBDA: 'lambda-as-batch',
    JOB_DEFINITION_GEOLAMBDA: 'geolambda-as-batch',
    JOB_DEFINITIONS: JSON.stringify({ 'lambda:nodejs22.x': 'lambda-nodejs22-as-batch' }),
    LOG_LEVEL: 'critical',
  });
  h.front.serveInvoke('dispatcher', (event, ctx) => dispatcher(event, ctx as unknown as Context));
}
