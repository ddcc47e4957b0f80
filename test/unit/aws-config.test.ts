// The settings every SDK client of the project takes from one env object: endpoint, S3 addressing, region,
// credentials and network timeouts (lib/aws-config.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  awsClientConfig,
  credentialsFromEnv,
  endpointFor,
  isLocalEndpoint,
  MAX_CONNECT_TIMEOUT_S,
  networkTimeouts,
  networkTimeoutsFromEnv,
  regionFromEnv,
  requestHandlerOptions,
  sdkClientConfig,
} from '../../lib/aws-config.js';
import { ConfigError } from '../../lib/env.js';

test('a service endpoint variable wins over AWS_ENDPOINT_URL; an empty one counts as unset', () => {
  const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:6000' };
  assert.equal(endpointFor(env, 's3'), 'http://127.0.0.1:6000');
  assert.equal(endpointFor(env, 'batch'), 'http://127.0.0.1:5000');
  assert.equal(endpointFor({ ...env, AWS_ENDPOINT_URL_S3: '' }, 's3'), 'http://127.0.0.1:5000');
  assert.equal(endpointFor({}, 'lambda'), undefined);
  // CloudWatch Logs' service id is two words: its variable is the SDK's AWS_ENDPOINT_URL_CLOUDWATCH_LOGS.
  assert.equal(
    endpointFor({ ...env, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: 'http://127.0.0.1:7000' }, 'logs'),
    'http://127.0.0.1:7000',
  );
  assert.equal(endpointFor(env, 'logs'), 'http://127.0.0.1:5000');
});

test('S3 is addressed path-style only at a local or IP endpoint, where bucket host names cannot resolve', () => {
  for (const url of [
    'http://localhost:4566',
    'http://127.0.0.1:5000',
    'http://10.1.2.3',
    'http://[::1]:9000',
  ]) {
    assert.equal(isLocalEndpoint(url), true, url);
    assert.deepEqual(awsClientConfig({ AWS_ENDPOINT_URL: url }, 's3'), { forcePathStyle: true }, url);
  }
  for (const url of [
    'https://s3.us-west-2.amazonaws.com',
    'https://minio.example.org',
    'not a url',
    undefined,
  ]) {
    assert.equal(isLocalEndpoint(url), false, String(url));
  }
  assert.deepEqual(awsClientConfig({}, 's3'), {});
  assert.deepEqual(awsClientConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }, 'batch'), {});
});

test('AWS_REGION wins over AWS_DEFAULT_REGION; empty values count as unset', () => {
  assert.equal(regionFromEnv({ AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'eu-central-1' }), 'us-west-2');
  assert.equal(regionFromEnv({ AWS_REGION: '', AWS_DEFAULT_REGION: 'eu-central-1' }), 'eu-central-1');
  assert.equal(regionFromEnv({}), undefined);
});

test('static credentials only when both key parts are set; the session token only when given', () => {
  assert.deepEqual(
    credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 's3cr3t' }),
    {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 's3cr3t',
    },
  );
  assert.deepEqual(
    credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'ASIA1', AWS_SECRET_ACCESS_KEY: 'x', AWS_SESSION_TOKEN: 'tok' }),
    { accessKeyId: 'ASIA1', secretAccessKey: 'x', sessionToken: 'tok' },
  );
  // Half a key pair leaves the SDK's own chain (container role, instance profile) to apply.
  assert.equal(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE' }), undefined);
  assert.equal(
    credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: '' }),
    undefined,
  );
});

test('network timeouts: connecting is capped at 10 s, or the idle timeout when lower; never 0 (which means forever)', () => {
  assert.deepEqual(networkTimeouts(), { idleMs: 60_000, connectMs: MAX_CONNECT_TIMEOUT_S * 1000 });
  assert.deepEqual(networkTimeouts(2.5), { idleMs: 2500, connectMs: 2500 });
  assert.deepEqual(networkTimeouts(0.0001), { idleMs: 1, connectMs: 1 });
  assert.deepEqual(requestHandlerOptions(networkTimeouts(30)), {
    connectionTimeout: 10_000,
    socketTimeout: 30_000,
  });
});

test('NETWORK_TIMEOUT of the Lambda functions: whole seconds from 1 to 900, 10 by default; anything else is a ConfigError naming it', () => {
  assert.deepEqual(networkTimeoutsFromEnv({}), { idleMs: 10_000, connectMs: 10_000 });
  assert.deepEqual(networkTimeoutsFromEnv({ NETWORK_TIMEOUT: '2' }), { idleMs: 2000, connectMs: 2000 });
  assert.deepEqual(networkTimeoutsFromEnv({ NETWORK_TIMEOUT: '900' }), {
    idleMs: 900_000,
    connectMs: 10_000,
  });
  for (const bad of ['0', '901', '1.5', 'ten', '-3']) {
    assert.throws(
      () => networkTimeoutsFromEnv({ NETWORK_TIMEOUT: bad }),
      (err: Error) => {
        assert.ok(err instanceof ConfigError, bad);
        assert.match(err.message, /^NETWORK_TIMEOUT must be/, bad);
        return true;
      },
    );
  }
});

test('an SDK client config from the env object alone: endpoint, region, credentials, S3 addressing and timeouts', () => {
  const env = {
    AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'x',
  };
  assert.deepEqual(sdkClientConfig(env, 's3', { timeouts: networkTimeouts(30) }), {
    forcePathStyle: true,
    region: 'eu-west-1',
    endpoint: 'http://127.0.0.1:5000',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 30_000 },
  });
  // A region given wins over the env's; a connect-only bound leaves silence unbounded (a synchronous Invoke).
  assert.deepEqual(sdkClientConfig(env, 'lambda', { region: 'us-west-2', timeouts: { connectMs: 10_000 } }), {
    region: 'us-west-2',
    endpoint: 'http://127.0.0.1:5000',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' },
    requestHandler: { connectionTimeout: 10_000 },
  });
  // Nothing in the env: nothing set, so the SDK's own chain and endpoints apply.
  assert.deepEqual(sdkClientConfig({}, 'batch'), {});
});
