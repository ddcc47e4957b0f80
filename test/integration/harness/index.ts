// The integration test harness: moto_server behind a recording, fault-injecting front, plus SDK clients.
/**
 * How tests use it:
 *
 * ```ts
 * import { after, before, test } from 'node:test';
 * import { startHarness, type Harness } from './harness/index.js';
 * import { createFunction, createBucket, putObject, getJson } from './harness/fixtures.js';
 *
 * let h: Harness;
 * before(async () => { h = await startHarness(); });
 * after(() => h.stop());
 *
 * test('the runner downloads the code once', async () => {
 *   await createFunction(h, { name: 'echo', files: { 'lambda_function.py': src } });
 *   await createBucket(h, 'b'); await putObject(h, 'b', 'in.json', { a: 1 });
 *   // A child process reaches "AWS" through the front exactly as it would reach AWS:
 *   spawnSync('node', ['dist/run-lambda.mjs', 'echo', 's3://b/in.json'], { env: { ...process.env, ...h.env } });
 *   assert.equal(h.front.downloads().length, 1);
 *   const fault = h.front.fault({ match: (r) => r.operation === 'GetObject', times: 1, kind: 'error', status: 503 });
 *   …
 * });
 * ```
 *
 * - `h.env`: AWS_ENDPOINT_URL (the front, for every service), test credentials, AWS_REGION,
 *   AWS_DEFAULT_REGION. Both the SDK v3 and boto3 read AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>).
 * - `h.clients`: S3/Lambda/Batch SDK clients straight to moto (setup and inspection; not recorded).
 * - `h.front`: the request log (`requests`, `find`, `calls(service, op)`, `downloads()`, `clear()`), faults
 *   (`fault`, `codeFault`), code registration and `serveInvoke`.
 * - Fixtures (fixtures.ts, batch-fixtures.ts) take the harness as their first argument; zips come from zip.ts;
 *   batch-exec.ts runs a submitted Batch job the way Batch would.
 * One harness per test file (before/after); moto keeps state for the file's life, so use distinct names.
 */
import { type AwsClients, destroyClients, makeClients } from './clients.js';
import { type Front, startFront } from './front.js';
import { type Moto, startMoto } from './moto.js';

export type { AwsClients } from './clients.js';
export type { Front, RecordedRequest } from './front.js';

export interface Harness {
  moto: Moto;
  front: Front;
  /** moto's own endpoint (bypasses the front) */
  motoEndpoint: string;
  /** the front's endpoint: what code under test should use as its AWS endpoint */
  endpoint: string;
  /** environment a child process needs to reach AWS through the front (merge over process.env) */
  env: Record<string, string>;
  /** SDK clients straight to moto (path-style S3, us-east-1, test credentials) */
  clients: AwsClients;
  /** SDK clients through the front (recorded, faults apply) */
  frontClients: AwsClients;
  stop(): Promise<void>;
}

/** Starts moto and the front in front of it. Call `stop()` in `after`. */
export async function startHarness(): Promise<Harness> {
  const moto = await startMoto();
  let front: Front;
  try {
    front = await startFront(moto.endpoint);
  } catch (err) {
    await moto.stop();
    throw err;
  }
  const clients = makeClients(moto.endpoint);
  const frontClients = makeClients(front.endpoint);
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: front.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    // Keep the SDKs from probing instance metadata or reading a developer's profile.
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  return {
    moto,
    front,
    motoEndpoint: moto.endpoint,
    endpoint: front.endpoint,
    env,
    clients,
    frontClients,
    async stop() {
      destroyClients(clients);
      destroyClients(frontClients);
      await front.stop();
      await moto.stop();
    },
  };
}
