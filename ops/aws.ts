// The SDK clients lambda-batch uses, each made on first use: --help and a usage error load none of the SDK. Every
// call is bounded (connecting and silence, lib/aws-config.ts) and retried by the SDK, except the dispatcher's Invoke,
// which is sent once (a lost answer may have made the job; the dispatcher's idempotency key guards a resend).
import type { BatchClient } from '@aws-sdk/client-batch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { MAX_CONNECT_TIMEOUT_S, networkTimeouts, sdkClientConfig } from '../lib/aws-config.js';
import type { Env } from '../lib/env.js';
import { regionFromArn } from '../lib/lambda-arn.js';

export interface Clients {
  /** the region the clients are for (undefined: the SDK's own chain decides) */
  region: string | undefined;
  batch(): Promise<BatchClient>;
  s3(): Promise<S3Client>;
  logs(region?: string): Promise<CloudWatchLogsClient>;
  /** for the dispatcher's Invoke: no SDK retry, connecting bounded, the answer not */
  lambda(functionRef?: string): Promise<LambdaClient>;
  destroy(): void;
}

export function createClients(env: Env, region: string | undefined): Clients {
  const made = new Map<string, { destroy(): void }>();
  const timeouts = networkTimeouts();
  async function once<T extends { destroy(): void }>(key: string, make: () => Promise<T>): Promise<T> {
    let c = made.get(key) as T | undefined;
    if (!c) {
      c = await make();
      made.set(key, c);
    }
    return c;
  }
  return {
    region,
    batch: () =>
      once('batch', async () => {
        const { BatchClient } = await import('@aws-sdk/client-batch');
        return new BatchClient(sdkClientConfig(env, 'batch', { region, timeouts }));
      }),
    s3: () =>
      once('s3', async () => {
        const { S3Client } = await import('@aws-sdk/client-s3');
        return new S3Client(sdkClientConfig(env, 's3', { region, timeouts }));
      }),
    logs: (logsRegion = region) =>
      once(`logs:${logsRegion ?? ''}`, async () => {
        const { CloudWatchLogsClient } = await import('@aws-sdk/client-cloudwatch-logs');
        return new CloudWatchLogsClient(sdkClientConfig(env, 'logs', { region: logsRegion, timeouts }));
      }),
    lambda: (functionRef) => {
      // A dispatcher named by its ARN lives in the ARN's region.
      const r = (functionRef && regionFromArn(functionRef)) || region;
      return once(`lambda:${r ?? ''}`, async () => {
        const { LambdaClient } = await import('@aws-sdk/client-lambda');
        return new LambdaClient({
          ...sdkClientConfig(env, 'lambda', {
            region: r,
            timeouts: { connectMs: MAX_CONNECT_TIMEOUT_S * 1000 },
          }),
          maxAttempts: 1,
        });
      });
    },
    destroy() {
      for (const c of made.values()) c.destroy();
    },
  };
}
