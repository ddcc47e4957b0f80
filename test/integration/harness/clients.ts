// SDK clients pointed straight at moto (not through the front), for test setup and inspection.
import { BatchClient } from '@aws-sdk/client-batch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';

export interface AwsClients {
  s3: S3Client;
  lambda: LambdaClient;
  batch: BatchClient;
}

export const TEST_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;

/**
 * Clients for `endpoint` (moto or the front) in us-east-1 with test credentials (or `accessKeyId`, which the e2e
 * IAM check reads as the caller's role), S3 path style.
 */
export function makeClients(endpoint: string, accessKeyId?: string): AwsClients {
  const credentials = accessKeyId ? { ...TEST_CREDENTIALS, accessKeyId } : TEST_CREDENTIALS;
  const base = { endpoint, region: 'us-east-1', credentials, maxAttempts: 1 };
  return {
    s3: new S3Client({ ...base, forcePathStyle: true }),
    lambda: new LambdaClient(base),
    batch: new BatchClient(base),
  };
}

export function destroyClients(c: AwsClients): void {
  c.s3.destroy();
  c.lambda.destroy();
  c.batch.destroy();
}

/**
 * An Authorization header that routes a hand-made request to `service` on moto (moto reads the credential
 * scope and does not check signatures; without the header S3 treats the caller as anonymous and says 403).
 */
export function fakeAuth(service: string): { authorization: string } {
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
  };
}
