// The 2025–26 function settings GetFunction reports, through the built runner against moto: LoggingConfig
// becomes the runtime's log format and level; tenant isolation needs a tenant id; durable functions are refused;
// Managed Instances' concurrency is reported and never passed on.
// Filled in by the harness front (moto keeps none of them): Configuration.LoggingConfig, DurableConfig,
// TenancyConfig, CapacityProviderConfig (front.patchConfiguration).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { RUNNER, withRunnerHarness } from '../faults/support.js';
import { lastLineOf, type ProcessResult, runProcess } from '../support/process.js';
import { createFunction } from './harness/fixtures.js';
import type { Harness } from './harness/index.js';

let h: Harness;
let dir: string;
withRunnerHarness({ prefix: 'runner-aws-parity-' }, (started) => {
  ({ h, dir } = started);
});

let n = 0;
/** The built runner with a cache of its own, at log level info; `last` is its last stderr line. */
async function runLambda(
  args: string[],
  env: Record<string, string> = {},
): Promise<ProcessResult & { last: string }> {
  const cache = join(dir, `cache-${++n}`);
  const r = await runProcess(
    process.execPath,
    [RUNNER, '--cache-dir', cache, '--opt-dir', join(cache, 'opt'), ...args],
    {
      env: { ...(process.env as Record<string, string>), ...h.env, RUN_LAMBDA_LOG_LEVEL: 'info', ...env },
    },
  );
  return { ...r, last: lastLineOf(r.stderr) };
}

const ENV_HANDLER = `import logging, os

logging.getLogger("task").setLevel(logging.INFO)

def lambda_handler(event, context):
    logging.getLogger("task").info("hello from the task")
    keys = ("AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_MAX_CONCURRENCY")
    return {"env": {k: os.environ.get(k) for k in keys}, "tenant": context.tenant_id}
`;

async function envFunction(name: string, patch: Record<string, unknown>): Promise<void> {
  await createFunction(h, { name, files: { 'lambda_function.py': ENV_HANDLER } });
  h.front.patchConfiguration(name, patch);
}

test('LoggingConfig JSON: the runtime gets AWS_LAMBDA_LOG_FORMAT=JSON, the application level, the log group', async () => {
  await envFunction('par-json', {
    LoggingConfig: {
      LogFormat: 'JSON',
      ApplicationLogLevel: 'DEBUG',
      SystemLogLevel: 'WARN',
      LogGroup: '/custom/group',
    },
  });
  const r = await runLambda(['par-json', 'data:,{}', '-']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).env, {
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_LAMBDA_LOG_LEVEL: 'DEBUG',
    AWS_LAMBDA_LOG_GROUP_NAME: '/custom/group',
    AWS_LAMBDA_MAX_CONCURRENCY: null,
  });
  const line = r.stderr.split('\n').find((l) => l.includes('hello from the task'));
  assert.ok(line, r.stderr);
  assert.deepEqual(
    { level: JSON.parse(line).level, logger: JSON.parse(line).logger, message: JSON.parse(line).message },
    { level: 'INFO', logger: 'task', message: 'hello from the task' },
  );
});

test('LoggingConfig JSON without a level: INFO; Text: neither variable, whatever the container has', async () => {
  await envFunction('par-json-default', { LoggingConfig: { LogFormat: 'JSON' } });
  const json = await runLambda(['par-json-default', 'data:,{}', '-']);
  assert.equal(JSON.parse(json.stdout).env.AWS_LAMBDA_LOG_LEVEL, 'INFO');
  await envFunction('par-text', { LoggingConfig: { LogFormat: 'Text', LogGroup: '/aws/lambda/par-text' } });
  const text = await runLambda(['par-text', 'data:,{}', '-'], {
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_LAMBDA_LOG_LEVEL: 'ERROR',
  });
  assert.equal(text.code, 0, text.stderr);
  const env = JSON.parse(text.stdout).env;
  assert.equal(env.AWS_LAMBDA_LOG_FORMAT, null);
  assert.equal(env.AWS_LAMBDA_LOG_LEVEL, null);
  assert.match(text.stderr, /^\[INFO\]\t.*\thello from the task$/m);
});

test('a tenant-isolated function needs a tenant id (exit 2 without); the handler sees the one given', async () => {
  await envFunction('par-tenant', { TenancyConfig: { TenantIsolationMode: 'PER_TENANT' } });
  const without = await runLambda(['par-tenant', 'data:,{}', '-']);
  assert.equal(without.code, 2, without.stderr);
  assert.match(
    without.last,
    /^UsageError: par-tenant isolates tenants \(TenancyConfig PER_TENANT\): name the tenant with --tenant-id or RUN_LAMBDA_TENANT_ID$/,
  );
  const given = await runLambda(['par-tenant', 'data:,{}', '-'], { RUN_LAMBDA_TENANT_ID: 'acme' });
  assert.equal(given.code, 0, given.stderr);
  assert.equal(JSON.parse(given.stdout).tenant, 'acme');
  await envFunction('par-no-tenant', {});
  const extra = await runLambda(['--tenant-id', 'acme', 'par-no-tenant', 'data:,{}', '-']);
  assert.equal(extra.code, 2);
  assert.match(extra.last, /^UsageError: par-no-tenant has no tenant isolation, so it takes no --tenant-id/);
});

test('a durable function is refused with exit 3, saying why, before its code is downloaded', async () => {
  await envFunction('par-durable', { DurableConfig: { ExecutionTimeout: 3600, RetentionPeriodInDays: 7 } });
  h.front.clear();
  const r = await runLambda(['par-durable', 'data:,{}', '-']);
  assert.equal(r.code, 3, r.stderr);
  assert.match(
    r.last,
    /^UnsupportedFunctionError: par-durable is a durable function \(DurableConfig\): .*durable execution service/,
  );
  assert.equal(h.front.downloads().length, 0);
});

test('Managed Instances multi-concurrency is reported; AWS_LAMBDA_MAX_CONCURRENCY is never set', async () => {
  await envFunction('par-mi', {
    CapacityProviderConfig: {
      LambdaManagedInstancesCapacityProviderConfig: {
        CapacityProviderArn: 'arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp',
        PerExecutionEnvironmentMaxConcurrency: 16,
      },
    },
  });
  const r = await runLambda(['par-mi', 'data:,{}', '-'], { AWS_LAMBDA_MAX_CONCURRENCY: '16' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /par-mi runs on Lambda Managed Instances with up to 16 concurrent invocations per environment; here it serves one invocation at a time/,
  );
  assert.equal(JSON.parse(r.stdout).env.AWS_LAMBDA_MAX_CONCURRENCY, null);
});
