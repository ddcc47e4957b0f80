// AWS SDK clients for the runner, made on first use: endpoint, region, credentials and timeouts come from the env object.
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import {
  endpointFor,
  FALLBACK_REGION,
  type NetworkTimeouts,
  networkTimeouts,
  sdkClientConfig,
} from '../../lib/aws-config.js';
import type { Env } from '../../lib/env.js';

const SILENT = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * Without the SDK's logger middleware. Given any logger but the SDK's own no-op one (the S3 client has `SILENT`), it
 * runs each request's input and answer through the operation's sensitive-data filter, a walk of its schema, to log
 * them: three times per item of an item set, for nothing, as the runner logs nothing of the SDK's.
 */
function withoutSdkLog<C extends { middlewareStack: { remove(name: string): boolean } }>(client: C): C {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

const lambdaClients = new Map<string, LambdaClient>();
const s3Clients = new Map<string, S3Client>();

const keyOf = (t: NetworkTimeouts) => `${t.connectMs}/${t.idleMs}`;

/** One Lambda client per region (and endpoint) for the life of the process. */
export function lambdaClient(env: Env, region: string, timeouts = networkTimeouts()): LambdaClient {
  const key = `${region} ${endpointFor(env, 'lambda') ?? ''} ${keyOf(timeouts)}`;
  let client = lambdaClients.get(key);
  if (!client) {
    client = new LambdaClient(sdkClientConfig(env, 'lambda', { region, timeouts }));
    lambdaClients.set(key, client);
  }
  return client;
}

/** One S3 client (path style against local endpoints); region from the env, else us-east-1 for bucket lookups. */
export function s3Client(env: Env, timeouts = networkTimeouts()): S3Client {
  const key = `${endpointFor(env, 's3') ?? ''} ${keyOf(timeouts)}`;
  let client = s3Clients.get(key);
  if (!client) {
    // followRegionRedirects: a payload bucket in another region than the job still works.
    client = withoutSdkLog(
      new S3Client({
        region: FALLBACK_REGION,
        ...sdkClientConfig(env, 's3', { timeouts }),
        followRegionRedirects: true,
        // The SDK does not retry a request whose body is a stream (the result upload retries itself) and then
        // warns on the console unless given a logger; the runner reports the failure itself.
        logger: SILENT,
      }),
    );
    s3Clients.set(key, client);
  }
  return client;
}
