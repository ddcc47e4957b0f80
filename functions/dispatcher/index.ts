// Lambda entry point: clients and config are made once per container; `handler` is what Lambda calls.
import { BatchClient } from '@aws-sdk/client-batch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { sdkClientConfig } from '../../lib/aws-config.js';
import type { Env } from '../../lib/env.js';
import { type DispatcherConfig, readConfig } from './config.js';
import { createHandler, type DispatcherHandler } from './handler.js';

export { createHandler, type HandlerOptions } from './handler.js';

/**
 * The dispatcher's SDK clients, from `env` alone, every call bounded by `config.networkTimeouts`. S3 and Lambda
 * keep the SDK's retries (a timed-out read or write is sent again); Batch makes one attempt, since SubmitJob is
 * not idempotent: batch.ts retries answered failures and looks a lost answer (a timeout among them) up instead.
 */
export function dispatcherClients(env: Env, config: Pick<DispatcherConfig, 'networkTimeouts'>) {
  const timeouts = config.networkTimeouts;
  return {
    s3: new S3Client(sdkClientConfig(env, 's3', { timeouts })),
    lambda: new LambdaClient(sdkClientConfig(env, 'lambda', { timeouts })),
    batch: new BatchClient({ ...sdkClientConfig(env, 'batch', { timeouts }), maxAttempts: 1 }),
  };
}

/** A handler for `env` with SDK clients of its own; a config error is kept and thrown by every invoke. */
export function handlerFromEnv(env: Env): DispatcherHandler {
  let built: DispatcherHandler;
  try {
    const config = readConfig(env);
    built = createHandler({ ...dispatcherClients(env, config), config });
  } catch (err) {
    // Thrown at invoke rather than at import so Lambda reports it as the error (ConfigError: …), not an init crash.
    return async () => {
      throw err;
    };
  }
  return built;
}

const containerHandler = handlerFromEnv(process.env);

export const handler = (event: unknown, context: Context) => containerHandler(event, context);
