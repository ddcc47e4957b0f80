// The runner's AWS SDK clients (runner/aws/sdk-clients.ts): one per endpoint and timeouts, and what their requests
// run through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { s3Client } from '../../runner/aws/sdk-clients.js';

const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1' };

test('the S3 client has no logger middleware: its requests are not run through the SDK log filter', () => {
  const names = s3Client(env).middlewareStack.identify();
  // The stack is the SDK's: a client without it would make this test pass for nothing.
  assert.ok(
    names.some((n) => n.startsWith('retryMiddleware')),
    names.join(', '),
  );
  assert.ok(!names.some((n) => n.startsWith('loggerMiddleware')), names.join(', '));
});

test('one S3 client per endpoint: a second call gets the same client', () => {
  assert.equal(s3Client(env), s3Client(env));
  assert.notEqual(s3Client(env), s3Client({ ...env, AWS_ENDPOINT_URL: 'http://127.0.0.1:10' }));
});
